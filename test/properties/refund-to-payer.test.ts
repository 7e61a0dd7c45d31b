import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { traceSpec } from './arbitraries.ts';
import { assertInvariant, modelHerder, RUNS, runTrace } from './harness.ts';
import { payments, transfers } from './payments.ts';

describe('refund-to-payer', () => {
  it("every refund goes to the Credit-Notice's Sender, for the full Quantity (stated over the message log)", () => {
    fc.assert(
      fc.property(traceSpec(), (spec) => {
        const { log } = runTrace(modelHerder, spec);
        const paid = new Map(payments(log).map((p) => [p.id, p]));
        for (const { out } of transfers(log)) {
          if (out.tags['X-Reason'] === 'Withdrawal') continue;
          // Every other Transfer returns one payment, named by its id.
          const payment = paid.get(out.tags['X-Request'] ?? '');
          expect(payment, JSON.stringify(out)).toBeDefined();
          expect(out.tags.Recipient).toBe(payment!.sender);
          expect(out.tags.Quantity).toBe(payment!.quantity.toString());
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('the black-box auditor finds no refund to anyone else, on every step (model, random traces)', () => {
    assertInvariant('refund-to-payer', modelHerder);
  });
});
