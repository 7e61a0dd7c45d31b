/**
 * The conservation check itself: `ledgerViolations` finds every broken law of the books, names
 * it, and finds nothing on balanced books. The properties rely on it after every step, so a check
 * that misses a law would let a broken herder pass.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  emptyLedger,
  holdings,
  type Ledger,
  ledgerViolations,
  withdrawable,
} from '../../src/model/ledger.ts';
import { UNIT_RUNS } from '../properties/harness.ts';

const amount = fc.bigInt({ min: 0n, max: 1n << 200n });
const BUCKETS = ['refunded', 'revenue', 'escrow', 'unclaimed'] as const;

/** Books that balance: credited is the sum of its buckets and at most the revenue was withdrawn. */
const balanced: fc.Arbitrary<Ledger> = fc
  .record({
    refunded: amount,
    revenue: amount,
    escrow: amount,
    unclaimed: amount,
    share: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .chain((b) =>
    fc.bigInt({ min: 0n, max: b.revenue }).map((withdrawn) => ({
      refunded: b.refunded,
      revenue: b.revenue,
      escrow: b.escrow,
      unclaimed: b.unclaimed,
      credited: b.refunded + b.revenue + b.escrow + b.unclaimed,
      withdrawn,
    })),
  );

describe('ledger', () => {
  it('balanced books have no violations; what the owner may withdraw and what is held follow from them', () => {
    fc.assert(
      fc.property(balanced, (ledger) => {
        expect(ledgerViolations(ledger)).toEqual([]);
        expect(withdrawable(ledger)).toBe(ledger.revenue - ledger.withdrawn);
        expect(holdings(ledger)).toBe(ledger.revenue + ledger.escrow + ledger.unclaimed - ledger.withdrawn);
      }),
      { numRuns: UNIT_RUNS },
    );
    expect(ledgerViolations(emptyLedger())).toEqual([]);
  });

  it('a unit credited without a bucket, or a bucket without credit, is reported with both sides', () => {
    fc.assert(
      fc.property(
        balanced,
        fc.bigInt({ min: -(1n << 64n), max: 1n << 64n }).filter((d) => d !== 0n),
        (ledger, delta) => {
          const broken = { ...ledger, credited: ledger.credited + delta };
          const problems = ledgerViolations(broken).filter((p) => p.includes('!='));
          const accounted = ledger.credited;
          expect(problems).toEqual([
            `credited ${broken.credited} != refunded + revenue + escrow + unclaimed = ${accounted}`,
          ]);
        },
      ),
      { numRuns: UNIT_RUNS },
    );
  });

  it('withdrawing more than the revenue is reported', () => {
    fc.assert(
      fc.property(balanced, fc.bigInt({ min: 1n, max: 1n << 64n }), (ledger, excess) => {
        const withdrawn = ledger.revenue + excess;
        expect(ledgerViolations({ ...ledger, withdrawn })).toEqual([
          `withdrawn ${withdrawn} > revenue ${ledger.revenue}`,
        ]);
      }),
      { numRuns: UNIT_RUNS },
    );
  });

  it('a negative bucket is reported by name, even when the sums still balance', () => {
    fc.assert(
      fc.property(
        balanced,
        fc.constantFrom(...BUCKETS),
        fc.bigInt({ min: 1n, max: 1n << 64n }),
        (ledger, bucket, debt) => {
          // The bucket goes below zero and credited follows it: the sum still balances.
          const value = ledger[bucket];
          const broken = { ...ledger, [bucket]: -debt, credited: ledger.credited - value - debt };
          const problems = ledgerViolations(broken);
          expect(problems).toContain(`${bucket} is negative (${-debt})`);
          expect(problems.some((p) => p.includes('!='))).toBe(false);
        },
      ),
      { numRuns: UNIT_RUNS },
    );
  });
});
