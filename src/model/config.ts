/**
 * Herd configuration: who the token and owner are, the fee schedule, the limits and the herd.
 * `parseConfig` turns untrusted JSON (amounts as decimal strings) into a validated config or a
 * list of precise problems.
 */
import { type Amount, MAX_DIGITS, parseDecimal } from './amount.ts';

export type ProcessId = string;

export interface HerdConfig {
  /** The wAR token process: the only accepted source of Credit-Notices. */
  readonly token: ProcessId;
  /** The operator: the only sender allowed to administer the herder. */
  readonly owner: ProcessId;
  readonly baseFee: Amount;
  readonly tokenFee: Amount;
  /** Largest accepted `X-Tokens`. */
  readonly maxTokens: number;
  /** Largest accepted prompt, in UTF-8 bytes. */
  readonly maxPromptBytes: number;
  /** Most times a waiting request may be overtaken by later arrivals; `null` = unbounded (pure priority). */
  readonly maxOvertakes: number | null;
  /** Deadline of a dispatched request: `now + timeoutBase + timeoutPerToken × tokens` (ms). */
  readonly timeoutBase: number;
  readonly timeoutPerToken: number;
  /** Dispatches a request gets before it is refunded. */
  readonly maxAttempts: number;
  /**
   * Longest a request may wait in the queue since it last entered it (ms): a request still
   * waiting after that is refunded, so no payment is held forever by a herd that cannot serve it.
   */
  readonly maxQueueWait: number;
  /** Worker processes registered at start, in order. */
  readonly workers: readonly ProcessId[];
}

export const DEFAULT_CONFIG: Omit<HerdConfig, 'token' | 'owner'> = {
  baseFee: 100n,
  tokenFee: 10n,
  maxTokens: 512,
  // AOS-Llama evaluates the prompt in one 512-token batch; longer prompts corrupt its memory.
  maxPromptBytes: 510,
  maxOvertakes: 16,
  timeoutBase: 60_000,
  timeoutPerToken: 1_000,
  maxAttempts: 3,
  maxQueueWait: 600_000,
  workers: [],
};

/**
 * The range of each numeric setting: beyond it a herd stops working (AOS-Llama evaluates the
 * prompt in one 512-token batch; deadlines past a day leave payments held for days; a bound on
 * tokens keeps every accepted `X-Tokens` an exact integer in both the model and the Lua).
 */
export const SETTING_BOUNDS = {
  maxTokens: { min: 1, max: 65_536, unit: '' },
  maxPromptBytes: {
    min: 1,
    max: 510,
    unit: ' (bytes: AOS-Llama evaluates the prompt in one 512-token batch)',
  },
  timeoutBase: { min: 0, max: 86_400_000, unit: ' (ms, one day)' },
  timeoutPerToken: { min: 0, max: 600_000, unit: ' (ms, ten minutes)' },
  maxAttempts: { min: 1, max: 10, unit: '' },
  maxQueueWait: { min: 1, max: 86_400_000, unit: ' (ms, one day)' },
} as const;

export type BoundedSetting = keyof typeof SETTING_BOUNDS;

/** The problem with a numeric setting's value, naming its bound; undefined when it is within. */
export function settingProblem(name: BoundedSetting, value: number): string | undefined {
  const { min, max, unit } = SETTING_BOUNDS[name];
  if (Number.isSafeInteger(value) && value >= min && value <= max) return undefined;
  return `${name} must be an integer from ${min} to ${max}${unit}`;
}

/** Builds a config from defaults and overrides, then validates it; throws on an invalid result. */
export function makeConfig(fields: Partial<HerdConfig> & Pick<HerdConfig, 'token' | 'owner'>): HerdConfig {
  const config: HerdConfig = { ...DEFAULT_CONFIG, ...fields };
  const problems = configProblems(config);
  if (problems.length > 0) throw new Error(`invalid herd config: ${problems.join('; ')}`);
  return config;
}

const PROCESS_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Whether `id` has the shape of an AO process id (what the herder accepts as one). */
export function isProcessId(id: string): boolean {
  return PROCESS_ID.test(id);
}

/** Every way a config breaks the protocol's assumptions; empty when it is valid. */
export function configProblems(config: HerdConfig): string[] {
  const problems: string[] = [];
  const isCount = (n: number, min: number) => Number.isSafeInteger(n) && n >= min;
  if (!isProcessId(config.token)) problems.push('token must be a process id');
  if (!isProcessId(config.owner)) problems.push('owner must be a process id');
  if (config.baseFee < 0n) problems.push('baseFee must be >= 0');
  if (config.tokenFee < 0n) problems.push('tokenFee must be >= 0');
  if (config.baseFee.toString().length > MAX_DIGITS)
    problems.push(`baseFee has more than ${MAX_DIGITS} digits`);
  if (config.tokenFee.toString().length > MAX_DIGITS)
    problems.push(`tokenFee has more than ${MAX_DIGITS} digits`);
  if (config.baseFee === 0n && config.tokenFee === 0n)
    problems.push('baseFee and tokenFee cannot both be 0 (the multiplier would divide by zero)');
  for (const name of ['maxTokens', 'maxPromptBytes'] as const) {
    const problem = settingProblem(name, config[name]);
    if (problem !== undefined) problems.push(problem);
  }
  if (config.maxOvertakes !== null && !isCount(config.maxOvertakes, 0))
    problems.push('maxOvertakes must be an integer >= 0 or null (unbounded)');
  for (const name of ['timeoutBase', 'timeoutPerToken', 'maxAttempts', 'maxQueueWait'] as const) {
    const problem = settingProblem(name, config[name]);
    if (problem !== undefined) problems.push(problem);
  }
  const seen = new Set<string>();
  for (const worker of config.workers) {
    if (!isProcessId(worker)) problems.push(`worker "${worker}" is not a process id`);
    if (seen.has(worker)) problems.push(`worker "${worker}" is listed twice`);
    if (worker === config.token) problems.push('the token cannot be a worker');
    seen.add(worker);
  }
  return problems;
}

