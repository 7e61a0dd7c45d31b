/**
 * The command synopses shown in the operators' guide match the registered commands: every command
 * has one, none names a command or an option that does not exist.
 */
import { describe, expect, it } from 'vitest';
import { DESIGNED_COMMANDS, herdProgram, synopsisProblems } from '../../src/docs/commands.ts';

describe('command synopses', () => {
  it('cover every registered command, deploy included, with options the commands have', async () => {
    expect(await synopsisProblems()).toEqual([]);
    const names = (await herdProgram()).commands.map((c) => c.name());
    expect(names).toContain('deploy');
    expect(DESIGNED_COMMANDS.map((d) => d.name).sort()).toEqual([...names].sort());
  });

  it('report a missing command, an unknown command and an unknown option', async () => {
    const synopses = [
      ...DESIGNED_COMMANDS.filter((d) => d.name !== 'deploy' && d.name !== 'export'),
      { name: 'export', usage: 'herd export --config herd.json --destination DIR' },
      { name: 'serve', usage: 'herd serve' },
    ];
    expect(await synopsisProblems(synopses)).toEqual([
      'herd deploy has no synopsis in DESIGNED_COMMANDS',
      'herd export has no option --destination',
      'DESIGNED_COMMANDS names herd serve, which is not a command',
    ]);
  });
});
