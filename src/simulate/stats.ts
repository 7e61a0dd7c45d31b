/** Summary statistics of simulated latencies and the queue-length time series. */

/** Latency summary in seconds (nearest-rank percentiles); all zero when there are no values. */
export interface Percentiles {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export const NO_VALUES: Percentiles = { count: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };

/** Percentiles of ascending `values` (milliseconds), reported in seconds. */
export function percentiles(values: Float64Array): Percentiles {
  const n = values.length;
  if (n === 0) return NO_VALUES;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const rank = (p: number) => values[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]! / 1000;
  return {
    count: n,
    mean: round(sum / n / 1000),
    p50: round(rank(0.5)),
    p95: round(rank(0.95)),
    p99: round(rank(0.99)),
    max: round(values[n - 1]! / 1000),
  };
}

/**
 * Sorts `values` ascending in place, in the order `Float64Array.prototype.sort` gives (−0 before
 * +0), in linear time: a least-significant-digit radix sort on the IEEE bits, 11 bits a pass,
 * after mapping each double to a key whose unsigned order is the numeric order. Node 20's own
 * typed-array sort took about half a second for the million latencies of a large run; below
 * {@link RADIX_FROM} values it is the faster. NaN is not expected (latencies are differences of
 * finite times).
 */
export function sortNumbers(values: Float64Array): void {
  const n = values.length;
  if (n < RADIX_FROM || !LITTLE_ENDIAN) {
    values.sort();
    return;
  }
  const words = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  const counts = new Uint32Array(DIGITS * RADIX);
  toKeys(words, counts);
  let from: Uint32Array = words;
  let to: Uint32Array = new Uint32Array(2 * n);
  for (let pass = 0; pass < DIGITS; pass++)
    if (scatter(from, to, counts, pass)) {
      const swap = from;
      from = to;
      to = swap;
    }
  if (from !== words) words.set(from);
  fromKeys(words);
}

/** Fewest values sorted by radix. */
const RADIX_FROM = 1 << 14;
const RADIX_BITS = 11;
const RADIX = 1 << RADIX_BITS;
const MASK = RADIX - 1;
/** 64 key bits in digits of 11 bits (the last of 9). */
const DIGITS = 6;

/**
 * Doubles (pairs of words, low first) to keys, counting every digit in the same pass: a set sign
 * bit flips every bit (negatives in reverse order), a clear one flips only the sign bit.
 */
function toKeys(words: Uint32Array, counts: Uint32Array): void {
  for (let i = 0; i < words.length; i += 2) {
    let lo = words[i]!;
    let hi = words[i + 1]!;
    if (hi >>> 31 === 1) {
      lo = ~lo >>> 0;
      hi = ~hi >>> 0;
    } else hi = (hi | 0x80000000) >>> 0;
    words[i] = lo;
    words[i + 1] = hi;
    counts[lo & MASK]!++;
    counts[RADIX + ((lo >>> 11) & MASK)]!++;
    counts[2 * RADIX + (((lo >>> 22) | (hi << 10)) & MASK)]!++;
    counts[3 * RADIX + ((hi >>> 1) & MASK)]!++;
    counts[4 * RADIX + ((hi >>> 12) & MASK)]!++;
    counts[5 * RADIX + (hi >>> 23)]!++;
  }
}

function fromKeys(words: Uint32Array): void {
  for (let i = 0; i < words.length; i += 2) {
    const hi = words[i + 1]!;
    if (hi >>> 31 === 1) words[i + 1] = hi & 0x7fffffff;
    else {
      words[i] = ~words[i]!;
      words[i + 1] = ~hi;
    }
  }
}

/**
 * One stable pass on digit `pass` (least significant first), from `from` into `to`; false when
 * every key has the same digit (nothing moves).
 */
function scatter(from: Uint32Array, to: Uint32Array, counts: Uint32Array, pass: number): boolean {
  const n = from.length >> 1;
  const base = pass * RADIX;
  // The digit is bits `shift`… of the low word (`word` 0) or the high word (1); the third digit
  // straddles both.
  const straddles = pass === 2;
  const word = pass < 2 ? 0 : 1;
  const shift = pass < 2 ? pass * RADIX_BITS : pass * RADIX_BITS - 32;
  const first = straddles ? ((from[0]! >>> 22) | (from[1]! << 10)) & MASK : (from[word]! >>> shift) & MASK;
  if (counts[base + first] === n) return false;
  let offset = 0;
  for (let d = base; d < base + RADIX; d++) {
    const c = counts[d]!;
    counts[d] = offset;
    offset += 2 * c;
  }
  for (let i = 0; i < 2 * n; i += 2) {
    const slot =
      base +
      (straddles ? ((from[i]! >>> 22) | (from[i + 1]! << 10)) & MASK : (from[i + word]! >>> shift) & MASK);
    const at = counts[slot]!;
    counts[slot] = at + 2;
    to[at] = from[i]!;
    to[at + 1] = from[i + 1]!;
  }
  return true;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Rounds a reported number to 6 significant decimals so that JSON output stays readable. */
export function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(6)) : x;
}

/**
 * Up to `points` evenly spaced quantiles of sorted `values` (ms → s), for a cumulative
 * distribution chart.
 */
export function cdfPoints(sorted: Float64Array, points = 100): { seconds: number; fraction: number }[] {
  const n = sorted.length;
  if (n === 0) return [];
  const out: { seconds: number; fraction: number }[] = [];
  for (let i = 0; i <= points; i++) {
    const fraction = i / points;
    const index = Math.min(n - 1, Math.max(0, Math.ceil(fraction * n) - 1));
    out.push({ seconds: round(sorted[index]! / 1000), fraction: round(fraction) });
  }
  return out;
}

/** One observation of the herd, taken at a fixed interval of simulated time. */
export interface QueueSample {
  /** Simulated time since the first arrival (s). */
  readonly t: number;
  /** Requests waiting in the herder's queue. */
  readonly waiting: number;
  /** Workers generating an answer. */
  readonly busy: number;
  /** Workers silent past their deadline (timed out, not yet back). */
  readonly unavailable: number;
}

/**
 * Samples at a fixed interval that doubles whenever the series would exceed `limit` points, so
 * that a run of any length gives a chart-sized series at O(1) cost per step.
 */
export class Sampler {
  readonly samples: QueueSample[] = [];
  private next: number;

  constructor(
    private readonly origin: number,
    private interval: number,
    private readonly limit = 1_000,
  ) {
    this.next = origin;
  }

  /** Whether a sample is due at time `t` (call `take` for each due point until false). */
  due(t: number): boolean {
    return t >= this.next;
  }

  take(waiting: number, busy: number, unavailable: number): void {
    this.samples.push({ t: round((this.next - this.origin) / 1000), waiting, busy, unavailable });
    this.next += this.interval;
    if (this.samples.length >= this.limit) {
      let kept = 0;
      for (let i = 0; i < this.samples.length; i += 2) this.samples[kept++] = this.samples[i]!;
      this.samples.length = kept;
      this.interval *= 2;
      this.next = this.origin + kept * this.interval;
    }
  }
}
