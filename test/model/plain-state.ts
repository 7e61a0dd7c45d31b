/**
 * A herder state as plain data (Maps, heaps and the queue read out through the model's public
 * API), for tests that compare two states field by field.
 */
import { OUT, PARKED, type QueuePlace, WAITING } from '../../src/checker/snapshot.ts';
import type { HerdConfig } from '../../src/model/config.ts';
import type { Deadline, DeadlineHeap } from '../../src/model/deadlines.ts';
import type { Multiplier } from '../../src/model/fees.ts';
import type { WorkerRecord } from '../../src/model/herd.ts';
import type { HerderState } from '../../src/model/herder.ts';
import type { Ledger } from '../../src/model/ledger.ts';

export interface PlainState {
  readonly config: HerdConfig;
  readonly paused: boolean;
  readonly now: number;
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
