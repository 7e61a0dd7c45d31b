/**
 * A herder state as plain data, for moving frontier states between the checker's threads
 * (structured clone keeps Maps, arrays and bigints, but not the model's classes). It is read and
 * rebuilt through the model's public API only: the queue by enqueueing every live request in
 * arrival order and putting each back with its overtake count, the herd by adding every worker
 * and making the idle ones idle in their order, the timer heaps by pushing their entries. The
 * rebuilt state behaves as the original: same requests, places, counts, idle order and timers.
 */
import type { HerdConfig } from '../model/config.ts';
import type { Deadline } from '../model/deadlines.ts';
import { DeadlineHeap } from '../model/deadlines.ts';
import type { Multiplier } from '../model/fees.ts';
import { Herd, type WorkerRecord } from '../model/herd.ts';
import type { HerderState, RequestRecord } from '../model/herder.ts';
import type { Ledger } from '../model/ledger.ts';
import type { RequestQueue } from '../model/queue.ts';

/** Where a live request is in the queue. */
export const WAITING = 0;
/** Dispatched: it keeps its place in arrival order in case it is retried. */
export const PARKED = 1;
/** Live but out of the queue (only a defective herder leaves one so). */
export const OUT = 2;

export interface PlainState {
  readonly config: HerdConfig;
  readonly paused: boolean;
  readonly now: number;
  /** The two generations of remembered ids, each with the end of its window, and when the newer began. */
  readonly seen: [string, number][];
  readonly seenBefore: [string, number][];
  readonly generation: number;
  readonly handled: number;
  readonly arrivals: number;
  /** Live requests in the order of the state's map, each with its place and overtake count. */
  readonly requests: QueuePlace[];
  /** Workers in registration order, and the idle ones longest idle first. */
  readonly workers: WorkerRecord[];
  readonly idle: string[];
  readonly deadlines: Deadline[];
  readonly waits: Deadline[];
  readonly unready: string[];
  readonly ledger: Ledger;
  readonly lastMultiplier: Multiplier | undefined;
}

/** Every entry of a heap, read through its pruning pass (which keeps them all, in heap order). */
function entries(heap: DeadlineHeap): Deadline[] {
  const all: Deadline[] = [];
  heap.prune((entry) => {
    all.push(entry);
    return true;
  });
  return all;
}

export function toPlain(state: HerderState): PlainState {
  const requests = [...state.requests.values()].map((record) => ({
    record: { ...record, tried: [...record.tried] },
    place: state.queue.isWaiting(record) ? WAITING : record.worker !== undefined ? PARKED : OUT,
    overtakes: state.queue.overtakesOf(record),
  }));
  return {
    config: state.config,
    paused: state.paused,
    now: state.now,
    seen: [...state.seen],
    seenBefore: [...state.seenBefore],
    generation: state.generation,
    handled: state.handled,
    arrivals: state.arrivals,
    requests,
    workers: [...state.herd.all()].map((w) => ({ ...w })),
    idle: state.herd.idleInOrder().map((w) => w.id),
    deadlines: entries(state.deadlines),
    waits: entries(state.waits),
    unready: [...state.unready],
    ledger: { ...state.ledger },
    lastMultiplier: state.lastMultiplier,
  };
}

/** A live request of a state being rebuilt, with its place in the queue and its overtake count. */
export interface QueuePlace {
  record: RequestRecord;
  place: number;
  overtakes: number;
}

const same = <E>(entry: E): E => entry;

/**
 * A queue holding `requests` (the state's live records) as they were: a copy of `blank` (so that
 * it orders multipliers as the herder does), each request at its place with its overtake count.
 * With `into`, that queue is made so and returned (no queue is made). `requests` is sorted by slot.
 */
export function rebuildQueue(
  blank: RequestQueue<RequestRecord>,
  requests: QueuePlace[],
  into?: RequestQueue<RequestRecord>,
): RequestQueue<RequestRecord> {
  let queue: RequestQueue<RequestRecord>;
  if (into === undefined) queue = blank.clone(same);
  else {
    into.restoreFrom(blank, same);
    queue = into;
  }
  // By slot, in place (insertion sort: a handful of requests, already nearly in order).
  const bySlot = requests;
  for (let i = 1; i < bySlot.length; i++) {
    const moving = bySlot[i]!;
    let j = i - 1;
    for (; j >= 0 && bySlot[j]!.record.slot > moving.record.slot; j--) bySlot[j + 1] = bySlot[j]!;
    bySlot[j + 1] = moving;
  }
  // Enqueued in arrival order, then all dispatched in that order (each overtakes only parked
  // ones, so no count moves), then each put back as it was.
  for (const { record } of bySlot) queue.enqueue(record);
  for (const { record } of bySlot) queue.dispatch(record);
  for (const { record, place, overtakes } of bySlot) {
    record.overtakes = overtakes;
    if (place === WAITING) queue.requeue(record);
    else if (place === OUT) queue.release(record);
  }
  return queue;
}

/**
 * Rebuilds a state from {@link toPlain}'s data. `blank` is an empty queue of the herder's (its
 * initial state's): the rebuilt queue is a copy of it, so that it orders multipliers as the
 * herder does.
 */
export function fromPlain(plain: PlainState, blank: RequestQueue<RequestRecord>): HerderState {
  const requests = new Map<string, RequestRecord>();
  for (const { record } of plain.requests) requests.set(record.id, { ...record, tried: [...record.tried] });
  const queue = rebuildQueue(
    blank,
    plain.requests.map(({ record, place, overtakes }) => ({
      record: requests.get(record.id)!,
      place,
      overtakes,
    })),
  );

  const herd = new Herd();
  for (const w of plain.workers) herd.add(w.id);
  for (const w of plain.workers) herd.setStatus(herd.get(w.id)!, 'failed');
  for (const id of plain.idle) herd.setStatus(herd.get(id)!, 'idle');
  for (const w of plain.workers) {
    const record = herd.get(w.id)!;
    if (w.status !== 'idle') herd.setStatus(record, w.status);
    record.request = w.request;
    record.lastRequest = w.lastRequest;
    record.deadline = w.deadline;
    record.draining = w.draining;
  }

  const deadlines = new DeadlineHeap();
  for (const entry of plain.deadlines) deadlines.push(entry);
  const waits = new DeadlineHeap();
  for (const entry of plain.waits) waits.push(entry);
  return {
    config: plain.config,
    paused: plain.paused,
    now: plain.now,
    seen: new Map(plain.seen),
    seenBefore: new Map(plain.seenBefore),
    generation: plain.generation,
    handled: plain.handled,
    arrivals: plain.arrivals,
    requests,
    queue,
    herd,
    deadlines,
    waits,
    unready: [...plain.unready],
    ledger: { ...plain.ledger },
    lastMultiplier: plain.lastMultiplier,
  };
}
