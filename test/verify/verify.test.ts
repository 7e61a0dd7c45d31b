/**
 * `herd verify` against herders written from the original's description, in its wire dialect (no
 * request tag anywhere): the faithful original must be caught breaking the invariants it breaks
 * by messages alone, and nothing else; a correct herder in the same dialect and the herder
 * exported from the model must pass; variants that refund every payment or strand a queued
 * request must be caught; replay commands reproduce what they print; bad input is one line.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type StatedSettings, statedFlags, statedFromConfig } from '../../src/audit/settings.ts';
import { herderLua } from '../../src/lua-export/herder.ts';
import { makeConfig } from '../../src/model/config.ts';
import { verifyHerder } from '../../src/verify/verify.ts';
import { herd } from '../cli-harness.ts';
import {
  DIALECT_SETTINGS,
  ORIGINAL_DIALECT_HERDER_PATH,
  ORIGINAL_HERDER_PATH,
  ORIGINAL_STATED,
  originalDialectHerderLua,
  originalHerderLua,
} from '../fixtures/original.ts';

/** Long runs (the acceptance figures: 200 traces, two seeds) with HERD_VERIFY_FULL=1. */
const FULL = process.env.HERD_VERIFY_FULL === '1';

const originalStated: StatedSettings = { ...ORIGINAL_STATED, maxOvertakes: null };
/** It has no limits: stating generous ones says which payments it must serve. */
const dialectStated: StatedSettings = {
  ...DIALECT_SETTINGS,
  maxTokens: 1_000_000,
  maxPromptBytes: 1_000_000,
};

/** The flags that state the correct dialect herder's settings. */
const dialectFlags = statedFlags(DIALECT_SETTINGS);

/** The dialect herder with its Credit-Notice handling replaced by a refund of every payment. */
const refundEveryPayment = `${originalDialectHerderLua}
local inner
for _, h in ipairs(Handlers.list) do if h.name == "Herder" then inner = h.handle end end
Handlers.add("Herder", function(msg) return msg.Action ~= "Eval" end, function(msg)
  if msg.Action == "Credit-Notice" and msg.From == WAR and msg.Sender then
    ao.send({ Target = WAR, Action = "Transfer", Recipient = msg.Sender, Quantity = msg.Quantity, ["X-Reason"] = "Herder busy" })
    return
  end
  inner(msg)
end)
`;

describe('herd verify: the original, in its own dialect', () => {
  it('reports what the original breaks by messages alone, each confirmed with a trace, and no work-conserving', async () => {
    const report = await verifyHerder({
      lua: originalHerderLua,
      stated: originalStated,
      runs: FULL ? 100 : 60,
      seed: 7,
      shrinkTimeMs: 3_000,
    });
    expect(report.violated).toEqual(
      expect.arrayContaining([
        'refund-to-payer',
        'priority-order',
        'no-lost-request',
        'authority',
        'bad-input-safe',
      ]),
    );
    expect(report.violated).not.toContain('work-conserving');
    for (const r of report.results.filter((x) => x.violated)) {
      expect(r.trace?.length, r.invariant).toBeGreaterThan(0);
      expect(r.traceText).not.toMatch(/undefined/);
      expect(r.detail).not.toMatch(/undefined/);
      expect(r.replay?.seed).toBe(7);
    }
    // Its settings for timeouts and the queue wait were not stated: never guessed.
    expect(report.notChecked).toEqual(['bounded-response']);
    expect(report.unconfirmed).toEqual([]);
    expect(report.luaErrors.some((e) => /arithmetic on a nil value|index a nil value/.test(e.message))).toBe(
      true,
    );
  });
});

describe('herd verify: correct herders pass', () => {
  for (const seed of [1, 2])
    it(`a correct herder in the original's dialect: no violation (seed ${seed})`, async () => {
      const report = await verifyHerder({
        lua: originalDialectHerderLua,
        stated: dialectStated,
        runs: 200,
        seed,
      });
      expect(report.results.filter((r) => r.violated).map((r) => `${r.invariant}: ${r.detail}`)).toEqual([]);
      expect(report.notChecked).toEqual([]);
      expect(report.luaErrors).toEqual([]);
    });

  const config = makeConfig({
    token: 'TOKEN',
    owner: 'OWNER',
    workers: ['W1', 'W2'],
    baseFee: 100n,
    tokenFee: 10n,
    maxOvertakes: 2,
    timeoutBase: 3_000,
    timeoutPerToken: 100,
    maxAttempts: 2,
    maxTokens: 50,
    maxPromptBytes: 200,
  });

  it('the herder exported from the model: no violation', async () => {
    const report = await verifyHerder({
      lua: herderLua(config),
      stated: statedFromConfig(config),
      runs: 60,
      seed: 7,
    });
    expect(report.results.filter((r) => r.violated).map((r) => `${r.invariant}: ${r.detail}`)).toEqual([]);
    expect(report.luaErrors).toEqual([]);
  });

  it('checks a herder configured by a prelude file rather than baked-in settings', async () => {
    const body = (await import('node:fs')).readFileSync(
      new URL('../../src/lua-export/lua/herder.lua', import.meta.url),
      'utf8',
    );
    const header = herderLua(config).slice(0, herderLua(config).length - body.length);
    const report = await verifyHerder({
      prelude: header,
      lua: body,
      stated: statedFromConfig(config),
      runs: 15,
      seed: 11,
    });
    expect(report.violated).toEqual([]);
    expect(report.luaErrors).toEqual([]);
  });
});

