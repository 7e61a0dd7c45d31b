/**
 * One herder step, observed. `observeStep` runs the model's own step on a copy of the state and
 * records, in order, what the step did to each worker and each request: the journal that drives
 * the worker and request machines. Nothing is decided here: the journal is written by watching
 * the model's herd and queue operations while `stepInPlace` runs, and a request's outcome is read
 * from the outbox the model produced.
 */

import { Herd, type WorkerStatus } from '../model/herd.ts';
import type { HerderState } from '../model/herder.ts';
import { cloneHerderState, stepInPlace } from '../model/herder.ts';
import { Action, type AoMessage, type OutMessage, tag } from '../model/messages.ts';
import { RequestQueue } from '../model/queue.ts';

/** What happened to one worker during a step, named after its cause. */
export type WorkerCause =
  /** Registered by the owner (or at start). */
  | 'Add-Worker'
  /** Removed by the owner while not busy. */
  | 'Remove-Worker'
  /** Left the herd when the request it held ended, its removal having been requested. */
  | 'drained'
  /** Given a request. */
  | 'Inference'
  /** Its deadline passed. */
  | 'deadline'
  /** The incoming message that changed its status. */
  | 'Inference-Response'
  | 'Inference-Error'
  | 'Worker-Error'
  | 'Worker-Initialized';

/** What happened to one request during a step. */
export type RequestCause =
  /** Accepted and queued at its arrival place. */
  | 'enqueue'
  /** Refunded on arrival (invalid, underpaid, paused): it never entered the queue. */
  | 'refuse'
  /** Handed to a worker. */
  | 'dispatch'
  /** A failed attempt: back in the queue at its arrival place. */
  | 'retry'
  /** Left the herder: answered or refunded, as the outbox tells. */
  | 'release';

export type JournalEntry =
  | { readonly kind: 'worker'; readonly worker: string; readonly cause: WorkerCause }
  | { readonly kind: 'request'; readonly request: string; readonly cause: RequestCause };

export interface ObservedStep {
  readonly state: HerderState;
  readonly outbox: OutMessage[];
  readonly journal: JournalEntry[];
}

/** A step that updates a state in place and returns the outbox (the model's `stepInPlace`, or a variant). */
export type InPlaceStep = (state: HerderState, msg: AoMessage) => OutMessage[];

const modelStep: InPlaceStep = (state, msg) => stepInPlace(state, msg);

/** Runs one step on a copy of `state` (left untouched) and journals its effects. */
export function observeStep(state: HerderState, msg: AoMessage, run: InPlaceStep = modelStep): ObservedStep {
  const next = cloneHerderState(state);
  const journal: JournalEntry[] = [];
  const action = tag(msg, 'Action');
  const detach = [watchHerd(next.herd, action, journal), watchQueue(next.queue, journal)];
  let outbox: OutMessage[];
  try {
    outbox = run(next, msg);
  } finally {
    for (const undo of detach) undo();
  }
  // A notice refunded on arrival never touches the queue: the refund in the outbox is its only trace.
  if (action === Action.CreditNotice && !state.requests.has(msg.id) && !next.requests.has(msg.id)) {
    const refunded = outbox.some((o) => o.tags.Action === Action.Transfer && o.tags['X-Request'] === msg.id);
    if (refunded) journal.push({ kind: 'request', request: msg.id, cause: 'refuse' });
  }
  return { state: next, outbox, journal };
}

/** The cause of a status change made while handling a message whose Action is `action`. */
function causeOf(from: WorkerStatus, to: WorkerStatus, action: string | undefined): WorkerCause {
  if (to === 'busy') return 'Inference';
  if (from === 'busy' && to === 'timed-out') return 'deadline';
  // Added after reporting Worker-Error: it joins the herd failed, as that report said.
  if (from === 'idle' && to === 'failed' && action === Action.AddWorker) return Action.WorkerError;
  switch (action) {
    case Action.InferenceResponse:
    case Action.InferenceError:
    case Action.WorkerError:
    case Action.WorkerInitialized:
      return action;
    default:
      throw new Error(
        `unexpected worker status change ${from} → ${to} on ${action ?? 'a message without Action'}`,
      );
  }
}

/** Journals the herd's status changes, additions and removals; returns the function that stops it. */
function watchHerd(herd: Herd, action: string | undefined, journal: JournalEntry[]): () => void {
  const proto = Herd.prototype;
  /** Inside add/remove, whose own status bookkeeping is not a change of its own. */
  let nested = 0;
  const watched = herd as unknown as Record<string, unknown>;
  watched.setStatus = function setStatus(this: Herd, record, status) {
    const from = record.status;
    proto.setStatus.call(this, record, status);
    if (nested === 0 && from !== status)
      journal.push({ kind: 'worker', worker: record.id, cause: causeOf(from, status, action) });
  } satisfies Herd['setStatus'];
  watched.add = function add(this: Herd, id) {
    nested++;
    try {
      return proto.add.call(this, id);
    } finally {
      nested--;
      journal.push({ kind: 'worker', worker: id, cause: 'Add-Worker' });
    }
  } satisfies Herd['add'];
  watched.remove = function remove(this: Herd, record) {
    const cause: WorkerCause = record.draining ? 'drained' : 'Remove-Worker';
    nested++;
    try {
      proto.remove.call(this, record);
    } finally {
      nested--;
      journal.push({ kind: 'worker', worker: record.id, cause });
    }
  } satisfies Herd['remove'];
  return () => {
    delete watched.setStatus;
    delete watched.add;
    delete watched.remove;
  };
}

/** Journals the queue operations on requests; returns the function that stops it. */
function watchQueue(queue: HerderState['queue'], journal: JournalEntry[]): () => void {
  const proto = RequestQueue.prototype;
  const watched = queue as unknown as Record<string, unknown>;
  const wrap = (name: 'enqueue' | 'dispatch' | 'requeue' | 'release', cause: RequestCause) => {
    const original = proto[name] as (this: typeof queue, entry: { id: string }) => void;
    watched[name] = function (this: typeof queue, entry: { id: string }) {
      original.call(this, entry);
      journal.push({ kind: 'request', request: entry.id, cause });
    };
  };
  wrap('enqueue', 'enqueue');
  wrap('dispatch', 'dispatch');
  wrap('requeue', 'retry');
  wrap('release', 'release');
  return () => {
    for (const name of ['enqueue', 'dispatch', 'requeue', 'release']) delete watched[name];
  };
}

/** A worker's status in the model, or `absent` when it is not in the herd. */
export type ModelWorkerStatus = WorkerStatus | 'absent';

export function modelWorkerStatus(state: HerderState, worker: string): ModelWorkerStatus {
  return state.herd.get(worker)?.status ?? 'absent';
}

/** A request's status in the model: waiting in the queue, running on a worker, or ended (gone). */
export type ModelRequestStatus = 'waiting' | 'running' | 'ended';

export function modelRequestStatus(state: HerderState, request: string): ModelRequestStatus {
  const record = state.requests.get(request);
  if (record === undefined) return 'ended';
  return state.queue.isWaiting(record) ? 'waiting' : 'running';
}
