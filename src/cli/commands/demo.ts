/**
 * `herd demo`: boots a local AO network with a token, a herder, two AOS-Llama workers on the
 * bundled generated model and a client, pays for one prompt, runs the inference inside the WASM
 * and prints the answer, the fees, the balances and the message timeline.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { WorkerCodeError } from '../../ao/local-herd.ts';
import {
  DEFAULT_PROMPT,
  DEFAULT_TOKENS,
  type DemoOptions,
  demoProblems,
  formatDemo,
  runDemo,
} from '../../demo/demo.ts';
import { useBaselineWasmOnly } from '../../demo/wasm-tiering.ts';
import { ggufProblem, linkModel } from '../../gguf/index.ts';
import { parseDecimalRatio } from '../../model/fees.ts';
import { EXIT_CHECK_FAILED, emit, intOption, progressLines, showProgress, UserError } from '../output.ts';

interface DemoFlags {
  prompt: string;
  tokens: number;
  multiplier?: string;
  fee?: string;
  herder: 'aos32' | 'aos64';
  seed: string;
  fullTimeline?: boolean;
  wasmTierUp?: boolean;
  model?: string;
  log?: string;
  worker?: string;
  herderId?: string;
  json?: boolean;
}

/** Largest worker Lua file accepted (an aos Eval carries it as message data). */
const MAX_WORKER_BYTES = 1024 * 1024;

/** Reads `--worker FILE` as Lua source text; a problem is one line. */
function readWorkerLua(path: string): { lua: string } | { problem: string } {
  let bytes: Buffer;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) return { problem: `--worker ${path} is not a file` };
    if (stat.size > MAX_WORKER_BYTES)
      return {
        problem: `--worker ${path} is ${stat.size} bytes; worker Lua must be at most ${MAX_WORKER_BYTES}`,
      };
    bytes = readFileSync(path);
  } catch (err) {
    return { problem: `cannot read --worker ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}` };
  }
  let lua: string;
  try {
    lua = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { problem: `--worker ${path} is not Lua source: it is not UTF-8 text` };
  }
  if (lua.includes('\u0000')) return { problem: `--worker ${path} is not Lua source: it holds NUL bytes` };
  if (lua.trim() === '') return { problem: `--worker ${path} is empty` };
  return { lua };
}

function multiplierOption(raw: string): string {
  if (!parseDecimalRatio(raw, 'multiplier').ok)
    throw new InvalidArgumentError('expected a plain decimal such as 1.5');
  return raw;
}

function feeOption(raw: string): string {
  if (!/^\d+$/.test(raw) || /^0+$/.test(raw))
    throw new InvalidArgumentError('expected a positive whole number');
  return raw;
}

/** Off a terminal: the current step, in the progress line printed every few seconds. */
function logSteps(lines: ReturnType<typeof progressLines>): {
  onStep: NonNullable<DemoOptions['onStep']>;
  done(): void;
} {
  return {
    onStep: (step, index, total) => lines.update(`${step} (step ${index + 1} of ${total})`),
    done: () => lines.stop(),
  };
}

/** Steps on stderr, one line each (only on a TTY). */
function stepPrinter(): { onStep: NonNullable<DemoOptions['onStep']>; done(): void } {
  const started = performance.now();
  let current: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let frame = 0;
  const draw = () => {
    if (current === undefined) return;
    const secs = ((performance.now() - started) / 1000).toFixed(1);
    process.stderr.write(`\r\x1b[2K${frames[frame++ % frames.length]} ${current} (${secs} s)`);
  };
  return {
    onStep(step) {
      if (step === 'ready') return;
      current = step;
      draw();
      timer ??= setInterval(draw, 100);
    },
    done() {
      if (timer) clearInterval(timer);
      if (current !== undefined) process.stderr.write('\r\x1b[2K');
    },
  };
}

