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

/** Why something happened; what each cause means is `CAUSE_MEANINGS` below. */
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

/** What a step did; what each type means is `EVENT_MEANINGS` below. */
export type StepEvent =
  | {
      readonly type: 'accepted';
      readonly request: string;
      readonly client: ProcessId;
      readonly paid: Amount;
      readonly cause: 'Credit-Notice';
    }
  | {
      readonly type: 'refused';
      readonly request: string;
      readonly client: ProcessId;
      readonly paid: Amount;
      readonly reason: string;
      readonly cause: 'Credit-Notice';
    }
  | { readonly type: 'queued'; readonly request: string; readonly cause: 'Credit-Notice' }
  | {
      readonly type: 'dispatched';
      readonly request: string;
      readonly worker: ProcessId;
      readonly attempt: number;
      readonly cause: 'dispatch';
    }
  | {
      readonly type: 'retried';
      readonly request: string;
      readonly worker: ProcessId;
      readonly cause: 'Inference-Error' | 'Worker-Error' | 'deadline';
    }
  | {
      readonly type: 'answered';
      readonly request: string;
      readonly worker: ProcessId;
      readonly cause: 'Inference-Response';
    }
  | {
      readonly type: 'refunded';
      readonly request: string;
      readonly reason: string;
      readonly cause: 'Inference-Error' | 'Worker-Error' | 'deadline' | 'queue-wait';
    }
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

// Stryker disable all: documentation text, read once at load (Stryker credits it to whichever test
// loads the module first); test/docs/docs.test.ts fails on any change to it, through the docs it writes.
/** What each event type means, for the docs (the type checker holds it to `StepEvent`'s types). */
export const EVENT_MEANINGS: Readonly<Record<StepEventType, string>> = {
  accepted: 'a valid payment of at least the fee: it is held in escrow',
  refused: 'a payment returned whole on arrival (invalid, underpaid, paused, too large): never queued',
  queued: 'an accepted request entered the queue at its arrival place',
  dispatched: 'a waiting request went to an idle worker (`attempt` counts from 1)',
  retried: 'an attempt failed and attempts remain: the request waits again at its arrival place',
  answered: 'the worker’s answer went to the payer; the payment became revenue',
  refunded: 'an accepted request ended with its whole payment returned to the payer',
  worker:
    'a worker joined the herd, changed status or left it (`absent` before it joins and after it leaves)',
};

/** What each cause means, for the docs (the type checker holds it to `Cause`). */
export const CAUSE_MEANINGS: Readonly<Record<Cause, string>> = {
  'Credit-Notice': 'the token’s notice of a payment',
  'Inference-Response': 'a worker’s answer',
  'Inference-Error': 'a worker’s report that it could not answer',
  'Worker-Error': 'a worker’s report that it is broken (e.g. its model did not load)',
  'Worker-Initialized': 'a worker’s report that it is ready again',
  'Add-Worker': 'the owner added a worker',
  'Remove-Worker': 'the owner removed a worker',
  deadline: 'a running request’s deadline passed (found when the next message arrives)',
  'queue-wait': 'a waiting request reached `maxQueueWait` in the queue (found when the next message arrives)',
  dispatch: 'the dispatch phase that ends every step, handing waiting requests to idle workers',
};
// Stryker restore all
