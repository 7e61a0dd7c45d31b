/**
 * One request's lifecycle, from the paid Credit-Notice to its one terminal outcome (docs/design.md §2.3,
 * §2.7): credited → refunded on arrival, or accepted → queued → dispatched → answered | retried |
 * refunded, and refunded from the queue once it has waited out the queue-wait bound.
 *
 * A projection of the model: its events are the events a model step reported about this request,
 * as they are. Final states accept no event, so a second outcome for the same request cannot be
 * represented.
 */
import { setup } from 'xstate';
import type { RequestEvent } from '../model/events.ts';
import type { ModelRequestStatus } from './journal.ts';

export const requestMachine = setup({
  types: {
    context: {} as { readonly id: string },
    events: {} as RequestEvent,
    input: {} as { readonly id: string },
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
        accepted: { target: 'accepted' },
        refused: { target: 'refunded' },
      },
    },
    accepted: {
      description: 'Valid and paid at least its fee: the payment is held in escrow.',
      on: { queued: { target: 'queued' } },
    },
    queued: {
      description: 'Waiting at its arrival place, ordered by multiplier, at most maxQueueWait.',
      on: {
        dispatched: { target: 'dispatched' },
        refunded: { target: 'refunded' },
      },
    },
    dispatched: {
      description: 'Held by one worker until it answers or its deadline passes.',
      on: {
        retried: { target: 'retried' },
        answered: { target: 'answered' },
        refunded: { target: 'refunded' },
      },
    },
    retried: {
      description:
        'An attempt failed (error, worker failure or deadline): waiting again at its arrival place, at most maxQueueWait.',
      on: {
        dispatched: { target: 'dispatched' },
        refunded: { target: 'refunded' },
      },
    },
    answered: { type: 'final', description: "The worker's answer was forwarded to the payer." },
    refunded: { type: 'final', description: 'The whole payment went back to the payer.' },
  },
});

/** The model's status of a request in each state of the machine (`credited`, `accepted` never last past a step). */
export const REQUEST_STATUS: Readonly<Record<string, ModelRequestStatus | undefined>> = {
  credited: undefined,
  accepted: undefined,
  queued: 'waiting',
  retried: 'waiting',
  dispatched: 'running',
  answered: 'ended',
  refunded: 'ended',
};
