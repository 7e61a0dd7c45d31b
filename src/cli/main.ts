import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { MODEL_VERSION } from '../model/version.ts';
import { EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, oneLine, reportFailure, UserError } from './output.ts';

/**
 * Subcommands, one module each under src/cli/commands/; each exports `register(program)`.
 * Loaded lazily so that `herd --help` stays fast and a command's heavy dependencies (WASM
 * modules, charting) load only when it runs.
 */
const COMMANDS: readonly string[] = ['export', 'verify', 'simulate', 'demo', 'docs', 'deploy', 'check'];

/** Where the source files live: `.ts` from a checkout, `.js` once compiled into dist/. */
const EXT = import.meta.url.endsWith('.ts') ? 'ts' : 'js';

/** The command whose parsing failed last (commander reports errors on the failing command). */
let failing: Command | undefined;

/** Commander's own output: help and version on stdout; its error text is ours to print. */
function quiet(command: Command): void {
  command.exitOverride().configureOutput({
    outputError: () => {
      failing = command;
    },
    // Only help asked for by mistake (no subcommand given) goes here: one line instead.
    writeErr: () => {},
  });
}

export async function buildProgram(): Promise<Command> {
  const program = new Command('herd')
    .description(
      'LLM inference as a service on AO: model, verify, export and run a herd of AOS-Llama workers.',
    )
    .version(MODEL_VERSION)
    .addHelpText(
      'after',
      `
Exit codes: 0 success; 1 a check failed; 2 usage or input error (one line on stderr starting
"herd: "; with --json also a JSON error document on stdout); 70 an internal error (a bug:
HERD_DEBUG=1 prints its stack trace).

Examples:
  $ herd demo
  $ herd check --workers 2 --requests 3
  $ herd export --config herd.json --out build/`,
    );
  quiet(program);
  for (const name of COMMANDS) {
    const module = (await import(`./commands/${name}.${EXT}`)) as { register(program: Command): void };
    module.register(program);
  }
  for (const command of program.commands) quiet(command);
  return program;
}

/** `herd check` from `herd check --workers x`, for "run `herd check --help`". */
function commandPath(command: Command | undefined): string {
  const names: string[] = [];
  for (let c: Command | null = command ?? null; c; c = c.parent) names.unshift(c.name());
  return names.length === 0 ? 'herd' : names.join(' ');
}

/** Commander's message, without its "error: " prefix, and what to do about it. */
function usageMessage(err: CommanderError): string {
  const what = oneLine(err.message.replace(/^error: /, ''))
    .replace(/ is invalid\. /, ' is invalid: ')
    .replace(/\.$/, '');
  return `${what}; run \`${commandPath(failing)} --help\` for usage`;
}

/**
 * Runs the CLI and returns the process exit code. Every failure is one line on stderr (and a JSON
 * error document on stdout with --json); never a stack trace unless HERD_DEBUG is set.
 */
export async function main(argv: string[]): Promise<number> {
  failing = undefined;
  const json = argv.slice(2).includes('--json');
  const previous = process.exitCode;
  process.exitCode = undefined;
  try {
    const program = await buildProgram();
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_OK;
      if (err.code === 'commander.help' && err.exitCode === 0) return EXIT_OK;
      if (err.code === 'commander.help')
        return reportFailure(
          'no command given: run `herd --help` for the list of commands',
          EXIT_USAGE,
          json,
        );
      return reportFailure(usageMessage(err), EXIT_USAGE, json);
    }
    if (err instanceof UserError) return reportFailure(err.message, err.exitCode, json);
    if (err instanceof InvalidArgumentError) return reportFailure(err.message, EXIT_USAGE, json);
    if (process.env.HERD_DEBUG) console.error(err);
    const message = err instanceof Error ? err.message : String(err);
    return reportFailure(
      `internal error: ${message} (a bug in herd: run again with HERD_DEBUG=1 for the stack trace and report it)`,
      EXIT_INTERNAL,
      json,
    );
  } finally {
    if (process.exitCode === undefined) process.exitCode = previous;
  }
}