describe('herd verify: variants are caught', () => {
  it('a herder that refunds every payment violates no-wrongful-refund', async () => {
    const report = await verifyHerder({
      lua: refundEveryPayment,
      stated: dialectStated,
      runs: 10,
      seed: 3,
      shrinkTimeMs: 2_000,
    });
    expect(report.violated).toContain('no-wrongful-refund');
  });

  it('a herder that never refunds a stranded queued request violates bounded-response', async () => {
    const stranding = originalDialectHerderLua.replace(/^MaxQueueWait = \d+$/m, 'MaxQueueWait = 1000000000');
    expect(stranding).not.toBe(originalDialectHerderLua);
    const report = await verifyHerder({
      lua: stranding,
      stated: dialectStated,
      runs: 30,
      seed: 3,
      shrinkTimeMs: 2_000,
    });
    expect(report.violated).toContain('bounded-response');
  });
});

describe('herd verify on the command line', () => {
  it('prints for each violation a replay command that reproduces it', async () => {
    const first = await herd(
      'verify',
      ORIGINAL_HERDER_PATH,
      '--token',
      ORIGINAL_STATED.token,
      '--workers',
      ORIGINAL_STATED.workers.join(','),
      '--base-fee',
      String(ORIGINAL_STATED.baseFee),
      '--token-fee',
      String(ORIGINAL_STATED.tokenFee),
      '--max-overtakes',
      'unbounded',
      '--runs',
      '20',
      '--seed',
      '5',
      '--shrink-time',
      '2000',
      // One thread, as a replay runs: threads.test.ts shows the report is the same on several.
      '--threads',
      '1',
      '--json',
    );
    expect(first.code).toBe(1);
    const report = JSON.parse(first.stdout) as {
      results: {
        invariant: string;
        violated: boolean;
        detail?: string;
        replay?: { seed: number; path: string };
      }[];
    };
    const violations = report.results.filter((r) => r.violated);
    expect(violations.map((r) => r.invariant)).toContain('refund-to-payer');
    for (const violation of violations) {
      expect(violation.replay, violation.invariant).toBeDefined();
      const again = await herd(
        'verify',
        ORIGINAL_HERDER_PATH,
        '--token',
        ORIGINAL_STATED.token,
        '--workers',
        ORIGINAL_STATED.workers.join(','),
        '--base-fee',
        String(ORIGINAL_STATED.baseFee),
        '--token-fee',
        String(ORIGINAL_STATED.tokenFee),
        '--max-overtakes',
        'unbounded',
        '--runs',
        '20',
        '--seed',
        String(violation.replay!.seed),
        '--path',
        violation.replay!.path,
        '--json',
      );
      expect(again.code, violation.invariant).toBe(1);
      const replayed = JSON.parse(again.stdout) as typeof report;
      expect(replayed.results.find((r) => r.invariant === violation.invariant)?.detail).toBe(
        violation.detail,
      );
    }
  });

  it('bad input is one line and exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herd-verify-'));
    const syntax = join(dir, 'broken.lua');
    writeFileSync(syntax, 'Handlers.add("x", function( return end');
    const notLua = join(dir, 'config.json');
    writeFileSync(notLua, '{"token": "TOKEN"}');
    const cases: string[][] = [
      [ORIGINAL_DIALECT_HERDER_PATH, ...dialectFlags, '--seed', '1', '--path', 'garbage'],
      [ORIGINAL_DIALECT_HERDER_PATH, ...dialectFlags, '--seed', '1', '--path', '999:3', '--runs', '10'],
      [ORIGINAL_DIALECT_HERDER_PATH, '--token', DIALECT_SETTINGS.token, '--workers', ''],
      [ORIGINAL_DIALECT_HERDER_PATH, '--token', DIALECT_SETTINGS.token, '--base-fee', '1.5'],
      [ORIGINAL_DIALECT_HERDER_PATH],
      [syntax, '--token', 'TOKEN', '--runs', '1'],
      [notLua, '--token', 'TOKEN', '--runs', '1'],
      [join(dir, 'missing.lua'), '--token', 'TOKEN'],
    ];
    for (const args of cases) {
      const result = await herd('verify', ...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(result.stderr, args.join(' ')).toMatch(/^herd: /);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
