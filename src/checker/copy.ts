/**
 * A faster `cloneHerderState` for the checker, which copies a state for every transition it
 * explores. It produces exactly what the model's clone produces (a test compares the two on every
 * state of a small exploration, field by field, private fields included), but builds each object
 * with one fixed shape and skips the queue constructor's throwaway trees: about three times
 * faster. It reads the private fields of the herd, queue and deadline heap, so a change to those
 * classes must be mirrored here; the test fails until it is.
 */
import { DeadlineHeap } from '../model/deadlines.ts';
import { Herd, type WorkerRecord } from '../model/herd.ts';
import type { HerderState, RequestRecord } from '../model/herder.ts';
import { RequestQueue } from '../model/queue.ts';

/** The private fields of the model's classes, as this copy reads and writes them. */
interface QueueFields {
  compare: unknown;
  capacity: number;
  slots: (RequestRecord | undefined)[];
  best: Int32Array;
  count: Float64Array;
  pending: Float64Array;
  nextSlot: number;
  reserved: number;
  waiting: number;
}

interface HerdFields {
  workers: Map<string, WorkerRecord>;
  idleQueue: [string, number][];
  idleHead: number;
  stamps: number;
  idle: number;
}

interface HeapFields {
  heap: unknown[];
}

export function copyState(state: HerderState): HerderState {
  const requests = new Map<string, RequestRecord>();
  for (const r of state.requests.values())
    requests.set(r.id, {
      id: r.id,
      client: r.client,
      reference: r.reference,
      prompt: r.prompt,
      tokens: r.tokens,
      multiplier: r.multiplier,
      arrival: r.arrival,
      slot: r.slot,
      overtakes: r.overtakes,
      attempts: r.attempts,
      tried: r.tried.slice(),
      worker: r.worker,
      waitUntil: r.waitUntil,
    });

  const queue = state.queue as unknown as QueueFields;
  const queueCopy = Object.create(RequestQueue.prototype) as QueueFields;
  queueCopy.compare = queue.compare;
  queueCopy.capacity = queue.capacity;
  queueCopy.slots = queue.slots.map((entry) => (entry === undefined ? undefined : requests.get(entry.id)));
  queueCopy.best = queue.best.slice();
  queueCopy.count = queue.count.slice();
  queueCopy.pending = queue.pending.slice();
  queueCopy.nextSlot = queue.nextSlot;
  queueCopy.reserved = queue.reserved;
  queueCopy.waiting = queue.waiting;

  const herd = state.herd as unknown as HerdFields;
  const herdCopy = Object.create(Herd.prototype) as HerdFields;
  const workers = new Map<string, WorkerRecord>();
  for (const w of herd.workers.values())
    workers.set(w.id, {
      id: w.id,
      status: w.status,
      request: w.request,
      lastRequest: w.lastRequest,
      deadline: w.deadline,
      draining: w.draining,
      idleStamp: w.idleStamp,
    });
  herdCopy.workers = workers;
  herdCopy.idleQueue = herd.idleQueue.slice(herd.idleHead);
  herdCopy.idleHead = 0;
  herdCopy.stamps = herd.stamps;
  herdCopy.idle = herd.idle;

  const heapCopy = Object.create(DeadlineHeap.prototype) as HeapFields;
  heapCopy.heap = (state.deadlines as unknown as HeapFields).heap.slice();
  const waitsCopy = Object.create(DeadlineHeap.prototype) as HeapFields;
  waitsCopy.heap = (state.waits as unknown as HeapFields).heap.slice();

  const { ledger } = state;
  return {
    config: state.config,
    paused: state.paused,
    now: state.now,
    seen: new Map(state.seen),
    handled: state.handled,
    forgetQueue: state.forgetQueue.slice(state.forgetHead),
    forgetHead: 0,
    arrivals: state.arrivals,
    requests,
    queue: queueCopy as unknown as HerderState['queue'],
    herd: herdCopy as unknown as Herd,
    deadlines: heapCopy as unknown as DeadlineHeap,
    waits: waitsCopy as unknown as DeadlineHeap,
    unready: state.unready.slice(),
    ledger: {
      credited: ledger.credited,
      refunded: ledger.refunded,
      revenue: ledger.revenue,
      escrow: ledger.escrow,
      unclaimed: ledger.unclaimed,
      withdrawn: ledger.withdrawn,
    },
    lastMultiplier: state.lastMultiplier,
  };
}

/**
 * A state as plain data that survives `postMessage` (structured clone keeps Maps, Sets, typed
 * arrays and shared references, but not classes or functions): for moving states between the
 * checker's threads. `thawState` rebuilds the model's objects, with `order` as the queue's order.
 */
export interface FrozenState {
  readonly state: Omit<HerderState, 'queue' | 'herd' | 'deadlines' | 'waits'>;
  readonly queue: Omit<QueueFields, 'compare'>;
  readonly herd: HerdFields;
  readonly heap: HeapFields;
  readonly waits: HeapFields;
}

export function freezeState(state: HerderState): FrozenState {
  const { queue, herd, deadlines, waits, ...rest } = state;
  const { compare: _compare, ...queueFields } = queue as unknown as QueueFields;
  return {
    state: rest,
    queue: queueFields,
    herd: herd as unknown as HerdFields,
    heap: deadlines as unknown as HeapFields,
    waits: waits as unknown as HeapFields,
  };
}

export function thawState(frozen: FrozenState, order: QueueFields['compare']): HerderState {
  const queue = Object.create(RequestQueue.prototype) as QueueFields;
  Object.assign(queue, frozen.queue, { compare: order });
  const herd = Object.create(Herd.prototype) as HerdFields;
  Object.assign(herd, frozen.herd);
  const heap = Object.create(DeadlineHeap.prototype) as HeapFields;
  Object.assign(heap, frozen.heap);
  const waits = Object.create(DeadlineHeap.prototype) as HeapFields;
  Object.assign(waits, frozen.waits);
  // A fresh copy gives every object its usual shape again.
  return copyState({
    ...frozen.state,
    queue: queue as unknown as HerderState['queue'],
    herd: herd as unknown as Herd,
    deadlines: heap as unknown as DeadlineHeap,
    waits: waits as unknown as DeadlineHeap,
  });
}
