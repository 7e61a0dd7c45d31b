/**
 * The local network with llama.wasm (AOS-Llama, aos 2.0.0.rc1, wasm64): this module reports a
 * raising handler in Output.data instead of Error, and keeps the messages sent before the raise.
 */
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalNetwork } from '../../src/ao/network.ts';
import { printedHandlerError, stripAnsi } from '../../src/ao/results.ts';
import { ensureTinyModel } from '../../src/gguf/cache.ts';
import { tokenLua } from '../../src/lua-export/token.ts';
import { createWeaveDrive } from '../../src/weavedrive/index.ts';
import { COUNTER_LUA, tagMap, withAction } from './helpers.ts';

describe('llama.wasm processes', () => {
  it('run the token: mint, transfer with X- tags (names kept as sent)', async () => {
    const net = await LocalNetwork.create({ seed: 'llama-token' });
    const owner = net.wallet('owner');
    const payer = net.wallet('payer');
    const payee = net.wallet('payee');
    const token = await net.spawn({ module: 'llama', owner, name: 'token', boot: tokenLua() });
    net.send({
      from: owner,
      target: token,
      tags: { Action: 'Mint', Recipient: payer, Quantity: (3n ** 90n).toString() },
    });
    await net.deliverAll();
    net.send({
      from: payer,
      target: token,
      tags: { Action: 'Transfer', Recipient: payee, Quantity: '12', 'x-prompt': 'hey', 'X-Tokens': '2' },
    });
    await net.deliverAll();
    const [credit] = withAction(net, 'Credit-Notice', payee);
    expect(tagMap(credit!.tags)).toMatchObject({
      Sender: payer,
      Quantity: '12',
      'x-prompt': 'hey',
      'X-Tokens': '2',
    });
    const [debit] = withAction(net, 'Debit-Notice', payer);
    expect(tagMap(debit!.tags)).toMatchObject({ Recipient: payee, Quantity: '12' });
    const left = await net.peek(token, `return Balances['${payer}']`);
    expect(BigInt(left)).toBe(3n ** 90n - 12n);
    net.close();
  });

  it('rolls back a raising handler (reported in Output) by default; error-field mode keeps it like a CU', async () => {
    for (const rollbackOn of ['raise', 'error-field'] as const) {
      const net = await LocalNetwork.create({ seed: 'llama-raise', rollbackOn });
      const owner = net.wallet('owner');
      const user = net.wallet('user');
      const pid = await net.spawn({ module: 'llama', owner, boot: COUNTER_LUA });
      net.send({ from: user, target: pid, tags: { Action: 'Bump', Fail: 'yes' } });
      const [entry] = await net.deliverAll();
      expect(entry?.error).toMatch(/Error handling message with Action = Bump[\s\S]*bump failed on purpose/);
      expect(printedHandlerError(entry!.output!)).toBe(entry!.error);
      const counter = await net.peek(pid, 'return tostring(Counter)');
      if (rollbackOn === 'raise') {
        expect(entry).toMatchObject({ rolledBack: true, sent: [] });
        expect(counter).toBe('0');
        expect(net.messagesTo(user)).toHaveLength(0);
      } else {
        // What a real CU does with this module: no Error field, so state and messages are kept.
        expect(entry?.rolledBack).toBeUndefined();
        expect(counter).toBe('1');
        expect(net.messagesTo(user).map((e) => e.data)).toEqual(['1']);
      }
      net.close();
    }
  });

  it('survives a handle() that rejects (failed model load): fresh instance, state from before', async () => {
    const net = await LocalNetwork.create({ seed: 'llama-throw' });
    const owner = net.wallet('owner');
    const pid = await net.spawn({ module: 'llama', owner, boot: 'Loaded = "no"' });
    const fresh = net.stats.freshInstances;
    await expect(
      net.eval(
        pid,
        `Loaded = "trying"
Llama = { onLog = function() end, onProgress = function() end }
require('llama').load('/data/no-such-model')
Loaded = "yes"`,
      ),
    ).rejects.toThrow(/Abort|RuntimeError|unreachable/i);
    const entry = net.log.at(-1)!;
    expect(entry).toMatchObject({ kind: 'eval', thrown: true, rolledBack: true, sent: [] });
    expect(net.stats.freshInstances).toBe(fresh + 1);
    expect(await net.peek(pid, 'return Loaded')).toBe('no');
    expect(stripAnsi(await net.peek(pid, 'return 1 + 1'))).toBe('2');
    net.close();
  });

  it('passes WeaveDrive through; a loaded model survives a snapshot restored into a fresh instance', async () => {
    const model = await ensureTinyModel();
    const net = await LocalNetwork.create({ seed: 'llama-weavedrive' });
    const owner = net.wallet('owner');
    const pid = await net.spawn({
      module: 'llama',
      owner,
      weaveDrive: createWeaveDrive({ modelsDir: dirname(model.path) }),
      boot: `Llama = { onLog = function() end, onProgress = function() end }
Backend = require('llama')`,
    });
    expect(await net.eval(pid, `Backend.load('/data/${model.id}'); return 'loaded'`)).toBe('loaded');
    const generate = `Backend.set_prompt('Hello'); local out = {}
for i = 1, 8 do local t = Backend.next(); if not t then break end; table.insert(out, t) end
return table.concat(out, '|')`;
    const before = await net.eval(pid, generate);
    expect(before.length).toBeGreaterThan(0);
    const snapshot = await net.snapshot(pid);
    await net.restore(pid, snapshot);
    expect(await net.eval(pid, generate)).toBe(before);
    net.close();
  });
});
