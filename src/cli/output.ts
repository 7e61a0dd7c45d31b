import { InvalidArgumentError } from 'commander';

/**
 * Shared conventions of every `herd` command: a human summary by default, exactly one JSON
 * document on stdout with `--json`, a clean one-line error for bad input, and an exit code that
 * is non-zero when a check fails.
 */

/** An error caused by the user's input or environment: printed as one line, no stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export interface OutputOptions {
  json?: boolean;
}

/** Prints a command's result as JSON or via `human`, bigints as decimal strings. */
export function emit<T>(result: T, options: OutputOptions, human: (result: T) => string): void {
  if (options.json) process.stdout.write(`${toJson(result)}\n`);
  else process.stdout.write(`${human(result)}\n`);
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
}

/** Parses an integer CLI option (commander names the flag in its error). */
export function intOption(min = 0): (raw: string) => number {
  return (raw) => {
    if (!/^[0-9]+$/.test(raw) || Number(raw) < min || !Number.isSafeInteger(Number(raw)))
      throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return Number(raw);
  };
}

/** Whether progress bars may be drawn: only on an interactive terminal, never in CI or with --json. */
export function showProgress(options: OutputOptions): boolean {
  return Boolean(process.stderr.isTTY) && !options.json && !process.env.CI;
}
