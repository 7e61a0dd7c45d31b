import type { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import { herd } from '../cli-harness.ts';

vi.mock('../../src/cli/commands/docs.ts', () => ({
  register(program: Command) {
    program
      .command('docs')
      .option('--json')
      .action(() => {
        throw new TypeError("Cannot read properties of undefined (reading 'x')\n    at somewhere");
      });
  },
}));

describe('help', () => {
  it.each(['demo', 'export', 'verify', 'check', 'simulate', 'deploy'])(
    'herd %s --help has examples',
    async (name) => {
      const { code, stdout } = await herd(name, '--help');
      expect(code).toBe(0);
      expect(stdout).toMatch(/Examples?:\n {2}\$ herd /);
    },
  );

  it('herd --help lists the exit codes', async () => {
    const { stdout } = await herd('--help');
    expect(stdout).toContain('Exit codes: 0 success; 1 a check failed; 2 usage or input error');
  });
});

describe('internal errors', () => {
  it('exit 70 with one line, no stack, and a JSON document with --json', async () => {
    const plain = await herd('docs');
    expect(plain.code).toBe(70);
    expect(plain.stderr).toBe(
      "herd: internal error: Cannot read properties of undefined (reading 'x'); at somewhere (a bug in herd: run again with HERD_DEBUG=1 for the stack trace and report it)\n",
    );
    const json = await herd('docs', '--json');
    expect(json.code).toBe(70);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, exitCode: 70 });
  });
});
