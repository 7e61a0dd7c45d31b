/**
 * Exact fee and priority arithmetic (docs/design.md §2.3): the fee a request needs, and its priority
 * multiplier `paid / needed` kept as an exact rational and compared by cross-multiplication.
 */
import type { Amount, Parsed } from './amount.ts';

/** Fee schedule: `needed = baseFee + tokenFee × (tokens + words(prompt))`. */
export interface FeeSchedule {
  readonly baseFee: Amount;
  readonly tokenFee: Amount;
}

/** Counts maximal runs of ASCII letters and digits: Lua's `%w+` in the C locale. */
export function words(prompt: string): number {
  let count = 0;
  let inWord = false;
  // Stryker disable next-line EqualityOperator: equivalent, charCodeAt past the end is NaN (not alphanumeric)
  for (let i = 0; i < prompt.length; i++) {
    const c = prompt.charCodeAt(i);
    const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (alnum && !inWord) count++;
    inWord = alnum;
  }
  return count;
}

/** Length of a string in UTF-8 bytes (what Lua's `#` measures); a lone surrogate counts as U+FFFD. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      // A high surrogate: with a low one after it, a pair (past the end, `charCodeAt` is NaN).
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** The fee a request must pay. */
export function neededFee(fees: FeeSchedule, tokens: number, prompt: string): Amount {
  return fees.baseFee + fees.tokenFee * BigInt(tokens + words(prompt));
}

/** A priority multiplier `paid / needed`; `needed` is always > 0. */
export interface Multiplier {
  readonly paid: Amount;
  readonly needed: Amount;
}

/** Total order on multipliers: negative when a < b, zero when equal, positive when a > b. Exact. */
export function compareMultipliers(a: Multiplier, b: Multiplier): number {
  // Over one fee the payments alone decide (no products to allocate).
  if (a.needed === b.needed) return a.paid > b.paid ? 1 : a.paid < b.paid ? -1 : 0;
  const left = a.paid * b.needed;
  const right = b.paid * a.needed;
  return left > right ? 1 : left < right ? -1 : 0;
}

/** Fractional digits kept by {@link formatMultiplier}. */
export const MULTIPLIER_DECIMALS = 6;
const SCALE = 10n ** BigInt(MULTIPLIER_DECIMALS);

/**
 * The multiplier as a decimal string, truncated (not rounded) to six fractional digits, trailing
 * zeros and a bare point dropped: 3/2 → "1.5", 2/1 → "2", 4/3 → "1.333333". The Lua herder
 * implements the same rule with `.bint`, so both print identical `Last-Multiplier` tags.
 */
export function formatMultiplier(m: Multiplier): string {
  const scaled = (m.paid * SCALE) / m.needed;
  const whole = scaled / SCALE;
  const fraction = (scaled % SCALE).toString().padStart(MULTIPLIER_DECIMALS, '0').replace(/0+$/, '');
  return fraction === '' ? whole.toString() : `${whole}.${fraction}`;
}

/** An exact non-negative ratio `num / den` (den > 0): a multiplier, a percentage, a cap. */
export interface Ratio {
  readonly num: bigint;
  readonly den: bigint;
}

/** Most digits a written multiplier may have on either side of its point. */
export const MAX_MULTIPLIER_DIGITS = 18;

const PLAIN_DECIMAL = /^([0-9]*)\.?([0-9]*)$/;

/**
 * A decimal as written by a person, exactly: `"1.25"` → 125/100; `"2"`, `".5"` and `"3."` too. No
 * sign, exponent or spaces, at least one digit, at most {@link MAX_MULTIPLIER_DIGITS} on either
 * side of the point. The one reader of the multipliers, percentages and caps that clients,
 * the demo and the simulator write as decimals.
 */
export function parseDecimalRatio(text: string, what: string): Parsed<Ratio> {
  const match = PLAIN_DECIMAL.exec(text);
  if (match === null || `${match[1]}${match[2]}` === '')
    return { ok: false, reason: `${what} must be a plain decimal such as 1.5 (got ${JSON.stringify(text)})` };
  // Stryker disable next-line StringLiteral: equivalent, both groups always take part in a match
  const [, whole = '', fraction = ''] = match;
  if (whole.length > MAX_MULTIPLIER_DIGITS || fraction.length > MAX_MULTIPLIER_DIGITS)
    return {
      ok: false,
      reason: `${what} has more than ${MAX_MULTIPLIER_DIGITS} digits on one side of the point`,
    };
  return {
    ok: true,
    value: { num: BigInt(`${whole}${fraction}`), den: 10n ** BigInt(fraction.length) },
  };
}

/** A priority multiplier as written (`"1.5"`): a plain decimal of at least 1 (less would underpay). */
export function parseMultiplierRatio(text: string, what: string): Parsed<Ratio> {
  const parsed = parseDecimalRatio(text, what);
  if (parsed.ok && parsed.value.num < parsed.value.den)
    return { ok: false, reason: `${what} must be at least 1` };
  return parsed;
}
