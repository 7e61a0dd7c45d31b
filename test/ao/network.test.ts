import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatLogEntry } from '../../src/ao/log.ts';
import { LocalNetwork, type NetworkOptions } from '../../src/ao/network.ts';
import { pickByChoices, pickInLogOrder, pickWithScheduler } from '../../src/ao/scheduler.ts';
import { COUNTER_LUA, tagMap, withAction } from './helpers.ts';

type Aos = 'aos32' | 'aos64';

async function counterNet(module: Aos = 'aos32', options: NetworkOptions = {}) {
  const net = await LocalNetwork.create({ seed: 'counter', ...options });
  const owner = net.wallet('owner');
  const user = net.wallet('user');
  const pid = await net.spawn({ module, owner, name: 'counter', boot: COUNTER_LUA });
  const counter = async () => Number(await net.peek(pid, 'return tostring(Counter)'));
  return { net, owner, user, pid, counter };
}

describe('spawn and relay', () => {
  it('spawns like the MU/SU: spawn first, env with the MU as Authority, owner and name', async () => {
    const net = await LocalNetwork.create({ seed: 'spawn' });
    const owner = net.wallet('owner');
    const pid = await net.spawn({ module: 'aos32', owner, name: 'alpha', tags: { Extra: 'yes' } });
    expect(pid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const seen = JSON.parse(
      await net.peek(
        pid,
        `return require('json').encode({ id = ao.id, owner = Owner, name = Name,
          authority = ao.authorities[1], extra = ao.env.Process.Tags.Extra })`,
      ),
    );
    expect(seen).toEqual({ id: pid, owner, name: 'alpha', authority: net.muId, extra: 'yes' });
    const [spawn] = net.log;
    expect(spawn).toMatchObject({ kind: 'spawn', id: pid, from: owner, owner, to: pid, nonce: 0 });
    expect(tagMap(spawn!.tags)).toMatchObject({ Type: 'Process', Name: 'alpha', Authority: net.muId });
    net.close();
  });

  it('boots with On-Boot = Data when asked, and refuses a spawn whose boot raises', async () => {
    const net = await LocalNetwork.create({ seed: 'boot' });
    const owner = net.wallet('owner');
    const pid = await net.spawn({
      module: 'aos32',
      owner,
      bootMode: 'on-boot',
      boot: 'Booted = "via On-Boot"',
    });
    expect(await net.peek(pid, 'return Booted')).toBe('via On-Boot');
    expect(tagMap(net.log[0]!.tags)['On-Boot']).toBe('Data');
    expect(net.log.filter((e) => e.kind === 'eval')).toHaveLength(0);
    await expect(
      net.spawn({ module: 'aos32', owner, bootMode: 'on-boot', boot: 'error("cannot boot")' }),
    ).rejects.toThrow(/spawn failed/);
    expect(net.processes).toEqual([pid]);
    net.close();
  });

  it('relays process messages (Owner = MU, From = pid), trusts wallets, drops spoofed senders', async () => {
    const net = await LocalNetwork.create({ seed: 'relay' });
    const owner = net.wallet('owner');
    const user = net.wallet('user');
    const a = await net.spawn({ module: 'aos32', owner, name: 'a', boot: COUNTER_LUA });
    const b = await net.spawn({ module: 'aos32', owner, name: 'b', boot: COUNTER_LUA });
    await net.eval(a, `ao.send({ Target = '${b}', Action = 'Seen' })`);
    net.send({ from: user, target: b, tags: { Action: 'Seen' } });
    // Claims to come from process a but is signed by the user's wallet: not trusted by aos.
    net.send({ from: a, owner: user, target: b, tags: { Action: 'Seen' } });
    await net.deliverAll();
    const seen = JSON.parse(await net.peek(b, `return require('json').encode(Seen)`));
    expect(seen).toHaveLength(2);
    expect(seen[0]).toMatchObject({ From: a, Owner: net.muId, FromProcess: a });
    expect(seen[1]).toMatchObject({ From: user, Owner: user, FromProcess: '' });
    // aos 2.0.4 answers the claimed sender.
    const refusal = net.log.find((e) => e.from === b && e.to === a);
    expect(refusal?.data).toBe('Message is not trusted by this process!');
    expect(net.messagesTo(user)).toHaveLength(0);
    const names = { [a]: 'a', [b]: 'b', [user]: 'user', [owner]: 'owner' };
    const lines = net.log.map((e) => formatLogEntry(e, names));
    expect(lines).toContain('#6 user → b Seen');
    expect(lines.at(-1)).toBe(
      `#${net.log.length - 1} b → a message "Message is not trusted by this process!"`,
    );
    net.close();
  });
});

describe('CU error semantics', () => {
  for (const [module, checkpointFactor] of [
    ['aos32', 0],
    ['aos32', undefined],
    ['aos64', undefined],
  ] as const) {
    it(`a raising handler changes nothing and sends nothing (${module}, checkpointFactor ${checkpointFactor ?? 'default'})`, async () => {
      const { net, user, pid, counter } = await counterNet(
        module,
        checkpointFactor === undefined ? {} : { checkpointFactor },
      );
      net.send({ from: user, target: pid, tags: { Action: 'Bump' } });
      await net.deliverAll();
      expect(await counter()).toBe(1);
      const repliesBefore = net.messagesTo(user).length;
      const freshBefore = net.stats.freshInstances;
      const replayedBefore = net.stats.replayedCalls;
      net.send({ from: user, target: pid, tags: { Action: 'Bump', Fail: 'yes' } });
      const [failed] = await net.deliverAll();
      expect(failed?.error).toMatch(/bump failed on purpose/);
      expect(failed?.rolledBack).toBe(true);
      expect(failed?.sent).toEqual([]);
      expect(net.messagesTo(user)).toHaveLength(repliesBefore);
      expect(net.pending).toHaveLength(0);
      expect(await counter()).toBe(1);
      // The rollback restores the checkpoint in place; with a checkpoint after every message there
      // is nothing to replay, otherwise the messages since the last checkpoint are replayed.
      expect(net.stats.freshInstances).toBe(freshBefore);
      expect(net.stats.replayedCalls - replayedBefore).toBe(checkpointFactor === 0 ? 0 : 2);
      net.send({ from: user, target: pid, tags: { Action: 'Bump' } });
      await net.deliverAll();
      expect(await counter()).toBe(2);
      expect(net.messagesTo(user).map((e) => e.data)).toEqual(['1', '2']);
      net.close();
    });
  }

  it('a failing Eval is rolled back too', async () => {
    const { net, pid, counter } = await counterNet();
    await expect(net.eval(pid, 'Counter = 100; error("nope")')).rejects.toThrow(/nope/);
    expect(await counter()).toBe(0);
    expect(net.log.at(-1)).toMatchObject({ kind: 'eval', rolledBack: true });
    net.close();
  });
});

describe('time and cron', () => {
  it('delivers cron ticks from the owner with Cron = true, on interval boundaries and on demand', async () => {
    const net = await LocalNetwork.create({ seed: 'cron', startTime: 1_000_000 });
    const owner = net.wallet('owner');
    const pid = await net.spawn({
      module: 'aos32',
      owner,
      tags: { 'Cron-Interval': '1-minute', 'Cron-Tag-Action': 'Tick' },
      boot: `Ticks = {}
Handlers.add('tick', function(m) return m.Tags.Action == 'Tick' end, function(m)
  table.insert(Ticks, { Cron = m.Cron, From = m.From, Timestamp = m.Timestamp })
end)`,
    });
    net.advanceTime(3 * 60_000 + 1);
    expect(net.pending.map((p) => p.kind)).toEqual(['cron', 'cron', 'cron']);
    await net.deliverAll();
    await net.cron(pid);
    const ticks = JSON.parse(await net.peek(pid, `return require('json').encode(Ticks)`));
    expect(ticks).toEqual([
      { Cron: true, From: owner, Timestamp: 1_060_000 },
      { Cron: true, From: owner, Timestamp: 1_120_000 },
      { Cron: true, From: owner, Timestamp: 1_180_000 },
      { Cron: true, From: owner, Timestamp: 1_180_001 },
    ]);
    expect(net.evaluationsOf(pid).filter((e) => e.kind === 'cron')).toHaveLength(4);
    expect(net.blockHeight).toBe(1_580_000 + 1);
    net.close();
  });
});

describe('determinism and interleavings', () => {
  async function scenario(seed: string) {
    const net = await LocalNetwork.create({ seed, msPerMessage: 7 });
    const owner = net.wallet('owner');
    const user = net.wallet('user');
    const a = await net.spawn({ module: 'aos32', owner, boot: COUNTER_LUA });
    const b = await net.spawn({ module: 'aos32', owner, boot: COUNTER_LUA });
    net.send({ from: user, target: a, tags: { Action: 'Bump' } });
    net.send({ from: a, target: b, tags: { Action: 'Bump' } });
    net.send({ from: user, target: b, tags: { Action: 'Bump', Fail: '1' } });
    await net.deliverAll();
    await net.cron(a);
    const log = JSON.stringify(net.log);
    net.close();
    return log;
  }

  it('gives the same ids, results and log for the same seed', async () => {
    const first = await scenario('same');
    expect(await scenario('same')).toBe(first);
    expect(await scenario('other')).not.toBe(first);
  });

  it('lets a picker choose the delivery order', async () => {
    const { net, user, pid } = await counterNet('aos32', { pick: pickByChoices([2, 1, 0]) });
    const ids = [1, 2, 3].map((n) =>
      net.send({ from: user, target: pid, tags: { Action: 'Bump', N: String(n) } }),
    );
    const delivered = await net.deliverAll();
    expect(delivered.map((e) => e.id)).toEqual([ids[2], ids[1], ids[0]]);
    expect(delivered.map((e) => tagMap(e.tags).N)).toEqual(['3', '2', '1']);
    net.close();
  });

  it('replays a recorded interleaving from its log', async () => {
    const run = async (pick: Parameters<typeof pickByChoices>[0] | ReturnType<typeof pickInLogOrder>) => {
      const { net, user, pid } = await counterNet('aos32', {
        pick: typeof pick === 'function' ? pick : pickByChoices(pick),
      });
      const other = await net.spawn({ module: 'aos32', owner: net.wallet('owner'), boot: COUNTER_LUA });
      for (let i = 0; i < 3; i++) net.send({ from: user, target: pid, tags: { Action: 'Bump' } });
      for (let i = 0; i < 3; i++) net.send({ from: other, target: pid, tags: { Action: 'Bump' } });
      await net.deliverAll();
      net.close();
      return net.log;
    };
    const recorded = await run([5, 3, 0, 7, 2, 1, 4, 0, 2]);
    const replayed = await run(pickInLogOrder(recorded));
    expect(JSON.stringify(replayed)).toBe(JSON.stringify(recorded));
    const fifo = await run([]);
    expect(JSON.stringify(fifo)).not.toBe(JSON.stringify(recorded));
  });

  it('explores interleavings with fc.scheduler', async () => {
    const orders = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        const { net, pid, counter } = await counterNet();
        const wallets = ['w1', 'w2', 'w3'].map((w) => net.wallet(w));
        for (const w of wallets) {
          for (let i = 0; i < 2; i++)
            net.send({ from: w, target: pid, tags: { Action: 'Bump', N: `${w}${i}` } });
        }
        const delivered = await s.waitFor(net.deliverAll({ pick: pickWithScheduler(s) }));
        orders.add(delivered.map((e) => tagMap(e.tags).N).join(','));
        expect(await counter()).toBe(6);
        const replies = wallets.flatMap((w) => net.messagesTo(w).map((e) => Number(e.data)));
        expect(replies.sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6]);
        net.close();
      }),
      { numRuns: 8, seed: 42 },
    );
    expect(orders.size).toBeGreaterThan(1);
  });
});

