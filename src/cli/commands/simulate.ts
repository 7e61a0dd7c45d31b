/**
 * `herd simulate`: how a herd of a given size and fee schedule copes with a workload, from a
 * discrete-event simulation over the pure model. Prints a table (or JSON), and with --out writes
 * results.json and SVG charts.
 */
import { constants } from 'node:fs';
import { access, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { settingTagValue } from '../../model/settings.ts';
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
import { readConfigFile } from '../config-file.ts';
import { emit, intOption, progressLines, showProgress, toJson, UserError } from '../output.ts';
import { addSettingOptions, type SettingFlagValues, settingsFromFlags } from '../setting-flags.ts';

/** Largest inputs a run accepts: beyond them memory or time grows past what a machine gives. */
const SIMULATE_LIMITS = {
  /** 10^7 requests take about 100 s and 2 GB. */
  requests: 10_000_000,
  workers: 100_000,
  /** Fees are tabulated per token count: a larger maxTokens would need a table as large. */
  maxTokens: 65_536,
  /** Requests over all the runs of a sweep. */
  sweepRequests: 50_000_000,
} as const;

interface SimulateFlags extends SettingFlagValues {
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
    const { token: _token, owner: _owner, workers: _workers, ...rest } = readConfigFile(flags.config);
    settings = rest;
  }
  return { ...settings, ...settingsFromFlags(flags) };
}

async function optionsFromFlags(flags: SimulateFlags): Promise<SimulationOptions> {
  if (flags.rate !== undefined && flags.load !== undefined)
    throw new UserError('give --rate or --load, not both');
  if (flags.burstSize > 0 && flags.burstEvery === 0)
    throw new UserError('--burst-size needs --burst-every <seconds> (the mean time between bursts)');
  if (flags.burstEvery > 0 && flags.burstSize === 0)
    throw new UserError('--burst-every needs --burst-size <n> (the requests in each burst)');
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
  const problems = [...limitProblems(options, flags.sweepWorkers), ...simulationProblems(options)];
  if (problems.length > 0) throw new UserError(problems.join('; '));
  return options;
}

/** Inputs beyond {@link SIMULATE_LIMITS}, each with what to do instead. */
function limitProblems(o: SimulationOptions, sweep?: readonly number[]): string[] {
  const problems: string[] = [];
  if (sweep !== undefined) {
    const largest = Math.max(...sweep);
    if (largest > SIMULATE_LIMITS.workers)
      problems.push(
        `--sweep-workers goes up to ${largest} workers, above the ${SIMULATE_LIMITS.workers.toLocaleString('en-US')} a run can take`,
      );
    const total = sweep.length * o.requests;
    if (total > SIMULATE_LIMITS.sweepRequests)
      problems.push(
        `--sweep-workers runs ${sweep.length} simulations of ${o.requests.toLocaleString('en-US')} requests (${total.toLocaleString('en-US')} in all), above the ${SIMULATE_LIMITS.sweepRequests.toLocaleString('en-US')} a sweep can take: lower --requests or take fewer sizes`,
      );
  }
  const over = (value: number, limit: number, what: string) => {
    if (value > limit)
      problems.push(`${what} ${value} is above the ${limit.toLocaleString('en-US')} a run can take`);
  };
  over(o.requests, SIMULATE_LIMITS.requests, '--requests');
  over(o.workers, SIMULATE_LIMITS.workers, '--workers');
  over(o.herd.maxTokens, SIMULATE_LIMITS.maxTokens, 'maxTokens (--max-tokens or the config)');
  return problems;
}

/** Class shares are proportions: say so when they do not add up to 1. */
function sharesNote(classes: readonly PriorityClass[]): string | undefined {
  const total = classes.reduce((sum, c) => sum + c.share, 0);
  if (Math.abs(total - 1) < 1e-9) return undefined;
  const used = classes.map((c) => `${c.name} ${Number((c.share / total).toFixed(4))}`).join(', ');
  return `note: the class shares add up to ${Number(total.toFixed(6))}, not 1; they are used as proportions: ${used}`;
}

/** Fails now, before the run, if `dir` cannot be created or written. */
async function checkOutDir(dir: string): Promise<void> {
  const code = (err: unknown) => (err as NodeJS.ErrnoException).code ?? String(err);
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw new UserError(`--out ${dir} is a file, not a directory: name a directory`);
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (code(err) !== 'ENOENT') throw new UserError(`cannot use --out ${dir}: ${code(err)}`);
    try {
      await mkdir(dir, { recursive: true });
    } catch (mkdirErr) {
      throw new UserError(`cannot create --out directory ${dir}: ${code(mkdirErr)}`);
    }
  }
  try {
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new UserError(`cannot write into --out directory ${dir}: ${code(err)}`);
  }
}

async function withProgress<T>(
  enabled: boolean,
  total: number,
  work: (update: (done: number) => void) => T,
): Promise<T> {
  if (!enabled) {
    const lines = progressLines('simulate');
    try {
      return work((done) =>
        lines.update(`${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} requests`),
      );
    } finally {
      lines.stop();
    }
  }
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
  const written: string[] = [];
  for (const [name, content] of Object.entries(files)) {
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, name), content);
    } catch (err) {
      throw new UserError(
        `cannot write ${join(dir, name)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
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
  if (flags.out !== undefined) await checkOutDir(flags.out);
  const note = sharesNote(options.classes);
  if (note !== undefined && !flags.json) process.stderr.write(`herd simulate: ${note}\n`);
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
  const command = program
    .command('simulate')
    .summary('discrete-event simulation of a herd: latency, throughput, revenue')
    .description(
      'Simulates clients paying a herder and workers answering it, over the pure model, and reports ' +
        'throughput, queueing and total latency percentiles per client class, the largest overtaking ' +
        'count, revenue, refunds and utilisation. Deterministic for a seed.',
    )
    .option(
      '--requests <n>',
      `paid requests to simulate, 1 to ${SIMULATE_LIMITS.requests.toLocaleString('en-US')}`,
      intOption(1, SIMULATE_LIMITS.requests),
      d.requests,
    )
    .option(
      '--workers <n>',
      `herd size, 1 to ${SIMULATE_LIMITS.workers.toLocaleString('en-US')}`,
      intOption(1, SIMULATE_LIMITS.workers),
      d.workers,
    )
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
    );
  addSettingOptions(command, {
    help: (spec, meaning) => `${meaning} (default ${settingTagValue(d.herd[spec.name])})`,
  })
    .option('--cron-ms <ms>', 'interval of Cron ticks to the herder', numberOption(1), d.cronMs)
    .option('--seed <n>', 'seed of every random choice', intOption(0), d.seed)
    .option(
      '--sweep-workers <from:to:step>',
      'run once per herd size and chart latency against it',
      rangeOption,
    )
    .option('--out <dir>', 'write results.json (or sweep.json) and SVG charts here')
    .option('--json', 'print one JSON document instead of the summary')
    .addHelpText(
      'after',
      `
Class shares are proportions (a note says so when they do not add up to 1). Bursts need both
--burst-every and --burst-size.

Examples:
  $ herd simulate
  $ herd simulate --workers 20 --requests 100000 --load 0.9
  $ herd simulate --class standard:0.8:1 --class priority:0.2:3 --max-overtakes unbounded
  $ herd simulate --config herd.json --burst-every 60 --burst-size 500 --out results/
  $ herd simulate --sweep-workers 5:50:5 --requests 20000 --rate 40 --out sweep/`,
    )
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
