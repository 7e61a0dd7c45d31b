/**
 * exact-fees: fee and multiplier arithmetic is exact for amounts far beyond 2^64. The model's
 * cross-multiplication is checked against an independent exact method (comparison by continued
 * fraction expansion), and the herder's dispatch order is audited on payments above 2^70 that
 * differ by a few units — where any float arithmetic collapses them.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareMultipliers, formatMultiplier, neededFee, utf8Length, words } from '../../src/model/fees.ts';
import { contendedEvents, hugeCredit, traceSpec } from './arbitraries.ts';
import { assertInvariant, modelHerder, UNIT_RUNS } from './harness.ts';

/** Compares p1/n1 with p2/n2 by their continued fraction expansions; no multiplication. */
function referenceCompare(p1: bigint, n1: bigint, p2: bigint, n2: bigint): number {
  const q1 = p1 / n1;
  const q2 = p2 / n2;
  if (q1 !== q2) return q1 > q2 ? 1 : -1;
  const r1 = p1 % n1;
  const r2 = p2 % n2;
  if (r1 === 0n || r2 === 0n) return r1 === r2 ? 0 : r1 === 0n ? -1 : 1;
  return referenceCompare(n2, r2, n1, r1);
}

const huge = fc.bigInt({ min: 0n, max: 1n << 256n });
const positive = fc.bigInt({ min: 1n, max: 1n << 256n });
const multiplier = fc.record({ paid: huge, needed: positive });

/**
 * Any UTF-16 text, built from code units so that every width class, its boundaries, surrogate
 * pairs and lone surrogates all come up (fast-check's full-range string unit is slow to build).
 * The boundaries are drawn on purpose: a random unit of a class is rarely one of its ends.
 */
const BOUNDARY_UNITS = [0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xe000, 0xffff];
const highSurrogate = fc.oneof(fc.constantFrom(0xd800, 0xdbff), fc.integer({ min: 0xd800, max: 0xdbff }));
const lowSurrogate = fc.oneof(fc.constantFrom(0xdc00, 0xdfff), fc.integer({ min: 0xdc00, max: 0xdfff }));
const codeUnits = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 0x7f })),
  fc.tuple(fc.integer({ min: 0x80, max: 0x7ff })),
  fc.tuple(fc.integer({ min: 0x800, max: 0xffff })),
  fc.tuple(fc.integer({ min: 0xd800, max: 0xdfff })),
  fc.tuple(fc.constantFrom(...BOUNDARY_UNITS)),
  fc.tuple(highSurrogate, lowSurrogate),
);
/** Prompts: any text, and text made of the characters on either side of each alphanumeric range. */
const prompt = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ unit: fc.constantFrom(...'/09:@AZ[`az{ é\t'), maxLength: 30 }),
);
const utf16Text = fc
  .array(codeUnits, { maxLength: 60 })
  .map((groups) => String.fromCharCode(...groups.flat()));

describe('exact-fees', () => {
  it('multiplier order agrees with an independent exact comparison, up to 2^256', () => {
    fc.assert(
      fc.property(multiplier, multiplier, (a, b) => {
        expect(Math.sign(compareMultipliers(a, b))).toBe(
          referenceCompare(a.paid, a.needed, b.paid, b.needed),
        );
      }),
      { numRuns: UNIT_RUNS },
    );
  });

  it('one unit more is always a strictly higher multiplier, even above 2^64 (floats would tie)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n << 64n, max: 1n << 200n }), positive, (paid, needed) => {
        expect(compareMultipliers({ paid: paid + 1n, needed }, { paid, needed })).toBe(1);
        expect(compareMultipliers({ paid, needed }, { paid: paid + 1n, needed })).toBe(-1);
      }),
      { numRuns: UNIT_RUNS },
    );
  });

  it('scaling both sides does not change a multiplier', () => {
    fc.assert(
      fc.property(multiplier, positive, (m, k) => {
        expect(compareMultipliers({ paid: m.paid * k, needed: m.needed * k }, m)).toBe(0);
      }),
      { numRuns: UNIT_RUNS },
    );
  });

  it('Last-Multiplier is the multiplier truncated to 6 decimals: d <= paid/needed < d + 10^-6', () => {
    fc.assert(
      fc.property(multiplier, (m) => {
        const text = formatMultiplier(m);
        expect(text).toMatch(/^[0-9]+(\.[0-9]*[1-9])?$/);
        const [whole, fraction = ''] = text.split('.');
        const scaled = BigInt(whole!) * 1_000_000n + BigInt(fraction.padEnd(6, '0'));
        expect(scaled * m.needed <= m.paid * 1_000_000n).toBe(true);
        expect(m.paid * 1_000_000n < (scaled + 1n) * m.needed).toBe(true);
      }),
      { numRuns: UNIT_RUNS },
    );
  });

  it('needed = baseFee + tokenFee × (tokens + words) exactly, for fees beyond 2^64', () => {
    fc.assert(
      fc.property(
        huge,
        huge,
        fc.integer({ min: 1, max: 100_000 }),
        prompt,
        (baseFee, tokenFee, tokens, prompt) => {
          // Words, counted on the UTF-8 bytes as Lua's %w+ does in the C locale.
          let count = 0;
          let inWord = false;
          for (const byte of new TextEncoder().encode(prompt)) {
            const alnum =
              (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122);
            if (alnum && !inWord) count++;
            inWord = alnum;
          }
          expect(words(prompt)).toBe(count);
          expect(neededFee({ baseFee, tokenFee }, tokens, prompt)).toBe(
            baseFee + tokenFee * BigInt(tokens + count),
          );
        },
      ),
      { numRuns: UNIT_RUNS },
    );
  });

  it('prompt length is measured in UTF-8 bytes, as Lua measures it', () => {
    fc.assert(
      fc.property(utf16Text, (text) => {
        expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
      }),
      { numRuns: UNIT_RUNS },
    );
  });

  it('dispatch order stays exact for payments above 2^70 that differ by a few units', () => {
    assertInvariant('priority-order', modelHerder, {
      arbitrary: traceSpec({ events: contendedEvents(hugeCredit) }),
    });
  });
});
