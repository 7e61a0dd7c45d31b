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
 * `stateKey` then names the state by what the herder's behaviour depends on: requests in arrival
 * order (renamed by rank), their multiplier, place (with the rank of its queue-wait deadline while
 * waiting), attempts, the workers they were tried on and their overtake count; each worker's
 * status, drain flag, request, deadline rank and, when timed out, which request a late answer
 * must name (-1: one that has ended); the idle order; which
 * workers out of the herd are remembered as failed (added again, they join failed); pause; and,
 * when the owner may withdraw, the withdrawable revenue. The running totals of the books are left
 * out: nothing the herder decides reads them (their balance is checked on every transition).
 */
import type { Deadline } from '../model/deadlines.ts';
import type { Multiplier } from '../model/fees.ts';
import type { HerderState } from '../model/herder.ts';
import { type Clockwork, deadlineGroups, type Node } from './environment.ts';

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
  state.seen.clear();
  if (keepSeen) for (const id of state.requests.keys()) state.seen.set(id, Number.POSITIVE_INFINITY);
  state.handled = 0;
  state.forgetQueue.length = 0;
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

/**
 * Names multipliers in keys: short codes for the payment levels the bounds allow (the same in
 * every thread), the exact fraction for anything else.
 */
export class MultiplierCodes {
  private readonly codes = new Map<string, string>();
  private readonly cache = new WeakMap<Multiplier, string>();

  constructor(known: readonly Multiplier[]) {
    for (const [i, m] of known.entries()) this.codes.set(`${m.paid}/${m.needed}`, i.toString(36));
  }

  of(m: Multiplier): string {
    let code = this.cache.get(m);
    if (code === undefined) {
      const exact = `${m.paid}/${m.needed}`;
      code = this.codes.get(exact) ?? `(${exact})`;
      this.cache.set(m, code);
    }
    return code;
  }
}

const STATUS_CODE = { idle: 'i', busy: 'b', 'timed-out': 't', failed: 'f' } as const;

/** What a key needs to know besides the state. */
export interface KeyContext {
  /** Every worker id that may be in the herd, in a fixed order. */
  readonly workers: readonly string[];
  readonly timeout: number;
  /** Whether withdrawals can happen: only then does the withdrawable revenue matter. */
  readonly withdrawals: boolean;
  readonly multipliers: MultiplierCodes;
}

/**
 * The canonical name of a normalized herder state. A deadline is named by its rank among the
 * live deadlines, or `D` when it was set at `now`.
 */
export function stateKey(state: HerderState, context: KeyContext): string {
  const { workers } = context;
  const bounded = state.config.maxOvertakes !== null;
  let key = state.paused ? 'P' : 'A';
  if (context.withdrawals) key += (state.ledger.revenue - state.ledger.withdrawn).toString();
  const deadlines = deadlineGroups(state);
  const tie = state.now + context.timeout;
  const ids: string[] = [];
  for (const r of state.requests.values()) {
    ids.push(r.id);
    let tried = 0;
    for (const w of r.tried) tried |= 1 << workers.indexOf(w);
    const place = state.queue.isWaiting(r)
      ? `w${r.waitUntil === tie ? 'D' : deadlines.indexOf(r.waitUntil)}`
      : r.worker === undefined
        ? '?'
        : workers.indexOf(r.worker);
    key += `|${context.multipliers.of(r.multiplier)}.${place}${r.attempts}${tried}`;
    if (bounded) key += `.${state.queue.overtakesOf(r)}`;
  }
  key += '/';
  for (const id of workers) {
    const worker = state.herd.get(id);
    if (worker === undefined) {
      key += '-,';
      continue;
    }
    key += STATUS_CODE[worker.status];
    if (worker.draining) key += 'd';
    if (worker.status === 'busy')
      key += `${worker.request === undefined ? '?' : ids.indexOf(worker.request)}@${worker.deadline === tie ? 'D' : deadlines.indexOf(worker.deadline)}`;
    else if (worker.status === 'timed-out')
      key += `L${worker.lastRequest === undefined ? '?' : ids.indexOf(worker.lastRequest)}`;
    key += ',';
  }
  key += `${state.herd.size}/`;
  for (const worker of state.herd.idleInOrder()) key += workers.indexOf(worker.id);
  // Workers out of the herd known to have failed: added again, they join failed (readiness).
  if (state.unready.length > 0) {
    let unready = 0;
    for (const id of state.unready) if (workers.includes(id)) unready |= 1 << workers.indexOf(id);
    key += `/U${unready}`;
  }
  return key;
}

/** The clock's place: at the herder's `now`, a little later, or past the k-th timer. */
export function clockCode(node: Node, clock: Clockwork): string {
  const now = node.state.now;
  if (node.clock === now) return 'n';
  let passed = 0;
  let ties = false;
  for (const at of deadlineGroups(node.state)) {
    if (at < node.clock) passed++;
    if (at === now + clock.timeout) ties = true;
  }
  if (passed === 0) return ties ? 'l' : 'n';
  return `p${passed}`;
}

export function nodeKey(node: Node, context: KeyContext, clock: Clockwork): string {
  return `${stateKey(node.state, context)}#${clockCode(node, clock)}#${node.sent}`;
}
