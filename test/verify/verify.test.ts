/**
 * `herd verify` against two herders: the fixture reproducing the original Llama-Herder's defects
 * (DESIGN §4) must be caught breaking several invariants, each with a shrunk trace; the herder
 * exported from the model must pass with no violation.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { herderLua } from '../../src/lua-export/herder.ts';
import { makeConfig } from '../../src/model/config.ts';
import { verifyHerder } from '../../src/verify/verify.ts';

/** What both herders are expected to implement; the fixture hard-codes the same ids and fees. */
const config = makeConfig({
  token: 'TOKEN',
  owner: 'OWNER',
  workers: ['W1', 'W2'],
  baseFee: 100n,
  tokenFee: 10n,
  maxOvertakes: null,
  timeoutBase: 3_000,
  timeoutPerToken: 100,
  maxAttempts: 2,
  maxTokens: 50,
  maxPromptBytes: 200,
});

describe('herd verify', () => {
  it('exposes at least four distinct violated invariants in the original herder, each with a trace', async () => {
    const lua = readFileSync(new URL('../fixtures/original-herder.lua', import.meta.url), 'utf8');
    const report = await verifyHerder({ lua, config, runs: 30, seed: 42, shrinkTimeMs: 2_500 });
    const violated = report.results.filter((r) => r.violated);
    expect(violated.length).toBeGreaterThanOrEqual(4);
    // The documented defects: refunds to the token, errors that keep funds, float priorities.
    expect(report.violated).toEqual(expect.arrayContaining(['refund-to-payer', 'bad-input-safe']));
    for (const r of violated) {
      expect(r.trace, r.invariant).toMatch(new RegExp(`^${r.invariant} violated at step`));
      expect(r.replay?.seed).toBe(42);
    }
    expect(report.luaErrors.some((e) => /arithmetic on a nil value|index a nil value/.test(e.message))).toBe(
      true,
    );
  });

  it('checks a herder configured by a prelude file rather than baked-in settings', async () => {
    // The herder's body without the generated header; the prelude supplies its configuration.
    const body = readFileSync(new URL('../../src/lua-export/lua/herder.lua', import.meta.url), 'utf8');
    const header = herderLua(config).slice(0, herderLua(config).length - body.length);
    const report = await verifyHerder({ prelude: header, lua: body, config, runs: 15, seed: 11 });
    expect(report.violated).toEqual([]);
    expect(report.luaErrors).toEqual([]);
  });

  it('finds no violation in the herder exported from the model', async () => {
    const report = await verifyHerder({ lua: herderLua(config), config, runs: 60, seed: 7 });
    expect(report.violated).toEqual([]);
    expect(report.luaErrors).toEqual([]);
    expect(report.messages).toBeGreaterThan(1_000);
  });
});
