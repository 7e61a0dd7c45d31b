/**
 * `herd check`: bounded exhaustive model checking of the herder. Explores every state reachable
 * with a small herd and a few requests, checks every invariant of docs/design.md §3 on every state and
 * transition, and that every request can still end from every state. Exits 1 on a violation,
 * printing the shortest trace that reaches it.
 */
import { availableParallelism } from 'node:os';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { boundsProblems, type CheckBounds, DEFAULT_BOUNDS } from '../../checker/bounds.ts';
import { type CheckOptions, type CheckResult, check, type Progress } from '../../checker/explore.ts';
import { collisionProbability } from '../../checker/fingerprints.ts';
import type { Limit } from '../../checker/limits.ts';
import { formatTrace, traceLength } from '../../checker/trace.ts';
import { settingSpec } from '../../model/settings.ts';
import {
  EXIT_CHECK_FAILED,
  emit,
  intOption,
  type OutputOptions,
  progressLines,
  showProgress,
  UserError,
} from '../output.ts';
import { settingParser, UNBOUNDED } from '../setting-flags.ts';

interface CheckFlags extends OutputOptions {
  workers: number;
  requests: number;
  levels: number;
  attempts: number;
  maxOvertakes: number | typeof UNBOUNDED;
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
  symmetry: boolean;
  maxStates: number;
  threads: number;
  maxMemory: number;
  maxSeconds?: number;
}

/** Default --max-memory: 8 GiB, a third of a 24 GiB machine. */
const DEFAULT_MAX_MEMORY_GIB = 8;

/** The queue's overtaking bound, read as the setting is (the checker bounds it further). */
const overtakesOption = settingParser(settingSpec('maxOvertakes')) as (
  raw: string,
) => number | typeof UNBOUNDED;

function gibOption(raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0 || value > 1024)
    throw new InvalidArgumentError('expected a number of GiB above 0, at most 1024 (e.g. 8 or 0.5)');
  return value;
}

/** Threads beyond the cores only slow the check down and multiply its memory. */
export function threadsProblem(threads: number, cores = availableParallelism()): string | undefined {
  if (threads <= cores) return undefined;
  return `--threads ${threads} is more than the ${cores} core(s) of this machine: use --threads ${cores} or fewer`;
}

/** What to change when a limit stopped the run short. */
function remedy(limit: Limit): string {
  switch (limit) {
    case 'states':
      return 'raise --max-states or narrow the bounds';
    case 'time':
      return 'raise --max-seconds or narrow the bounds';
    case 'memory':
      return 'raise --max-memory or narrow the bounds';
    case 'heap':
      return 'raise the heap with NODE_OPTIONS=--max-old-space-size=<MiB>, or narrow the bounds';
  }
}

