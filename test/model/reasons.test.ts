/**
 * Refund reasons are the documented ones (docs/protocol.md, "Refund and refusal reasons"): a payer
 * reads X-Reason to learn what to fix. A paid Credit-Notice with any mix of defects is refunded in
 * full, to its Sender, with the reason of the first defect in the documented order; X-Needed comes
 * with an underpayment only, and says exactly what the request needed. Retries that run out are
 * refunded with "Inference failed after N attempt(s): <what happened>".
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type HerdConfig, makeConfig } from '../../src/model/config.ts';
import { initialHerderState, stepInPlace } from '../../src/model/herder.ts';
import { type AoMessage, Reason } from '../../src/model/messages.ts';
import { AMOUNT_EDGES } from '../properties/arbitraries.ts';
import { UNIT_RUNS } from '../properties/harness.ts';

const TOKEN = 'TOKEN';
const OWNER = 'OWNER';
const PAYER = 'PAYER';

/** Defects of a paid notice, in the order the documentation lists their reasons. */
const DEFECTS = [
  'quantity-too-large',
  'paused',
  'missing-prompt',
  'empty-prompt',
  'prompt-too-long',
  'missing-tokens',
  'bad-tokens',
  'tokens-out-of-range',
  'insufficient',
] as const;
type Defect = (typeof DEFECTS)[number];

const REASON: Record<Defect, string> = {
  'quantity-too-large': 'Quantity too large',
  paused: 'Herder paused',
  'missing-prompt': 'Missing prompt',
  'empty-prompt': 'Empty prompt',
  'prompt-too-long': 'Prompt too long',
  'missing-tokens': 'Missing tokens',
  'bad-tokens': 'Tokens must be a decimal integer',
  'tokens-out-of-range': 'Tokens out of range',
  insufficient: 'Insufficient payment',
};

const config: fc.Arbitrary<HerdConfig> = fc
  .record({
    baseFee: fc.bigInt({ min: 1n, max: 10n ** 30n }),
    tokenFee: fc.bigInt({ min: 0n, max: 10n ** 30n }),
    maxTokens: fc.integer({ min: 1, max: 2_000 }),
    maxPromptBytes: fc.integer({ min: 8, max: 510 }),
  })
  .map((fields) => makeConfig({ token: TOKEN, owner: OWNER, ...fields }));

const notice = fc.record({
  config,
  defects: fc.subarray([...DEFECTS]),
  /** Words of the prompt (ASCII, counted independently below). */
  words: fc.array(fc.stringMatching(/^[a-z0-9]{1,6}$/), { minLength: 1, maxLength: 6 }),
  separator: fc.constantFrom(' ', ', ', ' — ', '\n'),
  tokens: fc.nat(),
  badTokens: fc.constantFrom('', '1.5', '-3', ' 7', '7 ', '0x10', '1e3', 'seven', '٣'),
  outOfRange: fc.constantFrom('zero', 'above', 'far-above'),
  /** Over- or under-payment, as a multiple of the fee plus change. */
  factor: fc.integer({ min: 1, max: 5 }),
  change: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 10n ** 40n })),
  shortBy: fc.bigInt({ min: 1n, max: 10n ** 40n }),
  extraDigits: fc.integer({ min: 79, max: 300 }),
  reference: fc.option(fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/), { nil: undefined }),
  /** Leading zeros on the Quantity: the amount is the same, however long the text. */
  zeros: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1000 })),
});

