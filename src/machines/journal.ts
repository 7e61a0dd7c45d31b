/**
 * One herder step as the machines see it: `observeStep` runs a step on a copy of the state and
 * returns the events the model reported, which drive the worker and request machines. Nothing is
 * decided or watched here: the model says what it did; this module only names, for the worker
 * machine, the transition each reported status change is.
 */

import type { StepEvent, WorkerEvent } from '../model/events.ts';
import type { WorkerStatus } from '../model/herd.ts';
import { cloneHerderState, type HerderState, type HerderStepper, MODEL_STEPPER } from '../model/herder.ts';
import type { AoMessage, OutMessage } from '../model/messages.ts';

/** What happened to one worker, as the worker machine's event: named after its cause. */
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

export interface ObservedStep {
  readonly state: HerderState;
  readonly outbox: OutMessage[];
  readonly events: StepEvent[];
}

/** Runs one step of `herder` (the model by default) on a copy of `state`, which is left untouched. */
export function observeStep(
  state: HerderState,
  msg: AoMessage,
  herder: HerderStepper = MODEL_STEPPER,
): ObservedStep {
  const next = cloneHerderState(state);
  const events: StepEvent[] = [];
  const outbox = herder.step(next, msg, events);
  return { state: next, outbox, events };
}

/** The worker machine's events for one reported status change, in order. */
export function workerCauses(event: WorkerEvent): WorkerCause[] {
  const { from, to, cause } = event;
  // Added after reporting Worker-Error: it joins the herd failed, as that report said.
  if (from === 'absent') return to === 'failed' ? ['Add-Worker', 'Worker-Error'] : ['Add-Worker'];
  if (to === 'absent') return [from === 'busy' ? 'drained' : 'Remove-Worker'];
  if (to === 'busy') return ['Inference'];
  switch (cause) {
    case 'deadline':
    case 'Inference-Response':
    case 'Inference-Error':
    case 'Worker-Error':
    case 'Worker-Initialized':
      return [cause];
    default:
      throw new Error(`unexpected worker status change ${from} → ${to} on ${cause}`);
  }
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
