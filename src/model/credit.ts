/**
 * What the herder does with one Credit-Notice, decided without touching state: accept it as a
 * paid request, refund it with a reason, park it as unclaimed, or ignore it (no funds moved).
 */
import { canonicalDecimal, MAX_DIGITS, MAX_RAW_DIGITS, parsePositiveAmount } from './amount.ts';
import type { HerdConfig, ProcessId } from './config.ts';
import { type FeeSchedule, type Multiplier, neededFee, utf8Length, words } from './fees.ts';
import { type AoMessage, Reason, tag } from './messages.ts';

/** A validated, paid inference request. */
export interface PaidRequest {
  /** The Credit-Notice's message id: the request id on the wire (`X-Request`). */
  readonly id: string;
  /** Who paid (the notice's `Sender`): answers and refunds go here. */
  readonly client: ProcessId;
  /** The client's own `X-Reference`, echoed back; `undefined` when absent. */
  readonly reference: string | undefined;
  readonly prompt: string;
  readonly tokens: number;
  readonly multiplier: Multiplier;
}

export type CreditVerdict =
  /** The request itself (one object, not one wrapped in another: every accepted notice makes one). */
  | ({ readonly kind: 'accept' } & PaidRequest)
  | {
      readonly kind: 'refund';
      readonly sender: ProcessId;
      readonly quantity: bigint;
      readonly reason: string;
      readonly reference: string | undefined;
      readonly needed?: bigint;
      /** Too large to keep books on: refunded untouched, counted in no ledger bucket. */
      readonly offBooks?: boolean;
    }
  /** Funds arrived but the notice names no payer: nobody can be refunded, so they are kept on record. */
  | { readonly kind: 'unclaimed'; readonly quantity: bigint; readonly reason: string }
  /** No funds moved to this herder (spoofed notice, or no valid Quantity): nothing to account for. */
  | { readonly kind: 'ignore'; readonly reason: string };

/** The part of the herder's configuration that judges a credit. */
export type CreditRules = Pick<HerdConfig, 'token' | 'maxTokens' | 'maxPromptBytes'> & FeeSchedule;

const DECIMAL = /^[0-9]+$/;

/** Judges a Credit-Notice (docs/design.md §2.3). Duplicate detection is the caller's: it needs memory. */
export function judgeCredit(rules: CreditRules, paused: boolean, msg: AoMessage): CreditVerdict {
  if (msg.from !== rules.token) return { kind: 'ignore', reason: 'Credit-Notice not from the token' };
  const rawQuantity = tag(msg, 'Quantity');
  const sender = tag(msg, 'Sender');
  if (
    rawQuantity !== undefined &&
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, a shortcut: the canonical digits are measured again below
    rawQuantity.length > MAX_DIGITS &&
    rawQuantity.length <= MAX_RAW_DIGITS &&
    DECIMAL.test(rawQuantity)
  ) {
    const digits = canonicalDecimal(rawQuantity);
    if (digits.length > MAX_DIGITS && sender)
      return {
        kind: 'refund',
        sender,
        quantity: BigInt(digits),
        reason: Reason.QuantityTooLarge,
        reference: tag(msg, 'X-Reference'),
        offBooks: true,
      };
  }
  let paid = smallPositive(rawQuantity);
  // Stryker disable next-line ConditionalExpression: equivalent, the exact parse gives what the fast path gave
  if (paid === undefined) {
    const quantity = parsePositiveAmount(rawQuantity, 'Quantity');
    if (!quantity.ok) return { kind: 'ignore', reason: quantity.reason };
    paid = quantity.value;
  }
  if (sender === undefined || sender === '')
    return { kind: 'unclaimed', quantity: paid, reason: 'Credit-Notice names no Sender' };
  const reference = tag(msg, 'X-Reference');
  if (paused) return refund(sender, paid, reference, Reason.Paused);
  const prompt = tag(msg, 'X-Prompt');
  if (prompt === undefined) return refund(sender, paid, reference, Reason.MissingPrompt);
  if (prompt === '') return refund(sender, paid, reference, Reason.EmptyPrompt);
  const facts = promptFacts(prompt, rules.maxPromptBytes);
  if (facts === undefined) return refund(sender, paid, reference, Reason.PromptTooLong);
  const rawTokens = tag(msg, 'X-Tokens');
  if (rawTokens === undefined) return refund(sender, paid, reference, Reason.MissingTokens);
  // maxTokens is at most 65,536 (config bounds): a number of more than 15 digits is out of range,
  // and one of at most 15 is exact as a double. The Lua reads X-Tokens by the same rule.
  let tokens = shortDecimal(rawTokens);
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, the exact parse gives what the fast path gave (0 included)
  if (tokens < 0) {
    if (!DECIMAL.test(rawTokens)) return refund(sender, paid, reference, Reason.BadTokens);
    const digits = canonicalDecimal(rawTokens);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, only more than 15 digits get here, out of range (maxTokens <= 65,536) either way
    tokens = digits.length > 15 ? Number.POSITIVE_INFINITY : Number(digits);
  }
  if (tokens < 1 || tokens > rules.maxTokens) return refund(sender, paid, reference, Reason.TokensOutOfRange);
  const needed = feeFor(rules, tokens + facts.words);
  if (paid < needed) return refund(sender, paid, reference, Reason.Insufficient, needed);
  return {
    kind: 'accept',
    id: msg.id,
    client: sender,
    reference,
    prompt,
    tokens,
    multiplier: { paid, needed },
  };
}

