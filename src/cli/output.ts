import { InvalidArgumentError } from 'commander';

/**
 * Shared conventions of every `herd` command: a human summary by default, exactly one JSON
 * document on stdout with `--json`, and these exit codes:
 *
 * - 0: success;
 * - 1: a check failed (violations found, a request not answered, a state cap reached);
 * - 2: usage or input error: one line `herd: <what is wrong and what to do>` on stderr (and,
 *   with `--json`, an error document on stdout);
 * - 70: an internal error, a bug of ours (`HERD_DEBUG=1` prints its stack trace).
 */
export const EXIT_OK = 0;
export const EXIT_CHECK_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 70;

/** An error caused by the user's input or environment: printed as one line, no stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = EXIT_USAGE,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** A list of problems as one line: `first; second; third`. */
export function problemsLine(problems: readonly string[]): string {
  return problems.map((p) => oneLine(p)).join('; ');
}

/** Text made to fit on one line: line breaks and the indentation after them become `; `. */
export function oneLine(text: string): string {
  return text
    .trim()
    .replace(/:?\s*\n\s*-\s+/g, (m) => (m.startsWith(':') ? ': ' : '; '))
    .replace(/\s*\n\s*/g, '; ');
}

/** The JSON document printed on stdout, with `--json`, when a command fails with exit 2 or 70. */
export interface ErrorDocument {
  ok: false;
  exitCode: number;
  error: string;
}

/**
 * Reports a failure the way every command does: one line on stderr, prefixed `herd: `, and with
 * `json` an {@link ErrorDocument} on stdout. Returns the exit code.
 */
export function reportFailure(message: string, exitCode: number, json: boolean): number {
  const line = oneLine(message);
  process.stderr.write(`herd: ${line}\n`);
  if (json) {
    const document: ErrorDocument = { ok: false, exitCode, error: line };
    process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  }
  return exitCode;
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

/** Parses an integer CLI option within [min, max] (commander names the flag in its error). */
export function intOption(min = 0, max = Number.MAX_SAFE_INTEGER): (raw: string) => number {
  return (raw) => {
    const value = Number(raw);
    if (!/^[0-9]+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max)
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER
          ? `expected an integer >= ${min}`
          : `expected an integer from ${min} to ${max}`,
      );
    return value;
  };
}

/** Whether progress bars may be drawn: only on an interactive terminal, never in CI or with --json. */
export function showProgress(options: OutputOptions): boolean {
  return Boolean(process.stderr.isTTY) && !options.json && !process.env.CI;
}

/** Seconds between progress lines off a terminal: `HERD_PROGRESS_SECONDS`, default 5 (0 = none). */
function progressInterval(): number {
  const raw = process.env.HERD_PROGRESS_SECONDS;
  if (raw === undefined || raw === '') return 5;
  const seconds = Number(raw);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : 5;
}

interface ProgressLines {
  /** Records the latest state; printed at the next tick. Cheap: call it as often as you like. */
  update(status: string): void;
  /** Stops the ticker (prints nothing more). */
  stop(): void;
}

/**
 * Progress for long work when stderr is not a terminal (CI logs, pipes): every few seconds one
 * short line `herd <command>: <status> (<elapsed> s)` on stderr, once a status is known. Works
 * for synchronous work too: `update` prints when a line is due. Does nothing on a terminal
 * (commands draw a bar there) or when the interval is 0. `status` may be a function, called
 * when a line is due, instead of (or besides) calls to `update`.
 */
export function progressLines(
  command: string,
  options: { status?: () => string | undefined; intervalSeconds?: number; stream?: NodeJS.WriteStream } = {},
): ProgressLines {
  const stream = options.stream ?? process.stderr;
  const seconds = options.intervalSeconds ?? progressInterval();
  if (stream.isTTY || seconds <= 0) return { update: () => {}, stop: () => {} };
  const started = performance.now();
  let last = started;
  let latest: string | undefined;
  let stopped = false;
  const tick = () => {
    const now = performance.now();
    if (stopped || now - last < seconds * 1000) return;
    const status = options.status?.() ?? latest;
    if (status === undefined) return;
    last = now;
    stream.write(`herd ${command}: ${status} (${((now - started) / 1000).toFixed(0)} s)\n`);
  };
  const timer = setInterval(tick, Math.max(50, (seconds * 1000) / 4));
  timer.unref();
  return {
    update(status) {
      latest = status;
      tick();
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
