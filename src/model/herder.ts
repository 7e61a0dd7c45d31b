/**
 * The herder's step function: `step(state, message) → { state, outbox, events }` (docs/design.md §2).
 *
 * Every message is handled in three phases, always in this order:
 *   1. time: `now` advances to the message's Timestamp and every passed deadline is handled
 *      (the request is retried or refunded; the worker is suspended until it answers), then
 *      every request that has waited in the queue longer than `maxQueueWait` is refunded;
 *   2. the message itself (credits, worker answers, Info, administration; the rest is ignored);
 *   3. dispatch: while a worker is idle and the queue is non-empty, the queue's next request goes
 *      to the longest-idle worker.
 *
 * `stepInPlace` mutates the state and returns the outbox, and reports what happened to an events
 * array when given one (what the simulator, the checker and the properties use); `step` leaves its
 * input untouched and always reports events.
 */

import { handleAdmin, isAdminAction } from './admin.ts';
import type { HerdConfig } from './config.ts';
import { judgeCredit } from './credit.ts';
import { DeadlineHeap } from './deadlines.ts';
import type { Cause, StepEvent } from './events.ts';
import { compareMultipliers, type Multiplier } from './fees.ts';
import { Herd, type WorkerRecord } from './herd.ts';
import { infoResponse } from './info.ts';
import { cloneLedger, copyLedger, emptyLedger } from './ledger.ts';
import { Action, type AoMessage, type OutMessage, Reason, tag, transfer } from './messages.ts';
import { RequestQueue } from './queue.ts';
import {
  DEDUP_WINDOW,
  forgetUnready,
  type HerderState,
  isRemembered,
  moveWorker,
  type RequestRecord,
  rememberUnready,
} from './state.ts';

export { infoDescription, infoResponse } from './info.ts';
export {
  DEDUP_WINDOW,
  forgetUnready,
  type HerderState,
  isRemembered,
  MAX_UNREADY,
  type RequestRecord,
  rememberUnready,
} from './state.ts';

import { copyList, emptyList, type Mutable } from './mutable.ts';

export function initialHerderState(
  config: HerdConfig,
  order: (a: Multiplier, b: Multiplier) => number = compareMultipliers,
): HerderState {
  return {
    config,
    paused: false,
    now: 0,
    seen: new Map(),
    seenBefore: new Map(),
    generation: 0,
    handled: 0,
    arrivals: 0,
    requests: new Map(),
    queue: new RequestQueue(order),
    herd: new Herd(config.workers),
    deadlines: new DeadlineHeap(),
    waits: new DeadlineHeap(),
    // Stryker disable next-line ArrayDeclaration: equivalent, no process is named so
    unready: [],
    ledger: emptyLedger(),
    lastMultiplier: undefined,
  };
}

/**
 * A request's copy, its fields written out in the order handleCredit creates them (the model
 * checker copies every live request per transition, and a spread copies about 1.5× slower).
 */
function copyRequest(r: RequestRecord): RequestRecord {
  return {
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
  };
}

/** Copied entry by entry: faster than the Map constructor's generic walk of an iterable. */
function copyWindow(window: Map<string, number>): Map<string, number> {
  const copy = new Map<string, number>();
  for (const [id, until] of window) copy.set(id, until);
  return copy;
}

/** A deep copy: stepping the copy never affects the original. */
export function cloneHerderState(state: HerderState): HerderState {
  const requests = new Map<string, RequestRecord>();
  for (const [id, record] of state.requests) requests.set(id, copyRequest(record));
  return {
    ...state,
    seen: copyWindow(state.seen),
    seenBefore: copyWindow(state.seenBefore),
    requests,
    queue: state.queue.clone((entry) => requests.get(entry.id)!),
    herd: state.herd.clone(),
    deadlines: state.deadlines.clone(),
    waits: state.waits.clone(),
    unready: [...state.unready],
    ledger: cloneLedger(state.ledger),
  };
}

/**
 * Writes every field of `source` over `own`, a record of the same id in another state (which may
 * still be another request: the checker renames requests by arrival).
 */