function boundsFromFlags(flags: CheckFlags): CheckBounds {
  const all = flags.all === true;
  const bounds: CheckBounds = {
    workers: flags.workers,
    requests: flags.requests,
    levels: flags.levels,
    attempts: flags.attempts,
    maxOvertakes: flags.maxOvertakes === UNBOUNDED ? null : flags.maxOvertakes,
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
  const threads = threadsProblem(flags.threads);
  if (threads !== undefined) problems.push(threads);
  if (problems.length > 0) throw new UserError(problems.join('; '));
  return bounds;
}

export function register(program: Command): void {
  program
    .command('check')
    .description(
      'Bounded exhaustive model checking: every reachable state of the herder with a small herd, every invariant, shortest trace on a violation.',
    )
    .option('--workers <n>', 'workers in the herd, 1 to 8', intOption(1), DEFAULT_BOUNDS.workers)
    .option(
      '--requests <n>',
      'paid Credit-Notices delivered in total, 0 to 12',
      intOption(0),
      DEFAULT_BOUNDS.requests,
    )
    .option(
      '--levels <n>',
      'distinct payment levels (multipliers 1..n), 1 to 8',
      intOption(1),
      DEFAULT_BOUNDS.levels,
    )
    .option(
      '--attempts <n>',
      'dispatches before a request is refunded (maxAttempts), 1 to 8',
      intOption(1),
      DEFAULT_BOUNDS.attempts,
    )
    .option(
      '--max-overtakes <n|unbounded>',
      'overtaking bound of the queue, 0 to 12, or "unbounded"',
      overtakesOption,
      DEFAULT_BOUNDS.maxOvertakes,
    )
    .option('--failures', 'workers answer Inference-Error, report Worker-Error and recover')
    .option(
      '--timeouts',
      'time passes while requests run: deadlines expire, timed-out workers recover (without it, time passes only while none runs, so queue waits expire)',
    )
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
    .option(
      '--no-symmetry',
      'explore every state: without it, states that differ only by a renaming of workers are explored once, and an event of a worker interchangeable with an earlier one is counted, not stepped (symmetry reduction)',
    )
    .option('--max-states <n>', 'stop after this many distinct states', intOption(1), 20_000_000)
    .option(
      '--max-memory <GiB>',
      "stop, incomplete, when the process's resident memory reaches this (measured while exploring)",
      gibOption,
      DEFAULT_MAX_MEMORY_GIB,
    )
    .option('--max-seconds <s>', 'stop, incomplete, after this many seconds of exploring', intOption(1))
    .option(
      '--threads <n>',
      `explore on n worker threads, at most the number of cores (${availableParallelism()} here); they pay off on spaces that take more than a few seconds on one`,
      intOption(1),
      1,
    )
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Bounds: --workers 1 to 8, --requests 0 to 12, --levels 1 to 8, --attempts 1 to 8,
--max-overtakes 0 to 12 or "unbounded". The state space grows steeply: 3 workers × 5 requests
with --all has tens of millions of states. Each explored state keeps about 100 bytes, the
frontier a few hundred more per state; memory is measured while exploring and the run stops,
incomplete, when it reaches --max-memory or nears the JavaScript heap's limit.
Exit codes: 0 every state explored and every invariant holds; 1 a violation, or the run stopped
incomplete; 2 bad bounds.

Examples:
  $ herd check --workers 2 --requests 3
  $ herd check --workers 2 --requests 4 --failures --timeouts
  $ herd check --workers 1 --requests 3 --max-overtakes unbounded --json
  $ herd check --workers 2 --requests 3 --all --threads 2 --max-memory 4
  $ herd check --workers 3 --requests 5 --failures --timeouts --max-seconds 5`,
    )
    .action(async (flags: CheckFlags) => {
      const bounds = boundsFromFlags(flags);
      const result = await runWithProgress(bounds, flags);
      emit(toReport(result, flags.threads), flags, () => formatResult(result, flags.threads));
      if (!passed(result)) process.exitCode = EXIT_CHECK_FAILED;
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
  const options = {
    maxStates: flags.maxStates,
    maxMemory: flags.maxMemory * 2 ** 30,
    ...(flags.maxSeconds === undefined ? {} : { maxSeconds: flags.maxSeconds }),
    keepGoing: flags.keepGoing === true,
    symmetry: flags.symmetry !== false,
  };
  if (!showProgress(flags)) {
    const lines = progressLines('check');
    try {
      return await explore(
        bounds,
        {
          ...options,
          onProgress: (p) =>
            lines.update(
              `${p.states.toLocaleString('en-US')} states, ${p.transitions.toLocaleString('en-US')} transitions, depth ${p.depth}`,
            ),
        },
        flags.threads,
      );
    } finally {
      lines.stop();
    }
  }
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
function toReport(result: CheckResult, threads = 1) {
  return {
    ok: passed(result),
    herder: result.herder,
    threads,
    fingerprintCollisionProbability: collisionProbability(result.states),
    bounds: result.bounds,
    symmetry: result.symmetry,
    states: result.states,
    represented: result.represented,
    bytesPerState: result.bytesPerState,
    transitions: result.transitions,
    bySymmetry: result.bySymmetry,
    depth: result.depth,
    seconds: Number(result.seconds.toFixed(3)),
    statesPerSecond: result.statesPerSecond,
    complete: result.complete,
    ...(result.stoppedBy === undefined
      ? {}
      : { stoppedBy: { ...result.stoppedBy, remedy: remedy(result.stoppedBy.limit) } }),
    invariants: result.invariants,
    violations: result.violations.map((v) => ({
      invariant: v.invariant,
      detail: v.detail,
      length: v.trace.length,
      ...(v.loop === undefined ? {} : { loop: v.loop }),
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

export function formatResult(result: CheckResult, threads = 1): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const lines = [
    `herd check: ${describeBounds(result.bounds)}`,
    `  ${result.complete ? 'explored' : 'stopped after'} ${n(result.states)} states, ${n(result.transitions)} transitions, depth ${result.depth}, in ${result.seconds.toFixed(2)} s (${n(result.statesPerSecond)} states/s${threads > 1 ? ` on ${threads} threads` : ''})`,
  ];
  if (result.symmetry)
    lines.push(
      `  symmetry reduction: ${n(result.states)} orbits of states that differ only by a renaming of workers, standing for up to ${n(result.represented)} states; ${n(result.bySymmetry)} of the transitions not stepped, as they lead where a twin worker's do (--no-symmetry explores each state)`,
    );
  lines.push(
    `  visited states kept as 64-bit fingerprints (${n(result.bytesPerState)} bytes a state): chance of a collision ≈ ${collisionProbability(result.states).toExponential(1)}`,
  );
  if (result.stoppedBy !== undefined)
    lines.push(
      `  INCOMPLETE: stopped before every state was explored: ${result.stoppedBy.reason} (${remedy(result.stoppedBy.limit)})`,
    );
  for (const v of result.violations) {
    lines.push(
      '',
      `VIOLATION of ${v.invariant}: ${v.detail}`,
      `  shortest trace (${traceLength(v.trace, v.loop)}):`,
    );
    lines.push(formatTrace(v.trace, '    ', v.loop));
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
    lines.push('  on every path where time advances, every accepted request ends (bounded-response)');
    lines.push('  from every state, every accepted request can still end (no deadlock, no stuck request)');
  }
  return lines.join('\n');
}
