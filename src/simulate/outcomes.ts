/**
 * What happened to each simulated request, kept as columns of typed arrays (no object per
 * request), and the per-class summaries a run reports from them.
 */
import type { PriorityClass } from './options.ts';
import { cdfPoints, type Percentiles, percentiles, round, sortNumbers } from './stats.ts';

export const ANSWERED = 1;
export const REFUNDED = 2;

/** A class's figures in a run (the engine's `ClassResult` adds its name, payment rule and share). */
export interface ClassOutcome {
  readonly requests: number;
  readonly answered: number;
  readonly refunded: number;
  /** Mean priority multiplier actually paid (paid / needed). */
  readonly meanMultiplier: number;
  /** Arrival → first dispatch, for every dispatched request (s). */
  readonly queueing: Percentiles;
  /** Arrival → answer forwarded, for answered requests (s). */
  readonly total: Percentiles;
  /** Requests dispatched more than once (after an error or timeout). */
  readonly retried: number;
  /** Largest number of times one of its requests was overtaken while waiting. */
  readonly maxOvertakes: number;
  /** Cumulative distribution of total latency, for charts. */
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

/** Counts and sums of one class (or of all). */
interface Tally {
  requests: number;
  answered: number;
  refunded: number;
  retried: number;
  dispatched: number;
  multiplierSum: number;
}

function emptyTally(): Tally {
  return { requests: 0, answered: 0, refunded: 0, retried: 0, dispatched: 0, multiplierSum: 0 };
}

/**
 * Latencies (ms) of every class in one array, each class's in its own segment (a counting sort
 * by class, in request order within a class): `start[c]` to `start[c + 1]`.
 */
function segments(sizes: number[]): { values: Float64Array; start: Int32Array; next: Int32Array } {
  const start = new Int32Array(sizes.length + 1);
  for (let c = 0; c < sizes.length; c++) start[c + 1] = start[c]! + sizes[c]!;
  return { values: new Float64Array(start[sizes.length]!), start, next: start.slice(0, sizes.length) };
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
    overall.requests += t.requests;
    overall.answered += t.answered;
    overall.refunded += t.refunded;
    overall.retried += t.retried;
    overall.dispatched += t.dispatched;
    overall.multiplierSum += t.multiplierSum;
  }
  const queueing = segments(tallies.map((t) => t.dispatched));
  const total = segments(tallies.map((t) => t.answered));
  const queueingValues = queueing.values;
  const queueingNext = queueing.next;
  const totalValues = total.values;
  const totalNext = total.next;
  for (let r = 0; r < n; r++) {
    const cls = requestClass[r]!;
    if (firstDispatch[r]! >= 0) queueingValues[queueingNext[cls]!++] = firstDispatch[r]! - arrivals[r]!;
    if (outcome[r] === ANSWERED) totalValues[totalNext[cls]!++] = endedAt[r]! - arrivals[r]!;
  }
  // Each class's segment sorted in place, then all requests' latencies merged from them.
  const ofClass = (s: { values: Float64Array; start: Int32Array }, c: number): Float64Array =>
    s.values.subarray(s.start[c]!, s.start[c + 1]!);
  for (let c = 0; c < classes.length; c++) {
    sortNumbers(ofClass(queueing, c));
    sortNumbers(ofClass(total, c));
  }
  return {
    classes: tallies.map((t, c) =>
      summary(t, ofClass(queueing, c), ofClass(total, c), log.overtakesByClass[c]!),
    ),
    overall: summary(overall, merged(queueing), merged(total), log.maxOvertakes),
  };
}

/**
 * The values of every segment, each already sorted, in one sorted array: a merge, one comparison
 * per value per class (a few classes), instead of sorting them all again. Latencies are
 * differences of finite times, never NaN or −0, so `<` orders them as a sort would.
 */
function merged(s: { values: Float64Array; start: Int32Array }): Float64Array {
  const { values, start } = s;
  const classes = start.length - 1;
  const out = new Float64Array(values.length);
  const next = start.slice(0, classes);
  for (let k = 0; k < out.length; k++) {
    let from = -1;
    for (let c = 0; c < classes; c++)
      if (next[c]! < start[c + 1]! && (from < 0 || values[next[c]!]! < values[next[from]!]!)) from = c;
    out[k] = values[next[from]!++]!;
  }
  return out;
}

function summary(t: Tally, queueing: Float64Array, total: Float64Array, maxOvertakes: number): ClassOutcome {
  return {
    requests: t.requests,
    answered: t.answered,
    refunded: t.refunded,
    meanMultiplier: round(t.requests === 0 ? 0 : t.multiplierSum / t.requests),
    queueing: percentiles(queueing),
    total: percentiles(total),
    retried: t.retried,
    maxOvertakes,
    cdf: cdfPoints(total),
  };
}