function restoreRequest(own: RequestRecord, source: RequestRecord): void {
  const writable = own as Mutable<RequestRecord>;
  writable.client = source.client;
  writable.reference = source.reference;
  writable.prompt = source.prompt;
  writable.tokens = source.tokens;
  writable.multiplier = source.multiplier;
  writable.arrival = source.arrival;
  own.slot = source.slot;
  own.overtakes = source.overtakes;
  own.attempts = source.attempts;
  copyList(own.tried, source.tried);
  own.worker = source.worker;
  own.waitUntil = source.waitUntil;
}

/** Makes `own` hold `source`'s entries, in its order. */
function restoreWindow(own: Map<string, number>, source: Map<string, number>): void {
  if (own.size > 0) own.clear();
  if (source.size > 0) for (const [id, until] of source) own.set(id, until);
}

/**
 * Makes `target` equal to `source`, as {@link cloneHerderState} would copy it, reusing `target`'s
 * own objects: a request both hold keeps its record, written over. What the model checker does
 * before every transition to one scratch state instead of copying the parent (which allocated
 * the whole state, a third of its time). `target` must be a state of its own (made by
 * cloneHerderState or stepped from one), sharing nothing mutable with `source`.
 */
export function restoreHerderState(target: HerderState, source: HerderState): void {
  target.config = source.config;
  target.paused = source.paused;
  target.now = source.now;
  target.generation = source.generation;
  target.handled = source.handled;
  target.arrivals = source.arrivals;
  target.lastMultiplier = source.lastMultiplier;
  restoreWindow(target.seen, source.seen);
  restoreWindow(target.seenBefore, source.seenBefore);
  // The target's requests past the prefix it shares with the source's (in arrival order) go, their
  // records kept aside; the source's rest are appended in order, in kept records where there are
  // (after a step that accepted a request nothing is kept aside but that one, and no map is refilled).
  const requests = target.requests;
  // The records of the prefix both share (in arrival order) are written over as it is found.
  const ownRecords = requests.values();
  let shared = 0;
  for (const record of source.requests.values()) {
    const next = ownRecords.next();
    if (next.done === true || next.value.id !== record.id) break;
    restoreRequest(next.value, record);
    shared++;
  }
  const kept = restoredRecords;
  if (requests.size > shared) {
    let place = 0;
    for (const record of requests.values())
      if (place++ >= shared) {
        kept.push(record);
        requests.delete(record.id);
      }
  }
  // Each of the source's rest gets the kept record of its id, else one kept for no id of the
  // source's (one the last step accepted, or one the state last restored from held: its record
  // is written over, id too), else a copy (as for a request the last step ended).
  let at = 0;
  let spare = 0;
  for (const record of source.requests.values()) {
    if (at++ < shared) continue;
    let own: RequestRecord | undefined;
    for (let i = 0; i < kept.length; i++) if (kept[i]!.id === record.id) own = kept[i];
    if (own === undefined) {
      while (spare < kept.length && source.requests.has(kept[spare]!.id)) spare++;
      if (spare < kept.length) {
        own = kept[spare++]!;
        (own as Mutable<RequestRecord>).id = record.id;
      }
    }
    if (own === undefined) requests.set(record.id, copyRequest(record));
    else {
      restoreRequest(own, record);
      requests.set(own.id, own);
    }
  }
  emptyList(kept);
  restoring = requests;
  target.queue.restoreFrom(source.queue, ownRecord);
  target.herd.restoreFrom(source.herd);
  target.deadlines.restoreFrom(source.deadlines);
  target.waits.restoreFrom(source.waits);
  copyList(target.unready, source.unready);
  copyLedger(target.ledger, source.ledger);
}

/** Scratch of {@link restoreHerderState}: the target's records set aside while its request table is rebuilt. */
const restoredRecords: RequestRecord[] = [];

/** The request table being restored, and its record of a queue entry (made once, not per restore). */
let restoring: Map<string, RequestRecord>;
const ownRecord = (entry: RequestRecord): RequestRecord => restoring.get(entry.id)!;

export interface StepResult {
  readonly state: HerderState;
  readonly outbox: OutMessage[];
  /** What the step did, in order. */
  readonly events: StepEvent[];
}

