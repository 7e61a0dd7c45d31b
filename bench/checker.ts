/**
 * The model checker's figures (docs/design.md §6): its checking rate on 2 workers × 4 requests
 * with failures and timeouts, every state explored (no symmetry reduction, so that the rate
 * counts the same states as ever) and with the reduction; the full space of 3 workers × 5
 * requests with failures and timeouts under symmetry reduction, in a fresh process whose peak
 * resident memory is measured; the bytes kept per stored state; and the speed-up of the
 * parallel explorer.
 *
 *   node --import tsx bench/checker.ts full <workers> <requests> <max seconds> [threads]
 *
 * runs one check with failures and timeouts and prints its figures as one JSON line.
 */
import { availableParallelism } from 'node:os';
import { DEFAULT_BOUNDS } from '../src/checker/bounds.ts';
import { type CheckResult, check, type Progress } from '../src/checker/explore.ts';
import { checkInParallel } from '../src/checker/parallel.ts';

export interface CheckRun {
  readonly states: number;
  readonly represented: number;
  readonly transitions: number;
  readonly depth: number;
  readonly seconds: number;
  readonly statesPerSecond: number;
  readonly complete: boolean;
  readonly violations: number;
  readonly bytesPerState: number;
  /** Peak resident set of the process, bytes. */
  readonly peakRss: number;
}

export function failuresAndTimeouts(workers: number, requests: number) {
  return { ...DEFAULT_BOUNDS, workers, requests, failures: true, timeouts: true };
}

export function summary(result: CheckResult): CheckRun {
  return {
    states: result.states,
    represented: result.represented,
    transitions: result.transitions,
    depth: result.depth,
    seconds: result.seconds,
    statesPerSecond: result.statesPerSecond,
    complete: result.complete,
    violations: result.violations.length + (result.stuck === undefined ? 0 : 1),
    bytesPerState: result.bytesPerState,
    peakRss: process.resourceUsage().maxRSS * 1024,
  };
}

/** The 2 × 4 failures + timeouts space, unreduced and reduced, alternating. */
export function benchmarkCheckingRate(repeats: number): { unreduced: CheckRun[]; reduced: CheckRun[] } {
  const bounds = failuresAndTimeouts(2, 4);
  const unreduced: CheckRun[] = [];
  const reduced: CheckRun[] = [];
  for (let i = 0; i < repeats; i++) {
    unreduced.push(summary(check(bounds, { symmetry: false })));
    reduced.push(summary(check(bounds)));
  }
  return { unreduced, reduced };
}

/**
 * The parallel explorer's speed-up on `threads` threads over one, on the same space (one and
 * several alternate, so that both see the same load), and what that predicts for 16 cores: the
 * share of the run that did not divide among the threads, s = 2/S₂ − 1 from the speed-up S₂ on
 * two (Amdahl), gives 1 / (s + (1 − s)/16).
 */
export async function benchmarkSpeedUp(
  workers: number,
  requests: number,
  threads = availableParallelism(),
): Promise<{ one: CheckRun; many: CheckRun; speedUp: number; serialShare: number; predicted16: number }> {
  const bounds = failuresAndTimeouts(workers, requests);
  const one = summary(check(bounds, { symmetry: false }));
  const many = summary(await checkInParallel(bounds, { threads, symmetry: false }));
  const speedUp = one.seconds / many.seconds;
  const serialShare = Math.min(1, Math.max(0, (threads / speedUp - 1) / (threads - 1)));
  return { one, many, speedUp, serialShare, predicted16: 1 / (serialShare + (1 - serialShare) / 16) };
}

if (import.meta.url === `file://${process.argv[1]}` && process.argv[2] === 'full') {
  const [workers, requests, maxSeconds, threads] = process.argv.slice(3).map(Number);
  const bounds = failuresAndTimeouts(workers!, requests!);
  let shown = 0;
  // Progress on stderr every 10 s: states, depth, resident memory.
  const onProgress = (p: Progress) => {
    if (p.seconds - shown < 10) return;
    shown = p.seconds;
    const rss = (process.memoryUsage.rss() / 2 ** 30).toFixed(2);
    process.stderr.write(`${p.seconds.toFixed(0)} s: ${p.states} states, depth ${p.depth}, ${rss} GiB\n`);
  };
  const result =
    (threads ?? 1) > 1
      ? await checkInParallel(bounds, { threads: threads!, maxSeconds: maxSeconds!, onProgress })
      : check(bounds, { maxSeconds: maxSeconds!, onProgress });
  console.log(JSON.stringify(summary(result)));
}
