import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { herd } from '../cli-harness.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'herd-simulate-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('herd simulate', () => {
  it('prints one JSON document with --json, the same for the same seed', async () => {
    const args = ['simulate', '--requests', '300', '--workers', '3', '--seed', '9', '--json'];
    const first = await herd(...args);
    expect(first.code).toBe(0);
    const a = JSON.parse(first.stdout);
    expect(a.result.requests).toBe(300);
    expect(a.result.answered + a.result.refunded).toBe(300);
    expect(typeof a.result.revenue).toBe('string');
    const b = JSON.parse((await herd(...args)).stdout);
    delete a.result.wallMs;
    delete b.result.wallMs;
    expect(b).toEqual(a);
  });

  it('writes results.json and SVG charts with --out', async () => {
    const dir = await tempDir();
    const { code, stdout } = await herd('simulate', '--requests', '400', '--workers', '3', '--out', dir);
    expect(code).toBe(0);
    expect(stdout).toContain('Simulated 400 requests on 3 workers');
    const files = (await readdir(dir)).sort();
    expect(files).toEqual(['latency-by-class.svg', 'latency-cdf.svg', 'queue-over-time.svg', 'results.json']);
    for (const svg of files.filter((f) => f.endsWith('.svg'))) {
      const text = await readFile(join(dir, svg), 'utf8');
      expect(text.startsWith('<svg')).toBe(true);
      expect(text).toContain('</svg>');
    }
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect(results.options.classes).toEqual(['standard:0.7:1', 'priority:0.2:2', 'adaptive:0.1:last+5%<=10']);
  });

  it('sweeps herd sizes into a table, sweep.json and a chart', async () => {
    const dir = await tempDir();
    const { code, stdout } = await herd(
      'simulate',
      '--requests',
      '300',
      '--rate',
      '1',
      '--sweep-workers',
      '2:4:1',
      '--class',
      'cheap:3:1',
      '--class',
      'rich:1:4',
      '--out',
      dir,
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/cheap p95 s +rich p95 s/);
    expect((await readdir(dir)).sort()).toEqual(['latency-vs-workers.svg', 'sweep.json']);
    const sweep = JSON.parse(await readFile(join(dir, 'sweep.json'), 'utf8'));
    expect(sweep.sweep.map((p: { workers: number }) => p.workers)).toEqual([2, 3, 4]);
  });

  it('takes herder settings from a herd config, flags winning', async () => {
    const dir = await tempDir();
    const config = join(dir, 'herd.json');
    await writeFile(config, JSON.stringify({ token: 'T', owner: 'O', baseFee: '7', maxOvertakes: null }));
    const { stdout } = await herd(
      'simulate',
      '--requests',
      '100',
      '--config',
      config,
      '--token-fee',
      '3',
      '--json',
    );
    const { options } = JSON.parse(stdout);
    expect(options.herd).toMatchObject({ baseFee: '7', tokenFee: '3', maxOvertakes: null });
  });

  it('refuses bad input with one line saying what is wrong', async () => {
    const bad = await herd('simulate', '--tokens', 'normal:5');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--tokens/);
    const both = await herd('simulate', '--rate', '2', '--load', '0.5');
    expect(both.code).toBe(2);
    expect(both.stderr).toBe('herd: give --rate or --load, not both\n');
    const fees = await herd('simulate', '--base-fee', '0', '--token-fee', '0');
    expect(fees.stderr).toMatch(/cannot both be 0/);
  });
});
