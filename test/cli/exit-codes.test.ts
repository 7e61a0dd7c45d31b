/**
 * The exit-code contract of every command: 0 success, 1 a check failed, 2 usage or input error
 * (exactly one line `herd: …` on stderr, and with --json an error document on stdout), 70 only
 * for a bug. Commander's own errors (unknown option, missing argument, bad choice) included.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { herd } from '../cli-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'herd-exit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const TOKEN = 'T'.repeat(43);
const OWNER = 'O'.repeat(43);
const config = (fields: Record<string, unknown>) =>
  file(
    `${Object.keys(fields).join('-') || 'plain'}-${Math.random().toString(36).slice(2)}.json`,
    JSON.stringify({ token: TOKEN, owner: OWNER, ...fields }),
  );

const negative = config({ baseFee: '-5' });
const longFee = config({ tokenFee: '1'.repeat(100) });
const typo = config({ deploy: { wallett: 'w.json' } });
const wordWorkers = config({ deploy: { workers: 'two' } });
const hugeTokens = config({ maxTokens: 1_000_000_000_000 });
const aFile = file('a-file', 'not a directory');
const out = join(dir, 'out');

/** [arguments, exit code, what stderr says]; each usage error is exactly one line. */
const USAGE: [string[], RegExp][] = [
  [[], /no command given/],
  [['bogus'], /unknown command 'bogus'/],
  [['check', '--bogus'], /unknown option '--bogus'; run `herd check --help`/],
  [['check', '--workers'], /option '--workers <n>' argument missing/],
  [['check', '--workers', 'x'], /argument 'x' is invalid: expected an integer >= 1/],
  [['check', 'extra'], /too many arguments for 'check'/],
  [['demo', '--herder', 'aos99'], /Allowed choices are aos32, aos64/],
  [['export'], /required option '-o, --out <dir>' not specified/],
  [['verify'], /missing required argument 'herder.lua'/],
  [['check', '--workers', '9'], /workers must be an integer in \[1, 8\]/],
  [['check', '--threads', '1000'], /--threads 1000 is more than the \d+ core\(s\)/],
  [['check', '--max-memory', '0'], /--max-memory <GiB>.*expected a number of GiB/],
  [['check', '--max-overtakes', 'lots'], /expected an integer >= 0 or "unbounded"/],
  [['simulate', '--max-tokens', '1000000000000'], /expected an integer from 1 to 65536/],
  [['simulate', '--config', hugeTokens, '--requests', '10'], /maxTokens must be an integer from 1 to 65536/],
  [['simulate', '--requests', '100000000'], /expected an integer from 1 to 10000000/],
  [['simulate', '--workers', '1000000'], /expected an integer from 1 to 100000/],
  [['simulate', '--sweep-workers', '1:100000000000:1'], /gives 100000000000 herd sizes; at most 200/],
  [['simulate', '--sweep-workers', '1000:200000:1000'], /goes up to 200000 workers, above the 100,000/],
  [
    ['simulate', '--sweep-workers', '5:100:5', '--requests', '5000000'],
    /runs 20 simulations of 5,000,000 requests/,
  ],
  [['simulate', '--burst-size', '50'], /--burst-size needs --burst-every/],
  [['simulate', '--burst-every', '60'], /--burst-every needs --burst-size/],
  [['simulate', '--requests', '10', '--out', aFile], /--out .*a-file is a file, not a directory/],
  [['simulate', '--requests', '10', '--out', '/dev/null/x'], /cannot use --out \/dev\/null\/x: ENOTDIR/],
  [['simulate', '--max-overtakes', 'lots'], /expected an integer >= 0 or "unbounded"/],
  [['export', '--config', negative, '--out', out], /baseFee must not be negative \(got "-5"\)/],
  [['export', '--config', longFee, '--out', out], /tokenFee has more than 78 significant digits/],
  [['export', '--config', typo, '--out', out], /unknown key "deploy.wallett"/],
  [['export', '--config', wordWorkers, '--out', out], /deploy.workers must be a number/],
  [['deploy', '--config', typo, '--dry-run'], /unknown key "deploy.wallett"/],
  [['deploy', '--config', wordWorkers, '--dry-run'], /deploy.workers must be a number/],
  [['simulate', '--config', negative], /baseFee must not be negative/],
  [['export', '--config', join(dir, 'missing.json'), '--out', out], /cannot read config .*ENOENT/],
  [['deploy', '--config', negative, '--dry-run'], /baseFee must not be negative/],
  [
    ['deploy', '--token', TOKEN, '--owner', OWNER, '--dry-run', '--cu', 'x'],
    /deploy settings are invalid: .*CU URL "x"/,
  ],
  [['demo', '--model', aFile], /--model: .*a-file is not a GGUF model \(it does not start with "GGUF"\)/],
  [['demo', '--model', join(dir, 'none.gguf')], /--model: cannot read .*none.gguf: ENOENT/],
  [['docs', '--bogus'], /unknown option '--bogus'; run `herd docs --help`/],
];

