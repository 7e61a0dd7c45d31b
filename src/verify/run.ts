/**
 * Runs scenario traces through a herder and audits every step: the same driver serves the TS
 * model (synchronously, in the property tests), the exported Lua in WASM and any other herder
 * (asynchronously, in conformance tests and `herd verify`).
 */
import { Auditor } from '../audit/auditor.ts';
import type { Violation } from '../audit/invariants.ts';
import type { HerdConfig } from '../model/config.ts';
import type { AoMessage, OutMessage } from '../model/messages.ts';
import type { TraceSpec } from './scenario.ts';
import { type Cast, DEFAULT_CAST, World } from './world.ts';

/** A herder stepped synchronously from an explicit state (the model and its variants). */
export interface HerderUnderTest<S> {
  readonly name: string;
  init(config: HerdConfig): S;
  /** Delivers one message; returns the next state and the herder's outbox. */
  step(state: S, msg: AoMessage): { state: S; outbox: OutMessage[] };
  /** Invariants checked on the implementation's own state (optional white-box view). */
  inspect?(state: S): Violation[];
}

/** A herder that keeps its own state, e.g. a Lua process in a local AO network. */
export interface AsyncHerder {
  deliver(msg: AoMessage): Promise<OutMessage[]>;
}

export interface TraceRun {
  readonly violations: Violation[];
  /** Every delivered message with the herder's outbox, in order. */
  readonly log: { msg: AoMessage; outbox: OutMessage[] }[];
}

export interface RunOptions {
  /** After the events: add a fresh worker and let every worker answer until nothing is left. Default true. */
  drain?: boolean;
  cast?: Cast;
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
  // Liveness: with a fresh worker and workers that answer promptly (before any new deadline
  // passes), every accepted request must end.
  yield world.admin(true, { op: 'Add-Worker', worker: -1 });
  for (let round = 0; round < 40 && auditor.liveRequests().length > 0; round++) {
    yield* world.drainAnswers();
    world.clock += 1;
    yield world.tick();
  }
  auditor.finish();
}

/** Runs a trace through a synchronous herder. */
export function runTrace<S>(impl: HerderUnderTest<S>, spec: TraceSpec, options: RunOptions = {}): TraceRun {
  const world = new World(spec.config, options.cast ?? DEFAULT_CAST);
  const auditor = new Auditor(spec.config);
  const run: TraceRun = { violations: [], log: [] };
  let state = impl.init(spec.config);
  for (const msg of traceMessages(spec, world, auditor, options.drain ?? true)) {
    const result = impl.step(state, msg);
    state = result.state;
    record(run, world, auditor, msg, result.outbox);
    for (const v of impl.inspect?.(state) ?? []) run.violations.push({ ...v, step: run.log.length - 1 });
  }
  run.violations.push(...auditor.violations);
  return run;
}

/** Runs a trace through a herder that answers asynchronously. */
export async function runTraceAsync(
  herder: AsyncHerder,
  spec: TraceSpec,
  options: RunOptions = {},
): Promise<TraceRun> {
  const world = new World(spec.config, options.cast ?? DEFAULT_CAST);
  const auditor = new Auditor(spec.config);
  const run: TraceRun = { violations: [], log: [] };
  for (const msg of traceMessages(spec, world, auditor, options.drain ?? true))
    record(run, world, auditor, msg, await herder.deliver(msg));
  run.violations.push(...auditor.violations);
  return run;
}

function record(run: TraceRun, world: World, auditor: Auditor, msg: AoMessage, outbox: OutMessage[]): void {
  run.log.push({ msg, outbox });
  world.learn(msg, outbox);
  auditor.observe(msg, outbox);
}

/** A violation with the (last 25) messages that led to it, one line each. */
export function describeViolation(v: Violation, run: TraceRun): string {
  const upTo = v.step < 0 ? run.log.length : v.step + 1;
  const first = Math.max(0, upTo - 25);
  const lines = run.log.slice(first, upTo).map(({ msg, outbox }, i) => {
    const sent = outbox.map(
      (o) => `${o.tags.Action}→${o.target}${o.tags['X-Request'] ? `(${o.tags['X-Request']})` : ''}`,
    );
    return `  #${first + i} t=${msg.timestamp} ${msg.from} ${JSON.stringify(msg.tags)} ⇒ [${sent.join(', ')}]`;
  });
  return `${v.invariant} violated at step ${v.step}: ${v.detail}\n${lines.join('\n')}`;
}
