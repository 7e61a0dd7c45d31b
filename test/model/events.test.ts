/**
 * The events a step reports say what the step did, no more and no less: every dispatch, answer,
 * refusal and refund in the outbox has its event (same request, worker, reason, in the same
 * order); every worker's reported status changes lead from its status before the step to its
 * status after; every accepted request is queued; events come in the step's phase order (passed
 * timers, then the message, whose Action is their cause, then dispatch); and asking for events
 * changes nothing else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HerdStatus, StepEvent } from '../../src/model/events.ts';
import { type HerderState, initialHerderState, step, stepInPlace } from '../../src/model/herder.ts';
import { Action, type AoMessage, type OutMessage, tag } from '../../src/model/messages.ts';
import { World } from '../../src/verify/world.ts';
import { contendedEvents, type TraceSpec, traceSpec } from '../properties/arbitraries.ts';
import { RUNS } from '../properties/harness.ts';

function statuses(state: HerderState): Map<string, HerdStatus> {
  return new Map([...state.herd.all()].map((w) => [w.id, w.status]));
}

/** Running requests, with their attempts so far. */
function running(state: HerderState): Map<string, number> {
  const held = new Map<string, number>();
  for (const r of state.requests.values()) if (r.worker !== undefined) held.set(r.id, r.attempts);
  return held;
}

/** What the step's outbox and states say happened, checked against its events; a problem, or undefined. */
function mismatch(
  msg: AoMessage,
  before: Map<string, HerdStatus>,
  wasRunning: Map<string, number>,
  outbox: readonly OutMessage[],
  events: readonly StepEvent[],
  after: HerderState,
): string | undefined {
  const dispatched = outbox
    .filter((o) => o.tags.Action === Action.Inference)
    .map((o) => `${o.tags['X-Request']}→${o.target}`);
  const dispatchEvents = events.flatMap((e) => (e.type === 'dispatched' ? [`${e.request}→${e.worker}`] : []));
  if (dispatched.join() !== dispatchEvents.join())
    return `dispatches ${dispatched} but events ${dispatchEvents}`;
  for (const e of events)
    if (e.type === 'dispatched') {
      const record = after.requests.get(e.request);
      if (record !== undefined && record.tried[e.attempt - 1] !== e.worker)
        return `attempt ${e.attempt} of ${e.request} was not on ${e.worker}`;
    }

  const answered = outbox
    .filter((o) => o.tags.Action === Action.InferenceResponse)
    .map((o) => `${o.tags['X-Request']}`);
  const answerEvents = events.flatMap((e) => (e.type === 'answered' ? [`${e.request}`] : []));
  if (answered.join() !== answerEvents.join()) return `answers ${answered} but events ${answerEvents}`;

  // Refunds name their request; a withdrawal does not.
  const refunds = outbox
    .filter((o) => o.tags.Action === Action.Transfer && o.tags['X-Request'] !== undefined)
    .map((o) => `${o.tags['X-Request']}: ${o.tags['X-Reason']}`);
  const refundEvents = events.flatMap((e) =>
    e.type === 'refused' || e.type === 'refunded' ? [`${e.request}: ${e.reason}`] : [],
  );
  if (refunds.join('|') !== refundEvents.join('|')) return `refunds ${refunds} but events ${refundEvents}`;
  for (const e of events)
    if (e.type === 'refused') {
      const refund = outbox.find((o) => o.tags['X-Request'] === e.request)!;
      if (refund.tags.Recipient !== e.client || refund.tags.Quantity !== String(e.paid))
        return `refused ${e.request} names ${e.client} ${e.paid}, the refund ${refund.tags.Recipient} ${refund.tags.Quantity}`;
    }

  for (const e of events) {
    if (e.type === 'accepted') {
      if (e.request !== msg.id || e.cause !== Action.CreditNotice)
        return `accepted ${e.request} on ${msg.id}`;
      if (!events.some((q) => q.type === 'queued' && q.request === e.request))
        return `${e.request} not queued`;
    }
    if (e.type === 'refused' && e.request !== msg.id) return `refused ${e.request} on ${msg.id}`;
  }

  // Phase order: timers passed (deadline, queue-wait), then the message (its Action is the cause),
  // then dispatch.
  const phaseOf = (cause: string) =>
    cause === 'deadline' || cause === 'queue-wait' ? 1 : cause === 'dispatch' ? 3 : 2;
  let phase = 1;
  for (const e of events) {
    const p = phaseOf(e.cause);
    if (p < phase) return `${e.type} (${e.cause}) after an event of a later phase`;
    phase = p;
    if (p === 2 && e.cause !== tag(msg, 'Action'))
      return `${e.type} caused by ${e.cause} on ${tag(msg, 'Action')}`;
    // Payments are judged and answers taken only from the message; dispatches only by dispatch.
    const only =
      e.type === 'dispatched' ? 3 : ['accepted', 'refused', 'queued', 'answered'].includes(e.type) ? 2 : p;
    if (p !== only) return `${e.type} caused by ${e.cause}`;
    // What the message itself says: who paid and how much, which worker answered or failed.
    if (
      e.type === 'accepted' &&
      (e.client !== tag(msg, 'Sender') || e.paid !== BigInt(tag(msg, 'Quantity')!))
    )
      return `accepted ${e.request} from ${e.client} for ${e.paid}, the notice says ${tag(msg, 'Sender')} ${tag(msg, 'Quantity')}`;
    if ((e.type === 'answered' || (e.type === 'retried' && p === 2)) && e.worker !== msg.from)
      return `${e.type} names ${e.worker}, the message came from ${msg.from}`;
  }

  // A running request that is alive after the step but waiting, or on a later attempt, was retried.
  for (const [id, attempts] of wasRunning) {
    const record = after.requests.get(id);
    const retried = record !== undefined && (record.worker === undefined || record.attempts > attempts);
    if (retried !== events.some((e) => e.type === 'retried' && e.request === id))
      return `${id} ${retried ? 'was retried without' : 'was not retried but has'} a retried event`;
  }
  for (const e of events)
    if (e.type === 'retried' && !wasRunning.has(e.request))
      return `retried ${e.request}, which was not running`;

  const now = statuses(after);
  const seen = new Set([...before.keys(), ...now.keys()]);
  for (const worker of seen) {
    let status: HerdStatus = before.get(worker) ?? 'absent';
    for (const e of events)
      if (e.type === 'worker' && e.worker === worker) {
        if (e.from !== status) return `worker ${worker} reported leaving ${e.from} while ${status}`;
        if (e.from === e.to) return `worker ${worker} reported a change to the same status`;
        status = e.to;
      }
    if (status !== (now.get(worker) ?? 'absent'))
      return `worker ${worker}'s events end at ${status}, the model has ${now.get(worker) ?? 'absent'}`;
  }
  return undefined;
}