function expectOneLine(stderr: string, message: RegExp): void {
  expect(stderr).toMatch(/^herd: [^\n]+\n$/);
  expect(stderr).toMatch(message);
  expect(stderr).not.toMatch(/\n\s+at |internal error/);
}

describe('exit codes', () => {
  it.each(USAGE)('herd %j exits 2 with one line', async (args, message) => {
    const result = await herd(...args);
    expect(result.code, result.stderr).toBe(2);
    expectOneLine(result.stderr, message);
    expect(result.stdout).toBe('');
  });

  it.each(USAGE.filter(([args]) => args.length > 0))(
    'herd %j --json prints an error document too',
    async (args) => {
      const result = await herd(...args, '--json');
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^herd: [^\n]+\n$/);
      const document = JSON.parse(result.stdout);
      expect(document).toEqual({ ok: false, exitCode: 2, error: result.stderr.slice('herd: '.length, -1) });
    },
  );

  it.skipIf(process.getuid?.() === 0)('refuses a read-only --out before running', async () => {
    const readOnly = join(dir, 'read-only');
    mkdirSync(readOnly);
    chmodSync(readOnly, 0o555);
    const result = await herd('simulate', '--requests', '10', '--out', join(readOnly, 'x'));
    expect(result.code).toBe(2);
    expectOneLine(result.stderr, /cannot create --out directory .*EACCES/);
  });

  it('--max-overtakes unbounded works in check and simulate', async () => {
    const checked = await herd('check', '--workers', '2', '--requests', '3', '--max-overtakes', 'unbounded');
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toContain('unbounded overtaking');
    const simulated = await herd('simulate', '--requests', '50', '--max-overtakes', 'unbounded', '--json');
    expect(simulated.code, simulated.stderr).toBe(0);
    expect(JSON.parse(simulated.stdout).options.herd.maxOvertakes).toBeNull();
  });

  it('exits 1 when a check fails, 0 for help and version', async () => {
    const capped = await herd('check', '--requests', '3', '--max-states', '10');
    expect(capped.code).toBe(1);
    expect(capped.stderr).toBe('');
    for (const args of [['--help'], ['--version'], ['check', '--help'], ['help', 'simulate']]) {
      const result = await herd(...args);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stderr).toBe('');
    }
  });

  it('one request arrives at the rate asked for', async () => {
    const result = await herd('simulate', '--requests', '1', '--rate', '2', '--json');
    expect(JSON.parse(result.stdout).result.offeredRate).toBe(2);
  });

  it('says when class shares are used as proportions', async () => {
    const result = await herd('simulate', '--requests', '20', '--class', 'a:1:1', '--class', 'b:2:2');
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      'herd simulate: note: the class shares add up to 3, not 1; they are used as proportions: a 0.3333, b 0.6667\n',
    );
  });

  it('the installed command exits with the same codes (commander errors included)', () => {
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'herd.js');
    for (const [args, code] of [
      [['check', '--bogus'], 2],
      [['check', '--workers', '1', '--requests', '1'], 0],
      [['simulate', '--burst-size', '5'], 2],
    ] as [string[], number][]) {
      const run = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
      expect(run.status, args.join(' ')).toBe(code);
      if (code === 2) expectOneLine(run.stderr, /./);
    }
  });

  it('stops quietly when the reader of its output has gone (`herd check --help | head`)', () => {
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'herd.js');
    // `true` reads nothing and exits at once: every write of the command meets a closed pipe.
    const run = spawnSync(
      'bash',
      ['-c', `set -o pipefail; "${process.execPath}" "${bin}" check --help | true`],
      {
        encoding: 'utf8',
      },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
