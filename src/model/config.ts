/**
 * Herd configuration: who the token and owner are, the settings (fees, limits, timeouts: one
 * table, `settings.ts`) and the herd. `parseConfig` turns untrusted JSON (amounts as decimal
 * strings) into a validated config or a list of precise problems.
 */
import {
  type BoundedSetting,
  SETTING_DEFAULTS,
  SETTINGS,
  type SettingsJson,
  type SettingValues,
  settingFromJson,
  settingToJson,
  valueProblems,
} from './settings.ts';

export type { BoundedSetting } from './settings.ts';

export type ProcessId = string;

/** A herd's configuration: its settings (see `SETTINGS` for each one's meaning) and who is who. */
export interface HerdConfig extends SettingValues {
  /** The wAR token process: the only accepted source of Credit-Notices. */
  readonly token: ProcessId;
  /** The operator: the only sender allowed to administer the herder. */
  readonly owner: ProcessId;
  /** Worker processes registered at start, in order. */
  readonly workers: readonly ProcessId[];
}

export const DEFAULT_CONFIG: Omit<HerdConfig, 'token' | 'owner'> = { ...SETTING_DEFAULTS, workers: [] };

/** The range of each integer setting, from the settings table (what the Lua states too). */
export const SETTING_BOUNDS = Object.fromEntries(
  SETTINGS.flatMap((s) => (s.kind === 'integer' ? [[s.name, { min: s.min, max: s.max, unit: s.unit }]] : [])),
) as Readonly<Record<BoundedSetting, { readonly min: number; readonly max: number; readonly unit: string }>>;

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
  if (!isProcessId(config.token)) problems.push('token must be a process id');
  if (!isProcessId(config.owner)) problems.push('owner must be a process id');
  for (const spec of SETTINGS) {
    problems.push(...valueProblems(spec, config[spec.name]));
    // The one rule over two settings, listed right after them (where the Lua lists it too).
    if (spec.name === 'tokenFee' && config.baseFee === 0n && config.tokenFee === 0n)
      problems.push('baseFee and tokenFee cannot both be 0 (the multiplier would divide by zero)');
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
export interface HerdConfigJson extends SettingsJson {
  token: string;
  owner: string;
  workers?: string[];
}

const KNOWN_KEYS = new Set<string>(['token', 'owner', ...SETTINGS.map((s) => s.name), 'workers']);

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
  const settings: Record<string, unknown> = {};
  for (const spec of SETTINGS) {
    const parsed = settingFromJson(spec, input[spec.name]);
    if (parsed.ok) settings[spec.name] = parsed.value;
    else problems.push(parsed.reason);
  }
  if (problems.length > 0) return { ok: false, problems };
  const config = { token: token!, owner: owner!, ...(settings as SettingValues), workers };
  problems.push(...configProblems(config));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config };
}

/** The JSON form of a config, for files and hashing (key order fixed: token, owner, the settings, workers). */
export function configToJson(config: HerdConfig): HerdConfigJson {
  const settings = Object.fromEntries(SETTINGS.map((s) => [s.name, settingToJson(s, config[s.name])]));
  return {
    token: config.token,
    owner: config.owner,
    ...(settings as SettingsJson),
    workers: [...config.workers],
  };
}