/** Pure step: returns the next state, the messages to send and the events; `state` is not modified. */
export function step(state: HerderState, msg: AoMessage): StepResult {
  const next = cloneHerderState(state);
  const events: StepEvent[] = [];
  return { state: next, outbox: stepInPlace(next, msg, events), events };
}

/**
 * A herder stepped from an explicit state: the model, or the model with a defect seeded to show
 * that the properties, the model checker and the machines catch it. What every tool that runs a
 * herder in TypeScript takes.
 */
export interface HerderStepper {
  readonly name: string;
  init(config: HerdConfig): HerderState;
  /** Handles one message, updating `state` in place; returns the outbox; appends to `events` what happened. */
  step(state: HerderState, msg: AoMessage, events?: StepEvent[]): OutMessage[];
}

/** The model itself. */
export const MODEL_STEPPER: HerderStepper = {
  name: 'model',
  init: (config) => initialHerderState(config),
  step: (state, msg, events) => stepInPlace(state, msg, events),
};

/**
 * Step that updates `state` in place and returns the outbox; what happened is appended to
 * `events` when given (and costs nothing otherwise).
 */
export function stepInPlace(state: HerderState, msg: AoMessage, events?: StepEvent[]): OutMessage[] {
  const outbox = receive(state, msg, events);
  dispatch(state, outbox, events);
  return outbox;
}

/**
 * Phases 1 and 2 of a step: time, then the message; returns the outbox so far. A variant with a
 * seeded dispatch defect runs this, then its own phase 3; one with a seeded de-duplication defect
 * passes its own `remembered`.
 */
export function receive(
  state: HerderState,
  msg: AoMessage,
  events?: StepEvent[],
  remembered: (state: HerderState, id: string) => boolean = isRemembered,
): OutMessage[] {
  const outbox: OutMessage[] = [];
  if (msg.timestamp > state.now) state.now = msg.timestamp;
  expireDeadlines(state, outbox, events);
  expireWaits(state, outbox, events);
  if (!remembered(state, msg.id)) {
    state.handled++;
    handleMessage(state, msg, outbox, events);
    forgetOld(state);
  }
  return outbox;
}

function handleMessage(
  state: HerderState,
  msg: AoMessage,
  outbox: OutMessage[],
  events: StepEvent[] | undefined,
): void {
  const action = tag(msg, 'Action');
  // A handled id is remembered first thing; a credit's once it is judged (see handleCredit).
  if (action === Action.CreditNotice) {
    handleCredit(state, msg, outbox, events);
    return;
  }
  remember(state, msg.id);
  switch (action) {
    case Action.InferenceResponse:
    case Action.InferenceError:
      handleAnswer(state, msg, action, outbox, events);
      return;
    case Action.WorkerError:
    case Action.WorkerInitialized:
      handleWorkerReport(state, msg, action, outbox, events);
      return;
    case Action.Info:
      outbox.push(infoResponse(state, msg.from));
      return;
    default:
      if (action !== undefined && isAdminAction(action)) handleAdmin(state, msg, action, outbox, events);
  }
}

