import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { traceSpec } from './arbitraries.ts';
import { assertInvariant, modelHerder, RUNS, runTrace } from './harness.ts';
import { outcomes, payments, transfers } from './payments.ts';

describe('conservation', () => {
  it('the herder never sends out more than it was paid, and once drained holds exactly the fees it earned and what no one can claim (stated over the message log)', () => {
    fc.assert(
      fc.property(traceSpec(), (spec) => {
        const { log } = runTrace(modelHerder, spec);
        const paid = payments(log);
        const sent = transfers(log);
        // At every step: what left never exceeds what came in so far.
        for (let step = 0; step < log.length; step++) {
          const credited = paid.filter((p) => p.step <= step).reduce((sum, p) => sum + p.quantity, 0n);
          const out = sent
            .filter((t) => t.step <= step)
            .reduce((sum, t) => sum + BigInt(t.out.tags.Quantity ?? '0'), 0n);
          expect(out <= credited, `step ${step}: sent ${out} of ${credited}`).toBe(true);
        }
        // Drained: credits = refunds + withdrawals + held, where held = fees of answered requests
        // (less what was withdrawn) + payments that named no payer.
        const ends = outcomes(log);
        const answered = paid.filter((p) => ends.get(p.id)?.some((o) => o.kind === 'answer'));
        const unclaimed = paid.filter((p) => p.sender === undefined || p.sender === '');
        const total = (list: readonly { quantity: bigint }[]) =>
          list.reduce((sum, p) => sum + p.quantity, 0n);
        const withdrawn = sent
          .filter((t) => t.out.tags['X-Reason'] === 'Withdrawal')
          .reduce((sum, t) => sum + BigInt(t.out.tags.Quantity!), 0n);
        const refunded = sent
          .filter((t) => t.out.tags['X-Reason'] !== 'Withdrawal')
          .reduce((sum, t) => sum + BigInt(t.out.tags.Quantity!), 0n);
        expect(withdrawn <= total(answered)).toBe(true);
        expect(total(paid)).toBe(refunded + total(answered) + total(unclaimed));
      }),
      { numRuns: RUNS },
    );
  });

  it('the black-box auditor finds the books balanced after every step (model, random traces)', () => {
    assertInvariant('conservation', modelHerder);
  });
});
