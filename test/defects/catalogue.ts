/**
 * The seeded defects: the model with one thing broken, each named with the invariant that must
 * expose it. Several are the original Llama-Herder's defects. One list for every tool that must
 * catch them: the properties run each variant through the scenario harness and its auditor
 * (test/properties/seeded-defects.test.ts); the model checker explores each under the bounds given
 * here and must report the invariant with a shortest trace of the given length
 * (test/checker/seeded-defects.test.ts).
 */
import type { InvariantName } from '../../src/audit/invariants.ts';
import { type CheckBounds, DEFAULT_BOUNDS } from '../../src/checker/bounds.ts';
import { initialCheckState } from '../../src/checker/explore.ts';
import { compareMultipliers, type Multiplier } from '../../src/model/fees.ts';
import {
  assign,
  cloneHerderState,
  type dispatch,
  type HerderState,
  type HerderStepper,
  initialHerderState,
  dispatch as modelDispatch,
  receive,
  stepInPlace,
} from '../../src/model/herder.ts';
import type { AoMessage, OutMessage } from '../../src/model/messages.ts';

/** The model with its step altered, stepped in place as the model is. */
export interface ModelVariant extends HerderStepper {
  /** The queue's order (the model's exact comparison unless altered). */
  readonly order: (a: Multiplier, b: Multiplier) => number;
}

/** What to break. */
export interface Mutation {
  readonly order?: (a: Multiplier, b: Multiplier) => number;
  /** Phase 3 of the step, in place of the model's dispatch. */
  readonly dispatcher?: typeof dispatch;
  /** Whether a message id counts as handled already, in place of the model's de-duplication. */
  readonly remembered?: (state: HerderState, id: string) => boolean;
  /** Runs before the step on the state about to be stepped; may replace the incoming message. */
  readonly before?: (state: HerderState, msg: AoMessage) => AoMessage | undefined;
  /** Rewrites the outbox; `before` is the state before the step, `state` the one after (may be altered). */
  readonly after?: (
    before: HerderState,
    msg: AoMessage,
    outbox: OutMessage[],
    state: HerderState,
  ) => OutMessage[];
}

/** The model with `mutate` applied to every step. */
export function variant(name: string, mutate: Mutation): ModelVariant {
  const order = mutate.order ?? compareMultipliers;
  return {
    name,
    order,
    init: (config) => initialHerderState(config, order),
    step(state, msg, events) {
      const before = mutate.after ? cloneHerderState(state) : state;
      const delivered = mutate.before?.(state, msg) ?? msg;
      let outbox: OutMessage[];
      if (mutate.dispatcher === undefined && mutate.remembered === undefined)
        outbox = stepInPlace(state, delivered, events);
      else {
        outbox = receive(state, delivered, events, mutate.remembered);
        (mutate.dispatcher ?? modelDispatch)(state, outbox, events);
      }
      return mutate.after ? mutate.after(before, msg, outbox, state) : outbox;
    },
  };
}

/** A variant as the model checker explores it (its small-queue initial state). */
export function underCheck(v: ModelVariant): HerderStepper {
  return { name: v.name, init: (config) => initialCheckState(config, v.order), step: v.step };
}

/** The original's dispatch loop: walks the idle list by index while removing from it. */
const skipEveryOtherWorker: typeof dispatch = (state, outbox, events) => {
  const idle = state.herd.idleInOrder();
  for (let i = 0; i < idle.length && state.queue.length > 0; i++) {
    assign(state, state.queue.peek(state.config.maxOvertakes)!, idle[i]!, outbox, events);
    idle.splice(i, 1);
  }
};

/** Pure priority: the overtaking bound is ignored. */
const unboundedDispatch: typeof dispatch = (state, outbox, events) => {
  while (state.queue.length > 0 && state.herd.idleCount > 0) {
    const record = state.queue.peek(null)!;
    assign(state, record, state.herd.pickIdle(record.tried)!, outbox, events);
  }
};

/** Among requests of the best multiplier, the latest arrival goes first. */
const lastComeFirst: typeof dispatch = (state, outbox, events) => {
  while (state.queue.length > 0 && state.herd.idleCount > 0) {
    const best = state.queue.peek(state.config.maxOvertakes)!;
    const tied = state.queue
      .waitingInArrivalOrder()
      .filter(({ entry }) => compareMultipliers(entry.multiplier, best.multiplier) === 0);
    const record = tied[tied.length - 1]!.entry;
    assign(state, record, state.herd.pickIdle(record.tried)!, outbox, events);
  }
};

/** The original's float multiplier. */
const floatOrder = (a: Multiplier, b: Multiplier) =>
  Math.sign(Number(a.paid) / Number(a.needed) - Number(b.paid) / Number(b.needed));

export interface SeededDefect {
  readonly defect: string;
  readonly invariant: InvariantName;
  readonly herder: ModelVariant;
  /** The model checker: small bounds under which it shows, and the shortest trace it reports. */
  readonly checker: {
    readonly bounds: CheckBounds;
    /** Steps of the shortest trace; for a behaviour going on forever, the repeating steps included. */
    readonly length: number;
    /**
     * Found by the some-path liveness pass (from some state no sequence of events ends every
     * request, reported as no-lost-request) rather than by a predicate or a lasso.
     */
    readonly stuck?: boolean;
  };
  /** The properties: the scenarios that expose it (contended: few workers, many payments). */
  readonly properties: {
    readonly contended?: boolean;
    readonly huge?: boolean;
    /**
     * A queue-wait bound of this many ms, short enough for the traces to span it (the default
     * of 10 minutes they rarely do).
     */
    readonly queueWait?: number;
    /** Why the properties cannot catch it yet (the test is then a todo naming this). */
    readonly todo?: string;
  };
}