/** What the herder reads of a prompt that fits: its size and its billable words. */
interface PromptFacts {
  readonly bytes: number;
  readonly words: number;
}

/**
 * Prompts already measured, by text: clients (and the simulator) send the same prompts again and
 * again, and each measure is a pass over the text. Only prompts no longer (in characters) than
 * the prompt limit come here, a few hundred bytes at most, so that it stays small; emptied when full.
 */
const measured = new Map<string, PromptFacts>();
const MEASURED_SIZE = 1_024;

/** `prompt`'s facts when its UTF-8 length is at most `maxBytes`, else `undefined` (too long). */
function promptFacts(prompt: string, maxBytes: number): PromptFacts | undefined {
  // A UTF-16 unit is at least one UTF-8 byte: more units than bytes allowed is too long already.
  if (prompt.length > maxBytes) return undefined;
  let facts = measured.get(prompt);
  // Stryker disable next-line ConditionalExpression: equivalent, a cache (measuring again gives the same facts)
  if (facts === undefined) {
    facts = { bytes: utf8Length(prompt), words: words(prompt) };
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, the cache's bound is a cost choice only
    if (measured.size >= MEASURED_SIZE) measured.clear();
    measured.set(prompt, facts);
  }
  return facts.bytes > maxBytes ? undefined : facts;
}

/** Longest decimal read by {@link shortDecimal}: exact as a double. */
const SHORT_DIGITS = 15;

/**
 * The value of a decimal of 1 to {@link SHORT_DIGITS} digits (leading zeros allowed), or -1 for
 * anything else (longer, empty, not digits): the common case read without a regex or a copy.
 */
function shortDecimal(raw: string): number {
  const length = raw.length;
  // Every caller reads a miss (-1, or any value <= 0) with the exact parse, so mutants that only
  // send more input there are equivalent; one that returned a wrong positive value would not be.
  // Stryker disable next-line EqualityOperator: equivalent, a miss takes the exact parse
  if (length === 0 || length > SHORT_DIGITS) return -1;
  let value = 0;
  for (let i = 0; i < length; i++) {
    // Stryker disable next-line ArithmeticOperator: equivalent, every value then fails the digit check, a miss
    const digit = raw.charCodeAt(i) - 48;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, a miss takes the exact parse
    if (digit < 0 || digit > 9) return -1;
    // Stryker disable next-line ArithmeticOperator: equivalent, the value turns negative, a miss
    value = value * 10 + digit;
  }
  return value;
}

/**
 * A positive Quantity of at most {@link SHORT_DIGITS} digits as an exact bigint, or `undefined`
 * for every other tag (zero, missing, long, malformed): those take {@link parsePositiveAmount}.
 */
// Stryker disable next-line BlockStatement: equivalent, undefined is a miss and takes the exact parse
function smallPositive(raw: string | undefined): bigint | undefined {
  // Stryker disable next-line ConditionalExpression: equivalent, a miss for every input takes the exact parse
  if (raw === undefined) return undefined;
  const value = shortDecimal(raw);
  // Stryker disable next-line ConditionalExpression: equivalent, a miss takes the exact parse
  return value > 0 ? BigInt(value) : undefined;
}

/** Fees already computed, per fee schedule, by billable units (tokens + words): bounded. */
const feeCache = new WeakMap<FeeSchedule, Map<number, bigint>>();
const FEE_CACHE_SIZE = 4_096;

/**
 * {@link neededFee} of `units` billable units (tokens + words), remembered per schedule: a
 * config's schedule never changes (the owner replaces the config).
 */
function feeFor(rules: CreditRules, units: number): bigint {
  let fees = feeCache.get(rules);
  // Stryker disable next-line ConditionalExpression: equivalent, a cache (a fresh map computes the same fee)
  if (fees === undefined) {
    fees = new Map();
    feeCache.set(rules, fees);
  }
  let fee = fees.get(units);
  // Stryker disable next-line ConditionalExpression: equivalent, a cache (computing again gives the same fee)
  if (fee === undefined) {
    fee = neededFee(rules, units, '');
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, the cache's bound is a cost choice only
    if (fees.size < FEE_CACHE_SIZE) fees.set(units, fee);
  }
  return fee;
}

/**
 * A refund of the whole payment, with `needed` only when given. A module-level function rather
 * than a closure in {@link judgeCredit}: creating that closure on every notice was measurable.
 */
function refund(
  sender: ProcessId,
  quantity: bigint,
  reference: string | undefined,
  reason: string,
  needed?: bigint,
): CreditVerdict {
  return {
    kind: 'refund',
    sender,
    quantity,
    reason,
    reference,
    ...(needed === undefined ? {} : { needed }),
  };
}
