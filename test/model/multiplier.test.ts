/**
 * The one reader of decimals written by people (multipliers, percentages, caps): exact ratios,
 * the same words for every refusal, and the same answers as the client, the demo and the
 * simulator give.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMultiplier } from '../../src/client/herder-client.ts';
import { demoProblems } from '../../src/demo/demo.ts';
import { parseDecimalRatio, parseMultiplierRatio } from '../../src/model/fees.ts';
import { parseRatio } from '../../src/simulate/options.ts';
import { UNIT_RUNS } from '../properties/harness.ts';

describe('decimal multipliers', () => {
  it('reads a plain decimal exactly', () => {
    expect(parseDecimalRatio('1.25', 'm')).toEqual({ ok: true, value: { num: 125n, den: 100n } });
    expect(parseDecimalRatio('2', 'm')).toEqual({ ok: true, value: { num: 2n, den: 1n } });
    expect(parseDecimalRatio('.5', 'm')).toEqual({ ok: true, value: { num: 5n, den: 10n } });
    expect(parseDecimalRatio('3.', 'm')).toEqual({ ok: true, value: { num: 3n, den: 1n } });
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 18n - 1n }), fc.nat(18), (digits, point) => {
        const den = 10n ** BigInt(point);
        const whole = (digits / den).toString();
        const fraction = (digits % den).toString().padStart(point, '0');
        const text = point === 0 ? whole : `${whole}.${fraction}`;
        const parsed = parseDecimalRatio(text, 'm');
        expect(parsed.ok && parsed.value.num * den === digits * parsed.value.den).toBe(true);
      }),
      { numRuns: UNIT_RUNS },
    );
  });

  it.each([
    ['', 'm must be a plain decimal such as 1.5 (got "")'],
    ['.', 'm must be a plain decimal such as 1.5 (got ".")'],
    ['1e3', 'm must be a plain decimal such as 1.5 (got "1e3")'],
    ['-1', 'm must be a plain decimal such as 1.5 (got "-1")'],
    [' 1', 'm must be a plain decimal such as 1.5 (got " 1")'],
    ['1.2.3', 'm must be a plain decimal such as 1.5 (got "1.2.3")'],
    ['1'.repeat(19), 'm has more than 18 digits on one side of the point'],
    [`1.${'1'.repeat(19)}`, 'm has more than 18 digits on one side of the point'],
  ])('refuses %j: %s', (text, reason) => {
    expect(parseDecimalRatio(text, 'm')).toEqual({ ok: false, reason });
  });

  it('a multiplier is at least 1, in the client, the demo and the simulator alike', () => {
    expect(parseMultiplierRatio('0.99', 'm')).toEqual({ ok: false, reason: 'm must be at least 1' });
    expect(parseMultiplierRatio('1.0', 'm')).toEqual({ ok: true, value: { num: 10n, den: 10n } });
    expect(() => parseMultiplier('0.9')).toThrow('multiplier must be at least 1');
    expect(() => parseMultiplier('1e3')).toThrow(RangeError);
    expect(parseMultiplier(1.5)).toEqual({ numerator: 15n, denominator: 10n });
    expect(demoProblems({ multiplier: '0.99' })).toEqual(['--multiplier must be at least 1']);
    expect(demoProblems({ multiplier: 'x' })).toEqual([
      '--multiplier must be a plain decimal such as 1.5 (got "x")',
    ]);
    expect(parseRatio('2.5', 'cap')).toEqual({ num: 25n, den: 10n });
    expect(() => parseRatio('2,5', 'cap')).toThrow('cap must be a plain decimal such as 1.5 (got "2,5")');
  });
});
