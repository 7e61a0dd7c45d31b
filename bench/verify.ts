/**
 * `herd verify` throughput: 100 scenario traces (seed 1) against the correct herder in the
 * original's dialect (sixteen workers), its settings stated as the verify tests state them. Each
 * run is a fresh Node process, as the command runs, and its wall time counts everything the
 * command does before the first violation is shrunk: loading, booting the herder (once per
 * thread) and exploring. Shrinking is left out (`shrinkTimeMs: 0`): its cost depends on the
 * violations found, not on the throughput measured here.
 *
 *   node --import tsx bench/verify.ts <threads> [runs] [seed]    one run, JSON on the last line
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface VerifyBenchmark {
  readonly threads: number;
  readonly runs: number;
  /** From the process's start to the last trace explored (ms). */
  readonly wallMs: number;
  /** Booting the herder(s), from the call to the first trace done (ms). */
  readonly firstTraceMs: number;
  readonly messages: number;
  readonly tracesPerSecond: number;
  readonly messagesPerSecond: number;
}

/** Runs the measurement in a fresh Node process. */
export function benchmarkVerify(threads: number, runs = 100, seed = 1): VerifyBenchmark {
  const script = fileURLToPath(import.meta.url);
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', script, String(threads), String(runs), String(seed)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return JSON.parse(out.trim().split('\n').at(-1)!) as VerifyBenchmark;
}

async function main(threads: number, runs: number, seed: number): Promise<VerifyBenchmark> {
  const { verifyHerder } = await import('../src/verify/verify.ts');
  const { DIALECT_SETTINGS } = await import('../test/fixtures/original.ts');
  const lua = readFileSync(
    fileURLToPath(new URL('../test/fixtures/original-dialect-herder.lua', import.meta.url)),
    'utf8',
  );
  const started = performance.now();
  let firstTraceMs = Number.NaN;
  let exploredMs = Number.NaN;
  let messages = 0;
  const report = await verifyHerder({
    lua,
    stated: { ...DIALECT_SETTINGS, maxTokens: 1_000_000, maxPromptBytes: 1_000_000 },
    runs,
    seed,
    threads,
    shrinkTimeMs: 0,
    onProgress: (e) => {
      if (e.phase !== 'explore') return;
      if (e.done === 1) firstTraceMs = performance.now() - started;
      if (e.done === e.total) {
        exploredMs = performance.now();
        messages = e.messages ?? Number.NaN;
      }
    },
  });
  const wallMs = exploredMs; // performance.now() counts from the process's start
  if (Number.isNaN(messages)) messages = report.messages;
  return {
    threads,
    runs,
    wallMs,
    firstTraceMs,
    messages,
    tracesPerSecond: runs / (wallMs / 1000),
    messagesPerSecond: messages / (wallMs / 1000),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [threads = '1', runs = '100', seed = '1'] = process.argv.slice(2);
  const result = await main(Number(threads), Number(runs), Number(seed));
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
