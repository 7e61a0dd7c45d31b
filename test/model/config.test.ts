import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  configProblems,
  configToJson,
  DEFAULT_CONFIG,
  makeConfig,
  parseConfig,
} from '../../src/model/config.ts';
import { UNIT_RUNS } from '../properties/harness.ts';

const validConfig = fc
  .record({
    token: fc.stringMatching(/^[A-Za-z0-9_-]{1,43}$/),
    owner: fc.stringMatching(/^[A-Za-z0-9_-]{1,43}$/),
    baseFee: fc.bigInt({ min: 0n, max: 1n << 100n }),
    tokenFee: fc.bigInt({ min: 1n, max: 1n << 100n }),
    maxTokens: fc.integer({ min: 1, max: 65_536 }),
    maxPromptBytes: fc.integer({ min: 1, max: 510 }),
    maxOvertakes: fc.option(fc.nat(100), { nil: null }),
    timeoutBase: fc.nat(86_400_000),
    timeoutPerToken: fc.nat(600_000),
    maxAttempts: fc.integer({ min: 1, max: 10 }),
    maxQueueWait: fc.integer({ min: 1, max: 86_400_000 }),
    workers: fc.uniqueArray(fc.stringMatching(/^W[0-9]{1,3}$/), { maxLength: 5 }),
  })
  .filter((config) => !config.workers.includes(config.token));

