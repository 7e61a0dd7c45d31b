/**
 * The protocol's invariants, each stated once: its name, its statement, and the settings a
 * black-box check of it needs. The properties, the model checker, `herd verify` and
 * docs/invariants.md all read this table; the rules that check each one on an observed history
 * are in rules.ts.
 */
import { Reason } from '../model/messages.ts';
import type { SettingName } from './settings.ts';

export interface InvariantSpec {
  readonly statement: string;
  /** Settings without which a black-box check would have to guess. */
  readonly needs: readonly SettingName[];
  /** How an outside observer checks it, in a phrase (for reports and docs). */
  readonly observedBy: string;
}

export const INVARIANT_SPECS = {
  'no-lost-request': {
    statement:
      'every accepted Credit-Notice reaches exactly one terminal outcome (response forwarded, or refund), given that time advances; none gets two',
    needs: [],
    observedBy: 'each accepted payment is followed to its forwarded answer or its refund; none may end twice',
  },
  conservation: {
    statement:
      'credits received = refunds + revenue + escrow (+ unclaimed) at every step; the herder never transfers more than it holds; withdrawals <= revenue',
    needs: [],
    observedBy: "the auditor's own books, from Credit-Notices in and Transfers out",
  },
  'refund-to-payer': {
    statement: "every refund goes to the Credit-Notice's Sender, for the full Quantity",
    needs: [],
    observedBy: 'each Transfer back to the token is matched to the payment it returns',
  },
  'priority-order': {
    statement:
      'when a request is dispatched, no waiting request has a strictly higher multiplier, unless dispatching it would overtake a waiting request already at its overtaking bound',
    needs: ['baseFee', 'tokenFee', 'maxOvertakes'],
    observedBy:
      'multipliers recomputed exactly from the stated fees; dispatches linked to payments by content',
  },
  'fifo-ties': {
    statement: 'among equal multipliers, dispatch order = arrival order',
    needs: ['baseFee', 'tokenFee'],
    observedBy: 'dispatch order among equal exact multipliers',
  },
  'bounded-overtaking': {
    statement: 'no request is overtaken more than maxOvertakes times',
    needs: ['baseFee', 'tokenFee', 'maxOvertakes'],
    observedBy: 'later arrivals dispatched ahead of each waiting request, counted',
  },
  'no-double-booking': {
    statement: 'a worker holds at most one request; a request is on at most one worker',
    needs: [],
    observedBy:
      'a worker holds what it was sent until it answers (or, with stated timeouts, its deadline passes)',
  },
  'work-conserving': {
    statement: 'after every step, not (an idle, healthy worker and a non-empty queue)',
    needs: [],
    observedBy: 'after each message, a worker that holds nothing and has not failed, while a payment waits',
  },
  'exact-fees': {
    statement: 'fee and multiplier arithmetic is exact for amounts far beyond 2^64',
    needs: ['baseFee', 'tokenFee'],
    observedBy: 'X-Needed and the order of payments beyond 2^53, against exact arithmetic',
  },
  authority: {
    statement:
      'credits only from the token, answers only from the worker holding the request, inference only from the herder, administration only from the owner',
    needs: [],
    observedBy:
      'forwarded answers traced by content to the worker that held the request; forged notices never served',
  },
  'bad-input-safe': {
    statement:
      'no input makes a handler fail in a way that keeps funds without a record; invalid paid requests are refunded with a reason',
    needs: [],
    observedBy: 'every invalid paid notice refunded with an X-Reason in the step it arrives',
  },
  'no-wrongful-refund': {
    statement: `a refund's reason is true: ${Reason.Insufficient} only when Quantity < needed at the fees in force, an input reason only for that invalid input, and a valid, sufficiently paid request to an accepting herder is refunded only after it failed on a worker or waited out the queue-wait bound`,
    needs: ['baseFee', 'tokenFee'],
    observedBy:
      'each refund of a valid, sufficiently paid request is checked for a failure or a queue wait before it',
  },
  'bounded-response': {
    statement:
      'every accepted request ends within maxAttempts × (maxQueueWait + deadline) once time advances, on every path',
    needs: ['timeoutBase', 'timeoutPerToken', 'maxAttempts', 'maxQueueWait'],
    observedBy: 'time advanced with every worker silent; each payment must end within its bound',
  },
} as const satisfies Record<string, InvariantSpec>;

export type InvariantName = keyof typeof INVARIANT_SPECS;

export const INVARIANT_NAMES = Object.keys(INVARIANT_SPECS) as InvariantName[];

/** Each invariant's statement. */
export const INVARIANTS = Object.fromEntries(
  INVARIANT_NAMES.map((name) => [name, INVARIANT_SPECS[name].statement]),
) as Record<InvariantName, string>;

export interface Violation {
  readonly invariant: InvariantName;
  /** Index of the step (message) at which it was seen; -1 for end-of-trace checks. */
  readonly step: number;
  readonly detail: string;
  /** Ids of the requests (Credit-Notice ids) it concerns, so a trace can show their payments. */
  readonly requests?: readonly string[];
}
