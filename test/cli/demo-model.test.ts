import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheDir, ensureModel } from '../../src/gguf/index.ts';
import { herd } from '../cli-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'herd-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('herd demo --model', () => {
  it('runs the demo on a GGUF file of one own', async () => {
    const generated = ensureModel({}, join(dir, 'generated'));
    const mine = join(dir, 'my model.gguf');
    copyFileSync(generated.path, mine);
    const result = await herd('demo', '--model', mine, '--tokens', '4', '--json');
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.model).toEqual({ id: generated.id, bytes: generated.bytes, synthetic: false });
    expect(report.outcome).toMatchObject({ status: 'answered', ok: true, tokensGenerated: 4 });
  });
});

describe('cache directory', () => {
  it('is HERD_CACHE_DIR, else XDG_CACHE_HOME/llama-herder, else ~/.cache/llama-herder', () => {
    const home = () => '/home/u';
    expect(cacheDir({ HERD_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x' }, home)).toBe('/c');
    expect(cacheDir({ XDG_CACHE_HOME: '/x' }, home)).toBe('/x/llama-herder');
    expect(cacheDir({}, home)).toBe('/home/u/.cache/llama-herder');
  });
});
