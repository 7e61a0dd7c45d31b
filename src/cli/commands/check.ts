/**
 * `herd check`: bounded exhaustive model checking of the herder. Explores every state reachable
 * with a small herd and a few requests, checks every invariant of DESIGN §3 on every state and
 * transition, and that every request can still end from every state. Exits 1 on a violation,
 * printing the shortest trace that reaches it.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { boundsProblems, type CheckBounds, DEFAULT_BOUNDS } from '../../checker/bounds.ts';
import { type CheckOptions, type CheckResult, check, type Progress } from '../../checker/explore.ts';
import { formatTrace } from '../../checker/trace.ts';
import { emit, intOption, type OutputOptions, showProgress, UserError } from '../output.ts';

interface CheckFlags extends OutputOptions {
  workers: number;
  requests: number;
  levels: number;
  attempts: number;
  maxOvertakes: number | null;
  failures?: boolean;
  timeouts?: boolean;
  lateAnswers?: boolean;
  recovery: boolean;
  spoofs?: boolean;
  duplicates?: boolean;
  ownerActions?: boolean;
  underpaid?: boolean;
  huge?: boolean;
  all?: boolean;
  keepGoing?: boolean;
  maxStates: number;
  threads: number;
}

function overtakesOption(raw: string): number | null {
  if (raw === 'unbounded') return null;
  if (!/^[0-9]+$/.test(raw)) throw new InvalidArgumentError('expected an integer >= 0 or "unbounded"');
  return Number(raw);
}

export function boundsFromFlags(flags: CheckFlags): CheckBounds {
  const all = flags.all === true;
  const bounds: CheckBounds = {
    workers: flags.workers,
    requests: flags.requests,
    levels: flags.levels,
    attempts: flags.attempts,
    maxOvertakes: flags.maxOvertakes,
    failures: all || flags.failures === true,
    timeouts: all || flags.timeouts === true,
    lateAnswers: all || flags.lateAnswers === true,
    recovery: flags.recovery,
    spoofs: all || flags.spoofs === true,
    duplicates: all || flags.duplicates === true,
    ownerActions: all || flags.ownerActions === true,
    underpaid: all || flags.underpaid === true,
    huge: flags.huge === true,
  };
  const problems = boundsProblems(bounds);
  if (problems.length > 0) throw new UserError(problems.join('; '));
  return bounds;
}

export function register(program: Command): void {
  program
    .command('check')
    .description(
      'Bounded exhaustive model checking: every reachable state of the herder with a small herd, every invariant, shortest trace on a violation.',
    )
    .option('--workers <n>', 'workers in the herd', intOption(1), DEFAULT_BOUNDS.workers)
    .option('--requests <n>', 'paid Credit-Notices delivered in total', intOption(0), DEFAULT_BOUNDS.requests)
    .option('--levels <n>', 'distinct payment levels (multipliers 1..n)', intOption(1), DEFAULT_BOUNDS.levels)
    .option(
      '--attempts <n>',
      'dispatches before a request is refunded (maxAttempts)',
      intOption(1),
      DEFAULT_BOUNDS.attempts,
    )
    .option(
      '--max-overtakes <n>',
      'overtaking bound of the queue, or "unbounded"',
      overtakesOption,
      DEFAULT_BOUNDS.maxOvertakes,
    )
    .option('--failures', 'workers answer Inference-Error, report Worker-Error and recover')
    .option('--timeouts', 'time passes: deadlines expire, timed-out workers recover')
    .option('--late-answers', 'timed-out workers answer late (needs --timeouts)')
    .option('--no-recovery', 'failed and timed-out workers never report Worker-Initialized again')
    .option('--spoofs', 'forged credits, answers from the wrong sender, administration by a stranger')
    .option('--duplicates', 'the token delivers a Credit-Notice again (same id) while its request is live')
    .option('--owner-actions', 'the owner pauses, resumes, removes and re-adds workers, withdraws revenue')
    .option('--underpaid', 'some credits pay less than the fee (refunded on arrival)')
    .option('--huge', 'payments beyond 2^64 whose levels differ by single units (exact arithmetic)')
    .option('--all', 'every kind of event above except --huge')
    .option(
      '--keep-going',
      'after a violation, keep exploring to report the first violation of every invariant',
    )
    .option('--max-states <n>', 'stop after this many distinct states', intOption(1), 20_000_000)
    .option(
      '--threads <n>',
      'explore on n worker threads (visited states kept as 64-bit fingerprints instead of exact keys)',
      intOption(1),
      1,
    )
    .option('--json', 'print one JSON document')
    .action(async (flags: CheckFlags) => {
      const bounds = boundsFromFlags(flags);
      const result = await runWithProgress(bounds, flags);
      emit(toReport(result, flags.threads), flags, () => formatResult(result, flags.threads));
      if (!passed(result)) process.exitCode = 1;
    });
}

function passed(result: CheckResult): boolean {
  return result.complete && result.violations.length === 0 && result.stuck === undefined;
}

async function explore(bounds: CheckBounds, options: CheckOptions, threads: number): Promise<CheckResult> {
  if (threads <= 1) return check(bounds, options);
  const { checkInParallel } = await import('../../checker/parallel.ts');
  return checkInParallel(bounds, { ...options, threads });
}

async function runWithProgress(bounds: CheckBounds, flags: CheckFlags): Promise<CheckResult> {
  const options = { maxStates: flags.maxStates, keepGoing: flags.keepGoing === true };
  if (!showProgress(flags)) return explore(bounds, options, flags.threads);
  const { default: progress } = await import('cli-progress');
  const bar = new progress.SingleBar(
    {
      format: 'checking | {states} states | {transitions} transitions | depth {depth} | {rate} states/s',
      clearOnComplete: true,
    },
    progress.Presets.shades_classic,
  );
  const payload = (p: Progress) => ({
    states: p.states.toLocaleString('en-US'),
    transitions: p.transitions.toLocaleString('en-US'),
    depth: p.depth,
    rate: Math.round(p.states / Math.max(p.seconds, 1e-3)).toLocaleString('en-US'),
  });
  bar.start(flags.maxStates, 0, payload({ states: 0, transitions: 0, depth: 0, frontier: 0, seconds: 0 }));
  try {
    return await explore(
      bounds,
      { ...options, onProgress: (p) => bar.update(p.states, payload(p)) },
      flags.threads,
    );
  } finally {
    bar.stop();
  }
}

/** The JSON document: bounds, counts, timings, and each violation with its trace. */
export function toReport(result: CheckResult, threads = 1) {
  return {
    ok: passed(result),
    herder: result.herder,
    threads,
    fingerprintCollisionProbability: threads > 1 ? collisionProbability(result.states) : 0,
    bounds: result.bounds,
    states: result.states,
    transitions: result.transitions,
    depth: result.depth,
    seconds: Number(result.seconds.toFixed(3)),
    statesPerSecond: result.statesPerSecond,
    complete: result.complete,
    invariants: result.invariants,
    violations: result.violations.map((v) => ({
      invariant: v.invariant,
      detail: v.detail,
      length: v.trace.length,
      trace: v.trace,
    })),
    stuck:
      result.stuck === undefined
        ? null
        : { states: result.stuck.states, length: result.stuck.trace.length, trace: result.stuck.trace },
  };
}

