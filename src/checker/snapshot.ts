/**
 * Rebuilding a herder's request queue from the places of its live requests, through the queue's
 * public API only: every live request enqueued in arrival order, then each put back in its place
 * with its overtake count. The packed frontier (frontier.ts) rebuilds the states it keeps so.
 */
import type { RequestRecord } from '../model/herder.ts';
import type { RequestQueue } from '../model/queue.ts';

/** Where a live request is in the queue. */
export const WAITING = 0;
/** Dispatched: it keeps its place in arrival order in case it is retried. */
export const PARKED = 1;
/** Live but out of the queue (only a defective herder leaves one so). */
export const OUT = 2;

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
