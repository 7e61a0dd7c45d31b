/**
 * What happened to each simulated request, kept as columns of typed arrays (no object per
 * request), and the per-class summaries a run reports from them.
 */
import type { PriorityClass } from './options.ts';
import { cdfPoints, type Percentiles, percentiles, round, sortNumbers } from './stats.ts';

export const ANSWERED = 1;
export const REFUNDED = 2;

/** A class's figures in a run (the engine's `ClassResult` without its name and payment rule). */
export interface ClassOutcome {
  readonly requests: number;
  readonly answered: number;
  readonly refunded: number;
  readonly meanMultiplier: number;
  readonly queueing: Percentiles;
  readonly total: Percentiles;
  readonly retried: number;
  readonly maxOvertakes: number;
  readonly cdf: { seconds: number; fraction: number }[];
}

export class RequestLog {
  readonly requestClass: Uint8Array;
  readonly tokens: Int32Array;
  /** paid / needed, as reported (a fixed rule's own multiplier). */
  readonly multiplierPaid: Float64Array;
  /** First dispatch time, −1 until dispatched. */
  readonly firstDispatch: Float64Array;
  readonly endedAt: Float64Array;
  /** 0 while running, then {@link ANSWERED} or {@link REFUNDED}. */
  readonly outcome: Uint8Array;
  readonly attempts: Uint8Array;
  /** Largest overtaking count seen at a dispatch, per class. */
  readonly overtakesByClass: Int32Array;

  constructor(requests: number, classes: number) {
    this.requestClass = new Uint8Array(requests);
    this.tokens = new Int32Array(requests);
    this.multiplierPaid = new Float64Array(requests);
    this.firstDispatch = new Float64Array(requests).fill(-1);
    this.endedAt = new Float64Array(requests);
    this.outcome = new Uint8Array(requests);
    this.attempts = new Uint8Array(requests);
    this.overtakesByClass = new Int32Array(classes);
  }

  /** Requests that ended as `which`. */
  count(which: number): number {
    const outcome = this.outcome;
    let n = 0;
    for (let i = 0; i < outcome.length; i++) if (outcome[i] === which) n++;
    return n;
  }

  /** The largest overtaking count of any request. */
  get maxOvertakes(): number {
    return Math.max(0, ...this.overtakesByClass);
  }
}

/** Running sums of one class (or of all), and its latencies (ms) once collected. */
interface Tally {
  requests: number;
  answered: number;
  refunded: number;
  retried: number;
  dispatched: number;
  multiplierSum: number;
  queueing: Float64Array;
  total: Float64Array;
}

function emptyTally(): Tally {
  return {
    requests: 0,
    answered: 0,
    refunded: 0,
    retried: 0,
    dispatched: 0,
    multiplierSum: 0,
    queueing: new Float64Array(0),
    total: new Float64Array(0),
  };
}

/** Each class's figures and those of all requests together, from a finished run's log. */
export function classOutcomes(
  classes: readonly PriorityClass[],
  log: RequestLog,
  arrivals: Float64Array,
): { classes: ClassOutcome[]; overall: ClassOutcome } {
  const { requestClass, firstDispatch, endedAt, outcome, attempts, multiplierPaid } = log;
  const n = requestClass.length;
  const tallies = classes.map(emptyTally);
  // One pass for the counts (and the sizes of the latency arrays), one to collect latencies.
  for (let r = 0; r < n; r++) {
    const t = tallies[requestClass[r]!]!;
    t.requests++;
    t.multiplierSum += multiplierPaid[r]!;
    if (outcome[r] === ANSWERED) t.answered++;
    else if (outcome[r] === REFUNDED) t.refunded++;
    if (firstDispatch[r]! >= 0) t.dispatched++;
    if (attempts[r]! > 1) t.retried++;
  }
  const overall = emptyTally();
  for (const t of tallies) {
    t.queueing = new Float64Array(t.dispatched);
    t.total = new Float64Array(t.answered);
    overall.requests += t.requests;
    overall.answered += t.answered;
    overall.refunded += t.refunded;
    overall.retried += t.retried;
    overall.dispatched += t.dispatched;
    overall.multiplierSum += t.multiplierSum;
  }
  overall.queueing = new Float64Array(overall.dispatched);
  overall.total = new Float64Array(overall.answered);
  const queued = new Int32Array(classes.length);
  const answered = new Int32Array(classes.length);
  let allQueued = 0;
  let allAnswered = 0;
  for (let r = 0; r < n; r++) {
    const cls = requestClass[r]!;
    const t = tallies[cls]!;
    if (firstDispatch[r]! >= 0) {
      const wait = firstDispatch[r]! - arrivals[r]!;
      t.queueing[queued[cls]!++] = wait;
      overall.queueing[allQueued++] = wait;
    }
    if (outcome[r] === ANSWERED) {
      const total = endedAt[r]! - arrivals[r]!;
      t.total[answered[cls]!++] = total;
      overall.total[allAnswered++] = total;
    }
  }
  for (const t of [...tallies, overall]) {
    sortNumbers(t.queueing);
    sortNumbers(t.total);
  }
  return {
    classes: tallies.map((t, i) => summary(t, log.overtakesByClass[i]!)),
    overall: summary(overall, log.maxOvertakes),
  };
}

function summary(t: Tally, maxOvertakes: number): ClassOutcome {
  return {
    requests: t.requests,
    answered: t.answered,
    refunded: t.refunded,
    meanMultiplier: round(t.requests === 0 ? 0 : t.multiplierSum / t.requests),
    queueing: percentiles(t.queueing),
    total: percentiles(t.total),
    retried: t.retried,
    maxOvertakes,
    cdf: cdfPoints(t.total),
  };
}
