/**
 * The herder's settings, declared once (docs/design.md §1): each one's config key, the tag that
 * sets it (Set-Fees, Set-Limits) and reports it (Info-Response), its kind and bounds, its default
 * and what it means. Config parsing, owner administration, Info, the verifier's flags and the
 * docs read this table; adding a setting means adding a row here and the rule that uses it.
 */
import { type Amount, MAX_DIGITS, type Parsed, parseDecimal } from './amount.ts';

/**
 * `amount`: token units (a bigint; a decimal string in JSON, tags and flags).
 * `integer`: a whole number within [min, max].
 * `bound`: a whole number >= min, or `null` for none (JSON `null`, the word `unbounded` in tags and flags).
 */
export type SettingKind = 'amount' | 'integer' | 'bound';

/** The owner's action that changes a setting. */
export type SettingAction = 'Set-Fees' | 'Set-Limits';

export interface SettingSpec {
  /** The config key (`herd.json`, `HerdConfig`). */
  readonly name: string;
  /** The tag that sets it and that Info-Response reports it under. */
  readonly tag: string;
  readonly kind: SettingKind;
  readonly action: SettingAction;
  /** Smallest value (integer and bound settings). */
  readonly min?: number;
  /** Largest value (integer settings). */
  readonly max?: number;
  /** Why the bound is where it is, appended to the problem that names it. */
  readonly unit?: string;
  readonly default: Amount | number | null;
  /** What it means (Markdown), for the docs and the command-line help. */
  readonly meaning: string;
  /** What its value is called in command-line help (`--timeout-base <ms>`); `n` when not given. */
  readonly argument?: string;
}

/**
 * Every setting, in the order problems are listed and Info reports them. The bounds are where a
 * herd stops working: AOS-Llama evaluates the prompt in one 512-token batch; deadlines past a
 * day leave payments held for days; a bound on tokens keeps every accepted `X-Tokens` an exact
 * integer in both the model and the Lua.
 */
export const SETTINGS = [
  {
    name: 'baseFee',
    tag: 'Base-Fee',
    kind: 'amount',
    action: 'Set-Fees',
    default: 100n,
    meaning: 'fee per request',
  },
  {
    name: 'tokenFee',
    tag: 'Token-Fee',
    kind: 'amount',
    action: 'Set-Fees',
    default: 10n,
    meaning: 'fee per requested token and per prompt word',
  },
  {
    name: 'maxTokens',
    tag: 'Max-Tokens',
    kind: 'integer',
    action: 'Set-Limits',
    min: 1,
    max: 65_536,
    unit: '',
    default: 512,
    meaning: 'largest `X-Tokens` accepted',
  },
  {
    name: 'maxPromptBytes',
    tag: 'Max-Prompt-Bytes',
    kind: 'integer',
    action: 'Set-Limits',
    min: 1,
    max: 510,
    unit: ' (bytes: AOS-Llama evaluates the prompt in one 512-token batch)',
    default: 510,
    meaning: 'largest prompt accepted, in UTF-8 bytes',
  },
  {
    name: 'maxOvertakes',
    tag: 'Max-Overtakes',
    kind: 'bound',
    action: 'Set-Limits',
    min: 0,
    default: 16,
    meaning: 'most times a waiting request may be overtaken by later arrivals',
  },
  {
    name: 'timeoutBase',
    tag: 'Timeout-Base',
    kind: 'integer',
    action: 'Set-Limits',
    min: 0,
    max: 86_400_000,
    unit: ' (ms, one day)',
    argument: 'ms',
    default: 60_000,
    meaning:
      'deadline of a dispatched request, before its per-token part (ms): `timeoutBase + timeoutPerToken × tokens`',
  },
  {
    name: 'timeoutPerToken',
    tag: 'Timeout-Per-Token',
    kind: 'integer',
    action: 'Set-Limits',
    min: 0,
    max: 600_000,
    unit: ' (ms, ten minutes)',
    argument: 'ms',
    default: 1_000,
    meaning: 'deadline of a dispatched request per requested token (ms)',
  },
  {
    name: 'maxAttempts',
    tag: 'Max-Attempts',
    kind: 'integer',
    action: 'Set-Limits',
    min: 1,
    max: 10,
    unit: '',
    default: 3,
    meaning: 'dispatches a request gets before it is refunded',
  },
  {
    name: 'maxQueueWait',
    tag: 'Max-Queue-Wait',
    kind: 'integer',
    action: 'Set-Limits',
    min: 1,
    max: 86_400_000,
    unit: ' (ms, one day)',
    argument: 'ms',
    default: 600_000,
    meaning:
      'longest a request may wait in the queue since it last entered it (ms); a request that waited longer is refunded',
  },
] as const satisfies readonly SettingSpec[];

export type Setting = (typeof SETTINGS)[number];
export type SettingName = Setting['name'];

type ValueOf<K extends SettingKind> = K extends 'amount'
  ? Amount
  : K extends 'integer'
    ? number
    : number | null;
type JsonOf<K extends SettingKind> = K extends 'amount'
  ? string
  : K extends 'integer'
    ? number
    : number | null;

