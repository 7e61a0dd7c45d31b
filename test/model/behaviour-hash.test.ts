/**
 * The herder's behaviour, pinned: fixed workloads run through `stepInPlace`, and a SHA-256 of every
 * step's outbox (targets, tags in wire order, data) and books. Changes made for speed must leave
 * these hashes as they are; a change of behaviour must change them on purpose (and say why).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PROMPTS, type Running, steadyMessage } from '../../bench/model-step.ts';
import { makeConfig } from '../../src/model/config.ts';
import { type HerderState, initialHerderState, stepInPlace } from '../../src/model/herder.ts';
import type { AoMessage, OutMessage } from '../../src/model/messages.ts';

/** A small deterministic generator (mulberry32), so that the workload never depends on a library. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Recorder {
  private readonly hash = createHash('sha256');

  step(state: HerderState, msg: AoMessage): OutMessage[] {
    const outbox = stepInPlace(state, msg);
    for (const out of outbox) {
      this.hash.update(out.target);
      for (const name in out.tags) this.hash.update(`\u0000${name}=${out.tags[name]}`);
      this.hash.update(`\u0001${out.data ?? ''}\u0002`);
    }
    const l = state.ledger;
    this.hash.update(`${l.credited}/${l.refunded}/${l.revenue}/${l.escrow}/${l.unclaimed}/${l.withdrawn}\n`);
    return outbox;
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

/** The benchmark's steady stream: 64 workers, credits, prompt answers, Info and Cron ticks. */
function steadyStream(messages: number): string {
  const workers = Array.from({ length: 64 }, (_, i) => `W${i}`);
  const state = initialHerderState(makeConfig({ token: 'TOKEN', owner: 'OWNER', workers, maxOvertakes: 16 }));
  const recorder = new Recorder();
  const running: Running[] = [];
  for (let sent = 0; sent < messages; sent++) {
    const msg = steadyMessage(sent, 1_000 + sent, state.queue.length > 256, running[0]);
    if (msg.tags.Action === 'Inference-Response') running.shift();
    for (const out of recorder.step(state, msg))
      if (out.tags.Action === 'Inference')
        running.push({ worker: out.target, request: out.tags['X-Request']! });
  }
  return recorder.digest();
}

/** Owner actions, Resume more often than Pause so that the herder is mostly accepting. */
const OWNER_ACTIONS = [
  'Add-Worker',
  'Remove-Worker',
  'Set-Fees',
  'Set-Limits',
  'Pause',
  'Resume',
  'Resume',
  'Resume',
  'Withdraw',
];

/**
 * Everything at once, drawn from a seed: valid, underpaid, malformed, spoofed, huge and payer-less
 * credits; right, wrong, untagged and late answers; errors; worker reports; redelivered ids; owner
 * administration; time jumps past deadlines and queue-wait bounds.
 */
function mixedStream(seed: number, messages: number): string {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const workers = Array.from({ length: 6 }, (_, i) => `W${i}`);
  const state = initialHerderState(
    makeConfig({
      token: 'TOKEN',
      owner: 'OWNER',
      workers: workers.slice(0, 4),
      baseFee: 5n,
      tokenFee: 2n,
      maxTokens: 64,
      maxPromptBytes: 40,
      maxOvertakes: 3,
      timeoutBase: 400,
      timeoutPerToken: 10,
      maxAttempts: 2,
      maxQueueWait: 3_000,
    }),
  );
  const recorder = new Recorder();
  const held = new Map<string, string>();
  const ids: string[] = [];
  let now = 1_000;
  for (let n = 0; n < messages; n++) {
    now += next() < 0.05 ? Math.floor(next() * 5_000) : Math.floor(next() * 40);
    const id = next() < 0.03 && ids.length > 0 ? pick(ids) : `m${n}`;
    const worker = pick(workers);
    const roll = next();
    let msg: AoMessage;
    if (roll < 0.4) {
      const tags: Record<string, string> = {
        Action: 'Credit-Notice',
        Quantity: String(Math.floor(next() * 400)),
      };
      if (next() < 0.95) tags.Sender = pick(['ALICE', 'BOB', 'CAROL']);
      if (next() < 0.95) tags['X-Prompt'] = pick([...PROMPTS, '', 'x'.repeat(60), 'héllo wörld']);
      if (next() < 0.95) tags['X-Tokens'] = pick(['1', '8', '16', '64', '65', '0', 'ten', '007']);
      if (next() < 0.5) tags['X-Reference'] = `ref${n}`;
      if (next() < 0.02) tags.Quantity = '9'.repeat(90);
      if (next() < 0.03) tags.Quantity = pick(['', '-4', '1.5']);
      msg = { id, from: next() < 0.97 ? 'TOKEN' : 'MALLORY', timestamp: now, tags };
    } else if (roll < 0.7) {
      const tags: Record<string, string> = {
        Action: next() < 0.8 ? 'Inference-Response' : 'Inference-Error',
      };
      const holder = held.get(worker);
      const r = next();
      if (r < 0.7 && holder !== undefined) tags['X-Request'] = holder;
      else if (r < 0.8) tags['X-Request'] = pick(ids.length > 0 ? ids : ['none']);
      if (tags.Action === 'Inference-Error' && next() < 0.5) tags['X-Reason'] = 'out of memory';
      msg = { id, from: next() < 0.95 ? worker : 'MALLORY', timestamp: now, tags, data: `answer ${n}` };
    } else if (roll < 0.76) {
      msg = {
        id,
        from: worker,
        timestamp: now,
        tags: { Action: pick(['Worker-Error', 'Worker-Initialized']) },
      };
    } else if (roll < 0.84) {
      const action = pick(OWNER_ACTIONS);
      const tags: Record<string, string> = { Action: action };
      if (action.endsWith('Worker')) tags.Worker = worker;
      if (action === 'Set-Fees') tags['Base-Fee'] = String(Math.floor(next() * 20));
      if (action === 'Set-Limits') tags['Max-Overtakes'] = pick(['0', '2', 'unbounded']);
      if (action === 'Withdraw') tags.Quantity = String(1 + Math.floor(next() * 200));
      msg = { id, from: next() < 0.9 ? 'OWNER' : 'MALLORY', timestamp: now, tags };
    } else if (roll < 0.88) {
      msg = { id, from: 'ANYONE', timestamp: now, tags: { Action: 'Info' } };
    } else {
      msg = { id, from: 'CRON', timestamp: now, tags: { Action: 'Cron' } };
    }
    ids.push(msg.id);
    for (const out of recorder.step(state, msg))
      if (out.tags.Action === 'Inference') held.set(out.target, out.tags['X-Request']!);
  }
  return recorder.digest();
}

describe('behaviour over fixed workloads', () => {
  it('the benchmark stream hashes to its pinned value', () => {
    expect(steadyStream(100_000)).toBe('0aa073fe8ba0c1d90dc20fa6d98a9e74b9af0e299d0f4146af3b151ed515b93f');
  });

  it('mixed streams hash to their pinned values', () => {
    expect([1, 2, 3].map((seed) => mixedStream(seed, 20_000))).toEqual([
      'ff7ba4dab8f7b89ab5e54c08b281d2aa5f142693ed683f31c4d1fe3239c8190c',
      '3d1a4f8833c049d457ae89cd0597a96bcabbd8b82fe494cef45a4c591835220c',
      '35879df0d9760cd02c97752bb808d61a5e0bb8898dc09f83861a2d562f0cd912',
    ]);
  });
});
