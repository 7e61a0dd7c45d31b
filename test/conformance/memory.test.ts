/**
 * Memory bounded by live work, in aos: over a long run the Lua herder remembers the notice ids of
 * live requests and of a bounded window of recent messages only (as the model does, message for
 * message, redeliveries inside and outside the window included), and its heaps stay small.
 */
import { describe, expect, it } from 'vitest';
import { makeConfig } from '../../src/model/config.ts';
import { DEDUP_WINDOW } from '../../src/model/herder.ts';
import type { AoMessage } from '../../src/model/messages.ts';
import { PairedHerder } from './paired.ts';

const config = makeConfig({
  token: 'TOKEN',
  owner: 'OWNER',
  workers: ['W1', 'W2'],
  timeoutBase: 3_000,
  timeoutPerToken: 100,
  maxQueueWait: 20_000,
});

interface Summary {
  remembered: number;
  waits: number;
  deadlines: number;
  requests: Record<string, unknown>;
}

describe('herder.lua memory over a long run (aos32)', () => {
  it(`remembers live requests and at most a window of ${DEDUP_WINDOW} messages, like the model`, async () => {
    const paired = await PairedHerder.create('aos32', config);
    const summary = async () =>
      JSON.parse(await paired.lua.eval("return require('json').encode(HerderSummary())")) as Summary;
    const notices: AoMessage[] = [];
    const held = new Map<string, string>();
    let clock = 1_000;
    let n = 0;
    const deliver = async (from: string, tags: Record<string, string>, data?: string) => {
      clock += 13;
      const msg: AoMessage =
        data === undefined
          ? { id: `long-${++n}`, from, timestamp: clock, tags }
          : { id: `long-${++n}`, from, timestamp: clock, tags, data };
      if (tags.Action === 'Credit-Notice') notices.push(msg);
      const out = await paired.deliver(msg);
      for (const o of out) if (o.tags.Action === 'Inference') held.set(o.target, o.tags['X-Request']!);
    };
    const sizes: number[] = [];
    for (let i = 0; i < 2_600; i++) {
      const k = i % 5;
      if (k === 0 || k === 1)
        await deliver('TOKEN', {
          Action: 'Credit-Notice',
          Sender: `CLIENT-${i % 3}`,
          Quantity: String(300 + (i % 7)),
          'X-Prompt': 'tell me about llamas',
          'X-Tokens': '4',
        });
      else if (k === 2 || k === 3) {
        const w = k === 2 ? 'W1' : 'W2';
        const request = held.get(w);
        if (request !== undefined) held.delete(w);
        await deliver(w, { Action: 'Inference-Response', 'X-Request': request ?? '' }, 'llamas');
      } else {
        // A notice delivered again: a recent one (ignored), or one from far back (outside the window).
        const back = i % 2 === 0 ? 3 : notices.length - 1;
        const again = notices[Math.max(0, notices.length - 1 - back)]!;
        clock += 13;
        await paired.deliver({ ...again, timestamp: clock });
      }
      if (i % 500 === 499) {
        const s = await summary();
        const live = Object.keys(s.requests).length;
        expect(s.remembered).toBeLessThanOrEqual(live + 2 * DEDUP_WINDOW);
        expect(s.waits).toBeLessThanOrEqual(2 * live + 66);
        expect(s.deadlines).toBeLessThanOrEqual(2 * config.workers.length + 65);
        sizes.push(s.remembered);
      }
    }
    await paired.compareState();
    // Flat once the window is full: it does not grow with the herder's age.
    expect(Math.max(...sizes.slice(2))).toBeLessThanOrEqual(Math.min(...sizes.slice(2)) + 50);
    console.log(`memory: ${paired.delivered} messages, ids remembered at each 500: ${sizes.join(', ')}`);
  });
});
