/**
 * The herd settings as command-line flags, from the settings table: `--base-fee <amount>`,
 * `--max-overtakes <n|unbounded>`, `--timeout-base <ms>`, …, each parsed and bounded as the table
 * states, so that `herd verify` and `herd simulate` take the same flags with the same words.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { MAX_DIGITS } from '../model/amount.ts';
import {
  SETTINGS,
  type Setting,
  type SettingName,
  type SettingSpec,
  type SettingValues,
  settingFlag,
} from '../model/settings.ts';

/** A bound flag's value for "none" (commander takes a parser's `null` for "no value"). */
export const UNBOUNDED = 'unbounded';

/** The setting flags as commander hands them over (camel-cased names). */
export type SettingFlagValues = { [K in SettingName]?: SettingValues[K] | typeof UNBOUNDED };

interface SettingFlagOptions {
  /**
   * Whether a value above the table's bound is refused (default true). A herder written by
   * someone else may have limits ours would not take: `herd verify` states them as they are.
   */
  readonly upper?: boolean;
  /** The help text, from the setting's (default: its meaning, without Markdown). */
  readonly help?: (spec: Setting, meaning: string) => string;
}

/** `--max-overtakes <n|unbounded>`. */
function settingOptionFlags(spec: SettingSpec): string {
  const argument =
    spec.kind === 'amount' ? 'amount' : spec.kind === 'bound' ? `n|${UNBOUNDED}` : (spec.argument ?? 'n');
  return `${settingFlag(spec)} <${argument}>`;
}

/** What a flag's help says by default: the setting's meaning, and what `unbounded` means. */
function settingHelp(spec: SettingSpec): string {
  const meaning = spec.meaning.replace(/`/g, '');
  return spec.kind === 'bound' ? `${meaning} (${UNBOUNDED}: pure priority)` : meaning;
}

/** The parser of a setting's flag value: the value, or a commander error naming the bound. */
export function settingParser(
  spec: SettingSpec,
  upper = true,
): (raw: string) => bigint | number | typeof UNBOUNDED {
  return (raw) => {
    const text = raw.trim();
    if (spec.kind === 'amount') {
      if (!new RegExp(`^[0-9]{1,${MAX_DIGITS}}$`).test(text))
        throw new InvalidArgumentError(
          `expected a whole number of token units, at most ${MAX_DIGITS} digits`,
        );
      return BigInt(text);
    }
    if (spec.kind === 'bound' && text.toLowerCase() === UNBOUNDED) return UNBOUNDED;
    const value = Number(text);
    const max = spec.kind === 'integer' && upper ? spec.max! : Number.MAX_SAFE_INTEGER;
    if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(value) || value < spec.min! || value > max)
      throw new InvalidArgumentError(
        spec.kind === 'bound'
          ? `expected an integer >= ${spec.min} or "${UNBOUNDED}"`
          : max === Number.MAX_SAFE_INTEGER
            ? `expected an integer >= ${spec.min}`
            : `expected an integer from ${spec.min} to ${max}${spec.unit ?? ''}`,
      );
    return value;
  };
}

/** Adds a flag for every setting of the table, in table order. */
export function addSettingOptions(command: Command, options: SettingFlagOptions = {}): Command {
  for (const spec of SETTINGS) {
    const help = options.help?.(spec, settingHelp(spec)) ?? settingHelp(spec);
    command.option(settingOptionFlags(spec), help, settingParser(spec, options.upper ?? true));
  }
  return command;
}

/** The settings given as flags (`unbounded` as `null`); the others are left out. */
export function settingsFromFlags(flags: SettingFlagValues): Partial<SettingValues> {
  const given: Record<string, unknown> = {};
  for (const spec of SETTINGS) {
    const value = flags[spec.name];
    if (value !== undefined) given[spec.name] = value === UNBOUNDED ? null : value;
  }
  return given as Partial<SettingValues>;
}
