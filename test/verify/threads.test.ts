/**
 * `herd verify` on worker threads reports exactly what it reports on one: the same traces are
 * generated here and only run elsewhere, and a trace's outcome depends on the trace alone.
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { AoEvalError } from '../../src/ao/network.ts';
import type { StatedSettings } from '../../src/audit/settings.ts';
import { verifyHerder } from '../../src/verify/verify.ts';
import { herd } from '../cli-harness.ts';
import { ORIGINAL_HERDER_PATH, ORIGINAL_STATED, originalHerderLua } from '../fixtures/original.ts';

const stated: StatedSettings = { ...ORIGINAL_STATED, maxOvertakes: null };

describe('herd verify on several threads', () => {
  it('gives the same report as one thread: the same violations, shrunk traces and replay paths', async () => {
    // Shrinking this small run ends long before the time limit, so both runs shrink to the end.
    const options = { lua: originalHerderLua, stated, runs: 10, seed: 5, shrinkTimeMs: 300_000 };
    const one = await verifyHerder({ ...options, threads: 1 });
    const three = await verifyHerder({ ...options, threads: 3 });
    expect(one.violated.length).toBeGreaterThan(0);
    const { durationMs: _a, ...oneReport } = one;
    const { durationMs: _b, ...threeReport } = three;
    expect(threeReport).toEqual(oneReport);
    expect(three.results.map((r) => r.replay)).toEqual(one.results.map((r) => r.replay));
  }, 240_000);

  it('reports a herder that does not load as such', async () => {
    await expect(
      verifyHerder({ lua: 'this is not Lua (', stated, runs: 2, seed: 1, threads: 2 }),
    ).rejects.toBeInstanceOf(AoEvalError);
  }, 60_000);

  it('takes at most as many threads as there are cores', async () => {
    const cores = availableParallelism();
    const result = await herd(
      'verify',
      ORIGINAL_HERDER_PATH,
      '--token',
      ORIGINAL_STATED.token,
      '--threads',
      String(cores + 1),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--threads ${cores + 1} is more than the ${cores} core(s)`);
  });
});