function handleCredit(
  state: HerderState,
  msg: AoMessage,
  outbox: OutMessage[],
  events: StepEvent[] | undefined,
): void {
  const verdict = judgeCredit(state.config, state.paused, msg);
  // Its notice id counts as seen through `requests` while a request it makes lives (and is
  // remembered when that ends); any other is remembered now.
  // Stryker disable next-line StringLiteral: memory only, a live request's id counts through `requests`
  if (verdict.kind !== 'accept') remember(state, msg.id);
  const { ledger, config } = state;
  switch (verdict.kind) {
    // Stryker disable next-line StringLiteral: equivalent, an ignored notice matches no case and does nothing either
    case 'ignore':
      return;
    case 'unclaimed':
      ledger.credited += verdict.quantity;
      ledger.unclaimed += verdict.quantity;
      return;
    case 'refund': {
      if (!verdict.offBooks) {
        ledger.credited += verdict.quantity;
        ledger.refunded += verdict.quantity;
      }
      const tags: Record<string, string> = { 'X-Reason': verdict.reason, 'X-Request': msg.id };
      if (verdict.reference !== undefined) tags['X-Reference'] = verdict.reference;
      if (verdict.needed !== undefined) tags['X-Needed'] = verdict.needed.toString();
      outbox.push(transfer(config.token, verdict.sender, verdict.quantity, tags));
      events?.push({
        type: 'refused',
        request: msg.id,
        client: verdict.sender,
        paid: verdict.quantity,
        reason: verdict.reason,
        cause: Action.CreditNotice,
      });
      return;
    }
    case 'accept': {
      const record: RequestRecord = {
        id: verdict.id,
        client: verdict.client,
        reference: verdict.reference,
        prompt: verdict.prompt,
        tokens: verdict.tokens,
        multiplier: verdict.multiplier,
        arrival: ++state.arrivals,
        slot: 0,
        overtakes: 0,
        attempts: 0,
        tried: [],
        worker: undefined,
        waitUntil: 0,
      };
      ledger.credited += record.multiplier.paid;
      ledger.escrow += record.multiplier.paid;
      state.requests.set(record.id, record);
      state.queue.enqueue(record);
      startWait(state, record);
      if (events !== undefined) {
        const cause = Action.CreditNotice;
        events.push({
          type: 'accepted',
          request: record.id,
          client: record.client,
          paid: record.multiplier.paid,
          cause,
        });
        events.push({ type: 'queued', request: record.id, cause });
      }
    }
  }
}

/**
 * Inference-Response / Inference-Error: honoured only from the worker that holds the request.
 * Without `X-Request` (as workers written for the original answer) an answer is for the one
 * request the worker holds, or, from a timed-out worker, its late answer to the last one.
 */
function handleAnswer(
  state: HerderState,
  msg: AoMessage,
  action: typeof Action.InferenceResponse | typeof Action.InferenceError,
  outbox: OutMessage[],
  events: StepEvent[] | undefined,
): void {
  const worker = state.herd.get(msg.from);
  if (worker === undefined) return;
  const requestId =
    tag(msg, 'X-Request') ??
    (worker.status === 'busy'
      ? worker.request
      : worker.status === 'timed-out'
        ? worker.lastRequest
        : undefined);
  if (requestId === undefined) return;
  if (worker.status === 'busy' && worker.request === requestId) {
    const record = state.requests.get(requestId)!;
    if (action === Action.InferenceResponse) {
      const tags: Record<string, string> = { Action: Action.InferenceResponse, 'X-Request': record.id };
      if (record.reference !== undefined) tags['X-Reference'] = record.reference;
      outbox.push({ target: record.client, tags, data: msg.data ?? '' });
      state.ledger.escrow -= record.multiplier.paid;
      state.ledger.revenue += record.multiplier.paid;
      finish(state, record);
      events?.push({ type: 'answered', request: record.id, worker: worker.id, cause: action });
    } else {
      const detail = tag(msg, 'X-Reason');
      const why = detail ? `worker error: ${detail}` : 'worker error';
      retryOrRefund(state, record, worker.id, why, action, outbox, events);
    }
    freeWorker(state, worker, action, events);
  } else if (worker.status === 'timed-out' && worker.lastRequest === requestId) {
    // A late answer: its request was already retried or refunded, so it is dropped, but the
    // worker has shown it is alive again.
    freeWorker(state, worker, action, events);
  }
}

/**
 * Worker-Error marks a worker failed (its request is retried); Worker-Initialized revives it. From
 * a process outside the herd, the report is remembered for when the owner adds it (readiness).
 */
