/**
 * The settings table: what it states is what the config, administration and Info do with each
 * setting. The defaults and bounds are pinned here because the herd's behaviour (and the Lua,
 * which states the same bounds) depends on them.
 */
import { describe, expect, it } from 'vitest';
import { statedByAdmin } from '../../src/audit/settings.ts';
import { DEFAULT_CONFIG, makeConfig, parseConfig, SETTING_BOUNDS } from '../../src/model/config.ts';
import { initialHerderState, stepInPlace } from '../../src/model/herder.ts';
import {
  parseSettingTag,
  SETTINGS,
  settingFlag,
  settingFromJson,
  settingSpec,
  settingsOf,
  settingTagValue,
  valueProblems,
} from '../../src/model/settings.ts';

describe('the settings table', () => {
  it('states the defaults the herd has always had', () => {
    expect(DEFAULT_CONFIG).toEqual({
      baseFee: 100n,
      tokenFee: 10n,
      maxTokens: 512,
      maxPromptBytes: 510,
      maxOvertakes: 16,
      timeoutBase: 60_000,
      timeoutPerToken: 1_000,
      maxAttempts: 3,
      maxQueueWait: 600_000,
      workers: [],
    });
  });

  it('states the bounds of every integer setting (what the Lua states too)', () => {
    expect(SETTING_BOUNDS).toEqual({
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
    });
  });

  it('names each setting by tag and flag, fees set by Set-Fees and the rest by Set-Limits', () => {
    expect(SETTINGS.map((s) => [s.name, s.tag, settingFlag(s), s.action])).toEqual([
      ['baseFee', 'Base-Fee', '--base-fee', 'Set-Fees'],
      ['tokenFee', 'Token-Fee', '--token-fee', 'Set-Fees'],
      ['maxTokens', 'Max-Tokens', '--max-tokens', 'Set-Limits'],
      ['maxPromptBytes', 'Max-Prompt-Bytes', '--max-prompt-bytes', 'Set-Limits'],
      ['maxOvertakes', 'Max-Overtakes', '--max-overtakes', 'Set-Limits'],
      ['timeoutBase', 'Timeout-Base', '--timeout-base', 'Set-Limits'],
      ['timeoutPerToken', 'Timeout-Per-Token', '--timeout-per-token', 'Set-Limits'],
      ['maxAttempts', 'Max-Attempts', '--max-attempts', 'Set-Limits'],
      ['maxQueueWait', 'Max-Queue-Wait', '--max-queue-wait', 'Set-Limits'],
    ]);
    expect(settingsOf('Set-Fees').map((s) => s.name)).toEqual(['baseFee', 'tokenFee']);
  });

  it('a setting missing from a config takes its default: a missing maxOvertakes is 16, not unbounded', () => {
    const parsed = parseConfig({ token: 'T', owner: 'O', maxAttempts: 2 });
    expect(parsed).toMatchObject({ ok: true, config: { maxOvertakes: 16, maxAttempts: 2 } });
    expect(parseConfig({ token: 'T', owner: 'O', maxOvertakes: null })).toMatchObject({
      ok: true,
      config: { maxOvertakes: null },
    });
    for (const spec of SETTINGS)
      expect(settingFromJson(spec, undefined)).toEqual({ ok: true, value: spec.default });
  });

  it('each problem names the bound it breaks', () => {
    expect(valueProblems(settingSpec('maxAttempts'), 0)).toEqual([
      'maxAttempts must be an integer from 1 to 10',
    ]);
    expect(valueProblems(settingSpec('maxOvertakes'), -1)).toEqual([
      'maxOvertakes must be an integer >= 0 or null (unbounded)',
    ]);
    expect(valueProblems(settingSpec('maxOvertakes'), null)).toEqual([]);
    expect(valueProblems(settingSpec('baseFee'), -1n)).toEqual(['baseFee must be >= 0']);
    expect(valueProblems(settingSpec('tokenFee'), 10n ** 78n)).toEqual(['tokenFee has more than 78 digits']);
  });

  it('tag values read back as what they state', () => {
    for (const spec of SETTINGS) {
      const value = spec.default;
      expect(parseSettingTag(spec, settingTagValue(value))).toEqual({ ok: true, value });
    }
    expect(parseSettingTag(settingSpec('maxOvertakes'), 'UnBounded')).toEqual({ ok: true, value: null });
    expect(parseSettingTag(settingSpec('maxAttempts'), 'unbounded')).toEqual({
      ok: false,
      reason: 'Max-Attempts is not a decimal integer',
    });
    expect(parseSettingTag(settingSpec('timeoutBase'), '9007199254740992')).toEqual({
      ok: false,
      reason: 'Timeout-Base is too large',
    });
    expect(parseSettingTag(settingSpec('baseFee'), '9007199254740992')).toEqual({
      ok: true,
      value: 9007199254740992n,
    });
  });

  it('every setting is set by its owner action and reported by Info under its tag', () => {
    const state = initialHerderState(makeConfig({ token: 'TOKEN', owner: 'OWNER' }));
    const changed = { baseFee: 7n, tokenFee: 3n, maxOvertakes: null } as Record<string, unknown>;
    for (const spec of SETTINGS)
      if (!(spec.name in changed)) changed[spec.name] = spec.kind === 'amount' ? 1n : spec.min;
    let t = 1;
    for (const action of ['Set-Fees', 'Set-Limits'] as const) {
      const tags = Object.fromEntries(
        settingsOf(action).map((s) => [s.tag, settingTagValue(changed[s.name] as bigint | number | null)]),
      );
      const out = stepInPlace(state, {
        id: `a${t}`,
        from: 'OWNER',
        timestamp: t++,
        tags: { Action: action, ...tags },
      });
      expect(out[0]!.tags).toMatchObject({ Action: 'Admin-Done' });
    }
    expect(state.config).toMatchObject(changed);
    const info = stepInPlace(state, { id: 'info', from: 'ASKER', timestamp: t, tags: { Action: 'Info' } });
    for (const spec of SETTINGS)
      expect(info[0]!.tags[spec.tag]).toBe(settingTagValue(changed[spec.name] as bigint | number | null));
  });

  it('an auditor reads what Set-Fees and Set-Limits state under the same tags, leniently', () => {
    const tags: Record<string, string> = {
      'Base-Fee': '12',
      'Token-Fee': 'x',
      'Max-Overtakes': 'UNBOUNDED',
      'Max-Attempts': '7',
      'Max-Queue-Wait': '-1',
    };
    expect(statedByAdmin('Set-Fees', (t) => tags[t])).toEqual({ baseFee: 12n });
    expect(statedByAdmin('Set-Limits', (t) => tags[t])).toEqual({ maxOvertakes: null, maxAttempts: 7 });
  });
});
