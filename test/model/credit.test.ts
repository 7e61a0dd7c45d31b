/**
 * Judging a Credit-Notice, at its edges: what is not a payment at all, where the prompt limit
 * falls (in UTF-8 bytes, whatever the characters), and which X-Tokens are not decimal integers.
 * The refund reasons of whole notices are in reasons.test.ts; this file reads the verdicts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeConfig } from '../../src/model/config.ts';
import { judgeCredit } from '../../src/model/credit.ts';
import { Reason } from '../../src/model/messages.ts';
import { UNIT_RUNS } from '../properties/harness.ts';

const TOKEN = 'TOKEN';
const PAYER = 'PAYER';

function notice(tags: Record<string, string>, from = TOKEN) {
  return { id: 'notice', from, timestamp: 1, tags: { Action: 'Credit-Notice', ...tags } };
}

/** A notice that is accepted with the rules below, for one tag to be changed at a time. */
const GOOD = { Sender: PAYER, Quantity: '1000000', 'X-Prompt': 'hello', 'X-Tokens': '4' };

describe('judging a Credit-Notice', () => {
  const rules = makeConfig({ token: TOKEN, owner: 'OWNER', maxPromptBytes: 64 });

  it('a notice not from the token, or with no positive Quantity, moved no funds: ignored, saying why', () => {
    expect(judgeCredit(rules, false, notice(GOOD))).toMatchObject({ kind: 'accept' });
    const forged = judgeCredit(rules, false, notice(GOOD, 'STRANGER'));
    expect(forged).toEqual({ kind: 'ignore', reason: expect.stringContaining('token') });
    for (const quantity of [undefined, '', '0', '000', '-5', '1.5', 'ten']) {
      const { Quantity: _, ...rest } = GOOD;
      const tags = quantity === undefined ? rest : { ...rest, Quantity: quantity };
      expect(judgeCredit(rules, false, notice(tags)), `Quantity ${quantity}`).toEqual({
        kind: 'ignore',
        reason: expect.stringContaining('Quantity'),
      });
    }
  });

  it('funds from a notice naming no Sender are kept as unclaimed, saying why', () => {
    for (const sender of [undefined, '']) {
      const { Sender: _, ...rest } = GOOD;
      const tags = sender === undefined ? rest : { ...rest, Sender: sender };
      expect(judgeCredit(rules, false, notice(tags))).toEqual({
        kind: 'unclaimed',
        quantity: 1_000_000n,
        reason: expect.stringContaining('Sender'),
      });
    }
  });

  it('a refund carries X-Needed only when underpaid', () => {
    expect(judgeCredit(rules, true, notice(GOOD))).toStrictEqual({
      kind: 'refund',
      sender: PAYER,
      quantity: 1_000_000n,
      reason: Reason.Paused,
      reference: undefined,
    });
  });

  it('X-Tokens that is not a decimal integer is refunded as such, the empty one included', () => {
    for (const tokens of ['', ' ', '1.5', '-3', '+3', ' 7', '7 ', '0x10', '1e3', 'seven', '٣'])
      expect(
        judgeCredit(rules, false, notice({ ...GOOD, 'X-Tokens': tokens })),
        `X-Tokens "${tokens}"`,
      ).toEqual(expect.objectContaining({ kind: 'refund', reason: Reason.BadTokens }));
  });

  it('the prompt limit is in UTF-8 bytes: a prompt of exactly the limit is served, one byte more is refunded', () => {
    // Characters of 1, 2, 3 and 4 UTF-8 bytes (the last a surrogate pair: 2 UTF-16 units).
    const CHARACTERS = ['a', 'é', '€', '😀'];
    const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 300 }),
        fc.array(fc.constantFrom(...CHARACTERS), { minLength: 1, maxLength: 120 }),
        fc.integer({ min: -3, max: 3 }),
        (maxPromptBytes, characters, offset) => {
          // A prompt of `maxPromptBytes + offset` bytes (when it can be made so: ASCII fills the rest).
          const target = maxPromptBytes + offset;
          let prompt = '';
          for (const c of characters) if (bytes(prompt + c) <= target) prompt += c;
          prompt += 'a'.repeat(target - bytes(prompt));
          expect(bytes(prompt)).toBe(target);
          const config = makeConfig({ token: TOKEN, owner: 'OWNER', maxPromptBytes });
          const verdict = judgeCredit(config, false, notice({ ...GOOD, 'X-Prompt': prompt }));
          if (target <= maxPromptBytes) expect(verdict.kind).toBe('accept');
          else expect(verdict).toMatchObject({ kind: 'refund', reason: Reason.PromptTooLong });
        },
      ),
      { numRuns: UNIT_RUNS },
    );
  });
});
