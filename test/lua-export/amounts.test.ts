/**
 * Amounts in herder.lua, in aos: native integers below 2^62, .bint values from there on, loaded
 * only then. Around every edge of that split (payments, fees, the books, withdrawals, printed
 * multipliers) the Lua herder matches the model message for message; ordinary traffic never
 * loads the .bint library; and a state whose books and fees were kept as .bint values (as
 * earlier versions kept them) carries on with the same books.
 */
import { describe, expect, it } from 'vitest';
import { herderLua } from '../../src/lua-export/herder.ts';
import { makeConfig } from '../../src/model/config.ts';
import type { AoMessage, OutMessage } from '../../src/model/messages.ts';
import { PairedHerder } from '../conformance/paired.ts';

const LIMIT62 = 1n << 62n;

const config = makeConfig({ token: 'TOKEN', owner: 'OWNER', workers: ['W1'], baseFee: 3n, tokenFee: 2n });

/** Drives `paired` with numbered messages at an advancing clock; W1 answers on request. */
function driver(paired: PairedHerder, prefix: string) {
  let n = 0;
  let clock = 1_000;
  let held: string | undefined;
  const deliver = async (
    from: string,
    tags: Record<string, string>,
    data?: string,
  ): Promise<OutMessage[]> => {
    clock += 10;
    const msg: AoMessage = { id: `${prefix}-${++n}`, from, timestamp: clock, tags };
    const out = await paired.deliver(data === undefined ? msg : { ...msg, data });
    for (const o of out) if (o.target === 'W1' && o.tags.Action === 'Inference') held = o.tags['X-Request'];
    return out;
  };
  const pay = (quantity: bigint, tokens = 4) =>
    deliver('TOKEN', {
      Action: 'Credit-Notice',
      Sender: 'CLIENT',
      Quantity: String(quantity),
      'X-Prompt': 'one two',
      'X-Tokens': String(tokens),
    });
  /** W1 answers the request it holds (and takes the next). */
  const answer = async (): Promise<void> => {
    const request = held;
    if (request === undefined) return;
    held = undefined;
    await deliver('W1', { Action: 'Inference-Response', 'X-Request': request }, 'done');
  };
  /** Pays and lets W1 answer. */
  const serve = async (quantity: bigint): Promise<void> => {
    await pay(quantity);
    await answer();
  };
  const admin = (tags: Record<string, string>) => deliver('OWNER', tags);
  return { deliver, pay, answer, serve, admin };
}

