/**
 * One worker's lifecycle (docs/design.md §2.5–2.7, §2.10). The worker process loads its model once
 * (uninitialised → loading → idle, or failed); once registered, the herder's view takes over:
 * idle ↔ busy, timedOut when a deadline passes (no new work until it answers again), failed on
 * Worker-Error, and removed when the owner takes it out (a busy one drains first).
 *
 * A projection of the model: the herder-side events are the status changes a model step reports,
 * named after what caused them (`workerCauses`); the process-side events (Init, Worker-Initialized,
 * Worker-Error while loading) are the worker step function's own messages.
 */
import { setup } from 'xstate';
import type { ModelWorkerStatus, WorkerCause } from './journal.ts';

export type WorkerEvent = { readonly type: WorkerCause } | { readonly type: 'Init' };

export const workerMachine = setup({
  types: {
    events: {} as WorkerEvent,
  },
}).createMachine({
  id: 'worker',
  description: 'One AOS-Llama worker, as its own process and as the herder sees it.',
  initial: 'uninitialised',
  states: {
    uninitialised: {
      description: 'Spawned, no model loaded.',
      on: { Init: { target: 'loading' }, 'Add-Worker': { target: 'idle' } },
    },
    loading: {
      description: 'Answering Init: loading its model from /data through WeaveDrive.',
      on: { 'Worker-Initialized': { target: 'idle' }, 'Worker-Error': { target: 'failed' } },
    },
    idle: {
      description: 'Registered and ready; dispatch prefers the worker idle longest.',
      on: {
        Inference: { target: 'busy' },
        'Worker-Error': { target: 'failed' },
        'Remove-Worker': { target: 'removed' },
      },
    },
    busy: {
      description: 'Holds exactly one request until it answers or its deadline passes.',
      on: {
        'Inference-Response': { target: 'idle' },
        'Inference-Error': { target: 'idle' },
        deadline: { target: 'timedOut' },
        'Worker-Error': { target: 'failed' },
        drained: { target: 'removed' },
      },
    },
    timedOut: {
      description: 'Missed a deadline: no new work until it answers its last request or reports ready.',
      on: {
        'Inference-Response': { target: 'idle' },
        'Inference-Error': { target: 'idle' },
        'Worker-Initialized': { target: 'idle' },
        'Worker-Error': { target: 'failed' },
        'Remove-Worker': { target: 'removed' },
      },
    },
    failed: {
      description: 'Reported Worker-Error: no work until it reports Worker-Initialized.',
      on: { 'Worker-Initialized': { target: 'idle' }, 'Remove-Worker': { target: 'removed' } },
    },
    removed: {
      description: 'Out of the herd; the owner may register it again.',
      on: { 'Add-Worker': { target: 'idle' } },
    },
  },
});

export type WorkerMachineState = keyof typeof workerMachine.config.states;

/** The model's status of a worker in each state of the machine. */
export const WORKER_STATUS: Readonly<Record<WorkerMachineState, ModelWorkerStatus>> = {
  uninitialised: 'absent',
  loading: 'absent',
  idle: 'idle',
  busy: 'busy',
  timedOut: 'timed-out',
  failed: 'failed',
  removed: 'absent',
};
