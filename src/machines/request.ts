/**
 * One request's lifecycle, from the paid Credit-Notice to its one terminal outcome (DESIGN §2.3,
 * §2.7): credited → refunded on arrival, or queued → dispatched → answered | retried | refunded,
 * and refunded from the queue once it has waited out the queue-wait bound.
 *
 * A projection of the model: its events are the journal entries of `observeStep` (what the model
 * did to this request), and the guards that pick the outcome read the outbox the model produced.
 * Final states accept no event, so a second outcome for the same request cannot be represented.
 */
import { setup } from 'xstate';
import { Action, type OutMessage } from '../model/messages.ts';
import type { ModelRequestStatus, RequestCause } from './journal.ts';

export interface RequestEvent {
  readonly type: RequestCause;
  /** The outbox of the step in which it happened. */
  readonly outbox: readonly OutMessage[];
}

/** Whether the outbox forwards an answer for `request` to its payer. */
export function answerForwarded(outbox: readonly OutMessage[], request: string): boolean {
  return outbox.some((o) => o.tags.Action === Action.InferenceResponse && o.tags['X-Request'] === request);
}

/** Whether the outbox refunds `request` (a Transfer through the token naming it). */
export function refundSent(outbox: readonly OutMessage[], request: string): boolean {
  return outbox.some((o) => o.tags.Action === Action.Transfer && o.tags['X-Request'] === request);
}

export const requestMachine = setup({
  types: {
    context: {} as { readonly id: string },
    events: {} as RequestEvent,
    input: {} as { readonly id: string },
  },
  guards: {
    answerForwarded: ({ context, event }) => answerForwarded(event.outbox, context.id),
    refundSent: ({ context, event }) => refundSent(event.outbox, context.id),
  },
}).createMachine({
  id: 'request',
  description: 'One paid request, from its Credit-Notice to its one terminal outcome.',
  context: ({ input }) => ({ id: input.id }),
  initial: 'credited',
  states: {
    credited: {
      description: 'The token credited the herder for a notice naming a payer.',
      on: {
        enqueue: { target: 'queued' },
        refuse: { target: 'refunded', guard: 'refundSent' },
      },
    },
    queued: {
      description: 'Waiting at its arrival place, ordered by multiplier, at most maxQueueWait.',
      on: {
        dispatch: { target: 'dispatched' },
        release: { target: 'refunded', guard: 'refundSent' },
      },
    },
    dispatched: {
      description: 'Held by one worker until it answers or its deadline passes.',
      on: {
        retry: { target: 'retried' },
        release: [
          { target: 'answered', guard: 'answerForwarded' },
          { target: 'refunded', guard: 'refundSent' },
        ],
      },
    },
    retried: {
      description:
        'An attempt failed (error, worker failure or deadline): waiting again at its arrival place, at most maxQueueWait.',
      on: {
        dispatch: { target: 'dispatched' },
        release: { target: 'refunded', guard: 'refundSent' },
      },
    },
    answered: { type: 'final', description: "The worker's answer was forwarded to the payer." },
    refunded: { type: 'final', description: 'The whole payment went back to the payer.' },
  },
});

export type RequestMachineState = keyof typeof requestMachine.config.states;

/** The model's status of a request in each state of the machine (`credited` never lasts past a step). */
export const REQUEST_STATUS: Readonly<Record<string, ModelRequestStatus | undefined>> = {
  credited: undefined,
  queued: 'waiting',
  retried: 'waiting',
  dispatched: 'running',
  answered: 'ended',
  refunded: 'ended',
};