function handleWorkerReport(
  state: HerderState,
  msg: AoMessage,
  action: typeof Action.WorkerError | typeof Action.WorkerInitialized,
  outbox: OutMessage[],
  events: StepEvent[] | undefined,
): void {
  const worker = state.herd.get(msg.from);
  if (worker === undefined) {
    if (action === Action.WorkerError) rememberUnready(state, msg.from);
    else forgetUnready(state, msg.from);
    return;
  }
  if (action === Action.WorkerError) {
    const held = worker.status === 'busy' ? state.requests.get(worker.request!) : undefined;
    worker.request = undefined;
    if (worker.draining) {
      moveWorker(state, worker, 'absent', action, events);
      rememberUnready(state, worker.id);
    } else moveWorker(state, worker, 'failed', action, events);
    if (held !== undefined) retryOrRefund(state, held, worker.id, 'worker failed', action, outbox, events);
  } else if (worker.status === 'failed' || worker.status === 'timed-out') {
    freeWorker(state, worker, action, events);
  }
}

function expireDeadlines(state: HerderState, outbox: OutMessage[], events: StepEvent[] | undefined): void {
  const { deadlines } = state;
  while (deadlines.hasExpired(state.now)) {
    const at = deadlines.topAt;
    const holder = deadlines.topWorker;
    const request = deadlines.topRequest;
    deadlines.pop();
    const worker = state.herd.get(holder);
    if (worker === undefined || !isLive(worker, request, at)) continue;
    const record = state.requests.get(request)!;
    worker.request = undefined;
    moveWorker(state, worker, worker.draining ? 'absent' : 'timed-out', 'deadline', events);
    retryOrRefund(state, record, worker.id, 'worker timed out', 'deadline', outbox, events);
  }
}

/** Refunds every waiting request whose queue-wait deadline has passed, earliest first. */
function expireWaits(state: HerderState, outbox: OutMessage[], events: StepEvent[] | undefined): void {
  const { waits } = state;
  while (waits.hasExpired(state.now)) {
    const at = waits.topAt;
    const record = state.requests.get(waits.topRequest);
    waits.pop();
    // Stale: the request has ended, is running, or entered the queue again since.
    if (record === undefined || record.worker !== undefined || record.waitUntil !== at) continue;
    refund(state, record, Reason.QueueWait, 'queue-wait', outbox, events);
  }
}

/** The request (re-)enters the queue now: its queue-wait deadline starts. */
function startWait(state: HerderState, record: RequestRecord): void {
  record.waitUntil = state.now + state.config.maxQueueWait;
  state.waits.add(record.waitUntil, '', record.id, record.arrival);
  // Entries of requests that were dispatched or ended stay until they pass; drop them in bulk once
  // they outnumber the live ones, so that the heap stays within a small multiple of the queue.
  // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator,BlockStatement: when to prune is a cost choice only
  if (state.waits.size > 2 * state.queue.length + 64) {
    const { requests } = state;
    state.waits.pruneBy((at, _worker, request) => {
      const live = requests.get(request);
      return live !== undefined && live.worker === undefined && live.waitUntil === at;
    });
  }
}

/**
 * Whether a deadline-heap entry is still the deadline of `worker`'s running request. A stale entry
 * (the worker has since finished, or holds the request again on a later attempt) is skipped.
 */
function isLive(worker: WorkerRecord, request: string, at: number): boolean {
  return worker.status === 'busy' && worker.request === request && worker.deadline === at;
}

/** What ends an attempt on a worker without an answer. */
type FailedAttempt = typeof Action.InferenceError | typeof Action.WorkerError | 'deadline';

/**
 * After a failed attempt on `worker`: back in the queue at its arrival place, or refunded if out
 * of attempts.
 */
function retryOrRefund(
  state: HerderState,
  record: RequestRecord,
  worker: string,
  why: string,
  cause: FailedAttempt,
  outbox: OutMessage[],
  events: StepEvent[] | undefined,
): void {
  record.worker = undefined;
  if (record.attempts < state.config.maxAttempts) {
    state.queue.requeue(record);
    startWait(state, record);
    events?.push({ type: 'retried', request: record.id, worker, cause });
    return;
  }
  const reason = `${Reason.AttemptsExhausted} after ${record.attempts} attempt(s): ${why}`;
  refund(state, record, reason, cause, outbox, events);
}

