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
 *   handled reset: every later message has a fresh id. When notices may be delivered again (only
 *   those of live requests are), the ids of live requests are kept, as the herder keeps them.
 *
 * encoding.ts then names the state by what the herder's behaviour depends on, as a few words and
 * a 64-bit fingerprint.
 */
import type { Deadline } from '../model/deadlines.ts';
import type { HerderState } from '../model/herder.ts';
import { type Clockwork, deadlineGroups } from './environment.ts';

export class AbstractionError extends Error {}

/**
 * The canonical time scale: `now` and the spacing of timers that were set before `now`. `timers`
 * is the most live timers a state can have (a deadline per worker, a queue wait per request).
 */
export function clockwork(timeout: number, timers: number): Clockwork & { readonly spacing: number } {
  return { now: 1_000_000_000, timeout, spacing: Math.floor(timeout / (timers + 2)) };
}

/**
 * Rewrites time and seen-ids of a freshly stepped state to the canonical form, in place. When no
 * time passed (the message came at the canonical `now`), the deadlines are already canonical
 * (those set now are exactly one timeout ahead) and only the seen-ids are cleared; stale heap
 * entries then wait for the next time step to be dropped.
 */
export function normalize(
  state: HerderState,
  clock: Clockwork & { readonly spacing: number },
  keepSeen = false,
): void {
  if (state.seen.size > 0) state.seen.clear();
  if (keepSeen) for (const id of state.requests.keys()) state.seen.set(id, Number.POSITIVE_INFINITY);
  state.handled = 0;
  // (Setting an array's length is a runtime call even when it changes nothing.)
  if (state.forgetIds.length > 0) state.forgetIds.length = 0;
  if (state.forgetUntil.length > 0) state.forgetUntil.length = 0;
  state.forgetHead = 0;
  const now = state.now;
  if (now === clock.now) return;
  const tie = now + clock.timeout;
  const live: Deadline[] = [];
  for (
    let entry = state.deadlines.popExpired(Infinity);
    entry;
    entry = state.deadlines.popExpired(Infinity)
  ) {
    const worker = state.herd.get(entry.worker);
    if (worker?.status === 'busy' && worker.request === entry.request && worker.deadline === entry.at)
      live.push(entry);
  }
  const waits: Deadline[] = [];
  for (let entry = state.waits.popExpired(Infinity); entry; entry = state.waits.popExpired(Infinity)) {
    const record = state.requests.get(entry.request);
    if (record !== undefined && state.queue.isWaiting(record) && record.waitUntil === entry.at)
      waits.push(entry);
  }
  const values = deadlineGroups(state);
  for (const entry of [...live, ...waits]) if (!values.includes(entry.at)) values.push(entry.at);
  values.sort((a, b) => a - b);
  const canonical: number[] = [];
  let rank = 0;
  for (const at of values) {
    if (at === tie) canonical.push(clock.now + clock.timeout);
    else if (at > now && at < tie) canonical.push(clock.now + ++rank * clock.spacing);
    else throw new AbstractionError(`deadline ${at - now} ms from now lies outside (0, ${clock.timeout}]`);
  }
  for (const worker of state.herd.all())
    if (worker.status === 'busy') worker.deadline = canonical[values.indexOf(worker.deadline)]!;
  for (const record of state.requests.values())
    if (state.queue.isWaiting(record)) record.waitUntil = canonical[values.indexOf(record.waitUntil)]!;
  for (const entry of live) state.deadlines.push({ ...entry, at: canonical[values.indexOf(entry.at)]! });
  for (const entry of waits) state.waits.push({ ...entry, at: canonical[values.indexOf(entry.at)]! });
  state.now = clock.now;
}
