/**
 * The worker and request machines run alongside the herder machine: after each herder step, the
 * events the step reported are fed to the machine of every worker and request they name.
 * `disagreements` compares each machine's state with the model's own status of that worker or
 * request.
 */
import { type Actor, createActor } from 'xstate';
import type { RequestEvent, StepEvent } from '../model/events.ts';
import type { HerderState } from '../model/herder.ts';
import { modelRequestStatus, modelWorkerStatus, type WorkerCause, workerCauses } from './journal.ts';
import { REQUEST_STATUS, requestMachine } from './request.ts';
import { WORKER_STATUS, type WorkerMachineState, workerMachine } from './worker.ts';

export class LifecycleProjection {
  readonly workers = new Map<string, Actor<typeof workerMachine>>();
  readonly requests = new Map<string, Actor<typeof requestMachine>>();
  /** Events a machine could not take: each one is a transition the diagram does not show. */
  readonly rejected: string[] = [];

  /** Starts with the herd's initial workers registered. */
  constructor(initialWorkers: readonly string[]) {
    for (const id of initialWorkers) this.feedWorker(id, 'Add-Worker');
  }

  /** Requests named by the last events applied (ended ones are compared once, when they end). */
  private readonly touched = new Set<string>();

  /** Feeds one step's events, in order, to the machines they name. */
  apply(events: readonly StepEvent[]): void {
    this.touched.clear();
    for (const event of events) {
      if (event.type === 'worker') {
        for (const cause of workerCauses(event)) this.feedWorker(event.worker, cause);
      } else {
        this.touched.add(event.request);
        this.feedRequest(event);
      }
    }
  }

  workerState(id: string): WorkerMachineState {
    return (this.workers.get(id)?.getSnapshot().value ?? 'uninitialised') as WorkerMachineState;
  }

  requestState(id: string): string | undefined {
    return this.requests.get(id)?.getSnapshot().value as string | undefined;
  }

  /**
   * Every worker and request whose machine state does not match the model's status: all workers,
   * every live request, and the requests the last events named.
   */
  disagreements(state: HerderState): string[] {
    const found = [...this.rejected];
    const ids = new Set([...this.workers.keys(), ...[...state.herd.all()].map((w) => w.id)]);
    for (const id of ids) {
      const machine = this.workerState(id);
      const model = modelWorkerStatus(state, id);
      if (WORKER_STATUS[machine] !== model) found.push(`worker ${id}: machine ${machine}, model ${model}`);
    }
    for (const id of new Set([...state.requests.keys(), ...this.touched])) {
      const machine = this.requestState(id);
      const model = modelRequestStatus(state, id);
      if (machine === undefined) found.push(`request ${id}: ${model} in the model, unknown to the machines`);
      else if (REQUEST_STATUS[machine] !== model)
        found.push(`request ${id}: machine ${machine}, model ${model}`);
    }
    return found;
  }

  private feedWorker(id: string, type: WorkerCause): void {
    let actor = this.workers.get(id);
    if (actor === undefined) {
      actor = createActor(workerMachine).start();
      this.workers.set(id, actor);
    }
    const before = actor.getSnapshot();
    if (!before.can({ type }))
      this.rejected.push(`worker ${id}: no transition from ${before.value} on ${type}`);
    actor.send({ type });
  }

  private feedRequest(event: RequestEvent): void {
    const id = event.request;
    let actor = this.requests.get(id);
    if (actor === undefined) {
      actor = createActor(requestMachine, { input: { id } }).start();
      this.requests.set(id, actor);
    }
    const before = actor.getSnapshot();
    if (!before.can(event))
      this.rejected.push(`request ${id}: no transition from ${before.value} on ${event.type}`);
    actor.send(event);
  }
}
