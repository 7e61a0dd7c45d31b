import { Command, CommanderError } from 'commander';
import { MODEL_VERSION } from '../model/version.ts';

/** Builds the `herd` command tree. Each subcommand lives in its own module under src/cli/. */
export function buildProgram(): Command {
  const program = new Command('herd')
    .description('LLM inference as a service on AO: model, verify, export and run a herd of AOS-Llama workers.')
    .version(MODEL_VERSION)
    .showHelpAfterError('(run with --help for usage)');
  return program;
}

/** Runs the CLI and returns the process exit code; user errors print one line, never a stack. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram().exitOverride();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(`herd: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
