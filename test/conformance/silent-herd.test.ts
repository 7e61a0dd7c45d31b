/**
 * No request waits forever, in aos: when every worker of the herd goes silent, herder.lua refunds
 * every queued and running request within maxAttempts × (maxQueueWait + deadline), to its payer,
 * in full, with its reference, exactly as the model does, message for message.
 */
import { describe, expect, it } from 'vitest';
import { herderLua } from '../../src/lua-export/herder.ts';
import { makeConfig } from '../../src/model/config.ts';
import type { AoMessage, OutMessage } from '../../src/model/messages.ts';
import { PairedHerder } from './paired.ts';

const config = makeConfig({
  token: 'TOKEN',
  owner: 'OWNER',
  workers: ['W1', 'W2'],
  timeoutBase: 3_000,
  timeoutPerToken: 100,
  maxAttempts: 2,
  maxQueueWait: 10_000,
});

describe('a herd whose every worker goes silent (aos32)', () => {
  it('refunds every queued and running request within the bound, to the payers, in full', async () => {
    const paired = await PairedHerder.create('aos32', config);
    const tokens = 4;
    const bound =
      config.maxAttempts * (config.maxQueueWait + config.timeoutBase + config.timeoutPerToken * tokens);
    const paid = new Map<string, { sender: string; quantity: string; reference: string; at: number }>();
    const refunds: OutMessage[] = [];
    let n = 0;
    const deliver = async (msg: Omit<AoMessage, 'id'>) => {
      const out = await paired.deliver({ ...msg, id: `silent-${++n}` } as AoMessage);
      for (const o of out) if (o.tags.Action === 'Transfer') refunds.push(o);
      return out;
    };
    for (let i = 0; i < 8; i++) {
      const at = 1_000 + 100 * i;
      const reference = `ref-${i}`;
      await deliver({
        from: 'TOKEN',
        timestamp: at,
        tags: {
          Action: 'Credit-Notice',
          Sender: `CLIENT-${i}`,
          Quantity: String(1_000 + i),
          'X-Prompt': 'tell me about llamas',
          'X-Tokens': String(tokens),
          'X-Reference': reference,
        },
      });
      paid.set(`silent-${n}`, { sender: `CLIENT-${i}`, quantity: String(1_000 + i), reference, at });
    }
    // Nobody answers; only Cron ticks arrive.
    const ticks: number[] = [];
    for (let t = 2_000; t <= 1_000 + bound + 2_000; t += 1_000) ticks.push(t);
    const endedAt = new Map<string, number>();
    for (const t of ticks) {
      const out = await deliver({ from: 'OWNER', timestamp: t, tags: { Action: 'Cron' } });
      for (const o of out) if (o.tags.Action === 'Transfer') endedAt.set(o.tags['X-Request']!, t);
    }
    expect(refunds).toHaveLength(8);
    for (const [id, p] of paid) {
      const refund = refunds.find((r) => r.tags['X-Request'] === id)!;
      expect(refund.target).toBe('TOKEN');
      expect(refund.tags).toMatchObject({
        Recipient: p.sender,
        Quantity: p.quantity,
        'X-Reference': p.reference,
      });
      // Message-driven: the herder acts on the first tick after the bound (ticks every second).
      expect(endedAt.get(id)! - p.at).toBeLessThanOrEqual(bound + 1_000);
    }
    const reasons = new Set(refunds.map((r) => r.tags['X-Reason']!.replace(/ after .*/, '')));
    // The two running ones time out and wait again; with both workers down for good, all wait it out.
    expect(reasons).toEqual(new Set(['Waited too long in the queue']));
    await paired.compareState();
    const ledger = JSON.parse(
      await paired.lua.eval("return require('json').encode(HerderSummary().ledger)"),
    ) as Record<string, string>;
    expect(ledger).toMatchObject({ escrow: '0', revenue: '0', refunded: String(8 * 1_000 + 28) });
  });
});

describe('re-evaluating herder.lua over a running herder (aos32)', () => {
  it('keeps its state, queue waits and remembered ids, and carries on as the model does', async () => {
    const paired = await PairedHerder.create('aos32', config);
    let n = 0;
    const deliver = (from: string, timestamp: number, tags: Record<string, string>) =>
      paired.deliver({ id: `re-${++n}`, from, timestamp, tags });
    const notice = (at: number, i: number) =>
      deliver('TOKEN', at, {
        Action: 'Credit-Notice',
        Sender: `CLIENT-${i}`,
        Quantity: '1000',
        'X-Prompt': 'tell me about llamas',
        'X-Tokens': '4',
      });
    for (let i = 0; i < 5; i++) await notice(1_000 + i, i);
    await paired.lua.eval(herderLua(config));
    // The same notice again is still remembered; the queued requests still wait out their bound.
    expect(
      await paired.deliver({
        id: 're-1',
        from: 'TOKEN',
        timestamp: 1_100,
        tags: {
          Action: 'Credit-Notice',
          Sender: 'CLIENT-0',
          Quantity: '1000',
          'X-Prompt': 'tell me about llamas',
          'X-Tokens': '4',
        },
      }),
    ).toEqual([]);
    const out = await deliver('OWNER', 1_000 + 2 * (10_000 + 3_400) + 1_000, { Action: 'Cron' });
    expect(out.filter((o) => o.tags.Action === 'Transfer').length).toBeGreaterThan(0);
    await paired.compareState();
  });
});
