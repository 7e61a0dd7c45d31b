/**
 * `herd simulate`: how a herd of a given size and fee schedule copes with a workload, from a
 * discrete-event simulation over the pure model. Prints a table (or JSON), and with --out writes
 * results.json and SVG charts.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { parseConfig } from '../../model/config.ts';
import { renderSvg, runCharts, sweepChart } from '../../simulate/charts.ts';
import { runSimulation, type SimulationResult } from '../../simulate/engine.ts';
import {
  DEFAULT_CLASSES,
  DEFAULT_SIMULATION,
  formatClass,
  type HerdSettings,
  type PriorityClass,
  parseClass,
  parseIntDistribution,
  rateForLoad,
  type SimulationOptions,
  simulationProblems,
} from '../../simulate/options.ts';
import { formatIntDistribution } from '../../simulate/random.ts';
import { formatResult, formatSweep } from '../../simulate/report.ts';
import { parseRange, runSweep, type SweepPoint } from '../../simulate/sweep.ts';
import { emit, intOption, showProgress, toJson, UserError } from '../output.ts';

interface SimulateFlags {
  requests: number;
  workers: number;
  rate?: number;
  load?: number;
  burstEvery: number;
  burstSize: number;
  burstSpread: number;
  promptWords: string;
  tokens: string;
  class: PriorityClass[];
  msPerToken: number;
  overheadMs: number;
  jitter: number;
  failRate: number;
  timeoutRate: number;
  recoverMs: number;
  config?: string;
  baseFee?: string;
  tokenFee?: string;
  maxOvertakes?: number | null;
  maxAttempts?: number;
  timeoutBase?: number;
  timeoutPerToken?: number;
  maxTokens?: number;
  maxPromptBytes?: number;
  cronMs: number;
  seed: number;
  sweepWorkers?: number[];
  out?: string;
  json?: boolean;
}

/** A finite number option within [min, max]. */
function numberOption(min: number, max = Number.POSITIVE_INFINITY): (raw: string) => number {
  return (raw) => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max)
      throw new InvalidArgumentError(
        `expected a number ${max === Number.POSITIVE_INFINITY ? `>= ${min}` : `in [${min}, ${max}]`}`,
      );
    return value;
  };
}

function amountOption(raw: string): string {
  if (!/^[0-9]+$/.test(raw)) throw new InvalidArgumentError('expected a whole number of token units');
  return raw;
}

function overtakesOption(raw: string): number | null {
  if (raw === 'unbounded') return null;
  return intOption(0)(raw);
}

function distributionOption(what: string): (raw: string) => string {
  return (raw) => {
    try {
      parseIntDistribution(raw, what);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
    return raw;
  };
}

function classOption(raw: string, previous: PriorityClass[] | undefined): PriorityClass[] {
  let parsed: PriorityClass;
  try {
    parsed = parseClass(raw);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  // The defaults are replaced by the first --class, not added to.
  return previous === undefined || previous === DEFAULT_CLASSES ? [parsed] : [...previous, parsed];
}

function rangeOption(raw: string): number[] {
  try {
    return parseRange(raw);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** Herder settings: defaults, then the config file's, then flags. */
async function herdSettings(flags: SimulateFlags): Promise<HerdSettings> {
  let settings: HerdSettings = DEFAULT_SIMULATION.herd;
  if (flags.config !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(await readFile(flags.config, 'utf8'));
    } catch (err) {
      throw new UserError(`cannot read config ${flags.config}: ${(err as Error).message}`);
    }
    const parsed = parseConfig(json);
    if (!parsed.ok) throw new UserError(`config ${flags.config} is invalid: ${parsed.problems.join('; ')}`);
    const { token: _token, owner: _owner, workers: _workers, ...rest } = parsed.config;
    settings = rest;
  }
  const pick = <K extends keyof HerdSettings>(key: K, value: HerdSettings[K] | undefined) =>
    value === undefined ? {} : { [key]: value };
  return {
    ...settings,
    ...pick('baseFee', flags.baseFee === undefined ? undefined : BigInt(flags.baseFee)),
    ...pick('tokenFee', flags.tokenFee === undefined ? undefined : BigInt(flags.tokenFee)),
    ...pick('maxOvertakes', flags.maxOvertakes),
    ...pick('maxAttempts', flags.maxAttempts),
    ...pick('timeoutBase', flags.timeoutBase),
    ...pick('timeoutPerToken', flags.timeoutPerToken),
    ...pick('maxTokens', flags.maxTokens),
    ...pick('maxPromptBytes', flags.maxPromptBytes),
  };
}

export async function optionsFromFlags(flags: SimulateFlags): Promise<SimulationOptions> {
  if (flags.rate !== undefined && flags.load !== undefined)
    throw new UserError('give --rate or --load, not both');
  const base: SimulationOptions = {
    seed: flags.seed,
    requests: flags.requests,
    workers: flags.workers,
    rate: 1,
    bursts: { everySeconds: flags.burstEvery, size: flags.burstSize, spreadMs: flags.burstSpread },
    promptWords: parseIntDistribution(flags.promptWords, '--prompt-words'),
    tokens: parseIntDistribution(flags.tokens, '--tokens'),
    classes: flags.class,
    worker: {
      msPerToken: flags.msPerToken,
      overheadMs: flags.overheadMs,
      jitter: flags.jitter,
      failRate: flags.failRate,
      timeoutRate: flags.timeoutRate,
      recoverMs: flags.recoverMs,
    },
    herd: await herdSettings(flags),
    cronMs: flags.cronMs,
  };
  const options = { ...base, rate: flags.rate ?? rateForLoad(base, flags.load ?? 0.8) };
  const problems = simulationProblems(options);
  if (problems.length > 0) throw new UserError(problems.join('; '));
  return options;
}

async function withProgress<T>(
  enabled: boolean,
  total: number,
  work: (update: (done: number) => void) => T,
): Promise<T> {
  if (!enabled) return work(() => {});
  const { default: progress } = await import('cli-progress');
  const bar = new progress.SingleBar(
    {
      format: 'simulating [{bar}] {percentage}% | {value}/{total} requests | ETA {eta}s',
      clearOnComplete: true,
    },
    progress.Presets.shades_classic,
  );
  bar.start(total, 0);
  try {
    return work((done) => bar.update(done));
  } finally {
    bar.stop();
  }
}

async function writeOut(dir: string, files: Record<string, string>): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, content] of Object.entries(files)) {
    await writeFile(join(dir, name), content);
    written.push(join(dir, name));
  }
  return written;
}

