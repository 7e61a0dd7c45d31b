/**
 * The examples in `--help` run as written: every `$ herd …` line of demo, export, simulate and
 * check that names no placeholder and no file the example does not come with, run in a
 * directory holding a herd.json, exits 0 or 1 (a result), never 2 (a usage error) or 70.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { herd } from '../cli-harness.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'herd.js');
const dir = mkdtempSync(join(tmpdir(), 'herd-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  join(dir, 'herd.json'),
  JSON.stringify({ token: 'T'.repeat(43), owner: 'O'.repeat(43), baseFee: '100', tokenFee: '10' }),
);

/** Splits an example line as a shell would (quotes; comments dropped). */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.replace(/\s+#.*$/, '').matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g))
    out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}

async function examples(command: string): Promise<string[][]> {
  const { stdout } = await herd(command, '--help');
  return (
    [...stdout.matchAll(/^ {2}\$ herd (.+)$/gm)]
      .map((m) => words(m[1]!))
      .filter((args) => !args.some((a) => a.includes('<') || a.endsWith('.gguf') || a.endsWith('.lua')))
      // The state space of --all takes minutes on two cores: exercised by the checker's own tests.
      .filter((args) => !args.includes('--all'))
  );
}

describe('--help examples run as written', () => {
  it.each(['export', 'simulate', 'check', 'demo'])(
    'herd %s',
    async (command) => {
      const runs = await examples(command);
      expect(runs.length).toBeGreaterThan(0);
      for (const args of runs) {
        const run = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8' });
        expect([0, 1], `herd ${args.join(' ')}: ${run.stderr}`).toContain(run.status);
        expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
      }
    },
    600_000,
  );
});
