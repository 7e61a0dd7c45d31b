/**
 * Defective herders for the checker to catch: the model with one thing broken. Several are the
 * original Llama-Herder's defects (DESIGN §4); each names the invariant that must expose it.
 */
import type { InvariantName } from '../../src/audit/invariants.ts';
import type { CheckBounds } from '../../src/checker/bounds.ts';
import { DEFAULT_BOUNDS } from '../../src/checker/bounds.ts';
import { type HerderUnderCheck, initialCheckState } from '../../src/checker/explore.ts';
import { compareMultipliers, type Multiplier } from '../../src/model/fees.ts';
import {
  assign,
  cloneHerderState,
  type Dispatcher,
  type HerderState,
  stepInPlace,
} from '../../src/model/herder.ts';
import type { AoMessage, OutMessage } from '../../src/model/messages.ts';

/** The model with its step altered. */
export function variant(
  name: string,
  mutate: {
    order?: (a: Multiplier, b: Multiplier) => number;
    dispatcher?: Dispatcher;
    /** May replace the incoming message. */
    before?: (state: HerderState, msg: AoMessage) => AoMessage;
    after?: (before: HerderState, msg: AoMessage, outbox: OutMessage[]) => OutMessage[];
  },
): HerderUnderCheck {
  return {
    name,
    init: (config) => initialCheckState(config, mutate.order),
    step(state, msg) {
      const before = mutate.after ? cloneHerderState(state) : state;
      const delivered = mutate.before ? mutate.before(state, msg) : msg;
      const outbox = stepInPlace(state, delivered, mutate.dispatcher);
      return mutate.after ? mutate.after(before, msg, outbox) : outbox;
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

/** Pure priority: the overtaking bound is ignored. */
const unboundedDispatch: Dispatcher = (state, outbox) => {
  while (state.queue.length > 0 && state.herd.idleCount > 0) {
    const record = state.queue.peek(null)!;
    assign(state, record, state.herd.pickIdle(record.tried)!, outbox);
  }
};

/** Among requests of the best multiplier, the latest arrival goes first. */
const lastComeFirst: Dispatcher = (state, outbox) => {
  while (state.queue.length > 0 && state.herd.idleCount > 0) {
    const best = state.queue.peek(state.config.maxOvertakes)!;
    const tied = state.queue
      .waitingInArrivalOrder()
      .filter(({ entry }) => compareMultipliers(entry.multiplier, best.multiplier) === 0);
    const record = tied[tied.length - 1]!.entry;
    assign(state, record, state.herd.pickIdle(record.tried)!, outbox);
  }
};

/** The original's float multiplier. */
const floatOrder = (a: Multiplier, b: Multiplier) =>
  Math.sign(Number(a.paid) / Number(a.needed) - Number(b.paid) / Number(b.needed));

export interface SeededDefect {
  readonly defect: string;
  readonly invariant: InvariantName;
  readonly herder: HerderUnderCheck;
  /** Small bounds under which it shows. */
  readonly bounds: CheckBounds;
  /** Shortest trace length the checker reports. */
  readonly length: number;
  /** Found by the liveness check (a stuck request) rather than a state or transition predicate. */
  readonly stuck?: boolean;
}

export const SEEDED_DEFECTS: readonly SeededDefect[] = [
  {
    defect: 'dispatch skips every other idle worker (the original’s loop)',
    invariant: 'work-conserving',
    herder: variant('skip-worker', { dispatcher: skipEveryOtherWorker }),
    bounds: { ...DEFAULT_BOUNDS, workers: 3, requests: 3, levels: 1, timeouts: true, lateAnswers: true },
    length: 3,
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
        };
        return [...outbox, forward];
      },
    }),
    bounds: { ...DEFAULT_BOUNDS, workers: 1, requests: 1, levels: 1, timeouts: true, lateAnswers: true },
    length: 4,
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
    bounds: { ...DEFAULT_BOUNDS, workers: 1, requests: 1, levels: 1, underpaid: true },
    length: 1,
  },
  {
    defect: 'overtaking bound ignored (pure priority)',
    invariant: 'bounded-overtaking',
    herder: variant('unbounded', { dispatcher: unboundedDispatch }),
    bounds: { ...DEFAULT_BOUNDS, workers: 1, requests: 4, levels: 2, maxOvertakes: 1 },
    length: 6,
  },
  {
    defect: 'equal multipliers served last come, first served',
    invariant: 'fifo-ties',
    herder: variant('lifo-ties', { dispatcher: lastComeFirst }),
    bounds: { ...DEFAULT_BOUNDS, workers: 1, requests: 3, levels: 1, maxOvertakes: null },
    length: 4,
  },
  {
    defect: 'multipliers compared as floats',
    invariant: 'priority-order',
    herder: variant('float-multiplier', { order: floatOrder }),
    bounds: { ...DEFAULT_BOUNDS, workers: 1, requests: 3, levels: 2, huge: true },
    length: 4,
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
    bounds: { ...DEFAULT_BOUNDS, workers: 2, requests: 2, levels: 1, spoofs: true },
    length: 3,
  },
  {
    defect: 'a Credit-Notice delivered again is handled again (no deduplication)',
    invariant: 'no-lost-request',
    herder: variant('no-dedupe', {
      before: (state, msg) => {
        state.seen.delete(msg.id);
        return msg;
      },
    }),
    bounds: { ...DEFAULT_BOUNDS, workers: 1, requests: 1, levels: 1, duplicates: true },
    length: 2,
  },
  {
    defect: 'a timed-out worker is never taken back (its reports are ignored)',
    invariant: 'no-lost-request',
    herder: variant('never-revive', {
      before: (state, msg) =>
        state.herd.get(msg.from)?.status === 'timed-out' ? { ...msg, tags: { Action: 'Ignored' } } : msg,
    }),
    bounds: { ...DEFAULT_BOUNDS, workers: 1, requests: 1, levels: 1, timeouts: true, lateAnswers: true },
    length: 3,
    stuck: true,
  },
];
