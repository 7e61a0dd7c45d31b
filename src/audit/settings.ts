/**
 * What an auditor is told about the herder it watches. A herder written by someone else has
 * settings the auditor cannot see, so every setting an invariant depends on is either stated
 * (by flag, by a herd config, or because the herder is ours) or left unknown; an invariant whose
 * settings are unknown is reported "not checked", never violated.
 */
import type { HerdConfig } from '../model/config.ts';

export interface StatedSettings {
  /** The token process whose Credit-Notices move funds (always needed). */
  readonly token: string;
  /** The owner, for herders that accept administration. */
  readonly owner?: string | undefined;
  /** Worker ids the herd starts with. Workers the herder dispatches to are learned as well. */
  readonly workers: readonly string[];
  readonly baseFee?: bigint | undefined;
  readonly tokenFee?: bigint | undefined;
  readonly maxTokens?: number | undefined;
  readonly maxPromptBytes?: number | undefined;
  /** `null` = stated as unbounded (pure priority); `undefined` = not stated. */
  readonly maxOvertakes?: number | null | undefined;
  readonly timeoutBase?: number | undefined;
  readonly timeoutPerToken?: number | undefined;
  readonly maxAttempts?: number | undefined;
  /** Longest a request may wait in the queue since it last entered it (ms). */
  readonly maxQueueWait?: number | undefined;
  /**
   * The herder acts on the worker reports of our protocol (Worker-Error takes a worker out and
   * retries what it held; Worker-Initialized brings it back). Herders written for the original
   * need not, so without this the auditor only learns from what the herder does.
   */
  readonly workerReports?: boolean | undefined;
}

export type SettingName = Exclude<keyof StatedSettings, 'token' | 'workers' | 'workerReports'>;

/** The command-line flag that states each setting (what a "not checked" report asks for). */
export const SETTING_FLAGS: Readonly<Record<SettingName, string>> = {
  owner: '--owner',
  baseFee: '--base-fee',
  tokenFee: '--token-fee',
  maxTokens: '--max-tokens',
  maxPromptBytes: '--max-prompt-bytes',
  maxOvertakes: '--max-overtakes',
  timeoutBase: '--timeout-base',
  timeoutPerToken: '--timeout-per-token',
  maxAttempts: '--max-attempts',
  maxQueueWait: '--max-queue-wait',
};

/** Every setting of a herd config is stated; the queue-wait bound only when the config has one. */
export function statedFromConfig(config: HerdConfig): StatedSettings {
  const withWait = config as HerdConfig & { maxQueueWait?: number };
  return {
    token: config.token,
    owner: config.owner,
    workers: config.workers,
    baseFee: config.baseFee,
    tokenFee: config.tokenFee,
    maxTokens: config.maxTokens,
    maxPromptBytes: config.maxPromptBytes,
    maxOvertakes: config.maxOvertakes,
    timeoutBase: config.timeoutBase,
    timeoutPerToken: config.timeoutPerToken,
    maxAttempts: config.maxAttempts,
    maxQueueWait: withWait.maxQueueWait,
    workerReports: true,
  };
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