describe('reads, snapshots', () => {
  it('dry-runs without changing state, logging or queueing', async () => {
    const { net, user, pid, counter } = await counterNet();
    const logLength = net.log.length;
    const dry = await net.dryRun(pid, { from: user, tags: { Action: 'Bump' } });
    expect(dry.error).toBeUndefined();
    expect(dry.messages).toHaveLength(1);
    expect(dry.messages[0]).toMatchObject({ target: user, data: '1' });
    expect(tagMap(dry.messages[0]!.tags).Action).toBe('Bumped');
    const failing = await net.dryRun(pid, { from: user, tags: { Action: 'Bump', Fail: 'x' } });
    expect(failing.error).toMatch(/bump failed/);
    expect(net.log).toHaveLength(logLength);
    expect(net.pending).toHaveLength(0);
    expect(await counter()).toBe(0);
    // A peek that tries to act is discarded.
    expect(
      await net.peek(pid, `Counter = 99; ao.send({ Target = '${user}', Data = 'x' }); return 'ok'`),
    ).toBe('ok');
    expect(await counter()).toBe(0);
    net.close();
  });

  it('snapshots a process mid-flight and continues in a fresh instance', async () => {
    const { net, user, pid, counter } = await counterNet();
    for (let i = 0; i < 5; i++) net.send({ from: user, target: pid, tags: { Action: 'Bump' } });
    await net.deliverAll({ maxMessages: 2 });
    expect(net.pending).toHaveLength(3);
    const snap = await net.snapshot(pid);
    const fresh = net.stats.freshInstances;
    await net.restore(pid, snap);
    expect(net.stats.freshInstances).toBe(fresh + 1);
    await net.deliverAll();
    expect(await counter()).toBe(5);
    expect(net.messagesTo(user).map((e) => e.data)).toEqual(['1', '2', '3', '4', '5']);
    // Restoring an older snapshot rewinds the process.
    await net.restore(pid, snap);
    expect(await counter()).toBe(2);
    // ...and errors after a restore roll back to the restored state.
    net.send({ from: user, target: pid, tags: { Action: 'Bump', Fail: 'x' } });
    await net.deliverAll();
    expect(await counter()).toBe(2);
    expect(withAction(net, 'Bump', pid).filter((e) => e.rolledBack)).toHaveLength(1);
    net.close();
  });
});