describe('herder.lua amounts around 2^62 (aos32)', () => {
  it('matches the model on payments, fees, books, withdrawals and multipliers across the split', async () => {
    const paired = await PairedHerder.create('aos32', config);
    const { deliver, pay, answer, serve, admin } = driver(paired, 'amounts');
    const info = () => deliver('CLIENT', { Action: 'Info' });
    // Payments on both sides of 2^62, and of 10^18 (the longest native parse); their multipliers
    // printed natively (paid * 10^6 below 2^62) and through .bint, on both sides of 2^63 too.
    for (const quantity of [
      4_611_686_018_426n,
      4_611_686_018_428n,
      10n ** 13n,
      4n * 10n ** 13n,
      10n ** 18n - 1n,
      10n ** 18n,
      LIMIT62 - 1n,
      LIMIT62,
      LIMIT62 + 1n,
      10n ** 77n,
    ]) {
      await serve(quantity);
      await info();
    }
    // Payments on both sides of 2^62 (and of 10^19, the longest parse) queued behind a busy W1.
    await pay(1_000n);
    for (const quantity of [
      LIMIT62 + 5n,
      LIMIT62 - 3n,
      10n ** 19n - 1n,
      LIMIT62 * 2n - 1n,
      10n ** 19n + 9n,
      999n,
    ])
      await pay(quantity);
    for (let i = 0; i < 7; i++) await answer();
    // The books cross 2^62 by addition, and withdrawals take them back across.
    for (let i = 0; i < 3; i++) await serve(LIMIT62 / 2n + BigInt(i));
    await paired.compareState();
    await admin({ Action: 'Withdraw', Quantity: String(LIMIT62 + 7n) });
    await admin({ Action: 'Withdraw', Quantity: String(10n ** 78n) }); // more than the revenue
    await paired.compareState();
    // Fees at and beyond 2^62: the fee a request needs computed both ways, refunds quoting it.
    for (const [base, perToken] of [
      [LIMIT62 - 20n, 1n],
      [LIMIT62 - 5n, 1n],
      [0n, LIMIT62 / 4n],
      [10n ** 70n, 10n ** 7n],
    ] as const) {
      await admin({ Action: 'Set-Fees', 'Base-Fee': String(base), 'Token-Fee': String(perToken) });
      await info();
      await pay(base + perToken * 6n - 1n); // one short: refunded with X-Needed
      await serve(base + perToken * 6n);
      await serve(base * 3n + perToken * 20n);
      await info();
      // Requests that need fees on both sides of 2^62 (1 to 60 tokens), queued behind a busy W1:
      // the order they are dispatched in compares paid / needed across the split.
      await pay(base + perToken * 6n);
      for (const [tokens, extra] of [
        [1, 0n],
        [60, 7n],
        [30, LIMIT62],
        [2, base],
        [45, 10n ** 20n],
        [3, 5n],
      ] as const)
        await pay(base + perToken * BigInt(tokens + 2) + extra, tokens);
      for (let i = 0; i < 7; i++) await answer();
    }
    await admin({ Action: 'Set-Fees', 'Base-Fee': String(10n ** 79n) }); // refused: too many digits
    await admin({ Action: 'Set-Fees', 'Base-Fee': '0', 'Token-Fee': '0' }); // refused: both zero
    await admin({ Action: 'Set-Fees', 'Base-Fee': '0', 'Token-Fee': '1' });
    await serve(5n);
    await info();
    await paired.compareState();
  });

  it('never loads the .bint library for ordinary traffic', async () => {
    const paired = await PairedHerder.create('aos32', config);
    const { deliver, pay, serve, admin } = driver(paired, 'ordinary');
    for (let i = 0; i < 20; i++) await serve(100n + BigInt(i * 37));
    await pay(5n); // underpaid
    await deliver('TOKEN', { Action: 'Credit-Notice', Quantity: '77' }); // unclaimed
    await deliver('CLIENT', { Action: 'Info' });
    await admin({ Action: 'Set-Fees', 'Base-Fee': '7', 'Token-Fee': '3' });
    await admin({ Action: 'Set-Limits', 'Max-Tokens': '99999999999999999999999' }); // refused
    await admin({ Action: 'Withdraw', Quantity: '100' });
    await paired.compareState();
    expect(await paired.lua.eval('return tostring(HerderBint)')).toContain('nil');
  });

  it('carries on from books and fees kept as .bint values with native parts', async () => {
    const paired = await PairedHerder.create('aos32', config);
    const { serve, admin } = driver(paired, 'kept');
    await serve(LIMIT62 + 11n);
    await serve(1_000n);
    // The books and fees as a version that kept them as .bint values (of its own instance) left
    // them, with part of each entry still in its native part, then this version evaluated over it.
    await paired.lua.eval(`
      local old = require('.bint')(1024)
      local state = HerderState
      state.unbooked = {}
      for name, value in pairs(state.ledger) do
        local part = math.type(value) == 'integer' and value // 3 or 5
        state.ledger[name] = old(tostring(value)) - part
        state.unbooked[name] = part
      end
      state.config.baseFee = old(tostring(state.config.baseFee))
      state.config.tokenFee = old(tostring(state.config.tokenFee))
      HerderBint = nil`);
    await paired.lua.eval(herderLua(config));
    await paired.compareState();
    await serve(LIMIT62 - 1n);
    await serve(2_000n);
    await admin({ Action: 'Withdraw', Quantity: '1' });
    await paired.compareState();
  });
});
