/**
 * A herder snapshot taken mid-flight (requests queued and running) and restored into a fresh
 * WebAssembly instance carries on exactly as the model does: every request still ends once.
 */
import { describe, expect, it } from 'vitest';
import { Auditor } from '../../src/audit/auditor.ts';
import { makeConfig } from '../../src/model/config.ts';
import type { AoMessage } from '../../src/model/messages.ts';
import { PairedHerder } from './paired.ts';

const config = makeConfig({
  token: 'TOKEN',
  owner: 'OWNER',
  workers: ['W1', 'W2'],
  maxAttempts: 2,
  timeoutBase: 3_000,
  timeoutPerToken: 100,
});

describe('herder snapshot and restore', () => {
  it('continues after a restore into a fresh instance with no request lost', async () => {
    const paired = await PairedHerder.create('aos32', config);
    const auditor = Auditor.forConfig(config);
    let n = 0;
    let clock = 1_000;
    const send = async (from: string, tags: Record<string, string>, data?: string) => {
      clock += 10;
      const msg: AoMessage = {
        id: `s${++n}`,
        from,
        timestamp: clock,
        tags,
        ...(data ? { data } : {}),
      };
      const out = await paired.deliver(msg);
      auditor.observe(msg, out);
      return out;
    };
    const dispatched = new Map<string, string>();
    for (let i = 0; i < 6; i++) {
      const out = await send('TOKEN', {
        Action: 'Credit-Notice',
        Quantity: String(500 + i * 50),
        Sender: `CLIENT-${i % 3}`,
        'X-Prompt': 'tell me about llamas',
        'X-Tokens': '4',
        'X-Reference': `r${i}`,
      });
      for (const o of out) if (o.tags.Action === 'Inference') dispatched.set(o.target, o.tags['X-Request']!);
    }
    expect(auditor.summary().live).toBe(6);

    // Mid-flight: two running, four queued. Snapshot, then restore into a fresh instance.
    const snapshot = await paired.lua.net.snapshot(paired.lua.pid);
    await paired.lua.net.restore(paired.lua.pid, snapshot);
    expect(paired.lua.net.stats.freshInstances).toBeGreaterThanOrEqual(1);

    // W1 answers, W2 stays silent past its deadline: its request is retried on W1.
    for (let round = 0; round < 12 && auditor.summary().live > 0; round++) {
      const request = dispatched.get('W1');
      if (request) {
        dispatched.delete('W1');
        const out = await send(
          'W1',
          { Action: 'Inference-Response', 'X-Request': request },
          'llamas are great',
        );
        for (const o of out)
          if (o.tags.Action === 'Inference') dispatched.set(o.target, o.tags['X-Request']!);
      }
      clock += 2_000;
      const out = await send('OWNER', { Action: 'Cron', Cron: 'true' });
      for (const o of out) if (o.tags.Action === 'Inference') dispatched.set(o.target, o.tags['X-Request']!);
    }
    auditor.finish();
    await paired.compareState();
    expect(auditor.violations).toEqual([]);
    expect(auditor.summary()).toMatchObject({ live: 0, accepted: 6 });
    expect(auditor.summary().revenue + auditor.summary().refunded).toBe(auditor.summary().credited);
  });
});
