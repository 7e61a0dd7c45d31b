import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { traceSpec } from './arbitraries.ts';
import { assertInvariant, modelHerder, RUNS, runTrace } from './harness.ts';
import { outcomes, payments } from './payments.ts';

describe('no-lost-request', () => {
  it('every payment that names a payer ends exactly once, with one answer or one refund, once the herd drains (stated over the message log)', () => {
    fc.assert(
      fc.property(traceSpec(), (spec) => {
        const { log } = runTrace(modelHerder, spec);
        const ends = outcomes(log);
        for (const payment of payments(log)) {
          const got = ends.get(payment.id) ?? [];
          // A payment that names no payer cannot be answered or refunded: it stays unclaimed.
          expect(got.length, `${payment.id}: ${JSON.stringify(got.map((o) => o.kind))}`).toBe(
            payment.sender === undefined || payment.sender === '' ? 0 : 1,
          );
        }
        // Nothing ends that was never paid for.
        const paid = new Set(payments(log).map((p) => p.id));
        for (const id of ends.keys()) expect(paid.has(id), id).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('the black-box auditor sees every accepted request end exactly once (model, random traces)', () => {
    assertInvariant('no-lost-request', modelHerder);
  });
});