function firstMismatch(spec: TraceSpec, kinds = new Set<string>()): string | undefined {
  const world = new World(spec.config);
  const state = initialHerderState(spec.config);
  const silent = initialHerderState(spec.config);
  let index = 0;
  for (const timed of spec.events)
    for (const msg of world.messagesFor(timed)) {
      const before = statuses(state);
      const wasRunning = running(state);
      const events: StepEvent[] = [];
      const outbox = stepInPlace(state, msg, events);
      world.learn(msg, outbox);
      const where = `message #${index++} ${JSON.stringify(msg.tags)} from ${msg.from}`;
      for (const e of events) kinds.add(e.type);
      const problem = mismatch(msg, before, wasRunning, outbox, events, state);
      if (problem !== undefined) return `${problem} at ${where}`;
      // Not asking for events changes nothing.
      expect(stepInPlace(silent, msg)).toStrictEqual(outbox);
    }
  return undefined;
}

describe('step events', () => {
  it('report exactly what the step did, on random traces', () => {
    fc.assert(
      fc.property(traceSpec(), (spec) => {
        const problem = firstMismatch(spec);
        if (problem !== undefined) throw new Error(problem);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it('and on contended traces, where requests queue, retry and run out of attempts', () => {
    fc.assert(
      fc.property(traceSpec({ events: contendedEvents() }), (spec) => {
        const problem = firstMismatch(spec);
        if (problem !== undefined) throw new Error(problem);
      }),
      { numRuns: Math.ceil(RUNS / 4) },
    );
  });

  it('every kind of event occurs', () => {
    const kinds = new Set<string>();
    for (const spec of fc.sample(traceSpec({ events: contendedEvents() }), { numRuns: 100, seed: 5 }))
      firstMismatch(spec, kinds);
    expect([...kinds].sort()).toEqual([
      'accepted',
      'answered',
      'dispatched',
      'queued',
      'refunded',
      'refused',
      'retried',
      'worker',
    ]);
  });

  it('the pure step reports the same events as the in-place one', () => {
    for (const spec of fc.sample(traceSpec({ events: contendedEvents() }), { numRuns: 20, seed: 9 })) {
      const world = new World(spec.config);
      let pure = initialHerderState(spec.config);
      const inPlace = initialHerderState(spec.config);
      for (const timed of spec.events)
        for (const msg of world.messagesFor(timed)) {
          const result = step(pure, msg);
          const events: StepEvent[] = [];
          stepInPlace(inPlace, msg, events);
          expect(result.events).toStrictEqual(events);
          world.learn(msg, result.outbox);
          pure = result.state;
        }
    }
  });
});
