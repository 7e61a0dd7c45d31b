/**
 * Making the state space finite. A herder state carries history that never influences what it does
 * next: absolute times, message and request ids, arrival numbers, the set of message ids seen,
 * idle-FIFO stamps, running totals of the books. Two states that differ only there are the same
 * state to the checker.
 *
 * `normalize` rewrites the parts the herder reads, in place, to a canonical form:
 * - time: `now` becomes a fixed point; each live timer (the deadline of a running request, the
 *   queue-wait deadline of a waiting one) keeps only its place in the order of live timers
 *   (timers set at `now` stay exactly one timeout ahead, so that one set now ties with them);
 *   stale heap entries, which the herder skips, are dropped. This is exact because the checker's
 *   herder gives both kinds of timer the same length (bounds.ts): a timer set later never fires
 *   earlier, so ranks are all the order there is;
 * - the message ids remembered for de-duplication are forgotten, and the count of messages
 *   handled reset: every later message has a fresh id (a notice delivered again is a live
 *   request's, which the herder recognises by its request table, not by the remembered ids).
 *
 * encoding.ts then names the state by what the herder's behaviour depends on, as a few words and
 * a 64-bit fingerprint.
 */
import type { HerderState } from '../model/herder.ts';
import { type Clockwork, eachTimer } from './environment.ts';

export class AbstractionError extends Error {}

/**
 * The canonical time scale: `now` and the spacing of timers that were set before `now`. `timers`
 * is the most live timers a state can have (a deadline per worker, a queue wait per request).
 */
export function clockwork(timeout: number, timers: number): Clockwork & { readonly spacing: number } {
  return { now: 1_000_000_000, timeout, spacing: Math.floor(timeout / (timers + 2)) };
}

/** Scratch of {@link normalize}: distinct timer times, ascending, and their canonical times. */
const times: number[] = [];
const canonical: number[] = [];

/** How many of `times` hold the state being normalized's. */
let timeCount = 0;

/** Adds `at` to `times[0..timeCount)` unless there. */
function addTime(at: number): void {
  let i = timeCount;
  while (i > 0 && times[i - 1]! > at) i--;
  if (i > 0 && times[i - 1] === at) return;
  for (let j = timeCount; j > i; j--) times[j] = times[j - 1]!;
  times[i] = at;
  timeCount++;
}

/** The canonical time of `at`, one of `times[0..count)`. */
function canonicalTime(at: number, count: number): number {
  for (let i = 0; i < count; i++) if (times[i] === at) return canonical[i]!;
  return Number.NaN;
}

/** The state being normalized, which the functions below read (they are made once, not per call). */
let normalizing: HerderState;

/** Whether a deadline-heap entry is its worker's running request's deadline. */
function liveDeadline(at: number, worker: string, request: string): boolean {
  const holder = normalizing.herd.get(worker);
  return holder?.status === 'busy' && holder.request === request && holder.deadline === at;
}

/** Whether a queue-wait heap entry is a waiting request's queue wait. */
function liveWait(at: number, _worker: string, request: string): boolean {
  const record = normalizing.requests.get(request);
  return record !== undefined && normalizing.queue.isWaiting(record) && record.waitUntil === at;
}

/** {@link canonicalTime} over the times of the state being normalized. */
const toCanonical = (at: number): number => canonicalTime(at, timeCount);

/**
 * Rewrites time and seen-ids of a freshly stepped state to the canonical form, in place. When no
 * time passed (the message came at the canonical `now`), the deadlines are already canonical
 * (those set now are exactly one timeout ahead) and only the seen-ids are cleared; stale heap
 * entries then wait for the next time step to be dropped.
 */
export function normalize(state: HerderState, clock: Clockwork & { readonly spacing: number }): void {
  if (state.seen.size > 0) state.seen.clear();
  if (state.seenBefore.size > 0) state.seenBefore.clear();
  state.handled = 0;
  state.generation = 0;
  const now = state.now;
  if (now === clock.now) return;
  const tie = now + clock.timeout;
  const { herd, requests, queue } = state;
  normalizing = state;
  state.deadlines.pruneBy(liveDeadline);
  state.waits.pruneBy(liveWait);
  // The distinct live timer times, ascending (the running requests' deadlines, the waiting ones'
  // queue waits: every heap entry left names one of them), each with its canonical time.
  timeCount = 0;
  eachTimer(state, addTime);
  const count = timeCount;
  let rank = 0;
  for (let i = 0; i < count; i++) {
    const at = times[i]!;
    if (at === tie) canonical[i] = clock.now + clock.timeout;
    else if (at > now && at < tie) canonical[i] = clock.now + ++rank * clock.spacing;
    else throw new AbstractionError(`deadline ${at - now} ms from now lies outside (0, ${clock.timeout}]`);
  }
  for (const worker of herd.all())
    if (worker.status === 'busy') worker.deadline = canonicalTime(worker.deadline, count);
  for (const record of requests.values())
    if (queue.isWaiting(record)) record.waitUntil = canonicalTime(record.waitUntil, count);
  // Canonical times keep the timers' order (ranks ascend, the tie is the latest): the heaps stay heaps.
  state.deadlines.retime(toCanonical);
  state.waits.retime(toCanonical);
  state.now = clock.now;
}
