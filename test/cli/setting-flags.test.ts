/**
 * The settings as command-line flags: one flag per row of the settings table, parsed and bounded
 * as the table states, the bound named when a value is refused; deploy's flags and its config
 * section are the same table of options.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  addSettingOptions,
  type SettingFlagValues,
  settingParser,
  settingsFromFlags,
} from '../../src/cli/setting-flags.ts';
import { DEPLOY_OPTIONS, parseSection } from '../../src/deploy/settings.ts';
import { SETTINGS, settingFlag, settingSpec } from '../../src/model/settings.ts';

function parse(args: string[], upper = true): SettingFlagValues {
  const command = new Command().exitOverride().configureOutput({ writeErr: () => {} });
  addSettingOptions(command, { upper });
  command.parse(args, { from: 'user' });
  return command.opts() as SettingFlagValues;
}

describe('setting flags', () => {
  it('one flag per setting, named after it', () => {
    const command = addSettingOptions(new Command());
    expect(command.options.map((o) => o.long)).toEqual(SETTINGS.map(settingFlag));
  });

  it('reads every kind: amounts exactly, integers, a bound or unbounded', () => {
    const flags = parse([
      '--base-fee',
      '123456789012345678901234567890',
      '--max-attempts',
      '2',
      '--max-overtakes',
      'Unbounded',
    ]);
    expect(settingsFromFlags(flags)).toEqual({
      baseFee: 123456789012345678901234567890n,
      maxAttempts: 2,
      maxOvertakes: null,
    });
    expect(settingsFromFlags(parse(['--max-overtakes', '0']))).toEqual({ maxOvertakes: 0 });
  });

  it('refuses a value out of bounds, naming the bound and why it is there', () => {
    const refusal = (raw: string, name: Parameters<typeof settingSpec>[0]) => {
      try {
        settingParser(settingSpec(name))(raw);
      } catch (err) {
        return (err as Error).message;
      }
      return undefined;
    };
    expect(refusal('511', 'maxPromptBytes')).toBe(
      'expected an integer from 1 to 510 (bytes: AOS-Llama evaluates the prompt in one 512-token batch)',
    );
    expect(refusal('0', 'maxQueueWait')).toBe('expected an integer from 1 to 86400000 (ms, one day)');
    expect(refusal('lots', 'maxOvertakes')).toBe('expected an integer >= 0 or "unbounded"');
    expect(refusal('1.5', 'baseFee')).toBe('expected a whole number of token units, at most 78 digits');
    expect(refusal('1'.repeat(79), 'tokenFee')).toBe(
      'expected a whole number of token units, at most 78 digits',
    );
    expect(refusal('unbounded', 'maxAttempts')).toBe('expected an integer from 1 to 10');
    expect(() => parse(['--max-attempts', '11'])).toThrow(CommanderError);
  });

  it('a herder of someone else may state limits above ours (verify), never below the minimum', () => {
    expect(settingsFromFlags(parse(['--max-attempts', '50', '--max-prompt-bytes', '4096'], false))).toEqual({
      maxAttempts: 50,
      maxPromptBytes: 4096,
    });
    expect(() => parse(['--max-attempts', '0'], false)).toThrow(/expected an integer >= 1/);
  });
});

describe('deploy options', () => {
  it('each flag sets the config section key of the same name, of the same type', () => {
    for (const option of DEPLOY_OPTIONS) {
      const command = new Command();
      command.option(option.flag);
      const attribute = command.options[0]!.attributeName();
      expect(attribute).toBe(option.key);
      const value = option.type === 'number' ? 3 : 'x';
      expect(parseSection({ [option.key]: value })).toEqual({ ok: true, section: { [option.key]: value } });
      expect(parseSection({ [option.key]: option.type === 'number' ? 'x' : 3 })).toMatchObject({ ok: false });
    }
    expect(parseSection({ wallett: 'w.json' })).toEqual({
      ok: false,
      problems: ['unknown key "deploy.wallett"'],
    });
  });

  it('the deploying guide (written by hand) lists every option, in order, with its flag', () => {
    const guide = readFileSync(new URL('../../docs/guides/deploying.md', import.meta.url), 'utf8');
    const rows = [...guide.matchAll(/^\| `([A-Za-z]+)` \| `(--[a-z-]+)` \|/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(DEPLOY_OPTIONS.map((o) => [o.key, /--[a-z-]+/.exec(o.flag)![0]]));
  });
});
