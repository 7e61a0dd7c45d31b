/**
 * The suite must catch broken herders. Each variant below reproduces one defect (several are the
 * original Llama-Herder's, DESIGN §4) and must make the named property fail.
 */
import { describe, expect, it } from 'vitest';
import type { InvariantName } from '../../src/audit/invariants.ts';
import type { Multiplier } from '../../src/model/fees.ts';
import {
  assign,
  cloneHerderState,
  type Dispatcher,
  type HerderState,
  initialHerderState,
  stepInPlace,
} from '../../src/model/herder.ts';
import type { AoMessage, OutMessage } from '../../src/model/messages.ts';
import { contendedEvents, hugeCredit, traceSpec } from './arbitraries.ts';
import { findViolation, type HerderUnderTest, modelHerder } from './harness.ts';

/** A model herder whose step is altered by `mutate`. */
function variant(
  name: string,
  mutate: {
    order?: (a: Multiplier, b: Multiplier) => number;
    dispatcher?: Dispatcher;
    before?: (state: HerderState, msg: AoMessage) => void;
    after?: (before: HerderState, msg: AoMessage, outbox: OutMessage[]) => OutMessage[];
  },
): HerderUnderTest<HerderState> {
  return {
    name,
    init: (config) => initialHerderState(config, mutate.order),
    step(state, msg) {
      const before = cloneHerderState(state);
      const next = cloneHerderState(state);
      mutate.before?.(next, msg);
      const outbox = stepInPlace(next, msg, mutate.dispatcher);
      return { state: next, outbox: mutate.after ? mutate.after(before, msg, outbox) : outbox };
    },
  };
}

/** The original's dispatch loop: walks the idle list by index while removing from it. */
const skipEveryOtherWorker: Dispatcher = (state, outbox) => {
  const idle = state.herd.idleInOrder();
  for (let i = 0; i < idle.length && state.queue.length > 0; i++) {
    assign(state, state.queue.peek(state.config.maxOvertakes)!, idle[i]!, outbox);
    idle.splice(i, 1);
  }
};

/** The original's float multiplier. */
const floatOrder = (a: Multiplier, b: Multiplier) =>
  Math.sign(Number(a.paid) / Number(a.needed) - Number(b.paid) / Number(b.needed));

const DEFECTS: {
  defect: string;
  invariant: InvariantName;
  herder: HerderUnderTest<HerderState>;
  contended?: boolean;
  huge?: boolean;
}[] = [
  {
    defect: 'dispatch skips every other idle worker',
    invariant: 'work-conserving',
    herder: variant('skip-worker', { dispatcher: skipEveryOtherWorker }),
    contended: true,
  },
  {
    defect: 'refunds go to the notice’s From (the token), not the payer',
    invariant: 'refund-to-payer',
    herder: variant('refund-to-from', {
      after: (_before, msg, outbox) =>
        outbox.map((o) =>
          o.tags.Action === 'Transfer' && o.tags['X-Request'] === msg.id
            ? { ...o, tags: { ...o.tags, Recipient: msg.from } }
            : o,
        ),
    }),
  },
  {
    defect: 'multipliers compared as floats',
    invariant: 'priority-order',
    herder: variant('float-multiplier', { order: floatOrder }),
    contended: true,
    huge: true,
  },
  {
    defect: 'a late answer is forwarded after its request was retried',
    invariant: 'no-lost-request',
    herder: variant('forward-late-answer', {
      after: (before, msg, outbox) => {
        const worker = before.herd.get(msg.from);
        const id = msg.tags['X-Request'];
        const record = id === undefined ? undefined : before.requests.get(id);
        if (msg.tags.Action === 'Inference-Response' && worker?.status === 'timed-out' && record)
          return [
            ...outbox,
            {
              target: record.client,
              tags: { Action: 'Inference-Response', 'X-Request': record.id },
              data: msg.data ?? '',
            },
          ];
        return outbox;
      },
    }),
  },
  {
    defect: 'redelivered Credit-Notices are processed again',
    invariant: 'no-lost-request',
    herder: variant('no-dedupe', { before: (state, msg) => state.seen.delete(msg.id) }),
  },
  {
    defect: 'overtaking bound ignored (pure priority)',
    invariant: 'bounded-overtaking',
    herder: variant('unbounded', {
      dispatcher: (state, outbox) => {
        while (state.queue.length > 0 && state.herd.idleCount > 0) {
          const record = state.queue.peek(null)!;
          assign(state, record, state.herd.pickIdle(record.tried)!, outbox);
        }
      },
    }),
    contended: true,
  },
  {
    defect: 'answers accepted from any busy worker, whatever request it holds',
    invariant: 'authority',
    herder: variant('any-busy-worker', {
      before: (state, msg) => {
        const worker = state.herd.get(msg.from);
        const id = msg.tags['X-Request'];
        if (
          msg.tags.Action === 'Inference-Response' &&
          worker?.status === 'busy' &&
          id !== undefined &&
          state.requests.has(id)
        )
          worker.request = id;
      },
    }),
  },
];

describe('seeded defects are caught', () => {
  it('the unaltered model passes the same checks', () => {
    for (const { invariant, contended, huge } of DEFECTS) {
      const arbitrary = contended
        ? traceSpec({ events: contendedEvents(huge ? hugeCredit : undefined) })
        : traceSpec();
      expect(findViolation(invariant, modelHerder, { arbitrary, numRuns: 200, seed: 7 }).failed).toBe(false);
    }
  });

  for (const { defect, invariant, herder, contended, huge } of DEFECTS) {
    it(`${defect} → ${invariant}`, () => {
      const arbitrary = contended
        ? traceSpec({ events: contendedEvents(huge ? hugeCredit : undefined) })
        : traceSpec();
      const result = findViolation(invariant, herder, { arbitrary, numRuns: 1_000 });
      expect(result.failed, `${herder.name} was not caught by ${invariant}`).toBe(true);
    });
  }
});
