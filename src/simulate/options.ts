/**
 * What a simulation is run with: the workload (arrivals, prompts, tokens, how clients pay), the
 * workers' behaviour and the herder's configuration. Defaults describe a small herd at 80% load.
 */
import { configProblems } from '../model/config.ts';
import { parseDecimalRatio, type Ratio } from '../model/fees.ts';
import { SETTING_DEFAULTS, type SettingValues } from '../model/settings.ts';
import { estimateMean, type IntDistribution, parseIntDistribution } from './random.ts';

export type { Ratio };

/** How a class of clients decides what to pay. */
export type PaymentRule =
  /** Always `multiplier × fee` (rounded up to a whole unit). */
  | { readonly kind: 'fixed'; readonly multiplier: string }
  /**
   * The original client's rule: read Info, pay its Last-Multiplier × fee, plus `bumpPercent`
   * when the queue is not empty; never more than `cap × fee`.
   */
  | { readonly kind: 'last-multiplier'; readonly bumpPercent: string; readonly cap: string };

/** A class of clients: its share of arrivals and its payment rule. Latency is reported per class. */
export interface PriorityClass {
  readonly name: string;
  readonly share: number;
  readonly pays: PaymentRule;
}

export interface WorkerBehaviour {
  /** Generation time per requested token (ms). */
  readonly msPerToken: number;
  /** Fixed time per request: prompt evaluation, set-up (ms). */
  readonly overheadMs: number;
  /** Each job's time is scaled by a uniform factor in [1 − jitter, 1 + jitter]. */
  readonly jitter: number;
  /** Chance that a job ends in Inference-Error (part-way through). */
  readonly failRate: number;
  /** Chance that a worker goes silent on a job: the herder's deadline must fire. */
  readonly timeoutRate: number;
  /** How long after the deadline a silent worker comes back with a (late) answer (ms). */
  readonly recoverMs: number;
}

export interface Bursts {
  /** Mean time between bursts (s, exponential); 0 = no bursts. */
  readonly everySeconds: number;
  /** Requests in one burst, on top of the steady arrivals. */
  readonly size: number;
  /** A burst's requests arrive spread uniformly over this window (ms). */
  readonly spreadMs: number;
}

/** The herder's settings in a simulation (its workers are generated). */
export type HerdSettings = SettingValues;

export interface SimulationOptions {
  readonly seed: number;
  /** Paid requests to simulate (every one is valid and pays at least its fee). */
  readonly requests: number;
  readonly workers: number;
  /** Steady arrivals per second (Poisson). */
  readonly rate: number;
  readonly bursts: Bursts;
  /** Words in a prompt (the fee counts them). */
  readonly promptWords: IntDistribution;
  /** Tokens requested (`X-Tokens`); clamped to maxTokens. */
  readonly tokens: IntDistribution;
  readonly classes: readonly PriorityClass[];
  readonly worker: WorkerBehaviour;
  readonly herd: HerdSettings;
  /** Interval of Cron ticks to the herder (ms); deadlines are also checked on every other message. */
  readonly cronMs: number;
}

export const DEFAULT_CLASSES: readonly PriorityClass[] = [
  { name: 'standard', share: 0.7, pays: { kind: 'fixed', multiplier: '1' } },
  { name: 'priority', share: 0.2, pays: { kind: 'fixed', multiplier: '2' } },
  { name: 'adaptive', share: 0.1, pays: { kind: 'last-multiplier', bumpPercent: '5', cap: '10' } },
];

export const DEFAULT_WORKER: WorkerBehaviour = {
  msPerToken: 50,
  overheadMs: 500,
  jitter: 0.2,
  failRate: 0.01,
  timeoutRate: 0.001,
  recoverMs: 30_000,
};

export const DEFAULT_SIMULATION: SimulationOptions = {
  seed: 1,
  requests: 10_000,
  workers: 10,
  rate: 2,
  bursts: { everySeconds: 0, size: 0, spreadMs: 1_000 },
  promptWords: { kind: 'lognormal', median: 12, sigma: 0.6 },
  tokens: { kind: 'lognormal', median: 48, sigma: 0.7 },
  classes: DEFAULT_CLASSES,
  worker: DEFAULT_WORKER,
  herd: SETTING_DEFAULTS,
  cronMs: 60_000,
};

/** Defaults with some fields replaced (nested objects are merged one level deep). */
export function simulationOptions(
  overrides: Partial<Omit<SimulationOptions, 'worker' | 'herd' | 'bursts'>> & {
    worker?: Partial<WorkerBehaviour>;
    herd?: Partial<HerdSettings>;
    bursts?: Partial<Bursts>;
  } = {},
): SimulationOptions {
  const base = DEFAULT_SIMULATION;
  return {
    ...base,
    ...overrides,
    worker: { ...base.worker, ...overrides.worker },
    herd: { ...base.herd, ...overrides.herd },
    bursts: { ...base.bursts, ...overrides.bursts },
  };
}