/** The options as run, in JSON form (amounts as strings, distributions as written). */
function describeOptions(o: SimulationOptions): Record<string, unknown> {
  return {
    ...o,
    promptWords: formatIntDistribution(o.promptWords),
    tokens: formatIntDistribution(o.tokens),
    classes: o.classes.map(formatClass),
  };
}

async function simulate(flags: SimulateFlags): Promise<void> {
  const options = await optionsFromFlags(flags);
  const progress = showProgress(flags);
  if (flags.sweepWorkers !== undefined) {
    const sizes = flags.sweepWorkers;
    const points = await withProgress(progress, sizes.length * options.requests, (update) =>
      runSweep(options, sizes, (done) => update(done)),
    );
    const written =
      flags.out === undefined
        ? []
        : await writeOut(flags.out, {
            'sweep.json': `${toJson({ options: describeOptions(options), sweep: points })}\n`,
            'latency-vs-workers.svg': await renderSvg(sweepChart(points)),
          });
    emit({ options: describeOptions(options), sweep: points, written }, flags, () =>
      sweepSummary(options, points, written),
    );
    return;
  }
  const result = await withProgress(progress, options.requests, (update) =>
    runSimulation(options, { onProgress: (done) => update(done) }),
  );
  let written: string[] = [];
  if (flags.out !== undefined) {
    const charts: Record<string, string> = {};
    for (const [name, spec] of Object.entries(runCharts(result))) charts[name] = await renderSvg(spec);
    written = await writeOut(flags.out, {
      'results.json': `${toJson({ options: describeOptions(options), result })}\n`,
      ...charts,
    });
  }
  emit({ options: describeOptions(options), result, written }, flags, () => runSummary(result, written));
}

function runSummary(result: SimulationResult, written: string[]): string {
  const text = formatResult(result);
  return written.length === 0 ? text : `${text}\n\nwrote ${written.join(', ')}`;
}

function sweepSummary(options: SimulationOptions, points: SweepPoint[], written: string[]): string {
  const head =
    `Sweep over herd size: ${options.requests.toLocaleString('en-US')} requests at ` +
    `${options.rate.toPrecision(3)} requests/s (seed ${options.seed}); latency from payment to answer.\n\n`;
  const text = head + formatSweep(points);
  return written.length === 0 ? text : `${text}\n\nwrote ${written.join(', ')}`;
}

