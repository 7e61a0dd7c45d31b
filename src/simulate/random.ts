/**
 * Seeded randomness for the simulator: a small fast generator (sfc32, seeded through splitmix32)
 * and the distributions an operator describes a workload with. Never Math.random: the same seed
 * gives the same run on every machine.
 */

/** A deterministic stream of uniform numbers. Independent streams come from `fork`. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      // splitmix32: spreads a small seed over the whole state.
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** An independent stream for one purpose (arrivals, requests, workers), derived from this seed. */
  static stream(seed: number, purpose: number): Random {
    return new Random((Math.imul(seed >>> 0, 0x27d4eb2d) ^ Math.imul(purpose + 1, 0x165667b1)) >>> 0);
  }

  /** Next 32-bit unsigned integer (sfc32). */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform in (0, 1]: safe under a logarithm. */
  open(): number {
    return (this.u32() + 1) / 4294967296;
  }

  /** Exponential with the given mean. */
  exponential(mean: number): number {
    return -Math.log(this.open()) * mean;
  }

  /** Standard normal (Box–Muller; one of the pair is discarded to keep the stream simple). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(this.open())) * Math.cos(2 * Math.PI * this.uniform());
  }
}

/**
 * A distribution of positive integers (prompt words, requested tokens), as written on the
 * command line:
 * - `64` — always 64;
 * - `uniform:16:128` — every integer from 16 to 128 equally likely;
 * - `exp:64` — exponential with mean 64, rounded, at least 1;
 * - `lognormal:48:0.8` — log-normal with median 48 and shape σ = 0.8, rounded, at least 1.
 */
export type IntDistribution =
  | { readonly kind: 'const'; readonly value: number }
  | { readonly kind: 'uniform'; readonly min: number; readonly max: number }
  | { readonly kind: 'exp'; readonly mean: number }
  | { readonly kind: 'lognormal'; readonly median: number; readonly sigma: number };

/** Parses a distribution; throws an Error whose message says what was expected. */
export function parseIntDistribution(text: string, what: string): IntDistribution {
  const parts = text.trim().split(':');
  const num = (raw: string | undefined, min: number): number => {
    const value = Number(raw);
    if (raw === undefined || raw === '' || !Number.isFinite(value) || value < min)
      throw new Error(`${what}: "${raw ?? ''}" in "${text}" must be a number >= ${min}`);
    return value;
  };
  const expectParts = (n: number, form: string) => {
    if (parts.length !== n) throw new Error(`${what}: expected ${form}, got "${text}"`);
  };
  switch (parts[0]) {
    case 'uniform': {
      expectParts(3, 'uniform:MIN:MAX');
      const min = Math.round(num(parts[1], 1));
      const max = Math.round(num(parts[2], min));
      return { kind: 'uniform', min, max };
    }
    case 'exp':
      expectParts(2, 'exp:MEAN');
      return { kind: 'exp', mean: num(parts[1], 1) };
    case 'lognormal':
      expectParts(3, 'lognormal:MEDIAN:SIGMA');
      return { kind: 'lognormal', median: num(parts[1], 1), sigma: num(parts[2], 0) };
    default:
      if (parts.length === 1 && /^[0-9]+$/.test(parts[0]!))
        return { kind: 'const', value: Math.round(num(parts[0], 1)) };
      throw new Error(
        `${what}: "${text}" is not a distribution (use N, uniform:MIN:MAX, exp:MEAN or lognormal:MEDIAN:SIGMA)`,
      );
  }
}

export function formatIntDistribution(d: IntDistribution): string {
  switch (d.kind) {
    case 'const':
      return String(d.value);
    case 'uniform':
      return `uniform:${d.min}:${d.max}`;
    case 'exp':
      return `exp:${d.mean}`;
    case 'lognormal':
      return `lognormal:${d.median}:${d.sigma}`;
  }
}

/** Draws from `d`, clamped to [1, max]. */
export function sampleInt(d: IntDistribution, random: Random, max: number): number {
  let value: number;
  switch (d.kind) {
    case 'const':
      value = d.value;
      break;
    case 'uniform':
      value = d.min + Math.floor(random.uniform() * (d.max - d.min + 1));
      break;
    case 'exp':
      value = Math.round(random.exponential(d.mean));
      break;
    case 'lognormal':
      value = Math.round(d.median * Math.exp(d.sigma * random.normal()));
      break;
  }
  return Math.min(max, Math.max(1, value));
}

/** The mean of `d` clamped to [1, max], estimated from a fixed sample (used to turn a load into a rate). */
export function estimateMean(d: IntDistribution, max: number): number {
  if (d.kind === 'const') return Math.min(Math.max(d.value, 1), max);
  const random = new Random(0x5eed);
  let sum = 0;
  const n = 20_000;
  for (let i = 0; i < n; i++) sum += sampleInt(d, random, max);
  return sum / n;
}
