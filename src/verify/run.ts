/**
 * Runs scenario traces through a herder and audits every step: the same driver serves the TS
 * model (synchronously, in the property tests), the exported Lua in WASM and any other herder
 * (asynchronously, in conformance tests and `herd verify`).
 */
import { Auditor } from '../audit/auditor.ts';
import type { Violation } from '../audit/invariants.ts';
import type { StatedSettings } from '../audit/settings.ts';
import type { HerderState, HerderStepper } from '../model/herder.ts';
import type { AoMessage, OutMessage } from '../model/messages.ts';
import type { TraceSpec } from './scenario.ts';
import { describeViolation as describeTrace } from './trace.ts';
import { type Cast, DEFAULT_CAST, World } from './world.ts';

/** A herder that keeps its own state, e.g. a Lua process in a local AO network. */
export interface AsyncHerder {
  deliver(msg: AoMessage): Promise<OutMessage[]>;
}

export interface TraceRun {
  readonly violations: Violation[];
  /** What the herder did with the payments of the trace (for hints). */
  stats?: Auditor['stats'];
  /** Every delivered message with the herder's outbox, in order. */
  readonly log: { msg: AoMessage; outbox: OutMessage[] }[];
}

export interface RunOptions {
  /** After the events: add a fresh worker and let every worker answer until nothing is left. Default true. */
  drain?: boolean;
  cast?: Cast;
  /** What the auditor is told (default: everything in the trace's config). */
  stated?: StatedSettings;
}

/**
 * The messages of a trace, one at a time: each is built only after the previous one was
 * delivered and observed, since it may depend on what the herder said.
 */
function* traceMessages(
  spec: TraceSpec,
  world: World,
  auditor: Auditor,
  drain: boolean,
): Generator<AoMessage> {
  for (const timed of spec.events) yield* world.messagesFor(timed);
  if (!drain) return;
  // Silence: time advances and no worker says anything; every request must still end in time.
  const horizon = spec.silence ? auditor.silenceHorizon() : undefined;
  if (horizon !== undefined) {
    const step = Math.max(1, Math.ceil((horizon - world.clock) / SILENT_TICKS));
    while (world.clock < horizon && auditor.liveRequests().length > 0) {
      world.clock += step;
      yield world.tick();
    }
  }
  // Liveness: with a fresh worker and workers that answer promptly (before any new deadline
  // passes), every accepted request must end.
  yield world.admin(true, { op: 'Add-Worker', worker: -1 });
  for (let round = 0; round < 40 && auditor.liveRequests().length > 0; round++) {
    const dispatched = world.dispatchCount;
    yield* world.drainAnswers();
    world.clock += 1;
    yield world.tick();
    // Nothing held and nothing new dispatched: further rounds would change nothing.
    if (!world.anyHolding && world.dispatchCount === dispatched) break;
  }
  auditor.finish();
}

/** Ticks over which a silence phase spreads the time it lets pass. */
const SILENT_TICKS = 30;

export interface SteppedRunOptions extends RunOptions {
  /** Invariants checked on the herder's own state after every step (a white-box view). */
  inspect?(state: HerderState): Violation[];
}

/** Runs a trace through a herder stepped from an explicit state (the model and its variants). */
export function runTrace(impl: HerderStepper, spec: TraceSpec, options: SteppedRunOptions = {}): TraceRun {
  const world = new World(spec.config, options.cast ?? DEFAULT_CAST);
  const auditor = options.stated ? new Auditor(options.stated) : Auditor.forConfig(spec.config);
  const run: TraceRun = { violations: [], log: [] };
  const state = impl.init(spec.config);
  for (const msg of traceMessages(spec, world, auditor, options.drain ?? true)) {
    record(run, world, auditor, msg, impl.step(state, msg));
    for (const v of options.inspect?.(state) ?? []) run.violations.push({ ...v, step: run.log.length - 1 });
  }
  run.violations.push(...auditor.violations);
  run.stats = auditor.stats;
  return run;
}

/** Runs a trace through a herder that answers asynchronously. */
export async function runTraceAsync(
  herder: AsyncHerder,
  spec: TraceSpec,
  options: RunOptions = {},
): Promise<TraceRun> {
  const world = new World(spec.config, options.cast ?? DEFAULT_CAST);
  const auditor = options.stated ? new Auditor(options.stated) : Auditor.forConfig(spec.config);
  const run: TraceRun = { violations: [], log: [] };
  for (const msg of traceMessages(spec, world, auditor, options.drain ?? true))
    record(run, world, auditor, msg, await herder.deliver(msg));
  run.violations.push(...auditor.violations);
  run.stats = auditor.stats;
  return run;
}

function record(run: TraceRun, world: World, auditor: Auditor, msg: AoMessage, outbox: OutMessage[]): void {
  run.log.push({ msg, outbox });
  world.learn(msg, outbox);
  auditor.observe(msg, outbox);
}

/** A violation with the messages that led to it (trace.ts). */
export function describeViolation(v: Violation, run: TraceRun): string {
  return describeTrace(v, run.log);
}
