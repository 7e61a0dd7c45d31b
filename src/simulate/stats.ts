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
 * +0), in linear time: a least-significant-digit radix sort on the IEEE bits, 16 bits a pass,
 * after mapping each double to a key whose unsigned order is the numeric order. Node 20's own
 * typed-array sort took about half a second for the million latencies of a large run. NaN is not
 * expected (latencies are differences of finite times).
 */
export function sortNumbers(values: Float64Array): void {
  const n = values.length;
  if (n < 512 || !LITTLE_ENDIAN) {
    values.sort();
    return;
  }
  const words = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  // Keys: a set sign bit flips every bit (negatives in reverse), a clear one flips only the sign.
  for (let i = 1; i < 2 * n; i += 2) {
    const hi = words[i]!;
    if (hi >>> 31 === 1) {
      words[i] = ~hi;
      words[i - 1] = ~words[i - 1]!;
    } else words[i] = hi | 0x80000000;
  }
  let from: Uint32Array = words;
  let to: Uint32Array = new Uint32Array(2 * n);
  const counts = new Uint32Array(1 << 16);
  for (let pass = 0; pass < 4; pass++) {
    // Passes 0 and 1 read the low word, 2 and 3 the high word; 16 bits each.
    const word = pass >> 1;
    const shift = (pass & 1) * 16;
    counts.fill(0);
    for (let i = word; i < 2 * n; i += 2) counts[(from[i]! >>> shift) & 0xffff]!++;
    // A digit every key shares moves nothing.
    if (counts[(from[word]! >>> shift) & 0xffff] === n) continue;
    let offset = 0;
    for (let d = 0; d < counts.length; d++) {
      const c = counts[d]!;
      counts[d] = offset;
      offset += 2 * c;
    }
    for (let i = 0; i < 2 * n; i += 2) {
      const at = counts[(from[i + word]! >>> shift) & 0xffff]!;
      counts[(from[i + word]! >>> shift) & 0xffff] = at + 2;
      to[at] = from[i]!;
      to[at + 1] = from[i + 1]!;
    }
    const swap = from;
    from = to;
    to = swap;
  }
  if (from !== words) words.set(from);
  for (let i = 1; i < 2 * n; i += 2) {
    const key = words[i]!;
    if (key >>> 31 === 1) words[i] = key & 0x7fffffff;
    else {
      words[i] = ~key;
      words[i - 1] = ~words[i - 1]!;
    }
  }
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
