/**
 * Making the state space finite. A herder state carries history that never influences what it does
 * next: absolute times, message and request ids, arrival numbers, the set of message ids seen,
 * idle-FIFO stamps, running totals of the books. Two states that differ only there are the same
 * state to the checker.
 *
 * `normalize` rewrites the parts the herder reads, in place, to a canonical form:
 * - time: `now` becomes a fixed point; each live deadline keeps only its place in the order of
 *   live deadlines (deadlines set at `now` stay exactly one timeout ahead, so that a dispatch
 *   made now ties with them); stale deadline-heap entries, which the herder skips, are dropped;
 * - the set of message ids seen is emptied: every later message has a fresh id. When notices may
 *   be delivered again, it is kept instead (it then holds every id handled, whatever the path, so
 *   it still says nothing the key must tell apart).
 *
 * `stateKey` then names the state by what the herder's behaviour depends on: requests in arrival
 * order (renamed by rank), their multiplier, place, attempts, the workers they were tried on and
 * their overtake count; each worker's status, drain flag, request, deadline rank and, when timed
 * out, which request a late answer must name (-1: one that has ended); the idle order; pause; and,
 * when the owner may withdraw, the withdrawable revenue. The running totals of the books are left
 * out: nothing the herder decides reads them (their balance is checked on every transition).
 */
import type { Multiplier } from '../model/fees.ts';
import type { HerderState } from '../model/herder.ts';
import type { Clockwork, Node } from './environment.ts';

export class AbstractionError extends Error {}

/** The canonical time scale: `now` and the spacing of deadlines that were set before `now`. */
export function clockwork(timeout: number, workers: number): Clockwork & { readonly spacing: number } {
  return { now: 1_000_000_000, timeout, spacing: Math.floor(timeout / (workers + 2)) };
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
  if (!keepSeen) state.seen.clear();
  const now = state.now;
  if (now === clock.now) return;
  const tie = now + clock.timeout;
  const live: { at: number; worker: string; request: string }[] = [];
  for (
    let entry = state.deadlines.popExpired(Infinity);
    entry;
    entry = state.deadlines.popExpired(Infinity)
  ) {
    const worker = state.herd.get(entry.worker);
    if (worker?.status === 'busy' && worker.request === entry.request && worker.deadline === entry.at)
      live.push(entry);
  }
  const values: number[] = [];
  for (const worker of state.herd.all())
    if (worker.status === 'busy' && !values.includes(worker.deadline)) values.push(worker.deadline);
  for (const entry of live) if (!values.includes(entry.at)) values.push(entry.at);
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
  for (const entry of live) state.deadlines.push({ ...entry, at: canonical[values.indexOf(entry.at)]! });
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
  const ids: string[] = [];
  for (const r of state.requests.values()) {
    ids.push(r.id);
    let tried = 0;
    for (const w of r.tried) tried |= 1 << workers.indexOf(w);
    key += `|${context.multipliers.of(r.multiplier)}.${state.queue.isWaiting(r) ? 'w' : r.worker === undefined ? '?' : workers.indexOf(r.worker)}${r.attempts}${tried}`;
    if (bounded) key += `.${state.queue.overtakesOf(r)}`;
  }
  const deadlines: number[] = [];
  for (const worker of state.herd.all())
    if (worker.status === 'busy' && !deadlines.includes(worker.deadline)) deadlines.push(worker.deadline);
  if (deadlines.length > 1) deadlines.sort((a, b) => a - b);
  const tie = state.now + context.timeout;
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
  return key;
}

/** The clock's place: at the herder's `now`, a little later, or past the k-th deadline. */
export function clockCode(node: Node, clock: Clockwork): string {
  const now = node.state.now;
  if (node.clock === now) return 'n';
  let passed = 0;
  let ties = false;
  for (const worker of node.state.herd.all()) {
    if (worker.status !== 'busy') continue;
    if (worker.deadline < node.clock) passed++;
    if (worker.deadline === now + clock.timeout) ties = true;
  }
  if (passed === 0) return ties ? 'l' : 'n';
  return `p${passed}`;
}

export function nodeKey(node: Node, context: KeyContext, clock: Clockwork): string {
  return `${stateKey(node.state, context)}#${clockCode(node, clock)}#${node.sent}`;
}