describe('refund reasons', () => {
  it('a defective paid notice is refunded in full with the reason of its first documented defect', () => {
    fc.assert(
      fc.property(notice, (n) => {
        const defects = new Set<Defect>(n.defects);
        const { maxTokens, maxPromptBytes, baseFee, tokenFee } = n.config;
        let prompt: string | undefined = n.words.join(n.separator);
        if (Buffer.byteLength(prompt) > maxPromptBytes) prompt = n.words[0]!;
        if (defects.has('prompt-too-long')) prompt = `${prompt} ${'é'.repeat(maxPromptBytes)}`;
        if (defects.has('empty-prompt')) prompt = '';
        if (defects.has('missing-prompt')) prompt = undefined;
        const validTokens = 1 + (n.tokens % maxTokens);
        let tokens: string | undefined = String(validTokens);
        if (defects.has('tokens-out-of-range'))
          tokens = { zero: '0', above: String(maxTokens + 1), 'far-above': '9'.repeat(40) }[n.outOfRange];
        if (defects.has('bad-tokens')) tokens = n.badTokens;
        if (defects.has('missing-tokens')) tokens = undefined;
        // The fee, computed here from the words put in: ASCII words, one per generated word.
        const promptWords = prompt === undefined ? 0 : (prompt.match(/[A-Za-z0-9]+/g) ?? []).length;
        const needed = baseFee + tokenFee * BigInt(validTokens + promptWords);
        let quantity = needed * BigInt(n.factor) + n.change;
        if (defects.has('insufficient')) {
          if (needed < 2n) defects.delete('insufficient');
          else quantity = needed - 1n - (n.shortBy % (needed - 1n));
        }
        if (defects.has('quantity-too-large')) quantity = 10n ** BigInt(n.extraDigits - 1) + quantity;

        const state = initialHerderState(n.config);
        if (defects.has('paused')) stepInPlace(state, admin('pause', 'Pause'));
        const tags: Record<string, string> = {
          Action: 'Credit-Notice',
          Sender: PAYER,
          Quantity: '0'.repeat(Math.min(n.zeros, 1000 - quantity.toString().length)) + quantity.toString(),
        };
        if (prompt !== undefined) tags['X-Prompt'] = prompt;
        if (tokens !== undefined) tags['X-Tokens'] = tokens;
        if (n.reference !== undefined) tags['X-Reference'] = n.reference;
        const before = { ...state.ledger };
        const outbox = stepInPlace(state, { id: 'notice', from: TOKEN, timestamp: 1, tags });

        const first = DEFECTS.find((d) => defects.has(d));
        if (first === undefined) {
          expect(outbox).toEqual([]);
          expect(state.queue.length).toBe(1);
          // Taken exactly as written, however many digits.
          expect(state.ledger).toEqual({
            ...before,
            credited: before.credited + quantity,
            escrow: before.escrow + quantity,
          });
          return;
        }
        const expectedTags: Record<string, string> = {
          Action: 'Transfer',
          Recipient: PAYER,
          Quantity: quantity.toString(),
          'X-Reason': REASON[first],
          'X-Request': 'notice',
        };
        if (n.reference !== undefined) expectedTags['X-Reference'] = n.reference;
        if (first === 'insufficient') expectedTags['X-Needed'] = needed.toString();
        expect(outbox).toStrictEqual([{ target: TOKEN, tags: expectedTags }]);
        expect(state.queue.length).toBe(0);
        const booked = first === 'quantity-too-large' ? 0n : quantity;
        expect(state.ledger).toEqual({
          ...before,
          credited: before.credited + booked,
          refunded: before.refunded + booked,
        });
      }),
      { numRuns: UNIT_RUNS },
    );
  });

  it('a request that fails maxAttempts times is refunded with what happened on its last attempt', () => {
    const failure = fc.oneof(
      fc.record({ kind: fc.constant('error' as const), detail: fc.stringMatching(/^[a-z ]{0,12}$/) }),
      fc.record({ kind: fc.constantFrom('worker-error' as const, 'silence' as const) }),
    );
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 4 })
          .chain((attempts) =>
            fc.tuple(fc.constant(attempts), fc.array(failure, { minLength: attempts, maxLength: attempts })),
          ),
        fc.option(fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/), { nil: undefined }),
        ([maxAttempts, failures], reference) => {
          const workers = failures.map((_, i) => `W${i + 1}`);
          const herd = makeConfig({ token: TOKEN, owner: OWNER, maxAttempts, workers });
          const state = initialHerderState(herd);
          const tags: Record<string, string> = {
            Action: 'Credit-Notice',
            Sender: PAYER,
            Quantity: '1000000',
            'X-Prompt': 'say hi',
            'X-Tokens': '4',
          };
          if (reference !== undefined) tags['X-Reference'] = reference;
          let outbox = stepInPlace(state, { id: 'paid', from: TOKEN, timestamp: 1, tags });
          let cause = '';
          for (const [attempt, f] of failures.entries()) {
            // Each attempt goes to a worker that has not had the request yet.
            expect(outbox).toEqual([
              {
                target: workers[attempt],
                tags: expect.objectContaining({ 'X-Request': 'paid' }),
                data: 'say hi',
              },
            ]);
            const worker = workers[attempt]!;
            const at = state.now;
            if (f.kind === 'error') {
              const errorTags: Record<string, string> = { Action: 'Inference-Error', 'X-Request': 'paid' };
              if (f.detail !== '') errorTags['X-Reason'] = f.detail;
              outbox = stepInPlace(state, {
                id: `e${attempt}`,
                from: worker,
                timestamp: at,
                tags: errorTags,
              });
              cause = f.detail === '' ? 'worker error' : `worker error: ${f.detail}`;
            } else if (f.kind === 'worker-error') {
              const report = { Action: 'Worker-Error', 'X-Reason': 'out of memory' };
              outbox = stepInPlace(state, { id: `f${attempt}`, from: worker, timestamp: at, tags: report });
              cause = 'worker failed';
            } else {
              const late = at + herd.timeoutBase + herd.timeoutPerToken * 4 + 1;
              outbox = stepInPlace(state, {
                id: `t${attempt}`,
                from: OWNER,
                timestamp: late,
                tags: { Action: 'Cron' },
              });
              cause = 'worker timed out';
            }
          }
          const refund: Record<string, string> = {
            Action: 'Transfer',
            Recipient: PAYER,
            Quantity: '1000000',
            'X-Reason': `Inference failed after ${maxAttempts} attempt(s): ${cause}`,
            'X-Request': 'paid',
          };
          if (reference !== undefined) refund['X-Reference'] = reference;
          expect(outbox).toStrictEqual([{ target: TOKEN, tags: refund }]);
          expect(state.requests.size).toBe(0);
          expect(state.ledger).toMatchObject({ credited: 1_000_000n, refunded: 1_000_000n, escrow: 0n });
        },
      ),
      { numRuns: UNIT_RUNS },
    );
  });

  it('a notice that moves no funds, or names no payer, is never refunded', () => {
    // Every edge amount with every sender and payer, then random amounts.
    const edges = AMOUNT_EDGES.flatMap((raw) =>
      [TOKEN, 'MALLORY', OWNER].flatMap((from) =>
        [undefined, '', PAYER].map((sender) => [raw, from, sender] as [string, string, string | undefined]),
      ),
    );
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 30n }).map(String),
        fc.constantFrom(TOKEN, 'MALLORY', OWNER),
        fc.constantFrom<string | undefined>(undefined, '', PAYER),
        (raw, from, sender) => {
          const state = initialHerderState(makeConfig({ token: TOKEN, owner: OWNER }));
          const tags: Record<string, string> = {
            Action: 'Credit-Notice',
            Quantity: raw,
            'X-Prompt': 'hello there',
            'X-Tokens': '3',
          };
          if (sender !== undefined) tags.Sender = sender;
          const outbox = stepInPlace(state, { id: 'notice', from, timestamp: 1, tags });
          const digits = raw.replace(/^0+(?=.)/, '');
          const amount = /^[0-9]{1,1000}$/.test(raw) && BigInt(raw) > 0n ? BigInt(raw) : undefined;
          const funds = from === TOKEN && amount !== undefined;
          const tooLarge = digits.length > 78;
          if (funds && sender && !tooLarge) {
            // An ordinary paid notice (the property above): never refunded as too large.
            expect(outbox.map((m) => m.tags['X-Reason'])).not.toContain('Quantity too large');
            return;
          }
          // Only a genuine notice with an amount the books can hold, naming no payer, is kept as unclaimed.
          const kept = funds && !sender && !tooLarge ? amount : 0n;
          expect(state.ledger).toMatchObject({ credited: kept, unclaimed: kept, refunded: 0n });
          expect(outbox).toEqual(
            funds && sender
              ? [
                  {
                    target: TOKEN,
                    tags: {
                      Action: 'Transfer',
                      Recipient: PAYER,
                      Quantity: digits,
                      'X-Reason': 'Quantity too large',
                      'X-Request': 'notice',
                    },
                  },
                ]
              : [],
          );
        },
      ),
      { numRuns: UNIT_RUNS, examples: edges },
    );
  });

  it('the reasons are those of the protocol’s Reason table', () => {
    expect(Object.values(REASON)).toEqual([
      Reason.QuantityTooLarge,
      Reason.Paused,
      Reason.MissingPrompt,
      Reason.EmptyPrompt,
      Reason.PromptTooLong,
      Reason.MissingTokens,
      Reason.BadTokens,
      Reason.TokensOutOfRange,
      Reason.Insufficient,
    ]);
  });
});

function admin(id: string, action: string, tags: Record<string, string> = {}): AoMessage {
  return { id, from: OWNER, timestamp: 0, tags: { Action: action, ...tags } };
}