export function register(program: Command): void {
  const d = DEFAULT_SIMULATION;
  const w = d.worker;
  program
    .command('simulate')
    .summary('discrete-event simulation of a herd: latency, throughput, revenue')
    .description(
      'Simulates clients paying a herder and workers answering it, over the pure model, and reports ' +
        'throughput, queueing and total latency percentiles per client class, the largest overtaking ' +
        'count, revenue, refunds and utilisation. Deterministic for a seed.',
    )
    .option('--requests <n>', 'paid requests to simulate', intOption(1), d.requests)
    .option('--workers <n>', 'herd size', intOption(1), d.workers)
    .option('--rate <per-second>', 'steady arrivals per second (Poisson)', numberOption(1e-9))
    .option(
      '--load <fraction>',
      'set the rate so that --workers would be busy this share of the time (default 0.8 without --rate)',
      numberOption(1e-6, 100),
    )
    .option('--burst-every <seconds>', 'mean time between bursts (0 = no bursts)', numberOption(0), 0)
    .option('--burst-size <n>', 'requests in a burst, on top of the steady arrivals', intOption(0), 0)
    .option('--burst-spread <ms>', 'a burst arrives over this window', numberOption(0), d.bursts.spreadMs)
    .option(
      '--prompt-words <dist>',
      'words per prompt: N, uniform:MIN:MAX, exp:MEAN or lognormal:MEDIAN:SIGMA',
      distributionOption('--prompt-words'),
      formatIntDistribution(d.promptWords),
    )
    .option(
      '--tokens <dist>',
      'tokens requested (X-Tokens), same forms as --prompt-words',
      distributionOption('--tokens'),
      formatIntDistribution(d.tokens),
    )
    .addOption(
      new Option(
        '--class <name:share:pays>',
        'a client class (repeatable): pays a fixed multiplier (priority:0.2:2) or the original ' +
          "client's rule, Info's Last-Multiplier bumped by a percentage when the queue is not empty, " +
          'with an optional cap (adaptive:0.1:last+5%<=10)',
      )
        .argParser(classOption)
        .default(DEFAULT_CLASSES, DEFAULT_CLASSES.map(formatClass).join(' ')),
    )
    .option('--ms-per-token <ms>', 'worker generation time per token', numberOption(0), w.msPerToken)
    .option('--overhead-ms <ms>', 'worker time per request besides tokens', numberOption(0), w.overheadMs)
    .option(
      '--jitter <fraction>',
      'worker time varies uniformly by ± this share',
      numberOption(0, 0.999),
      w.jitter,
    )
    .option('--fail-rate <p>', 'chance a job ends in Inference-Error', numberOption(0, 1), w.failRate)
    .option('--timeout-rate <p>', 'chance a worker goes silent on a job', numberOption(0, 1), w.timeoutRate)
    .option(
      '--recover-ms <ms>',
      'a silent worker answers this long after its deadline',
      numberOption(1),
      w.recoverMs,
    )
    .option(
      '--config <herd.json>',
      'herder settings from a herd config (its token, owner and workers are ignored)',
    )
    .option('--base-fee <units>', `fee per request (default ${d.herd.baseFee})`, amountOption)
    .option('--token-fee <units>', `fee per token and prompt word (default ${d.herd.tokenFee})`, amountOption)
    .option(
      '--max-overtakes <n|unbounded>',
      `overtaking bound (default ${d.herd.maxOvertakes ?? 'unbounded'})`,
      overtakesOption,
    )
    .option('--max-attempts <n>', `dispatches before a refund (default ${d.herd.maxAttempts})`, intOption(1))
    .option('--timeout-base <ms>', `deadline base (default ${d.herd.timeoutBase})`, intOption(0))
    .option(
      '--timeout-per-token <ms>',
      `deadline per token (default ${d.herd.timeoutPerToken})`,
      intOption(0),
    )
    .option('--max-tokens <n>', `largest X-Tokens accepted (default ${d.herd.maxTokens})`, intOption(1))
    .option(
      '--max-prompt-bytes <n>',
      `largest prompt accepted (default ${d.herd.maxPromptBytes})`,
      intOption(1),
    )
    .option('--cron-ms <ms>', 'interval of Cron ticks to the herder', numberOption(1), d.cronMs)
    .option('--seed <n>', 'seed of every random choice', intOption(0), d.seed)
    .option(
      '--sweep-workers <from:to:step>',
      'run once per herd size and chart latency against it',
      rangeOption,
    )
    .option('--out <dir>', 'write results.json (or sweep.json) and SVG charts here')
    .option('--json', 'print one JSON document instead of the summary')
    .action(async (flags: SimulateFlags) => {
      try {
        await simulate(flags);
      } catch (err) {
        if (err instanceof UserError) throw err;
        if (err instanceof Error && err.message.startsWith('cannot simulate'))
          throw new UserError(err.message);
        throw err;
      }
    });
}