export const SEEDED_DEFECTS: readonly SeededDefect[] = [
  {
    defect: 'dispatch skips every other idle worker (the original’s loop)',
    invariant: 'work-conserving',
    herder: variant('skip-worker', { dispatcher: skipEveryOtherWorker }),
    checker: {
      bounds: { ...DEFAULT_BOUNDS, workers: 3, requests: 3, levels: 1, timeouts: true, lateAnswers: true },
      length: 3,
    },
    properties: { contended: true },
  },
  {
    defect: 'a late answer is forwarded after its request was retried',
    invariant: 'no-lost-request',
    herder: variant('forward-late-answer', {
      after: (before, msg, outbox) => {
        const worker = before.herd.get(msg.from);
        const record = before.requests.get(msg.tags['X-Request'] ?? '');
        if (
          msg.tags.Action !== 'Inference-Response' ||
          worker?.status !== 'timed-out' ||
          record === undefined
        )
          return outbox;
        const forward = {
          target: record.client,
          tags: { Action: 'Inference-Response', 'X-Request': record.id },
          data: msg.data ?? '',
        };
        return [...outbox, forward];
      },
    }),
    checker: {
      bounds: { ...DEFAULT_BOUNDS, workers: 1, requests: 1, levels: 1, timeouts: true, lateAnswers: true },
      length: 4,
    },
    properties: {},
  },
  {
    defect: 'refunds go to the message’s sender (the token, for a notice), not the payer',
    invariant: 'refund-to-payer',
    herder: variant('refund-to-from', {
      after: (_before, msg, outbox) =>
        outbox.map((o) =>
          o.tags.Action === 'Transfer' && o.tags['X-Request'] !== undefined
            ? { ...o, tags: { ...o.tags, Recipient: msg.from } }
            : o,
        ),
    }),
    checker: {
      bounds: { ...DEFAULT_BOUNDS, workers: 1, requests: 1, levels: 1, underpaid: true },
      length: 1,
    },
    properties: {},
  },
  {
    defect: 'overtaking bound ignored (pure priority)',
    invariant: 'bounded-overtaking',
    herder: variant('unbounded', { dispatcher: unboundedDispatch }),
    checker: {
      bounds: { ...DEFAULT_BOUNDS, workers: 1, requests: 4, levels: 2, maxOvertakes: 1 },
      length: 6,
    },
    properties: { contended: true },
  },
  {
    defect: 'equal multipliers served last come, first served',
    invariant: 'fifo-ties',
    herder: variant('lifo-ties', { dispatcher: lastComeFirst }),
    checker: {
      bounds: { ...DEFAULT_BOUNDS, workers: 1, requests: 3, levels: 1, maxOvertakes: null },
      length: 4,
    },
    properties: { contended: true },
  },
  {
    defect: 'multipliers compared as floats',
    invariant: 'priority-order',
    herder: variant('float-multiplier', { order: floatOrder }),
    checker: { bounds: { ...DEFAULT_BOUNDS, workers: 1, requests: 3, levels: 2, huge: true }, length: 4 },
    properties: { contended: true, huge: true },
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
        return msg;
      },
    }),
    checker: { bounds: { ...DEFAULT_BOUNDS, workers: 2, requests: 2, levels: 1, spoofs: true }, length: 3 },
    properties: {},
  },
  {
    defect: 'a Credit-Notice delivered again is handled again (no deduplication)',
    invariant: 'no-lost-request',
    herder: variant('no-dedupe', { remembered: () => false }),
    checker: {
      bounds: { ...DEFAULT_BOUNDS, workers: 1, requests: 1, levels: 1, duplicates: true },
      length: 2,
    },
    properties: {},
  },
  {
    // The original's defect: a queued request has no deadline of its own, so a herd whose workers
    // are all down holds its payment for as long as they stay down.
    defect: 'a waiting request never waits out the queue-wait bound (its wait is not kept)',
    invariant: 'bounded-response',
    herder: variant('no-queue-wait', {
      after: (_before, _msg, outbox, state) => {
        state.waits.prune(() => false);
        return outbox;
      },
    }),
    checker: {
      // Paid, time passes the deadline, the request waits again, time passes its queue wait.
      bounds: { ...DEFAULT_BOUNDS, workers: 1, requests: 1, levels: 1, timeouts: true, recovery: false },
      length: 5,
    },
    properties: { contended: true, queueWait: 5_000 },
  },
  {
    defect: 'every valid paid Credit-Notice is refunded (as if paused) instead of queued',
    invariant: 'no-wrongful-refund',
    herder: variant('refund-every-payment', {
      before: (state, msg) => {
        if (msg.tags.Action === 'Credit-Notice') state.paused = true;
        return msg;
      },
      after: (before, msg, outbox, state) => {
        if (msg.tags.Action === 'Credit-Notice') state.paused = before.paused;
        return outbox;
      },
    }),
    checker: { bounds: { ...DEFAULT_BOUNDS, workers: 1, requests: 1, levels: 1 }, length: 1 },
    properties: {},
  },
  {
    defect: 'a request that finds every worker busy is set aside, never dispatched nor refunded',
    invariant: 'bounded-response',
    herder: variant('set-aside-when-busy', {
      after: (_before, msg, outbox, state) => {
        const record = state.requests.get(msg.id);
        if (msg.tags.Action === 'Credit-Notice' && record !== undefined && state.queue.isWaiting(record))
          state.queue.release(record);
        return outbox;
      },
    }),
    checker: { bounds: { ...DEFAULT_BOUNDS, workers: 1, requests: 2, levels: 1 }, length: 4 },
    properties: { contended: true, queueWait: 5_000 },
  },
];
