/**
 * The herder's surroundings as the checker plays them: from an explored node, every event the
 * token, clients, workers, owner, strangers and the passing of time could cause next, and the
 * concrete AO message each one delivers.
 *
 * Time is explicit. A node carries a clock next to the herder's own `now`: a time event moves the
 * clock (the herder notices nothing until its next message), and every message is delivered at the
 * clock. Only two kinds of time event matter to the herder: "a little later" (a timer set from then
 * on fires later than the ones set at `now`) and "past the next deadline" (of a running request,
 * or the queue-wait deadline of a waiting one).
 */
import type { HerdConfig } from '../model/config.ts';
import type { HerderState } from '../model/herder.ts';
import { Action, type AoMessage } from '../model/messages.ts';
import { type CheckBounds, OWNER, PROMPT, payment, STRANGER, TOKEN, TOKENS, workerIds } from './bounds.ts';

export type CheckEvent =
  /** A paying client's Credit-Notice, delivered by the token (level 0: underpaid). */
  | { readonly kind: 'credit'; readonly level: number }
  /** The worker answers the request it holds. */
  | { readonly kind: 'answer'; readonly worker: string }
  /** The worker answers Inference-Error for the request it holds. */
  | { readonly kind: 'error'; readonly worker: string }
  | { readonly kind: 'worker-error'; readonly worker: string }
  | { readonly kind: 'worker-initialized'; readonly worker: string }
  /** A timed-out worker answers the request it was last given. */
  | { readonly kind: 'late-answer'; readonly worker: string }
  /** Time passes a little (no timer fires) or past the next deadline or queue wait; no message. */
  | { readonly kind: 'time'; readonly to: 'later' | 'deadline' }
  /** A Cron tick: nothing but the passing of time for the herder to notice. */
  | { readonly kind: 'cron' }
  | { readonly kind: 'spoof-credit' }
  /** The token delivers the Credit-Notice of the `rank`-th live request again. */
  | { readonly kind: 'duplicate'; readonly rank: number }
  /** An answer for the request `worker` holds, sent by someone else. */
  | { readonly kind: 'spoof-answer'; readonly worker: string; readonly from: string }
  | { readonly kind: 'spoof-admin' }
  | { readonly kind: 'pause' }
  | { readonly kind: 'resume' }
  | { readonly kind: 'add-worker'; readonly worker: string }
  | { readonly kind: 'remove-worker'; readonly worker: string }
  /** The owner withdraws all withdrawable revenue, or one unit more (refused). */
  | { readonly kind: 'withdraw'; readonly excess: boolean };

/** A state of the exploration: the herder's state, the clock, and how many credits were sent. */
export interface Node {
  readonly state: HerderState;
  readonly clock: number;
  readonly sent: number;
}

/** Every event the bounds allow, each once; nodes refer to them by index. */
export class EventTable {
  readonly events: CheckEvent[] = [];
  readonly workers: readonly string[];
  /** Index of the credit at each level (level 0: underpaid). */
  readonly credit: number[] = [];
  /** Per worker (in `workers` order), the index of each of its events. */
  readonly perWorker: {
    answer: number;
    error: number;
    workerError: number;
    workerInitialized: number;
    lateAnswer: number;
    add: number;
    remove: number;
    /** Forged answers for its request: from the stranger, then from each other worker. */
    spoofs: number[];
  }[] = [];
  readonly later: number;
  readonly deadline: number;
  readonly cron: number;
  readonly spoofCredit: number;
  readonly spoofAdmin: number;
  readonly pause: number;
  readonly resume: number;
  readonly withdraw: number;
  readonly withdrawTooMuch: number;
  /** Redelivery of the notice of the i-th live request. */
  readonly duplicate: number[] = [];
  /**
   * Per event, the one worker it concerns, by place in `workers`: -1 for an event of no worker,
   * and for a forged answer (it may name a second worker as its sender).
   */
  readonly workerOf: number[] = [];
  private readonly index = new Map<string, number>();

