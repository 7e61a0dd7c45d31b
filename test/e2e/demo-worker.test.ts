/**
 * `herd demo --worker FILE --herder-id ID`: the demo's workers run worker Lua of one's own (here
 * the fixture written for the original Llama-Herder, unchanged) and its herder takes the id that
 * code hard-codes; a file that cannot be worker Lua is refused in one line, exit 2.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { DemoResult } from '../../src/demo/demo.ts';
import { herd } from '../cli-harness.ts';
import { ORIGINAL_WORKER_HERDER, ORIGINAL_WORKER_PATH } from '../fixtures/original.ts';

const dir = mkdtempSync(join(tmpdir(), 'herd-demo-worker-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  process.exitCode = undefined;
});

/** Exit 2, exactly one line on stderr, and the JSON error document on stdout. */
function expectUsageError(r: { code: number; stdout: string; stderr: string }, pattern: RegExp) {
  expect(r.code).toBe(2);
  expect(r.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
  expect(r.stderr).toMatch(/^herd: /);
  expect(r.stderr).toMatch(pattern);
  expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, exitCode: 2 });
}

describe('herd demo --worker', () => {
  it('runs the original worker code unchanged under the herder id it hard-codes, and answers', async () => {
    const r = await herd(
      'demo',
      '--worker',
      ORIGINAL_WORKER_PATH,
      '--herder-id',
      ORIGINAL_WORKER_HERDER,
      '--tokens',
      '8',
      '--json',
    );
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as DemoResult;
    expect(result.processes.herder).toBe(ORIGINAL_WORKER_HERDER);
    expect(result.processes.workerLua).toBe(ORIGINAL_WORKER_PATH);
    expect(result.outcome).toMatchObject({ status: 'answered', ok: true });
    expect(result.outcome.answer!.length).toBeGreaterThan(0);
    // The worker answered in the original's format (the text alone); the herder forwarded it.
    const answers = result.timeline.filter((e) => e.action === 'Inference-Response');
    expect(answers).toHaveLength(2);
    expect(answers[0]!.tags['X-Request']).toBeUndefined();
    expect(answers[0]!.data).toBe(result.outcome.answer);
    expect(answers[1]!.tags['X-Reference']).toBe(result.request.reference);
    expect(result.outcome.tokensGenerated).toBeUndefined();
    expect(result.balances.after.herder).toBe(result.fees.paid);
  });

  it('without --herder-id the herder id is generated: a worker obeying another herder stays silent, exit 1', async () => {
    const r = await herd('demo', '--worker', ORIGINAL_WORKER_PATH, '--tokens', '4', '--json');
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout) as DemoResult;
    expect(result.processes.herder).not.toBe(ORIGINAL_WORKER_HERDER);
    expect(result.outcome.status).toBe('unfinished');
    expect(result.outcome.reason).toMatch(
      /worker-\d sent nothing back for its Inference; .* needs --herder-id/,
    );
  });

  it('refuses a missing file, a file that is not Lua, one that does not load, and a bad herder id', async () => {
    expectUsageError(
      await herd('demo', '--worker', join(dir, 'missing.lua'), '--json'),
      /cannot read --worker .*missing\.lua: ENOENT/,
    );
    const binary = join(dir, 'binary.lua');
    writeFileSync(binary, Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0xff, 0xfe, 0x01]));
    expectUsageError(await herd('demo', '--worker', binary, '--json'), /binary\.lua is not Lua source/);
    expectUsageError(await herd('demo', '--worker', dir, '--json'), /is not a file/);
    expectUsageError(
      await herd('demo', '--herder-id', 'not-an-id', '--json'),
      /--herder-id must be a process id: 43 characters/,
    );
    const broken = join(dir, 'broken.lua');
    writeFileSync(broken, 'Handlers.add("x", function( return end\n');
    expectUsageError(
      await herd('demo', '--worker', broken, '--json'),
      /--worker .*broken\.lua: the worker code does not load in worker-1: .*expected near 'return'/,
    );
  });
});
