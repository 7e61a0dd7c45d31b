/**
 * What the `herd` command line offers, read from the registered commands themselves: the
 * synopsis of each command (docs/design.md §5), and each one's description, arguments and options.
 */
import type { Command } from 'commander';
import { buildProgram } from '../cli/main.ts';
import { cell, code, codeCell, table } from './markdown.ts';

/**
 * A synopsis of each command: its usual invocation, shorter than commander's `[options]` usage.
 * Every registered command has one and every flag it names is one of the command's options
 * ({@link synopsisProblems}); what each command does is its own description.
 */
export const DESIGNED_COMMANDS: readonly { name: string; usage: string }[] = [
  {
    name: 'demo',
    usage: 'herd demo [--prompt TEXT --tokens N] [--model FILE.gguf] [--worker FILE.lua --herder-id ID]',
  },
  { name: 'export', usage: 'herd export --config herd.json --out DIR' },
  {
    name: 'verify',
    usage: 'herd verify HERDER.lua [--config herd.json | --token ID --workers A,B ...] [--runs N --seed S]',
  },
  { name: 'check', usage: 'herd check [--workers N --requests N] [--failures --timeouts ...]' },
  { name: 'simulate', usage: 'herd simulate [--workers N --requests N ...] [--sweep-workers FROM:TO:STEP]' },
  {
    name: 'deploy',
    usage:
      'herd deploy --config herd.json --wallet wallet.json --herder-module ID --worker-module ID --model ID [--dry-run]',
  },
  { name: 'docs', usage: 'herd docs [--check]' },
];

let program: Promise<Command> | undefined;

/** The `herd` program with every command of this build registered (built once). */
export function herdProgram(): Promise<Command> {
  program ??= buildProgram();
  return program;
}

export async function findCommand(name: string): Promise<Command | undefined> {
  return (await herdProgram()).commands.find((c) => c.name() === name);
}

/** `herd NAME <args> [options]` as commander would print it. */
export function usage(command: Command): string {
  return `herd ${command.name()} ${command.usage()}`;
}

/** The options of a command as a Markdown table (flags, meaning, default). */
export function optionsTable(command: Command): string {
  const rows = command.options
    .filter((o) => !o.hidden)
    .map((o) => {
      const fallback =
        o.defaultValueDescription ??
        (o.defaultValue === undefined || typeof o.defaultValue === 'boolean' ? '' : String(o.defaultValue));
      return [codeCell(o.flags), cell(o.description), fallback === '' ? '' : codeCell(fallback)];
    });
  return table(['option', 'meaning', 'default'], rows);
}

/** Why `synopses` do not match the registered commands; empty when they do. */
export async function synopsisProblems(
  synopses: readonly { name: string; usage: string }[] = DESIGNED_COMMANDS,
): Promise<string[]> {
  const problems: string[] = [];
  const commands = (await herdProgram()).commands;
  for (const command of commands)
    if (!synopses.some((d) => d.name === command.name()))
      problems.push(`herd ${command.name()} has no synopsis in DESIGNED_COMMANDS`);
  for (const { name, usage } of synopses) {
    const command = commands.find((c) => c.name() === name);
    if (command === undefined) {
      problems.push(`DESIGNED_COMMANDS names herd ${name}, which is not a command`);
      continue;
    }
    for (const [flag] of usage.matchAll(/--[a-z][a-z0-9-]*/g))
      if (!command.options.some((o) => o.long === flag)) problems.push(`herd ${name} has no option ${flag}`);
  }
  return problems;
}

/** The commands as a Markdown table: synopsis and what each does, in the order of the synopses. */
export async function commandTable(): Promise<string> {
  const problems = await synopsisProblems();
  if (problems.length > 0) throw new Error(`command synopses are out of date: ${problems.join('; ')}`);
  const rows: string[][] = [];
  for (const { name, usage } of DESIGNED_COMMANDS) {
    const command = (await findCommand(name))!;
    rows.push([codeCell(usage), cell(command.summary() || command.description())]);
  }
  return table(['command', 'what it does'], rows);
}

/** A command's reference: usage, description and options. */
export async function commandReference(name: string): Promise<string> {
  const command = await findCommand(name);
  if (command === undefined) throw new Error(`a guide refers to herd ${name}, which is not a command`);
  return [`${code(usage(command))}`, '', command.description(), '', optionsTable(command)].join('\n');
}
