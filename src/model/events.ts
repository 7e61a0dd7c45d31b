/**
 * What a herder step did, as events in the order it did them (docs/design.md §1, §2): the
 * machines, the checker, the simulator and the docs learn from these what happened to each request
 * and each worker, instead of watching the model's objects.
 *
 * A step reports events only to a caller that asks for them (it passes an array to append to), so
 * that the hot path of the simulator and the benchmarks allocates nothing for them.
 */
import type { Amount } from './amount.ts';
import type { ProcessId } from './config.ts';
import type { WorkerStatus } from './herd.ts';

/**
 * Why something happened: the Action of the incoming message that caused it, a passed deadline
 * of a running request (`deadline`), a passed queue-wait bound of a waiting one (`queue-wait`), or
 * the dispatch phase handing waiting requests to idle workers (`dispatch`).
 */
export type Cause =
  | 'Credit-Notice'
  | 'Inference-Response'
  | 'Inference-Error'
  | 'Worker-Error'
  | 'Worker-Initialized'
  | 'Add-Worker'
  | 'Remove-Worker'
  | 'deadline'
  | 'queue-wait'
  | 'dispatch';

/** A worker's status in the herd, or `absent` before it joins and after it leaves. */
export type HerdStatus = WorkerStatus | 'absent';

export type StepEvent =
  /** A valid, sufficiently paid Credit-Notice: its payment is held in escrow. */
  | {
      readonly type: 'accepted';
      readonly request: string;
      readonly client: ProcessId;
      readonly paid: Amount;
      readonly cause: 'Credit-Notice';
    }
  /** A paid Credit-Notice refunded on arrival (invalid, underpaid, paused, too large): never queued. */
  | {
      readonly type: 'refused';
      readonly request: string;
      readonly client: ProcessId;
      readonly paid: Amount;
      readonly reason: string;
      readonly cause: 'Credit-Notice';
    }
  /** An accepted request entered the queue at its arrival place. */
  | { readonly type: 'queued'; readonly request: string; readonly cause: 'Credit-Notice' }
  /** A waiting request went to a worker; `attempt` counts from 1. */
  | {
      readonly type: 'dispatched';
      readonly request: string;
      readonly worker: ProcessId;
      readonly attempt: number;
      readonly cause: 'dispatch';
    }
  /** An attempt failed and attempts remain: the request waits again at its arrival place. */
  | {
      readonly type: 'retried';
      readonly request: string;
      readonly worker: ProcessId;
      readonly cause: 'Inference-Error' | 'Worker-Error' | 'deadline';
    }
  /** The worker's answer went to the payer; the payment became revenue. */
  | {
      readonly type: 'answered';
      readonly request: string;
      readonly worker: ProcessId;
      readonly cause: 'Inference-Response';
    }
  /** An accepted request ended with its whole payment returned to the payer. */
  | {
      readonly type: 'refunded';
      readonly request: string;
      readonly reason: string;
      readonly cause: 'Inference-Error' | 'Worker-Error' | 'deadline' | 'queue-wait';
    }
  /** A worker joined the herd, changed status or left it. */
  | {
      readonly type: 'worker';
      readonly worker: ProcessId;
      readonly from: HerdStatus;
      readonly to: HerdStatus;
      readonly cause: Cause;
    };

export type StepEventType = StepEvent['type'];

/** Events about one request (every event but a worker's status change). */
export type RequestEvent = Exclude<StepEvent, { type: 'worker' }>;

/** A worker's status change. */
export type WorkerEvent = Extract<StepEvent, { type: 'worker' }>;
