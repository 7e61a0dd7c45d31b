/**
 * Token amounts: arbitrary-precision integers, decimal strings on the wire, `bigint` here.
 * No float ever touches an amount.
 */

/** A token amount in the token's smallest unit. */
export type Amount = bigint;

/** A value or the precise reason it was rejected. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const DECIMAL = /^[0-9]+$/;

/**
 * Most significant digits of an amount the herder keeps books on: every 256-bit token balance
 * fits (2^256 has 78 digits), and products of two such amounts stay far inside the Lua herder's
 * 1024-bit integers. Larger amounts are refused, or refunded untouched when already received.
 */
export const MAX_DIGITS = 78;

/** Longest tag value read as a number at all: bounds the work a hostile tag can cause. */
export const MAX_RAW_DIGITS = 1_000;

/** `raw` without leading zeros; the last digit always stays ("000" is "0"). */
export function canonicalDecimal(raw: string): string {
  return raw.replace(/^0+(?=.)/, '');
}

/** Parses a non-negative decimal integer such as a `Quantity` tag; no sign, no exponent, no spaces. */
export function parseDecimal(raw: string | undefined, what: string): Parsed<bigint> {
  if (raw === undefined) return { ok: false, reason: `${what} is missing` };
  if (raw.length > MAX_RAW_DIGITS || !DECIMAL.test(raw))
    return { ok: false, reason: `${what} is not a decimal integer` };
  if (raw.length > MAX_DIGITS && canonicalDecimal(raw).length > MAX_DIGITS)
    return { ok: false, reason: `${what} has more than ${MAX_DIGITS} digits` };
  return { ok: true, value: BigInt(raw) };
}

/** Parses a strictly positive amount (the token refuses transfers of zero). */
export function parsePositiveAmount(raw: string | undefined, what: string): Parsed<Amount> {
  const parsed = parseDecimal(raw, what);
  if (parsed.ok && parsed.value === 0n) return { ok: false, reason: `${what} must be greater than zero` };
  return parsed;
}