  constructor(readonly bounds: CheckBounds) {
    this.workers = workerIds(bounds);
    for (let level = 0; level <= bounds.levels; level++)
      this.credit.push(this.add({ kind: 'credit', level }));
    for (const [w, worker] of this.workers.entries())
      this.perWorker.push({
        answer: this.add({ kind: 'answer', worker }, w),
        error: this.add({ kind: 'error', worker }, w),
        workerError: this.add({ kind: 'worker-error', worker }, w),
        workerInitialized: this.add({ kind: 'worker-initialized', worker }, w),
        lateAnswer: this.add({ kind: 'late-answer', worker }, w),
        add: this.add({ kind: 'add-worker', worker }, w),
        remove: this.add({ kind: 'remove-worker', worker }, w),
        spoofs: [STRANGER, ...this.workers.filter((other) => other !== worker)].map((from) =>
          this.add({ kind: 'spoof-answer', worker, from }),
        ),
      });
    this.later = this.add({ kind: 'time', to: 'later' });
    this.deadline = this.add({ kind: 'time', to: 'deadline' });
    this.cron = this.add({ kind: 'cron' });
    this.spoofCredit = this.add({ kind: 'spoof-credit' });
    this.spoofAdmin = this.add({ kind: 'spoof-admin' });
    this.pause = this.add({ kind: 'pause' });
    this.resume = this.add({ kind: 'resume' });
    this.withdraw = this.add({ kind: 'withdraw', excess: false });
    this.withdrawTooMuch = this.add({ kind: 'withdraw', excess: true });
    for (let rank = 0; rank < bounds.requests; rank++)
      this.duplicate.push(this.add({ kind: 'duplicate', rank }));
  }

  /** The index of an event (for tests and traces written by hand). */
  of(event: CheckEvent): number {
    const i = this.index.get(eventKey(event));
    if (i === undefined) throw new Error(`no such event in these bounds: ${describeEvent(event)}`);
    return i;
  }

  private add(event: CheckEvent, worker = -1): number {
    this.index.set(eventKey(event), this.events.length);
    this.events.push(event);
    this.workerOf.push(worker);
    return this.events.length - 1;
  }
}

function eventKey(event: CheckEvent): string {
  return JSON.stringify(event);
}

export function describeEvent(event: CheckEvent): string {
  switch (event.kind) {
    case 'credit':
      return event.level === 0 ? 'an underpaid credit' : `a credit at level ${event.level}`;
    case 'answer':
      return `${event.worker} answers`;
    case 'error':
      return `${event.worker} answers Inference-Error`;
    case 'worker-error':
      return `${event.worker} reports Worker-Error`;
    case 'worker-initialized':
      return `${event.worker} reports Worker-Initialized`;
    case 'late-answer':
      return `${event.worker} answers late`;
    case 'time':
      return event.to === 'later' ? 'time passes a little' : 'time passes the next deadline';
    case 'cron':
      return 'a Cron tick';
    case 'spoof-credit':
      return 'a forged Credit-Notice';
    case 'duplicate':
      return `the Credit-Notice of live request #${event.rank + 1} is delivered again`;
    case 'spoof-answer':
      return `${event.from} forges an answer for ${event.worker}'s request`;
    case 'spoof-admin':
      return 'a stranger tries to withdraw';
    case 'pause':
      return 'the owner pauses';
    case 'resume':
      return 'the owner resumes';
    case 'add-worker':
      return `the owner adds ${event.worker}`;
    case 'remove-worker':
      return `the owner removes ${event.worker}`;
    case 'withdraw':
      return event.excess
        ? 'the owner tries to withdraw more than the revenue'
        : 'the owner withdraws the revenue';
  }
}

/** Time points of a node, on the canonical scale (see abstraction.ts). */
export interface Clockwork {
  /** The herder's `now` in every stored state. */
  readonly now: number;
  /** Deadline of a dispatch made at `now`. */
  readonly timeout: number;
}

/**
 * Calls `visit` with the time of every timer of `state`: the deadline of each running request and
 * the queue-wait deadline of each waiting one (times may repeat).
 */
