/**
 * The examples in `--help` run as written: every `$ herd …` line of demo, export, simulate and
 * check that names no placeholder and no file the example does not come with, run in a
 * directory holding a herd.json, exits 0 or 1 (a result), never 2 (a usage error) or 70.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { herd } from '../cli-harness.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'herd.js');
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

/** `herd …` lines of the shell examples in the README and the guides (`$ ` and `npx ` allowed). */
function documentedRuns(): { file: string; args: string[] }[] {
  const files = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs', 'guides')).map((f) => join('docs', 'guides', f)),
  ];
  const runs: { file: string; args: string[] }[] = [];
  for (const file of files) {
    let fence: string | undefined;
    for (const raw of readFileSync(join(ROOT, file), 'utf8').split('\n')) {
      const line = raw.trim();
      if (line.startsWith('```')) {
        fence = fence === undefined ? line.slice(3) : undefined;
        continue;
      }
      if (fence === undefined || !['', 'sh', 'bash', 'shell', 'console'].includes(fence)) continue;
      const m = /^(?:\$ )?(?:npx )?herd (.+)$/.exec(line);
      if (m === null || m[1]!.endsWith('\\')) continue;
      const args = words(m[1]!);
      // Deploys need a wallet and the network; placeholders are for the reader to fill in.
      if (args[0] === 'deploy' || args.some((a) => a.includes('<'))) continue;
      runs.push({ file, args });
    }
  }
  return runs;
}

describe('the shell examples of the README and the guides run as written', () => {
  const runs = documentedRuns();
  it('finds some', () => {
    expect(runs.length).toBeGreaterThan(2);
  });
  it.each(runs.map((r) => [r.file, r.args.join(' '), r.args] as const))(
    '%s: herd %s',
    (_file, _line, args) => {
      const run = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8' });
      expect([0, 1], run.stderr).toContain(run.status);
      expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
    },
    300_000,
  );
});
