/**
 * What the `herd` command line offers in this build, read from the registered commands
 * themselves: which of DESIGN §5's commands exist, and each one's arguments and options.
 */
import type { Command } from 'commander';
import { buildProgram } from '../cli/main.ts';
import { cell, code, codeCell, table } from './markdown.ts';

/** DESIGN §5's commands and the interface it gives them. */
export const DESIGNED_COMMANDS: readonly { name: string; usage: string; purpose: string }[] = [
  {
    name: 'demo',
    usage: 'herd demo',
    purpose:
      'boots a local AO network (token, herder, two AOS-Llama workers with a bundled tiny model, a client), pays, runs a real inference inside the WASM, prints the answer, fees, balances and the message timeline',
  },
  {
    name: 'export',
    usage: 'herd export [--config herd.json] --out DIR',
    purpose: 'writes herder.lua, worker.lua and the client package for a herd configuration',
  },
  {
    name: 'verify',
    usage: 'herd verify HERDER.lua [--runs N] [--seed S]',
    purpose: 'black-box property checking of any Lua herder',
  },
  {
    name: 'check',
    usage: 'herd check [--workers W --requests R ...]',
    purpose: 'bounded exhaustive model checking',
  },
  {
    name: 'simulate',
    usage: 'herd simulate [...]',
    purpose: 'discrete-event simulation at scale with metrics and charts',
  },
  { name: 'docs', usage: 'herd docs', purpose: 'regenerates docs/ from the model' },
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

/** Which of DESIGN §5's commands this build has. */
export async function commandStatus(): Promise<string> {
  const rows: string[][] = [];
  for (const designed of DESIGNED_COMMANDS) {
    const command = await findCommand(designed.name);
    rows.push([
      codeCell(designed.usage),
      cell(designed.purpose),
      command === undefined ? 'not in this build yet: described as DESIGN §5 specifies' : 'available',
    ]);
  }
  for (const command of (await herdProgram()).commands)
    if (!DESIGNED_COMMANDS.some((d) => d.name === command.name()))
      rows.push([
        codeCell(usage(command)),
        cell(command.summary() || command.description()),
        'available (an addition to DESIGN §5)',
      ]);
  return table(['command', 'what it does', 'in this build'], rows);
}

/**
 * A command's reference: usage and options when it exists, otherwise the interface the guide
 * assumes (from DESIGN §5), clearly marked.
 */
export async function commandReference(name: string): Promise<string> {
  const command = await findCommand(name);
  const designed = DESIGNED_COMMANDS.find((c) => c.name === name);
  if (command === undefined && designed === undefined)
    return `> \`herd ${name}\` is not in this build: do it by hand as described here.`;
  if (command === undefined)
    return (
      `> **Assumed interface.** \`herd ${name}\` is not in this build yet; this guide follows DESIGN §5: ` +
      `${code(designed?.usage ?? `herd ${name}`)} — ${designed?.purpose ?? ''}. Check \`herd ${name} --help\` ` +
      'once it is available.'
    );
  return [`${code(usage(command))}`, '', command.description(), '', optionsTable(command)].join('\n');
}
