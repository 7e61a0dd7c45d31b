/**
 * The herder's state (what a step reads and changes), and the memory of workers that cannot
 * work yet. In a module of its own so that the step and owner administration both use it
 * without importing each other.
 */
import type { HerdConfig, ProcessId } from './config.ts';
import type { PaidRequest } from './credit.ts';
import type { DeadlineHeap } from './deadlines.ts';
import type { Cause, HerdStatus, StepEvent } from './events.ts';
import type { Multiplier } from './fees.ts';
import type { Herd, WorkerRecord } from './herd.ts';
import type { Ledger } from './ledger.ts';
import type { QueueEntry, RequestQueue } from './queue.ts';

/** A paid request from acceptance to its one terminal outcome. */
export interface RequestRecord extends PaidRequest, QueueEntry {
  /** Arrival number (1, 2, …) among accepted requests. */
  readonly arrival: number;
  /** Dispatches so far. */
  attempts: number;
  /** Workers it was dispatched to, in order. */
  tried: ProcessId[];
  /** The worker holding it, while running. */
  worker: ProcessId | undefined;
  /** While waiting: when it has waited `maxQueueWait` since it last entered the queue (ms). */
  waitUntil: number;
}

/** Messages after which a handled id (or the notice id of an ended request) is forgotten. */
export const DEDUP_WINDOW = 1_000;

/** Most processes outside the herd whose failed initialisation the herder remembers. */
export const MAX_UNREADY = 64;

export interface HerderState {
  /** Current settings: the config, as changed since by the owner. */
  config: HerdConfig;
  paused: boolean;
  /** Latest Timestamp seen (ms); never goes back. */
  now: number;
  /**
   * Ids remembered for de-duplication (a redelivered message is ignored), each with the number of
   * handled messages after which it is forgotten: every id for the next {@link DEDUP_WINDOW}
   * handled messages after it was handled or its request ended (a live request's notice id
   * counts as seen through `requests` instead). Kept in two generations: `seen` holds the ids
   * remembered since the handled count `generation`, `seenBefore` those of the generation
   * before; every {@link DEDUP_WINDOW} handled messages the older one is dropped whole, by when
   * each of its windows has ended (see {@link isRemembered}). Memory is bounded by live work,
   * not by age, and no id is forgotten one by one.
   */
  seen: Map<string, number>;
  seenBefore: Map<string, number>;
  generation: number;
  /** Messages handled so far (new ids only): the clock of the de-duplication window. */
  handled: number;
  arrivals: number;
  /** Requests that are queued or running, by id. */
  readonly requests: Map<string, RequestRecord>;
  readonly queue: RequestQueue<RequestRecord>;
  readonly herd: Herd;
  readonly deadlines: DeadlineHeap;
  /** Queue-wait deadlines of waiting requests (stale entries are skipped like deadlines). */
  readonly waits: DeadlineHeap;
  /**
   * Processes outside the herd whose last initialisation report was Worker-Error (or that left
   * the herd failed), oldest first, at most {@link MAX_UNREADY}: added by the owner, they join
   * the herd failed and get work only after Worker-Initialized.
   */
  readonly unready: ProcessId[];
  readonly ledger: Ledger;
  /** Multiplier of the last dispatched request. */
  lastMultiplier: Multiplier | undefined;
}

/** Whether `id` counts as handled already: a live request's notice id, or an id whose window is open. */
export function isRemembered(state: HerderState, id: string): boolean {
  if (state.requests.has(id)) return true;
  const until = state.seen.get(id) ?? state.seenBefore.get(id);
  return until !== undefined && until > state.handled;
}

/** Remembers that `id` (outside the herd) cannot work yet, as the newest entry. */
export function rememberUnready(state: HerderState, id: ProcessId): void {
  forgetUnready(state, id);
  state.unready.push(id);
  if (state.unready.length > MAX_UNREADY) state.unready.shift();
}

/** Forgets `id`'s failed initialisation; whether it was remembered. */
export function forgetUnready(state: HerderState, id: ProcessId): boolean {
  const index = state.unready.indexOf(id);
  if (index < 0) return false;
  state.unready.splice(index, 1);
  return true;
}

/**
 * Moves a worker to `to` (`absent`: it leaves the herd), reporting the change, when it is one, to
 * `events` with its cause. Every status change of a step goes through here.
 */
export function moveWorker(
  state: HerderState,
  worker: WorkerRecord,
  to: HerdStatus,
  cause: Cause,
  events: StepEvent[] | undefined,
): void {
  const from = worker.status;
  if (to === 'absent') state.herd.remove(worker);
  else state.herd.setStatus(worker, to);
  if (events !== undefined && from !== to)
    events.push({ type: 'worker', worker: worker.id, from, to, cause });
}
