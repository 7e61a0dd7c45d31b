/**
 * `herd verify`: black-box property checking of any Lua herder, in our wire dialect or the
 * original's. The herder runs in a local AO network; scenario traces (credits of every kind,
 * worker answers, errors, silence and late answers, time, spoofs, owner actions, duplicates,
 * malformed messages) are delivered to it, and the auditor checks, on every step, each invariant
 * whose settings were stated. Each violation is shrunk, replayed from scratch to confirm it, and
 * reported with its trace and the command that replays it.
 */
import fc from 'fast-check';
import type { ModuleKey } from '../ao/modules.ts';
import { checkable } from '../audit/auditor.ts';
import { INVARIANT_NAMES, type InvariantName, type Violation } from '../audit/invariants.ts';
import type { StatedSettings } from '../audit/settings.ts';
import {
  type BoundedSetting,
  DEFAULT_CONFIG,
  type HerdConfig,
  makeConfig,
  SETTING_BOUNDS,
} from '../model/config.ts';
import { startExecutor } from './pool.ts';
import { type InvariantResult, invariantResults, withStatus } from './results.ts';
import type { TraceRun } from './run.ts';
import { contendedEvents, hugeCredit, type TraceSpec, traceSpec, WORKER_POOL } from './scenario.ts';
import type { TraceOutcome } from './session.ts';
import { type Cast, DEFAULT_CAST } from './world.ts';

/** Every invariant `herd verify` knows; which are checked depends on the settings stated. */
export const OBSERVABLE_INVARIANTS: readonly InvariantName[] = INVARIANT_NAMES;

export interface VerifyOptions {
  /** The herder's Lua source. */
  lua: string;
  /** Lua evaluated first (e.g. to set the globals a herder reads its settings from). */
  prelude?: string;
  module?: ModuleKey;
  /** What the herder is stated to implement; a setting left out is never guessed. */
  stated: StatedSettings;
  /** Scenario traces to run (default 100). */
  runs?: number;
  seed?: number;
  /** Replay one counterexample (with `seed` and the same `runs`), as printed by an earlier run. */
  path?: string;
  maxEvents?: number;
  /**
   * Upper bound on the time spent shrinking (ms; default 60 s). The violations
   * are shrunk side by side, sharing the threads, so this bounds the whole shrinking phase. A
   * search stopped by it ends with the smallest counterexample found so far, which then depends
   * on the speed of the machine.
   */
  shrinkTimeMs?: number;
  /**
   * Worker threads running the traces, each with its own herder (default 1: in this thread).
   * The report is the same for any number, only faster (unless shrinking runs out of time).
   */
  threads?: number;
  onProgress?: (event: {
    phase: 'explore' | 'shrink';
    done: number;
    total: number;
    invariant?: InvariantName;
    /** Messages delivered so far by the traces explored (explore phase). */
    messages?: number;
  }) => void;
}

export type { InvariantResult } from './results.ts';

export interface VerifyReport {
  readonly module: ModuleKey;
  readonly runs: number;
  readonly seed: number;
  readonly messages: number;
  readonly durationMs: number;
  readonly results: InvariantResult[];
  readonly violated: InvariantName[];
  readonly notChecked: InvariantName[];
  /** What is probably wrong with the stated settings, when the herder's behaviour suggests it. */
  readonly hints: string[];
  /** Lua errors raised by the herder (each rolled back, as a real CU does), first few. */
  readonly luaErrors: { message: string; count: number }[];
  /** Violations that a fresh replay did not reproduce (never reported as violated). */
  readonly unconfirmed: InvariantName[];
}

/**
 * The config scenarios are generated from: the stated settings, defaults for the rest. Another's
 * herder may have limits our protocol would not take (no limit at all, stated as a huge one):
 * the stated values are kept as they are; everything else is validated.
 */