/** The JSON form of a config (`herd.json`): amounts as decimal strings. */
export interface HerdConfigJson {
  token: string;
  owner: string;
  baseFee?: string;
  tokenFee?: string;
  maxTokens?: number;
  maxPromptBytes?: number;
  maxOvertakes?: number | null;
  timeoutBase?: number;
  timeoutPerToken?: number;
  maxAttempts?: number;
  maxQueueWait?: number;
  workers?: string[];
}

const KNOWN_KEYS = new Set([
  'token',
  'owner',
  'baseFee',
  'tokenFee',
  'maxTokens',
  'maxPromptBytes',
  'maxOvertakes',
  'timeoutBase',
  'timeoutPerToken',
  'maxAttempts',
  'maxQueueWait',
  'workers',
]);

/** Why `raw` is not an amount: negative, too many digits, or not a decimal string at all. */
function amountProblem(key: string, raw: unknown): string {
  if (typeof raw === 'string' && /^\s*-\s*[0-9]+$/.test(raw))
    return `${key} must not be negative (got ${JSON.stringify(raw)})`;
  if (typeof raw === 'string' && /^[0-9]+$/.test(raw))
    return `${key} has more than ${MAX_DIGITS} significant digits (got ${raw.length} digits)`;
  return `${key} must be a decimal string (got ${JSON.stringify(raw)})`;
}

/** Validates untrusted JSON into a config, or returns every problem found. */
export function parseConfig(
  json: unknown,
): { ok: true; config: HerdConfig } | { ok: false; problems: string[] } {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return { ok: false, problems: ['the config must be a JSON object'] };
  const input = json as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(input)) if (!KNOWN_KEYS.has(key)) problems.push(`unknown key "${key}"`);
  const text = (key: string): string | undefined => {
    const value = input[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') problems.push(`${key} must be a string`);
    return typeof value === 'string' ? value : undefined;
  };
  const amount = (key: string, fallback: Amount): Amount => {
    const raw = input[key];
    if (raw === undefined) return fallback;
    const parsed = parseDecimal(typeof raw === 'string' ? raw : undefined, key);
    if (!parsed.ok) problems.push(amountProblem(key, raw));
    return parsed.ok ? parsed.value : fallback;
  };
  const count = (key: keyof HerdConfig, fallback: number): number => {
    const raw = input[key];
    if (raw === undefined) return fallback;
    if (typeof raw !== 'number') problems.push(`${key} must be a number`);
    return typeof raw === 'number' ? raw : fallback;
  };
  const token = text('token');
  const owner = text('owner');
  if (token === undefined && input.token === undefined) problems.push('token is required');
  if (owner === undefined && input.owner === undefined) problems.push('owner is required');
  let workers: string[] = [];
  if (input.workers !== undefined) {
    if (!Array.isArray(input.workers) || input.workers.some((w) => typeof w !== 'string'))
      problems.push('workers must be an array of process ids');
    else workers = input.workers as string[];
  }
  const rawOvertakes = input.maxOvertakes;
  if (rawOvertakes !== undefined && rawOvertakes !== null && typeof rawOvertakes !== 'number')
    problems.push('maxOvertakes must be a number or null');
  // Stryker disable StringLiteral,ConditionalExpression: fallbacks for fields already reported as problems, never returned
  const config: HerdConfig = {
    token: token ?? '',
    owner: owner ?? '',
    baseFee: amount('baseFee', DEFAULT_CONFIG.baseFee),
    tokenFee: amount('tokenFee', DEFAULT_CONFIG.tokenFee),
    maxTokens: count('maxTokens', DEFAULT_CONFIG.maxTokens),
    maxPromptBytes: count('maxPromptBytes', DEFAULT_CONFIG.maxPromptBytes),
    maxOvertakes:
      rawOvertakes === undefined
        ? DEFAULT_CONFIG.maxOvertakes
        : typeof rawOvertakes === 'number'
          ? rawOvertakes
          : null,
    timeoutBase: count('timeoutBase', DEFAULT_CONFIG.timeoutBase),
    timeoutPerToken: count('timeoutPerToken', DEFAULT_CONFIG.timeoutPerToken),
    maxAttempts: count('maxAttempts', DEFAULT_CONFIG.maxAttempts),
    maxQueueWait: count('maxQueueWait', DEFAULT_CONFIG.maxQueueWait),
    workers,
  };
  // Stryker restore StringLiteral,ConditionalExpression
  if (problems.length === 0) problems.push(...configProblems(config));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}

/** The JSON form of a config, for files and hashing (key order fixed). */
export function configToJson(config: HerdConfig): HerdConfigJson {
  return {
    token: config.token,
    owner: config.owner,
    baseFee: config.baseFee.toString(),
    tokenFee: config.tokenFee.toString(),
    maxTokens: config.maxTokens,
    maxPromptBytes: config.maxPromptBytes,
    maxOvertakes: config.maxOvertakes,
    timeoutBase: config.timeoutBase,
    timeoutPerToken: config.timeoutPerToken,
    maxAttempts: config.maxAttempts,
    maxQueueWait: config.maxQueueWait,
    workers: [...config.workers],
  };
}
