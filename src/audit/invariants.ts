/** The protocol's invariants (DESIGN §3): one name each, used by properties, checker and verify. */
export const INVARIANTS = {
  'no-lost-request':
    'every accepted Credit-Notice reaches exactly one terminal outcome (response forwarded, or refund), given that time advances; none gets two',
  conservation:
    'credits received = refunds + revenue + escrow (+ unclaimed) at every step; the herder never transfers more than it holds; withdrawals <= revenue',
  'refund-to-payer': "every refund goes to the Credit-Notice's Sender, for the full Quantity",
  'priority-order':
    'when a request is dispatched, no waiting request has a strictly higher multiplier, unless dispatching it would overtake a waiting request already at its overtaking bound',
  'fifo-ties': 'among equal multipliers, dispatch order = arrival order',
  'bounded-overtaking': 'no request is overtaken more than maxOvertakes times',
  'no-double-booking': 'a worker holds at most one request; a request is on at most one worker',
  'work-conserving': 'after every step, not (an idle, healthy worker and a non-empty queue)',
  'exact-fees': 'fee and multiplier arithmetic is exact for amounts far beyond 2^64',
  authority:
    'credits only from the token, answers only from the worker holding the request, inference only from the herder, administration only from the owner',
  'bad-input-safe':
    'no input makes a handler fail in a way that keeps funds without a record; invalid paid requests are refunded with a reason',
  'no-wrongful-refund':
    "a refund's reason is true: Insufficient payment only when Quantity < needed at the fees in force, an input reason only for that invalid input, and a valid, sufficiently paid request to an accepting herder is refunded only after it failed on a worker or waited out the queue-wait bound",
  'bounded-response':
    'every accepted request ends within maxAttempts × (maxQueueWait + deadline) once time advances, on every path',
} as const;

export type InvariantName = keyof typeof INVARIANTS;

export const INVARIANT_NAMES = Object.keys(INVARIANTS) as InvariantName[];

export interface Violation {
  readonly invariant: InvariantName;
  /** Index of the step (message) at which it was seen; -1 for end-of-trace checks. */
  readonly step: number;
  readonly detail: string;
}