export function eachTimer(state: HerderState, visit: (at: number) => void): void {
  for (const worker of state.herd.all()) if (worker.status === 'busy') visit(worker.deadline);
  for (const record of state.requests.values()) if (state.queue.isWaiting(record)) visit(record.waitUntil);
}

/** Distinct times at which a timer of `state` fires ({@link eachTimer}), ascending. */
export function deadlineGroups(state: HerderState): number[] {
  const values: number[] = [];
  eachTimer(state, (at) => {
    if (!values.includes(at)) values.push(at);
  });
  return values.sort((a, b) => a - b);
}

/** The latest time at which a timer of `state` fires, or undefined when none is pending. */
export function latestTimer(state: HerderState): number | undefined {
  let latest: number | undefined;
  eachTimer(state, (at) => {
    if (latest === undefined || at > latest) latest = at;
  });
  return latest;
}

/** Indices (into `table.events`) of every event enabled at `node`. */
export function enabledEvents(node: Node, table: EventTable, clockwork: Clockwork): number[] {
  const { bounds } = table;
  const { state } = node;
  const out: number[] = [];
  if (node.sent < bounds.requests)
    for (let level = bounds.underpaid ? 0 : 1; level <= bounds.levels; level++)
      out.push(table.credit[level]!);
  const unavailable = bounds.recovery && (bounds.failures || bounds.timeouts);
  let busy = 0;
  for (let w = 0; w < table.workers.length; w++) {
    const events = table.perWorker[w]!;
    const worker = state.herd.get(table.workers[w]!);
    if (worker === undefined) {
      if (bounds.ownerActions) out.push(events.add);
      continue;
    }
    const status = worker.status;
    if (status === 'busy') {
      busy++;
      out.push(events.answer);
      if (bounds.failures) out.push(events.error);
      if (bounds.spoofs) out.push(...events.spoofs);
    }
    // Any worker in the herd may report Worker-Error, a failed one again: a timed-out worker and
    // a failed one then have the same events, and the encoding may name them alike (encoding.ts).
    if (bounds.failures) out.push(events.workerError);
    if (unavailable && (status === 'failed' || status === 'timed-out')) out.push(events.workerInitialized);
    if (bounds.lateAnswers && status === 'timed-out') out.push(events.lateAnswer);
    if (bounds.ownerActions) {
      out.push(events.remove);
      if (worker.draining) out.push(events.add);
    }
  }
  // Time passes while a timer is pending. Without --timeouts workers answer before their deadlines,
  // so time passes only while none is running (then only queue waits are pending).
  const latest = latestTimer(state);
  if (latest !== undefined && (bounds.timeouts || busy === 0)) {
    if (node.clock === clockwork.now && latest === clockwork.now + clockwork.timeout) out.push(table.later);
    if (latest >= node.clock) out.push(table.deadline);
  }
  if (node.clock > clockwork.now) out.push(table.cron);
  if (bounds.spoofs) out.push(table.spoofCredit, table.spoofAdmin);
  if (bounds.duplicates)
    for (let rank = 0; rank < state.requests.size; rank++) out.push(table.duplicate[rank]!);
  if (bounds.ownerActions) {
    out.push(state.paused ? table.resume : table.pause);
    if (state.ledger.revenue > state.ledger.withdrawn) out.push(table.withdraw);
    out.push(table.withdrawTooMuch);
  }
  return out;
}

/** The clock after a time event. */
export function advanceClock(node: Node, to: 'later' | 'deadline', clockwork: Clockwork): number {
  if (to === 'later') return clockwork.now + 1;
  // The earliest timer the clock has not passed.
  let next = Number.POSITIVE_INFINITY;
  eachTimer(node.state, (at) => {
    if (at >= node.clock && at < next) next = at;
  });
  if (next === Number.POSITIVE_INFINITY) throw new Error('no deadline left to pass');
  return next + 1;
}

