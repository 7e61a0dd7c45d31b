/**
 * What a simulated client pays for a request: the fee it needs, by the model's own rule
 * (`neededFee`), times its class's multiplier, rounded up to a whole unit. Amounts stay exact
 * (bigint) up to the Quantity text; only the multiplier reported per request is a number.
 *
 * A fee depends on a request only through `tokens + words(prompt)` (fees.ts), so it is computed
 * once per such sum and filed under it: a few hundred entries that stay in the processor's cache,
 * where a table by token count and prompt (tens of thousands of entries) measurably did not.
 */
import type { HerdConfig } from '../model/config.ts';
import { formatMultiplier, type Multiplier, neededFee } from '../model/fees.ts';
import type { HerderState } from '../model/herder.ts';
import { type PriorityClass, paymentRatios, type Ratio } from './options.ts';
import type { PromptBook } from './prompts.ts';

/** The fee of one (tokens, prompt) pair, and the Quantity text of each fixed-rate class for it. */
interface Fee {
  readonly needed: bigint;
  readonly fixedQuantity: (string | undefined)[];
}

const ONE: Ratio = { num: 1n, den: 1n };

/** `needed × num / den`, rounded up. */
function payment(needed: bigint, { num, den }: Ratio): bigint {
  return (needed * num + den - 1n) / den;
}

/** A multiplier as decimal text ("1.333333") back to an exact ratio. */
function ratioOfDecimal(text: string): Ratio {
  const dot = text.indexOf('.');
  if (dot < 0) return { num: BigInt(text), den: 1n };
  const fraction = text.slice(dot + 1);
  return { num: BigInt(text.slice(0, dot) + fraction), den: 10n ** BigInt(fraction.length) };
}

export class Payments {
  /** The Quantity text of the last {@link quote}. */
  quantity = '';
  /** paid / needed of the last quote as a number (a fixed rate's own multiplier, rounding ignored). */
  multiplier = 0;

  private readonly rules: ReturnType<typeof paymentRatios>[];
  private readonly fixedMultiplier: number[];
  /** By `tokens + words`. */
  private readonly fees: (Fee | undefined)[] = [];
  private lastSeen: Multiplier | undefined;
  private lastRatio: Ratio = ONE;

  constructor(
    private readonly config: HerdConfig,
    classes: readonly PriorityClass[],
    private readonly book: PromptBook,
    /** The herder's live state: what Info would tell a client now. */
    private readonly state: HerderState,
  ) {
    this.rules = classes.map((c) => paymentRatios(c.pays));
    this.fixedMultiplier = this.rules.map((r) =>
      r.multiplier ? Number(r.multiplier.num) / Number(r.multiplier.den) : 0,
    );
  }

  /** Sets {@link quantity} and {@link multiplier} for a request of class `cls`. */
  quote(cls: number, tokens: number, words: number): void {
    const fee = this.fee(tokens, words);
    const rule = this.rules[cls]!;
    if (rule.multiplier !== undefined) {
      let text = fee.fixedQuantity[cls];
      if (text === undefined) {
        text = payment(fee.needed, rule.multiplier).toString();
        fee.fixedQuantity[cls] = text;
      }
      this.quantity = text;
      this.multiplier = this.fixedMultiplier[cls]!;
      return;
    }
    const paid = payment(fee.needed, this.lastMultiplierRate(rule.bump!, rule.cap!));
    this.quantity = paid.toString();
    this.multiplier = Number(paid) / Number(fee.needed);
  }

  private fee(tokens: number, words: number): Fee {
    let fee = this.fees[tokens + words];
    if (fee === undefined) {
      fee = {
        needed: neededFee(this.config, tokens, this.book.prompt(words)),
        fixedQuantity: this.rules.map(() => undefined),
      };
      this.fees[tokens + words] = fee;
    }
    return fee;
  }

  /**
   * The original client's rate: Info's Last-Multiplier (decimal text, as the client reads it),
   * raised by `bump` when the queue is not empty, at most `cap`, at least 1.
   */
  private lastMultiplierRate(bump: Ratio, cap: Ratio): Ratio {
    const last = this.state.lastMultiplier;
    if (last !== this.lastSeen) {
      this.lastSeen = last;
      this.lastRatio = last === undefined ? ONE : ratioOfDecimal(formatMultiplier(last));
    }
    let num = this.lastRatio.num;
    let den = this.lastRatio.den;
    if (this.state.queue.length > 0) {
      num *= bump.num;
      den *= bump.den;
    }
    if (num * cap.den > cap.num * den) return cap;
    if (num < den) return ONE;
    return { num, den };
  }
}