/** Every setting's value: what a herd config holds besides its token, owner and workers. */
export type SettingValues = { readonly [S in Setting as S['name']]: ValueOf<S['kind']> };

/** The JSON form of the settings (`herd.json`): each optional, amounts as decimal strings. */
export type SettingsJson = { [S in Setting as S['name']]?: JsonOf<S['kind']> };

/** The settings whose value is a whole number within [min, max]. */
export type BoundedSetting = Extract<Setting, { kind: 'integer' }>['name'];

const BY_NAME = new Map<string, Setting>(SETTINGS.map((s) => [s.name, s]));

/** The row of `name`. */
export function settingSpec(name: SettingName): Setting {
  return BY_NAME.get(name)!;
}

/** Every setting at its default. */
export const SETTING_DEFAULTS: SettingValues = Object.fromEntries(
  SETTINGS.map((s) => [s.name, s.default]),
) as SettingValues;

/** The command-line flag that states or overrides a setting: `maxQueueWait` → `--max-queue-wait`. */
export function settingFlag(spec: SettingSpec): string {
  return `--${spec.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The settings the owner's `action` changes, in table order. */
export function settingsOf<A extends SettingAction>(action: A): readonly Extract<Setting, { action: A }>[] {
  return SETTINGS.filter((s): s is Extract<Setting, { action: A }> => s.action === action);
}

type Value = Amount | number | null;

/** Every problem with a setting's value, each naming the bound it breaks; empty when it is valid. */
export function valueProblems(spec: SettingSpec, value: Value): string[] {
  switch (spec.kind) {
    case 'amount': {
      const amount = value as Amount;
      const problems: string[] = [];
      if (amount < 0n) problems.push(`${spec.name} must be >= 0`);
      if (amount.toString().length > MAX_DIGITS)
        problems.push(`${spec.name} has more than ${MAX_DIGITS} digits`);
      return problems;
    }
    case 'integer': {
      const n = value as number;
      if (Number.isSafeInteger(n) && n >= spec.min! && n <= spec.max!) return [];
      return [`${spec.name} must be an integer from ${spec.min} to ${spec.max}${spec.unit ?? ''}`];
    }
    case 'bound': {
      const n = value as number | null;
      if (n === null || (Number.isSafeInteger(n) && n >= spec.min!)) return [];
      return [`${spec.name} must be an integer >= ${spec.min} or null (unbounded)`];
    }
  }
}

/** A setting's value as a tag value (Info-Response, Set-Fees, Set-Limits): `null` is `unbounded`. */
export function settingTagValue(value: Value): string {
  return value === null ? 'unbounded' : value.toString();
}

/**
 * A tag value as the setting's value: a decimal integer (an integer setting at most 2^53 − 1),
 * or `unbounded` (any case) for a bound. The bounds themselves are checked with the whole config.
 */
export function parseSettingTag(spec: SettingSpec, raw: string): Parsed<Value> {
  if (spec.kind === 'bound' && raw.toLowerCase() === 'unbounded') return { ok: true, value: null };
  const parsed = parseDecimal(raw, spec.tag);
  if (!parsed.ok || spec.kind === 'amount') return parsed;
  if (parsed.value > BigInt(Number.MAX_SAFE_INTEGER))
    return { ok: false, reason: `${spec.tag} is too large` };
  return { ok: true, value: Number(parsed.value) };
}

/** Why `raw` is not an amount: negative, too many digits, or not a decimal string at all. */
function amountJsonProblem(key: string, raw: unknown): string {
  if (typeof raw === 'string' && /^\s*-\s*[0-9]+$/.test(raw))
    return `${key} must not be negative (got ${JSON.stringify(raw)})`;
  if (typeof raw === 'string' && /^[0-9]+$/.test(raw))
    return `${key} has more than ${MAX_DIGITS} significant digits (got ${raw.length} digits)`;
  return `${key} must be a decimal string (got ${JSON.stringify(raw)})`;
}

/**
 * A setting read from a config's JSON: its default when the key is missing, or the reason the
 * JSON value has the wrong type. Bounds are checked with the whole config.
 */
export function settingFromJson(spec: SettingSpec, raw: unknown): Parsed<Value> {
  if (raw === undefined) return { ok: true, value: spec.default };
  switch (spec.kind) {
    case 'amount': {
      const parsed = parseDecimal(typeof raw === 'string' ? raw : undefined, spec.name);
      return parsed.ok ? parsed : { ok: false, reason: amountJsonProblem(spec.name, raw) };
    }
    case 'integer':
      return typeof raw === 'number'
        ? { ok: true, value: raw }
        : { ok: false, reason: `${spec.name} must be a number` };
    case 'bound':
      return raw === null || typeof raw === 'number'
        ? { ok: true, value: raw }
        : { ok: false, reason: `${spec.name} must be a number or null` };
  }
}

/** A setting's JSON value: amounts as decimal strings. */
export function settingToJson(spec: SettingSpec, value: Value): string | number | null {
  return spec.kind === 'amount' ? (value as Amount).toString() : (value as number | null);
}