export function scenarioConfig(stated: StatedSettings): HerdConfig {
  const pick = <K extends keyof HerdConfig>(key: K, value: HerdConfig[K] | undefined) =>
    value === undefined ? {} : { [key]: value };
  const fields = {
    token: stated.token,
    owner: stated.owner ?? DEFAULT_CAST.owner,
    workers: [...stated.workers],
    ...pick('baseFee', stated.baseFee),
    ...pick('tokenFee', stated.tokenFee),
    ...pick('maxTokens', stated.maxTokens),
    ...pick('maxPromptBytes', stated.maxPromptBytes),
    maxOvertakes: stated.maxOvertakes === undefined ? DEFAULT_CONFIG.maxOvertakes : stated.maxOvertakes,
    // Short deadlines, so that time passing them is part of the scenarios.
    timeoutBase: stated.timeoutBase ?? 3_000,
    timeoutPerToken: stated.timeoutPerToken ?? 100,
    ...pick('maxAttempts', stated.maxAttempts),
  };
  const within = Object.fromEntries(
    Object.entries(fields).map(([key, value]) => {
      const bounds = SETTING_BOUNDS[key as BoundedSetting];
      return [
        key,
        bounds && typeof value === 'number' ? Math.min(bounds.max, Math.max(bounds.min, value)) : value,
      ];
    }),
  ) as typeof fields;
  return { ...makeConfig(within), ...fields };
}

/**
 * The same arbitrary, whose shrink candidates are handed to `prefetch` a few before fast-check
 * asks for them: the same values in the same order, so the same search, only sooner.
 */
class RunAhead<T> extends fc.Arbitrary<T> {
  constructor(
    private readonly inner: fc.Arbitrary<T>,
    private readonly ahead: number,
    private readonly prefetch: (value: T) => void,
  ) {
    super();
  }

  generate(mrng: fc.Random, biasFactor: number | undefined): fc.Value<T> {
    return this.inner.generate(mrng, biasFactor);
  }

  canShrinkWithoutContext(value: unknown): value is T {
    return this.inner.canShrinkWithoutContext(value);
  }

  shrink(value: T, context: unknown): fc.Stream<fc.Value<T>> {
    const source = this.inner.shrink(value, context)[Symbol.iterator]();
    const { ahead, prefetch } = this;
    const buffer: fc.Value<T>[] = [];
    return new fc.Stream(
      (function* () {
        for (;;) {
          while (buffer.length < ahead) {
            const next = source.next();
            if (next.done) break;
            buffer.push(next.value);
            prefetch(next.value.value_);
          }
          const candidate = buffer.shift();
          if (candidate === undefined) return;
          yield candidate;
        }
      })(),
    );
  }
}

/** Parses a `--path` as printed by a run; undefined when it is not one. */
export function parseReplayPath(path: string): { run: number } | undefined {
  if (!/^[0-9]+(:[0-9]+)*$/.test(path)) return undefined;
  return { run: Number(path.split(':')[0]) };
}

