import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { MODEL_VERSION } from '../model/version.ts';
import { UserError } from './output.ts';

/**
 * Subcommands, one module each under src/cli/commands/; each exports `register(program)`.
 * Loaded lazily so that `herd --help` stays fast and a command's heavy dependencies (WASM
 * modules, charting) load only when it runs.
 */
const COMMANDS: readonly string[] = ['export', 'verify', 'simulate', 'demo', 'docs', 'deploy', 'check'];

export async function buildProgram(): Promise<Command> {
  const program = new Command('herd')
    .description(
      'LLM inference as a service on AO: model, verify, export and run a herd of AOS-Llama workers.',
    )
    .version(MODEL_VERSION)
    .showHelpAfterError('(run with --help for usage)');
  for (const name of COMMANDS) {
    const module = (await import(`./commands/${name}.ts`)) as { register(program: Command): void };
    module.register(program);
  }
  return program;
}

/** Runs the CLI and returns the process exit code; user errors print one line, never a stack. */
export async function main(argv: string[]): Promise<number> {
  const program = (await buildProgram()).exitOverride();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof UserError || err instanceof InvalidArgumentError) {
      process.stderr.write(`herd: ${err.message}\n`);
      return err instanceof UserError ? err.exitCode : 2;
    }
    process.stderr.write(`herd: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.HERD_DEBUG) console.error(err);
    return 70;
  }
}
