/**
 * What an auditor is told about the herder it watches. A herder written by someone else has
 * settings the auditor cannot see, so every setting an invariant depends on is either stated
 * (by flag, by a herd config, or because the herder is ours) or left unknown; an invariant whose
 * settings are unknown is reported "not checked", never violated.
 */
import { MAX_RAW_DIGITS } from '../model/amount.ts';
import type { HerdConfig } from '../model/config.ts';
import {
  type SettingName as HerdSetting,
  SETTINGS,
  type SettingAction,
  type SettingValues,
  settingFlag,
  settingsOf,
  settingTagValue,
} from '../model/settings.ts';

/**
 * Each herd setting (the settings table's), stated or not; `maxOvertakes: null` is stated as
 * unbounded (pure priority), `undefined` is not stated.
 */
type StatedValues = { readonly [K in HerdSetting]?: SettingValues[K] | undefined };

export interface StatedSettings extends StatedValues {
  /** The token process whose Credit-Notices move funds (always needed). */
  readonly token: string;
  /** The owner, for herders that accept administration. */
  readonly owner?: string | undefined;
  /** Worker ids the herd starts with. Workers the herder dispatches to are learned as well. */
  readonly workers: readonly string[];
  /**
   * The herder acts on the worker reports of our protocol (Worker-Error takes a worker out and
   * retries what it held; Worker-Initialized brings it back). Herders written for the original
   * need not, so without this the auditor only learns from what the herder does. Always said (a
   * herd config spread in its place would otherwise pass for settings that deny it).
   */
  readonly workerReports: boolean;
}

/** What an invariant may need stated: the owner, or a setting of the settings table. */
export type SettingName = 'owner' | HerdSetting;

/** The command-line flag that states each setting (what a "not checked" report asks for). */
export const SETTING_FLAGS: Readonly<Record<SettingName, string>> = {
  owner: '--owner',
  ...(Object.fromEntries(SETTINGS.map((s) => [s.name, settingFlag(s)])) as Record<HerdSetting, string>),
};

/** Every setting of a herd config is stated; one the config lacks (an object built by hand) is not. */
export function statedFromConfig(config: HerdConfig): StatedSettings {
  const values = config as Partial<SettingValues>;
  return {
    token: config.token,
    owner: config.owner,
    workers: config.workers,
    ...(Object.fromEntries(SETTINGS.map((s) => [s.name, values[s.name]])) as StatedValues),
    workerReports: true,
  };
}

/**
 * The command-line flags that state `s` to `herd verify` (token, owner, workers and every stated
 * setting, `unbounded` for a bound stated as none), as a list of arguments.
 */
export function statedFlags(s: StatedSettings): string[] {
  const args = ['--token', s.token];
  if (s.owner !== undefined) args.push('--owner', s.owner);
  if (s.workers.length > 0) args.push('--workers', s.workers.join(','));
  for (const spec of SETTINGS) {
    const value = s[spec.name];
    if (value !== undefined) args.push(settingFlag(spec), settingTagValue(value));
  }
  return args;
}

const DIGITS = /^[0-9]+$/;

/**
 * The settings an owner's Set-Fees or Set-Limits states, read from its tags as leniently as a
 * herder of any make may take them: each tag that is digits (an amount of at most
 * MAX_RAW_DIGITS), or `unbounded` for a bound; a tag that reads as neither states nothing.
 */
export function statedByAdmin(
  action: SettingAction,
  read: (tag: string) => string | undefined,
): Partial<Record<HerdSetting, bigint | number | null>> {
  const stated: Partial<Record<HerdSetting, bigint | number | null>> = {};
  for (const spec of settingsOf(action)) {
    const raw = read(spec.tag);
    if (raw === undefined) continue;
    if (spec.kind === 'bound' && raw.toLowerCase() === 'unbounded') stated[spec.name] = null;
    else if (spec.kind === 'amount') {
      if (DIGITS.test(raw) && raw.length <= MAX_RAW_DIGITS) stated[spec.name] = BigInt(raw);
    } else if (DIGITS.test(raw)) stated[spec.name] = Number(raw);
  }
  return stated;
}

/** The settings among `names` that were not stated. */
export function unstated(settings: StatedSettings, names: readonly SettingName[]): SettingName[] {
  return names.filter((name) => settings[name] === undefined);
}

/** Whether every setting that fixes a request's fee is known. */
export function feesStated(s: StatedSettings): s is StatedSettings & { baseFee: bigint; tokenFee: bigint } {
  return s.baseFee !== undefined && s.tokenFee !== undefined;
}

/** Whether a dispatched request's deadline can be computed. */
export function timeoutsStated(
  s: StatedSettings,
): s is StatedSettings & { timeoutBase: number; timeoutPerToken: number } {
  return s.timeoutBase !== undefined && s.timeoutPerToken !== undefined;
}