async function demo(flags: DemoFlags): Promise<void> {
  const options: DemoOptions = {
    prompt: flags.prompt,
    tokens: flags.tokens,
    herderModule: flags.herder,
    seed: flags.seed,
    ...(flags.multiplier !== undefined ? { multiplier: flags.multiplier } : {}),
    ...(flags.fee !== undefined ? { fee: flags.fee } : {}),
    ...(flags.fullTimeline ? { fullTimeline: true } : {}),
    ...(flags.herderId !== undefined ? { herderId: flags.herderId } : {}),
  };
  const problems = demoProblems(options);
  if (flags.worker !== undefined) {
    const read = readWorkerLua(flags.worker);
    if ('problem' in read) problems.push(read.problem);
    else options.worker = { path: flags.worker, lua: read.lua };
  }
  if (flags.model !== undefined) {
    const problem = ggufProblem(flags.model);
    if (problem !== undefined) problems.push(`--model: ${problem}`);
  }
  if (problems.length > 0) throw new UserError(problems.join('; '));
  if (flags.log !== undefined) {
    // Found out now, not after the boot: the file can be written.
    try {
      writeFileSync(flags.log, '');
    } catch (err) {
      throw new UserError(
        `cannot write --log ${flags.log}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
    options.log = flags.log;
  }
  if (flags.model !== undefined) {
    try {
      options.model = linkModel(flags.model);
    } catch (err) {
      throw new UserError(
        `--model: cannot make ${flags.model} available to the workers: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
  }
  if (!flags.wasmTierUp) useBaselineWasmOnly();
  const lines = showProgress(flags) ? undefined : progressLines('demo');
  const progress = showProgress(flags) ? stepPrinter() : lines ? logSteps(lines) : undefined;
  let result: Awaited<ReturnType<typeof runDemo>>;
  try {
    result = await runDemo({ ...options, ...(progress ? { onStep: progress.onStep } : {}) });
  } catch (err) {
    if (err instanceof WorkerCodeError) throw new UserError(`--worker ${flags.worker}: ${err.message}`);
    const message = err instanceof Error ? err.message : String(err);
    if (/memory64|wasm.*64|Compiling function/i.test(message))
      throw new UserError(
        `cannot run AOS-Llama (wasm64): ${message}. Run through bin/herd.js (npx herd), which enables --experimental-wasm-memory64`,
      );
    throw err;
  } finally {
    progress?.done();
  }
  emit(result, flags, formatDemo);
  if (!result.outcome.ok) process.exitCode = EXIT_CHECK_FAILED;
}

export function register(program: Command): void {
  program
    .command('demo')
    .summary('one paid prompt through a whole herd on a local AO network (nothing to configure)')
    .description(
      'Boots a local AO network — the wAR token, the herder, two AOS-Llama workers (llama.wasm with ' +
        'worker.lua and a generated tiny model served by WeaveDrive) and a client process with the ' +
        'client package — mints wAR for the client, pays for one prompt with Llama.run, runs the ' +
        'inference inside the WASM and prints the answer, the fees, the balances before and after ' +
        'and the message timeline. The tiny model is synthetic: its text is not meaningful. Exits 1 ' +
        'when the request is not answered (e.g. --fee below the needed fee: the refund is shown).',
    )
    .option('--prompt <text>', 'the prompt', DEFAULT_PROMPT)
    .option('--tokens <n>', 'tokens to generate (X-Tokens)', intOption(1), DEFAULT_TOKENS)
    .option('--multiplier <m>', 'pay the needed fee × m (≥ 1, e.g. 1.5; rounded up)', multiplierOption)
    .option('--fee <units>', 'pay exactly this many token units instead', feeOption)
    .addOption(
      new Option('--herder <module>', 'AOS module of the herder')
        .choices(['aos32', 'aos64'])
        .default('aos32'),
    )
    .option('--seed <seed>', 'network seed (ids and timeline depend on it)', 'llama-herder-demo')
    .option('--full-timeline', 'include the boot (spawns, Init, Add-Worker, Mint) in the timeline')
    .option(
      '--wasm-tier-up',
      "let V8 optimise llama.wasm with TurboFan (default: baseline compiler only, several times faster for the tiny model's short run)",
    )
    .option(
      '--model <file.gguf>',
      'run the workers on a GGUF model of your own instead of the generated tiny one (AOS-Llama evaluates one 512-token batch: small quantised models)',
    )
    .option(
      '--log <file>',
      "write the herder's history (every message into or out of it) as JSON lines, for `herd verify --log`",
    )
    .option(
      '--worker <file.lua>',
      "run this worker Lua on the demo's workers instead of the exported worker.lua (code written for the original Llama-Herder runs unchanged; a model id it hard-codes is served the demo's model)",
    )
    .option(
      '--herder-id <id>',
      "give the demo's herder this process id (43 characters), e.g. the one a --worker file hard-codes",
    )
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Exit codes: 0 answered; 1 not answered (refunded, or the payment failed); 2 bad input.
The generated model is cached in $HERD_CACHE_DIR, else $XDG_CACHE_HOME/llama-herder, else
~/.cache/llama-herder.

Examples:
  $ herd demo
  $ herd demo --prompt "Tell me about alpacas" --tokens 32
  $ herd demo --multiplier 1.5 --json
  $ herd demo --fee 10                  # below the needed fee: the refund is shown, exit 1
  $ herd demo --log herder.jsonl        # then check it with the herd verify command printed
  $ herd demo --model ./tinyllama-1.1b-chat.Q4_K_M.gguf --tokens 16
  $ herd demo --worker ./original-worker.lua --herder-id <the herder id it hard-codes>`,
    )
    .action(demo);
}