export async function verifyHerder(options: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const module = options.module ?? 'aos32';
  const runs = options.runs ?? 100;
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const stated = options.stated;
  const config = scenarioConfig(stated);
  const cast: Cast = {
    ...DEFAULT_CAST,
    token: config.token,
    owner: config.owner,
    workers: [...config.workers, ...WORKER_POOL.filter((w) => !config.workers.includes(w))],
    referenceEvery: true,
  };
  const { checked } = checkable(stated);
  // A replay runs one trace: no thread would pay for its start.
  const threads = options.path !== undefined ? 1 : Math.max(1, Math.floor(options.threads ?? 1));
  const executor = await startExecutor(
    {
      lua: options.lua,
      ...(options.prelude ? { prelude: options.prelude } : {}),
      module,
      owner: config.owner,
      cast,
      stated,
    },
    threads,
  );

  // Every trace is run once (cached by its content); a confirmation runs it again. What the runs
  // add up to (messages, Lua errors, hints) is summed at the end in the order a single thread
  // would have run them, so that the report does not depend on the number of threads.
  const cache = new Map<string, Promise<TraceOutcome>>();
  /** Specs run ahead of being asked for (see RunAhead), by key. */
  const ahead = new Map<string, TraceSpec>();
  type Visit = { key: string; outcome: Promise<TraceOutcome> } | { outcome: Promise<TraceOutcome> };
  const run = (spec: TraceSpec, visits: Visit[]): Promise<TraceOutcome> => {
    const key = JSON.stringify(spec, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
    let outcome = cache.get(key);
    const early = ahead.get(key);
    if (early !== undefined) {
      ahead.delete(key);
      executor.promote(early);
    }
    if (outcome === undefined) {
      outcome = executor.run(spec);
      cache.set(key, outcome);
    }
    visits.push({ key, outcome });
    return outcome;
  };
  /** Starts a trace that a search may ask for next; counted only if one does. */
  const prefetch = (spec: TraceSpec): void => {
    const key = JSON.stringify(spec, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
    if (cache.has(key)) return;
    const outcome = executor.run(spec, true);
    outcome.catch(() => undefined);
    cache.set(key, outcome);
    ahead.set(key, spec);
  };
  const runFresh = (spec: TraceSpec, visits: Visit[]): Promise<TraceOutcome> => {
    const outcome = executor.run(spec);
    visits.push({ outcome });
    return outcome;
  };

  const maxEvents = options.maxEvents ?? 40;
  const scenarios = fc.oneof(
    traceSpec({ config: fc.constant(config), maxEvents }),
    traceSpec({ config: fc.constant(config), maxEvents, events: contendedEvents(hugeCredit, 2) }),
  );

  const found = new Map<InvariantName, { violation: Violation; run: TraceRun; seed: number; path: string }>();
  const unconfirmed = new Set<InvariantName>();
  /** Runs in the order a single thread makes them: exploration, then each shrink and its confirmation. */
  const ledger: Visit[][] = [];
  try {
    if (options.path !== undefined) {
      // Replay: only the trace the path names.
      const visits: Visit[] = [];
      ledger.push(visits);
      let replayed: TraceRun | undefined;
      await fc.check(
        fc.asyncProperty(scenarios, async (spec) => {
          replayed ??= await run(spec, visits);
          return true;
        }),
        { numRuns: runs, seed, path: options.path },
      );
      for (const violation of replayed?.violations ?? [])
        if (!found.has(violation.invariant))
          found.set(violation.invariant, { violation, run: replayed!, seed, path: options.path });
    } else {
      // Explore: the traces are generated here, as fast-check would generate them for a property
      // that always holds, then run on every thread at once; each is audited for every invariant.
      const specs: TraceSpec[] = [];
      await fc.check(
        fc.asyncProperty(scenarios, async (spec) => {
          specs.push(spec);
        }),
        { numRuns: runs, seed },
      );
      const explored: Visit[] = [];
      ledger.push(explored);
      let done = 0;
      let delivered = 0;
      const outcomes = await Promise.all(
        specs.map((spec) =>
          run(spec, explored).then((outcome) => {
            delivered += outcome.log.length;
            options.onProgress?.({ phase: 'explore', done: ++done, total: runs, messages: delivered });
            return outcome;
          }),
        ),
      );
      const violated = new Set<InvariantName>();
      for (const outcome of outcomes) for (const v of outcome.violations) violated.add(v.invariant);
      // Shrink: one search per violated invariant, replaying the same traces (cached). The
      // searches run side by side (each is sequential in itself), sharing the threads, all within
      // the one time limit: it bounds the whole phase.
      const targets = checked.filter((invariant) => violated.has(invariant));
      // A search tries one candidate at a time; on several threads, the next few are run ahead.
      const shrinkScenarios = threads > 1 ? new RunAhead(scenarios, threads, prefetch) : scenarios;
      let started = 0;
      const shrink = async (invariant: InvariantName, visits: Visit[]): Promise<void> => {
        options.onProgress?.({ phase: 'shrink', done: started++, total: targets.length, invariant });
        const details = await fc.check(
          fc.asyncProperty(
            shrinkScenarios,
            async (spec) => !(await run(spec, visits)).violations.some((v) => v.invariant === invariant),
          ),
          { numRuns: runs, seed, interruptAfterTimeLimit: options.shrinkTimeMs ?? 60_000 },
        );
        const counterexample = details.counterexample?.[0];
        if (counterexample === undefined) return;
        // Confirm: the shrunk trace, run again from the booted herder, shows the same violation.
        const again = await runFresh(counterexample, visits);
        const violation = again.violations.find((v) => v.invariant === invariant);
        if (violation)
          found.set(invariant, {
            violation,
            run: again,
            seed: details.seed,
            path: details.counterexamplePath ?? '',
          });
      };
      const searches = targets.map(() => [] as Visit[]);
      ledger.push(...searches);
      await Promise.all(targets.map((invariant, i) => shrink(invariant, searches[i]!)));
      for (const invariant of violated) if (!found.has(invariant)) unconfirmed.add(invariant);
    }
  } finally {
    await executor.close();
  }

  let messages = 0;
  const errorCounts = new Map<string, number>();
  const totals = { notices: 0, accepted: 0, dispatched: 0, forwarded: 0 };
  const refundReasons = new Map<string, number>();
  const unstatedWorkers = new Set<string>();
  const counted = new Set<string>();
  for (const visits of ledger)
    for (const visit of visits) {
      if ('key' in visit) {
        if (counted.has(visit.key)) continue;
        counted.add(visit.key);
      }
      // A run that threw (fast-check took it for a failure while shrinking) added nothing.
      const result = await visit.outcome.catch(() => undefined);
      if (result === undefined) continue;
      for (const message of result.luaErrors) errorCounts.set(message, (errorCounts.get(message) ?? 0) + 1);
      messages += result.log.length;
      const stats = result.stats;
      if (stats) {
        totals.notices += stats.notices;
        totals.accepted += stats.accepted;
        totals.dispatched += stats.dispatched;
        totals.forwarded += stats.forwarded;
        for (const [reason, n] of stats.refundReasons)
          refundReasons.set(reason, (refundReasons.get(reason) ?? 0) + n);
        for (const w of stats.unstatedWorkers) unstatedWorkers.add(w);
      }
    }

  const results = invariantResults(stated, (invariant) => {
    const hit = found.get(invariant);
    return hit && { violation: hit.violation, log: hit.run.log, replay: { seed: hit.seed, path: hit.path } };
  });
  return {
    module,
    runs,
    seed,
    messages,
    durationMs: Math.round(performance.now() - started),
    results,
    violated: withStatus(results, 'violated'),
    notChecked: withStatus(results, 'not-checked'),
    hints: hints(stated, totals, refundReasons, unstatedWorkers, errorCounts),
    luaErrors: [...errorCounts.entries()].slice(0, 5).map(([message, count]) => ({ message, count })),
    unconfirmed: [...unconfirmed],
  };
}

/** What the herder's behaviour over all traces says about the settings it was stated to have. */
function hints(
  stated: StatedSettings,
  totals: { notices: number; accepted: number; dispatched: number; forwarded: number },
  reasons: Map<string, number>,
  unstatedWorkers: Set<string>,
  errors: Map<string, number>,
): string[] {
  const out: string[] = [];
  const refunds = [...reasons.values()].reduce((a, b) => a + b, 0);
  const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
  if (totals.notices > 0 && totals.accepted === 0 && refunds === 0 && errorCount < totals.notices)
    out.push(
      `The herder neither served nor refunded any of the ${totals.notices} payments from ${stated.token}: it probably expects Credit-Notices from another token. State the token id its source expects with --token.`,
    );
  else if (totals.accepted > 0 && totals.dispatched === 0)
    out.push(
      `No request was ever dispatched, though ${totals.accepted} payments were kept: are the workers it knows the ones stated? State its worker ids with --workers.`,
    );
  if (totals.accepted === 0 && refunds > 0 && reasons.size === 1) {
    const [reason] = [...reasons.keys()];
    out.push(
      `Every payment was refunded, all as "${reason}": if that is about the fee, state the fees the herder charges with --base-fee and --token-fee.`,
    );
  }
  if (unstatedWorkers.size > 0)
    out.push(
      `The herder dispatched to ${[...unstatedWorkers].slice(0, 4).join(', ')}${unstatedWorkers.size > 4 ? ', …' : ''}, which --workers did not list; they were treated as workers of its herd.`,
    );
  return out;
}