/** Ends an accepted request with a refund of its whole payment to the payer. */
function refund(
  state: HerderState,
  record: RequestRecord,
  reason: string,
  cause: FailedAttempt | 'queue-wait',
  outbox: OutMessage[],
  events: StepEvent[] | undefined,
): void {
  state.ledger.escrow -= record.multiplier.paid;
  state.ledger.refunded += record.multiplier.paid;
  const tags: Record<string, string> = { 'X-Reason': reason, 'X-Request': record.id };
  if (record.reference !== undefined) tags['X-Reference'] = record.reference;
  outbox.push(transfer(state.config.token, record.client, record.multiplier.paid, tags));
  finish(state, record);
  events?.push({ type: 'refunded', request: record.id, reason, cause });
}

function finish(state: HerderState, record: RequestRecord): void {
  state.queue.release(record);
  state.requests.delete(record.id);
  remember(state, record.id);
}

/**
 * Remembers `id` as handled for the next {@link DEDUP_WINDOW} handled messages, in the current
 * generation (a live request's notice id is remembered only when the request ends).
 */
function remember(state: HerderState, id: string): void {
  state.seen.set(id, state.handled + DEDUP_WINDOW);
}

/**
 * Starts a new generation every {@link DEDUP_WINDOW} handled messages, dropping the one before
 * whole: each of its ids was remembered before the current generation began, so its window has
 * ended by now. Dropping a map is cheaper than forgetting its ids one by one.
 */
function forgetOld(state: HerderState): void {
  if (state.handled - state.generation < DEDUP_WINDOW) return;
  state.seenBefore = state.seen;
  state.seen = new Map();
  state.generation = state.handled;
}

/** A worker that answered is idle again, or leaves the herd if its removal was requested. */
function freeWorker(
  state: HerderState,
  worker: WorkerRecord,
  cause: Cause,
  events: StepEvent[] | undefined,
): void {
  worker.request = undefined;
  moveWorker(state, worker, worker.draining ? 'absent' : 'idle', cause, events);
}

/** Phase 3, work conservation: never an idle worker and a waiting request after a step. */
export function dispatch(state: HerderState, outbox: OutMessage[], events?: StepEvent[]): void {
  const { queue, herd, config } = state;
  while (queue.length > 0 && herd.idleCount > 0) {
    const record = queue.peek(config.maxOvertakes)!;
    assign(state, record, herd.pickIdle(record.tried)!, outbox, events);
  }
}

/** Sends one waiting request to one idle worker and starts its deadline. */
export function assign(
  state: HerderState,
  record: RequestRecord,
  worker: WorkerRecord,
  outbox: OutMessage[],
  events?: StepEvent[],
): void {
  const { queue, herd, config } = state;
  queue.dispatch(record);
  // Its queue-wait entry is stale from now on; one added in this very step is still the heap's
  // last (the latest deadline) and goes at once, so that a herd with workers to spare keeps no
  // stale entries to skip and prune.
  state.waits.dropLast(record.waitUntil, record.id);
  record.attempts++;
  // The first worker as a one-element array: pushing onto an empty one reserves room for 17.
  if (record.tried.length === 0) record.tried = [worker.id];
  else record.tried.push(worker.id);
  record.worker = worker.id;
  moveWorker(state, worker, 'busy', 'dispatch', events);
  events?.push({
    type: 'dispatched',
    request: record.id,
    worker: worker.id,
    attempt: record.attempts,
    cause: 'dispatch',
  });
  worker.request = record.id;
  worker.lastRequest = record.id;
  worker.deadline = state.now + config.timeoutBase + config.timeoutPerToken * record.tokens;
  state.deadlines.add(worker.deadline, worker.id, record.id);
  // Finished requests leave stale entries behind until their deadline; drop them in bulk once
  // they outnumber the herd, so that the heap stays small (this changes no expiry).
  // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator,BlockStatement: when to prune is a cost choice only
  if (state.deadlines.size > 2 * herd.size + 64) {
    state.deadlines.pruneBy((at, holderId, request) => {
      const holder = herd.get(holderId);
      return holder !== undefined && isLive(holder, request, at);
    });
  }
  state.lastMultiplier = record.multiplier;
  outbox.push({
    target: worker.id,
    tags: { Action: Action.Inference, Tokens: String(record.tokens), 'X-Request': record.id },
    data: record.prompt,
  });
}