/** Every reason the options cannot be simulated; empty when they can. */
export function simulationProblems(o: SimulationOptions): string[] {
  const problems: string[] = [];
  const positiveInt = (n: number, what: string) => {
    if (!Number.isSafeInteger(n) || n < 1) problems.push(`${what} must be an integer >= 1`);
  };
  positiveInt(o.requests, 'requests');
  positiveInt(o.workers, 'workers');
  if (!(o.rate > 0) || !Number.isFinite(o.rate)) problems.push('rate must be a number > 0 (requests/s)');
  if (!(o.cronMs > 0)) problems.push('cronMs must be > 0');
  if (o.bursts.everySeconds < 0 || o.bursts.size < 0 || o.bursts.spreadMs < 0)
    problems.push('burst settings must be >= 0');
  const w = o.worker;
  if (!(w.msPerToken >= 0) || !(w.overheadMs >= 0) || !(w.recoverMs >= 1))
    problems.push('msPerToken and overheadMs must be >= 0, recoverMs >= 1');
  if (!(w.jitter >= 0 && w.jitter < 1)) problems.push('jitter must be in [0, 1)');
  if (!(w.failRate >= 0) || !(w.timeoutRate >= 0) || w.failRate + w.timeoutRate > 1)
    problems.push('failRate and timeoutRate must be >= 0 and add up to at most 1');
  for (const problem of configProblems({ ...o.herd, token: 'TOKEN', owner: 'OWNER', workers: [] }))
    problems.push(`herder: ${problem}`);
  if (o.classes.length === 0) problems.push('at least one client class is needed');
  if (o.classes.length > 255) problems.push('at most 255 client classes');
  const names = new Set<string>();
  for (const c of o.classes) {
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(c.name))
      problems.push(`class name "${c.name}" must be 1-32 of A-Z a-z 0-9 _ -`);
    if (names.has(c.name)) problems.push(`class "${c.name}" is listed twice`);
    names.add(c.name);
    if (!(c.share > 0) || !Number.isFinite(c.share)) problems.push(`class "${c.name}": share must be > 0`);
    try {
      paymentRatios(c.pays);
    } catch (err) {
      problems.push(`class "${c.name}": ${(err as Error).message}`);
    }
  }
  return problems;
}

/** "1.25" → 125/100. Throws on anything but a plain non-negative decimal. */
export function parseRatio(text: string, what: string): Ratio {
  const parsed = parseDecimalRatio(text, what);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.value;
}

/** The exact ratios of a payment rule: fixed multiplier, or bump factor and cap. */
export function paymentRatios(rule: PaymentRule): { multiplier?: Ratio; bump?: Ratio; cap?: Ratio } {
  if (rule.kind === 'fixed') {
    const multiplier = parseRatio(rule.multiplier, 'multiplier');
    if (multiplier.num < multiplier.den)
      throw new Error(`multiplier ${rule.multiplier} is below 1 (underpays)`);
    return { multiplier };
  }
  const percent = parseRatio(rule.bumpPercent, 'bump');
  const bump = { num: percent.den * 100n + percent.num, den: percent.den * 100n };
  const cap = parseRatio(rule.cap, 'cap');
  if (cap.num < cap.den) throw new Error(`cap ${rule.cap} is below 1`);
  return { bump, cap };
}

export function describePayment(rule: PaymentRule): string {
  return rule.kind === 'fixed' ? `${rule.multiplier}×` : `last+${rule.bumpPercent}% (≤${rule.cap}×)`;
}

/**
 * Parses a class as written on the command line: `NAME:SHARE:PAYS`, where PAYS is a multiplier
 * (`1`, `1.5`) or the original client's rule `last+PERCENT%` with an optional cap
 * (`last+5%`, `last+5%<=10`).
 */
export function parseClass(text: string): PriorityClass {
  const parts = text.split(':');
  if (parts.length !== 3)
    throw new Error(`class "${text}" must be NAME:SHARE:PAYS, e.g. priority:0.2:2 or adaptive:0.1:last+5%`);
  const [name, rawShare, pays] = parts as [string, string, string];
  const share = Number(rawShare);
  if (!(share > 0) || !Number.isFinite(share)) throw new Error(`class "${text}": share must be a number > 0`);
  // The numbers are read (and refused) by the payment rule's own checks.
  const adaptive = /^last\+([0-9.]+)%(?:<=([0-9.]+))?$/.exec(pays);
  const rule: PaymentRule = adaptive
    ? { kind: 'last-multiplier', bumpPercent: adaptive[1]!, cap: adaptive[2] ?? '10' }
    : { kind: 'fixed', multiplier: pays };
  const parsed: PriorityClass = { name, share, pays: rule };
  const problems = simulationProblems({ ...DEFAULT_SIMULATION, classes: [parsed] });
  if (problems.length > 0) throw new Error(problems.join('; '));
  return parsed;
}

export function formatClass(c: PriorityClass): string {
  const pays = c.pays.kind === 'fixed' ? c.pays.multiplier : `last+${c.pays.bumpPercent}%<=${c.pays.cap}`;
  return `${c.name}:${c.share}:${pays}`;
}

export { parseIntDistribution };

/** Mean time a worker spends on one request (ms), before failures. */
export function meanServiceMs(o: SimulationOptions): number {
  return o.worker.overheadMs + estimateMean(o.tokens, o.herd.maxTokens) * o.worker.msPerToken;
}

/** The steady arrival rate (req/s) at which a herd of `workers` is busy `load` of the time. */
export function rateForLoad(o: SimulationOptions, load: number, workers = o.workers): number {
  const burstRate = o.bursts.everySeconds > 0 ? o.bursts.size / o.bursts.everySeconds : 0;
  return Math.max(1e-9, (load * workers * 1000) / meanServiceMs(o) - burstRate);
}