function describeBounds(b: CheckBounds): string {
  const events = [
    'credits',
    'answers',
    b.failures && 'failures',
    b.timeouts && 'timeouts',
    b.lateAnswers && 'late answers',
    !b.recovery && (b.failures || b.timeouts) && 'no recovery',
    b.spoofs && 'spoofs',
    b.duplicates && 'duplicate notices',
    b.ownerActions && 'owner actions',
    b.underpaid && 'underpaid credits',
    b.huge && 'huge amounts',
  ].filter(Boolean);
  const overtakes = b.maxOvertakes === null ? 'unbounded overtaking' : `max ${b.maxOvertakes} overtake(s)`;
  return `${b.workers} worker(s), ${b.requests} request(s), ${b.levels} payment level(s), ${b.attempts} attempt(s), ${overtakes}; events: ${events.join(', ')}`;
}

/** Chance that two of `states` distinct states share a 64-bit fingerprint: about n² / 2^65. */
function collisionProbability(states: number): number {
  return (states * states) / 2 ** 65;
}

export function formatResult(result: CheckResult, threads = 1): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [
    `herd check: ${describeBounds(result.bounds)}`,
    `  ${result.complete ? 'explored' : 'stopped after'} ${n(result.states)} states, ${n(result.transitions)} transitions, depth ${result.depth}, in ${result.seconds.toFixed(2)} s (${n(result.statesPerSecond)} states/s${threads > 1 ? ` on ${threads} threads` : ''})`,
  ];
  if (threads > 1)
    lines.push(
      `  visited states kept as 64-bit fingerprints: chance of a collision ≈ ${collisionProbability(result.states).toExponential(1)}`,
    );
  if (!result.complete && result.violations.length === 0)
    lines.push(
      '  INCOMPLETE: the state cap was reached before every state was explored (raise --max-states)',
    );
  for (const v of result.violations) {
    lines.push('', `VIOLATION of ${v.invariant}: ${v.detail}`, `  shortest trace (${v.trace.length} steps):`);
    lines.push(formatTrace(v.trace, '    '));
  }
  if (result.stuck !== undefined) {
    lines.push(
      '',
      `VIOLATION of no-lost-request: from ${n(result.stuck.states)} state(s) no sequence of events ends every accepted request`,
      `  shortest trace to one (${result.stuck.trace.length} steps):`,
      formatTrace(result.stuck.trace, '    '),
    );
  }
  if (passed(result)) {
    lines.push(`  every invariant holds in every state: ${result.invariants.join(', ')}`);
    lines.push('  from every state, every accepted request can still end (no deadlock, no stuck request)');
  }
  return lines.join('\n');
}
