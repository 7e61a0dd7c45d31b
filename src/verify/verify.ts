/**
 * `herd verify`: black-box property checking of any Lua herder that speaks the wire protocol.
 * The herder runs in a local AO network; scenario traces (credits of every kind, worker answers,
 * errors, silence and late answers, time, spoofs, owner actions, duplicates, malformed
 * messages) are delivered to it, and the auditor checks the invariants observable from outside
 * on every step. Each violated invariant is reported with a shrunk, replayable trace.
 */
import fc from 'fast-check';
import type { ModuleKey } from '../ao/modules.ts';
import { LocalNetwork, type ProcessSnapshot } from '../ao/network.ts';
import { INVARIANTS, type InvariantName } from '../audit/invariants.ts';
import type { HerdConfig } from '../model/config.ts';
import { LuaHerder } from './lua-herder.ts';
import { describeViolation, runTraceAsync, type TraceRun } from './run.ts';
import { contendedEvents, hugeCredit, type TraceSpec, traceSpec, WORKER_POOL } from './scenario.ts';
import { type Cast, DEFAULT_CAST } from './world.ts';

/** The invariants an outside observer can check (exact-fees and bounded-overtaking need the inside). */
export const OBSERVABLE_INVARIANTS: readonly InvariantName[] = [
  'no-lost-request',
  'conservation',
  'refund-to-payer',
  'priority-order',
  'fifo-ties',
  'no-double-booking',
  'work-conserving',
  'authority',
  'bad-input-safe',
];

export interface VerifyOptions {
  /** The herder's Lua source. */
  lua: string;
  /** Lua evaluated first (e.g. to set the globals a herder reads its settings from). */
  prelude?: string;
  module?: ModuleKey;
  /**
   * What the herder is expected to implement: its token, owner and initial workers (the ids its
   * source expects), fees, limits, timeouts and attempts.
   */
  config: HerdConfig;
  /** Scenario traces to run (default 100). */
  runs?: number;
  seed?: number;
  /** Replay one counterexample (with `seed`), as printed by an earlier run. */
  path?: string;
  maxEvents?: number;
  /** Upper bound on the time spent shrinking each violation (ms; default 60 s). */
  shrinkTimeMs?: number;
  onProgress?: (event: {
    phase: 'explore' | 'shrink';
    done: number;
    total: number;
    invariant?: InvariantName;
  }) => void;
}

export interface InvariantResult {
  readonly invariant: InvariantName;
  readonly description: string;
  readonly violated: boolean;
  /** For a violation: what broke, the shrunk trace, and how to replay it. */
  readonly detail?: string;
  readonly trace?: string;
  readonly replay?: { seed: number; path: string };
  readonly traceLength?: number;
}

export interface VerifyReport {
  readonly module: ModuleKey;
  readonly runs: number;
  readonly seed: number;
  readonly messages: number;
  readonly durationMs: number;
  readonly results: InvariantResult[];
  readonly violated: InvariantName[];
  /** Lua errors raised by the herder (each rolled back, as a real CU does), first few. */
  readonly luaErrors: { message: string; count: number }[];
}

export async function verifyHerder(options: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const module = options.module ?? 'aos32';
  const runs = options.runs ?? 100;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const config = options.config;
  const cast: Cast = {
    ...DEFAULT_CAST,
    token: config.token,
    owner: config.owner,
    workers: [...config.workers, ...WORKER_POOL.filter((w) => !config.workers.includes(w))],
  };
  const net = await LocalNetwork.create({ seed: 'verify', startTime: 0, startBlockHeight: 0 });
  const herder = await LuaHerder.spawn(net, {
    module,
    owner: config.owner,
    lua: options.lua,
    ...(options.prelude ? { prelude: options.prelude } : {}),
  });
  const booted: ProcessSnapshot = await net.snapshot(herder.pid);

  const cache = new Map<string, TraceRun>();
  let messages = 0;
  const errorCounts = new Map<string, number>();
  const run = async (spec: TraceSpec): Promise<TraceRun> => {
    const key = JSON.stringify(spec, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
    const known = cache.get(key);
    if (known) return known;
    await net.restore(herder.pid, booted);
    herder.startTrace();
    const errorsBefore = herder.errors.length;
    const result = await runTraceAsync(herder, spec, { cast });
    for (const { error } of herder.errors.slice(errorsBefore)) {
      // The Lua error itself ("[string ...]:N: ..."), not the warnings printed around it.
      const lines = error.split('\n').map((line) => line.trim());
      const message =
        lines.find((line) => line.startsWith('[string ')) ??
        lines.find((line) => line !== '' && !line.startsWith('WARNING')) ??
        lines[0]!;
      errorCounts.set(message, (errorCounts.get(message) ?? 0) + 1);
    }
    messages += result.log.length;
    cache.set(key, result);
    return result;
  };

  const maxEvents = options.maxEvents ?? 40;
  const scenarios = fc.oneof(
    traceSpec({ config: fc.constant(config), maxEvents }),
    traceSpec({ config: fc.constant(config), maxEvents, events: contendedEvents(hugeCredit) }),
  );
  const replay = options.path === undefined ? {} : { path: options.path, endOnFailure: false };

  // Explore: every trace is audited for every invariant at once.
  const violated = new Set<InvariantName>();
  let done = 0;
  await fc.check(
    fc.asyncProperty(scenarios, async (spec) => {
      for (const v of (await run(spec)).violations) violated.add(v.invariant);
      options.onProgress?.({ phase: 'explore', done: ++done, total: runs });
    }),
    { numRuns: runs, seed, ...replay },
  );

  // Shrink: one search per violated invariant, replaying the same traces (cached), then shrinking.
  const results: InvariantResult[] = [];
  for (const invariant of OBSERVABLE_INVARIANTS) {
    if (!violated.has(invariant)) {
      results.push({ invariant, description: INVARIANTS[invariant], violated: false });
      continue;
    }
    options.onProgress?.({
      phase: 'shrink',
      done: results.length,
      total: OBSERVABLE_INVARIANTS.length,
      invariant,
    });
    const details = await fc.check(
      fc.asyncProperty(
        scenarios,
        async (spec) => !(await run(spec)).violations.some((v) => v.invariant === invariant),
      ),
      { numRuns: runs, seed, ...replay, interruptAfterTimeLimit: options.shrinkTimeMs ?? 60_000 },
    );
    const counterexample = details.counterexample?.[0];
    const found = counterexample === undefined ? undefined : await run(counterexample);
    const violation = found?.violations.find((v) => v.invariant === invariant);
    results.push({
      invariant,
      description: INVARIANTS[invariant],
      violated: true,
      ...(violation && found
        ? {
            detail: violation.detail,
            trace: describeViolation(violation, found),
            traceLength: violation.step < 0 ? found.log.length : violation.step + 1,
            replay: { seed: details.seed, path: details.counterexamplePath ?? '' },
          }
        : {}),
    });
  }
  net.close();
  return {
    module,
    runs,
    seed,
    messages,
    durationMs: Math.round(performance.now() - started),
    results,
    violated: results.filter((r) => r.violated).map((r) => r.invariant),
    luaErrors: [...errorCounts.entries()].slice(0, 5).map(([message, count]) => ({ message, count })),
  };
}
