/**
 * The worker and request machines run alongside the herder machine: after each herder step, the
 * step's journal is fed to the machine of every worker and request it names. `disagreements`
 * compares each machine's state with the model's own status of that worker or request.
 */
import { initialTransition, type SnapshotFrom, transition } from 'xstate';
import type { HerderState } from '../model/herder.ts';
import type { OutMessage } from '../model/messages.ts';
import {
  type JournalEntry,
  modelRequestStatus,
  modelWorkerStatus,
  type RequestCause,
  type WorkerCause,
} from './journal.ts';
import { REQUEST_STATUS, requestMachine } from './request.ts';
import { WORKER_STATUS, type WorkerMachineState, workerMachine } from './worker.ts';

type WorkerSnapshot = SnapshotFrom<typeof workerMachine>;
type RequestSnapshot = SnapshotFrom<typeof requestMachine>;

export class LifecycleProjection {
  readonly workers = new Map<string, WorkerSnapshot>();
  readonly requests = new Map<string, RequestSnapshot>();
  /** Journal entries a machine could not take: each one is a transition the diagram does not show. */
  readonly rejected: string[] = [];

  /** Starts with the herd's initial workers registered. */
  constructor(initialWorkers: readonly string[]) {
    for (const id of initialWorkers) this.feedWorker(id, 'Add-Worker');
  }

  /** Feeds one step's journal, in order, to the machines it names. */
  apply(journal: readonly JournalEntry[], outbox: readonly OutMessage[]): void {
    for (const entry of journal) {
      if (entry.kind === 'worker') this.feedWorker(entry.worker, entry.cause);
      else this.feedRequest(entry.request, entry.cause, outbox);
    }
  }

  workerState(id: string): WorkerMachineState {
    return (this.workers.get(id)?.value ?? 'uninitialised') as WorkerMachineState;
  }

  requestState(id: string): string | undefined {
    return this.requests.get(id)?.value as string | undefined;
  }

  /** Every worker and request whose machine state does not match the model's status. */
  disagreements(state: HerderState): string[] {
    const found = [...this.rejected];
    const ids = new Set([...this.workers.keys(), ...[...state.herd.all()].map((w) => w.id)]);
    for (const id of ids) {
      const machine = this.workerState(id);
      const model = modelWorkerStatus(state, id);
      if (WORKER_STATUS[machine] !== model) found.push(`worker ${id}: machine ${machine}, model ${model}`);
    }
    for (const id of state.requests.keys())
      if (!this.requests.has(id)) found.push(`request ${id}: live in the model, unknown to the machines`);
    for (const [id, snapshot] of this.requests) {
      const machine = snapshot.value as string;
      const model = modelRequestStatus(state, id);
      if (REQUEST_STATUS[machine] !== model) found.push(`request ${id}: machine ${machine}, model ${model}`);
    }
    return found;
  }

  private feedWorker(id: string, type: WorkerCause): void {
    const before = this.workers.get(id) ?? initialTransition(workerMachine)[0];
    const event = { type };
    if (!before.can(event)) this.rejected.push(`worker ${id}: no transition from ${before.value} on ${type}`);
    this.workers.set(id, transition(workerMachine, before, event)[0]);
  }

  private feedRequest(id: string, type: RequestCause, outbox: readonly OutMessage[]): void {
    const before = this.requests.get(id) ?? initialTransition(requestMachine, { id })[0];
    const event = { type, outbox };
    if (!before.can(event))
      this.rejected.push(`request ${id}: no transition from ${before.value} on ${type}`);
    this.requests.set(id, transition(requestMachine, before, event)[0]);
  }
}