describe('herd configuration', () => {
  it('a valid config survives the JSON round trip unchanged', () => {
    fc.assert(
      fc.property(validConfig, (config) => {
        expect(configProblems(config)).toEqual([]);
        const parsed = parseConfig(JSON.parse(JSON.stringify(configToJson(config))));
        expect(parsed).toEqual({ ok: true, config });
      }),
      { numRuns: UNIT_RUNS },
    );
  });

  it('defaults fill every field but token and owner', () => {
    expect(parseConfig({ token: 'T', owner: 'O' })).toEqual({
      ok: true,
      config: { token: 'T', owner: 'O', ...DEFAULT_CONFIG },
    });
    expect(makeConfig({ token: 'T', owner: 'O' })).toEqual({ token: 'T', owner: 'O', ...DEFAULT_CONFIG });
  });

  it.each([
    [null, 'the config must be a JSON object'],
    [[], 'the config must be a JSON object'],
    [{ owner: 'O' }, 'token is required'],
    [{ token: 'T' }, 'owner is required'],
    [{ token: 'T', owner: 'O', colour: 'red' }, 'unknown key "colour"'],
    [{ token: 5, owner: 'O' }, 'token must be a string'],
    [{ token: 'T', owner: 'O', baseFee: 5 }, 'baseFee must be a decimal string (got 5)'],
    [{ token: 'T', owner: 'O', tokenFee: '1.5' }, 'tokenFee must be a decimal string (got "1.5")'],
    [{ token: 'T', owner: 'O', baseFee: '-5' }, 'baseFee must not be negative (got "-5")'],
    [
      { token: 'T', owner: 'O', tokenFee: '1'.repeat(100) },
      'tokenFee has more than 78 significant digits (got 100 digits)',
    ],
    [
      { token: 'T', owner: 'O', baseFee: '0', tokenFee: '0' },
      'baseFee and tokenFee cannot both be 0 (the multiplier would divide by zero)',
    ],
    [{ token: 'T', owner: 'O', maxTokens: 0 }, 'maxTokens must be an integer from 1 to 65536'],
    [{ token: 'T', owner: 'O', maxTokens: '5' }, 'maxTokens must be a number'],
    [
      { token: 'T', owner: 'O', maxPromptBytes: 1.5 },
      'maxPromptBytes must be an integer from 1 to 510 (bytes: AOS-Llama evaluates the prompt in one 512-token batch)',
    ],
    [
      { token: 'T', owner: 'O', maxOvertakes: -1 },
      'maxOvertakes must be an integer >= 0 or null (unbounded)',
    ],
    [{ token: 'T', owner: 'O', maxOvertakes: 'x' }, 'maxOvertakes must be a number or null'],
    [
      { token: 'T', owner: 'O', timeoutBase: -5 },
      'timeoutBase must be an integer from 0 to 86400000 (ms, one day)',
    ],
    [
      { token: 'T', owner: 'O', timeoutPerToken: 0.5 },
      'timeoutPerToken must be an integer from 0 to 600000 (ms, ten minutes)',
    ],
    [{ token: 'T', owner: 'O', maxAttempts: 0 }, 'maxAttempts must be an integer from 1 to 10'],
    [{ token: 'T', owner: 'O', maxTokens: 65_537 }, 'maxTokens must be an integer from 1 to 65536'],
    [{ token: 'T', owner: 'O', maxTokens: 1e15 }, 'maxTokens must be an integer from 1 to 65536'],
    [
      { token: 'T', owner: 'O', maxPromptBytes: 511 },
      'maxPromptBytes must be an integer from 1 to 510 (bytes: AOS-Llama evaluates the prompt in one 512-token batch)',
    ],
    [
      { token: 'T', owner: 'O', maxPromptBytes: 1e8 },
      'maxPromptBytes must be an integer from 1 to 510 (bytes: AOS-Llama evaluates the prompt in one 512-token batch)',
    ],
    [{ token: 'T', owner: 'O', maxAttempts: 11 }, 'maxAttempts must be an integer from 1 to 10'],
    [{ token: 'T', owner: 'O', maxAttempts: 1e6 }, 'maxAttempts must be an integer from 1 to 10'],
    [
      { token: 'T', owner: 'O', timeoutBase: 2 ** 53 - 1 },
      'timeoutBase must be an integer from 0 to 86400000 (ms, one day)',
    ],
    [
      { token: 'T', owner: 'O', timeoutPerToken: 600_001 },
      'timeoutPerToken must be an integer from 0 to 600000 (ms, ten minutes)',
    ],
    [
      { token: 'T', owner: 'O', maxQueueWait: 0 },
      'maxQueueWait must be an integer from 1 to 86400000 (ms, one day)',
    ],
    [
      { token: 'T', owner: 'O', maxQueueWait: 86_400_001 },
      'maxQueueWait must be an integer from 1 to 86400000 (ms, one day)',
    ],
    [{ token: 'T', owner: 'O', maxQueueWait: '600000' }, 'maxQueueWait must be a number'],
    [{ token: 'T', owner: 'O', workers: 'W1' }, 'workers must be an array of process ids'],
    [{ token: 'T', owner: 'O', workers: ['W1', 'W1'] }, 'worker "W1" is listed twice'],
    [{ token: 'T', owner: 'O', workers: ['T'] }, 'the token cannot be a worker'],
    [{ token: 'T', owner: 'O', workers: ['bad id!'] }, 'worker "bad id!" is not a process id'],
    [{ token: '', owner: 'O' }, 'token must be a process id'],
    [{ token: 'T', owner: 'has space' }, 'owner must be a process id'],
    ['herd.json', 'the config must be a JSON object'],
    [42, 'the config must be a JSON object'],
    [{ token: 'T', owner: 'O', workers: ['W1', 5] }, 'workers must be an array of process ids'],
    [{ token: 'T', owner: 7 }, 'owner must be a string'],
  ])('rejects %j with exactly: %s', (input, problem) => {
    expect(parseConfig(input)).toEqual({ ok: false, problems: [problem] });
  });

  it('lists every problem of a config at once', () => {
    expect(parseConfig({ token: 5, owner: 'O', maxTokens: 0, colour: 'red' })).toEqual({
      ok: false,
      problems: ['unknown key "colour"', 'token must be a string'],
    });
    expect(parseConfig({ token: 'T', owner: 'O', maxTokens: 0, maxAttempts: 0 })).toEqual({
      ok: false,
      problems: [
        'maxTokens must be an integer from 1 to 65536',
        'maxAttempts must be an integer from 1 to 10',
      ],
    });
  });

  it.each([
    [{ baseFee: -1n }, 'baseFee must be >= 0'],
    [{ tokenFee: -1n }, 'tokenFee must be >= 0'],
    [{ baseFee: 10n ** 78n }, 'baseFee has more than 78 digits'],
    [{ tokenFee: 10n ** 78n }, 'tokenFee has more than 78 digits'],
  ])('makeConfig refuses %s: %s', (fields, problem) => {
    expect(() => makeConfig({ token: 'T', owner: 'O', ...fields })).toThrow(
      `invalid herd config: ${problem}`,
    );
  });

  it('the extremes of every bound are accepted', () => {
    for (const fields of [
      {
        maxTokens: 1,
        maxPromptBytes: 1,
        timeoutBase: 0,
        timeoutPerToken: 0,
        maxAttempts: 1,
        maxQueueWait: 1,
      },
      {
        maxTokens: 65_536,
        maxPromptBytes: 510,
        timeoutBase: 86_400_000,
        timeoutPerToken: 600_000,
        maxAttempts: 10,
        maxQueueWait: 86_400_000,
      },
    ])
      expect(parseConfig({ token: 'T', owner: 'O', ...fields })).toMatchObject({ ok: true, config: fields });
  });

  it('fees of 78 digits are accepted', () => {
    const largest = 10n ** 78n - 1n;
    expect(makeConfig({ token: 'T', owner: 'O', baseFee: largest, tokenFee: largest })).toMatchObject({
      baseFee: largest,
      tokenFee: largest,
    });
  });

  it('makeConfig throws with every problem listed', () => {
    expect(() => makeConfig({ token: 'T', owner: 'O', maxAttempts: 0, tokenFee: -1n })).toThrow(
      'invalid herd config: tokenFee must be >= 0; maxAttempts must be an integer from 1 to 10',
    );
  });
});