/** Fresh message ids (and client ids): never repeated within one exploration, on any thread. */
export class Ids {
  private n = 0;
  /** `suffix` keeps the ids of different threads apart when states move between them. */
  constructor(private readonly suffix = '') {}
  next(): string {
    return `m${++this.n}${this.suffix}`;
  }
}

function message(
  ids: Ids,
  from: string,
  timestamp: number,
  tags: Record<string, string>,
  data?: string,
): AoMessage {
  return data === undefined
    ? { id: ids.next(), from, timestamp, tags }
    : { id: ids.next(), from, timestamp, tags, data };
}

function creditNotice(ids: Ids, from: string, timestamp: number, quantity: bigint): AoMessage {
  const id = ids.next();
  const tags = {
    Action: Action.CreditNotice,
    Sender: `C-${id}`,
    Quantity: quantity.toString(),
    'X-Prompt': PROMPT,
    'X-Tokens': String(TOKENS),
  };
  return { id, from, timestamp, tags };
}

/** The message an event delivers at `node` (time events deliver none). */
export function messageFor(
  node: Node,
  event: CheckEvent,
  bounds: CheckBounds,
  config: HerdConfig,
  ids: Ids,
): AoMessage | undefined {
  const { state, clock } = node;
  switch (event.kind) {
    case 'credit':
      return creditNotice(ids, TOKEN, clock, payment(bounds, config, event.level));
    case 'answer':
      return message(
        ids,
        event.worker,
        clock,
        {
          Action: Action.InferenceResponse,
          'X-Request': state.herd.get(event.worker)?.request ?? '',
        },
        'an answer',
      );
    case 'error':
      return message(ids, event.worker, clock, {
        Action: Action.InferenceError,
        'X-Request': state.herd.get(event.worker)?.request ?? '',
        'X-Reason': 'out of memory',
      });
    case 'worker-error':
      return message(ids, event.worker, clock, { Action: Action.WorkerError, 'X-Reason': 'model lost' });
    case 'worker-initialized':
      return message(ids, event.worker, clock, { Action: Action.WorkerInitialized });
    case 'late-answer':
      return message(
        ids,
        event.worker,
        clock,
        {
          Action: Action.InferenceResponse,
          'X-Request': state.herd.get(event.worker)?.lastRequest ?? '',
        },
        'a late answer',
      );
    case 'time':
      return undefined;
    case 'cron':
      return message(ids, OWNER, clock, { Action: 'Cron' });
    case 'spoof-credit':
      return creditNotice(ids, STRANGER, clock, payment(bounds, config, 1));
    case 'duplicate': {
      const record = [...state.requests.values()][event.rank]!;
      const tags = {
        Action: Action.CreditNotice,
        Sender: record.client,
        Quantity: record.multiplier.paid.toString(),
        'X-Prompt': record.prompt,
        'X-Tokens': String(record.tokens),
      };
      return { id: record.id, from: TOKEN, timestamp: clock, tags };
    }
    case 'spoof-answer':
      return message(
        ids,
        event.from,
        clock,
        {
          Action: Action.InferenceResponse,
          'X-Request': state.herd.get(event.worker)?.request ?? '',
        },
        'a forged answer',
      );
    case 'spoof-admin':
      return message(ids, STRANGER, clock, { Action: Action.Withdraw, Quantity: '1' });
    case 'pause':
      return message(ids, OWNER, clock, { Action: Action.Pause });
    case 'resume':
      return message(ids, OWNER, clock, { Action: Action.Resume });
    case 'add-worker':
      return message(ids, OWNER, clock, { Action: Action.AddWorker, Worker: event.worker });
    case 'remove-worker':
      return message(ids, OWNER, clock, { Action: Action.RemoveWorker, Worker: event.worker });
    case 'withdraw': {
      const withdrawable = state.ledger.revenue - state.ledger.withdrawn;
      const quantity = event.excess ? withdrawable + 1n : withdrawable;
      return message(ids, OWNER, clock, { Action: Action.Withdraw, Quantity: quantity.toString() });
    }
  }
}
