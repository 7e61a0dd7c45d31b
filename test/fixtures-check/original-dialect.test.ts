/**
 * Wire behaviour of the fixtures that stand for the original Llama-Herder, each booted inside the
 * real aos module of a local AO network and driven by scripted messages. The dialect has no
 * request id anywhere: a worker gets `{Action=Inference, Tokens, Data=prompt}` and answers
 * `{Action=Inference-Response, Data=text}`; the herder matches the answer by which worker sent it.
 *
 * - the original herder: its documented defects, each pinned as it shows on the wire;
 * - the correct dialect herder: the same wire format, with exact fees and priorities, refunds to
 *   the payer, deadlines, retries, a queue-wait bound and de-duplication;
 * - the original worker: it loads in aos and obeys only its herder.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LocalNetwork, type ProcessSnapshot } from '../../src/ao/network.ts';
import type { AoMessage, OutMessage } from '../../src/model/messages.ts';
import { LuaHerder } from '../../src/verify/lua-herder.ts';
import {
  DIALECT_SETTINGS,
  ORIGINAL_FEES,
  ORIGINAL_MODEL_ID,
  ORIGINAL_TOKEN,
  ORIGINAL_WORKER_HERDER,
  ORIGINAL_WORKERS,
  originalDialectHerderLua,
  originalHerderLua,
  originalWorkerLua,
} from '../fixtures/original.ts';

const TOKEN = ORIGINAL_TOKEN;
const W = ORIGINAL_WORKERS;
const CLIENT = 'CLIENT-A';
const OTHER = 'CLIENT-B';
/** Four words: with 5 tokens a request needs 1 + 1 × (5 + 4) = 10. */
const PROMPT = 'tell me a story';
const NEEDED = 10n;

let ids = 0;
function nextId(prefix: string): string {
  ids += 1;
  return `${prefix}-${ids}`;
}

interface CreditOptions {
  quantity?: string;
  tokens?: string | null;
  prompt?: string | null;
  sender?: string | null;
  reference?: string | null;
  id?: string;
  from?: string;
}

/** A Credit-Notice from the token, as the token sends it: Sender, Quantity and the X- tags. */
function credit(at: number, options: CreditOptions = {}): AoMessage {
  const tags: Record<string, string> = { Action: 'Credit-Notice', Quantity: options.quantity ?? '10' };
  const sender = options.sender === undefined ? CLIENT : options.sender;
  if (sender !== null) tags.Sender = sender;
  const prompt = options.prompt === undefined ? PROMPT : options.prompt;
  if (prompt !== null) tags['X-Prompt'] = prompt;
  const tokens = options.tokens === undefined ? '5' : options.tokens;
  if (tokens !== null) tags['X-Tokens'] = tokens;
  const reference = options.reference === undefined ? 'ref-1' : options.reference;
  if (reference !== null) tags['X-Reference'] = reference;
  return { id: options.id ?? nextId('credit'), from: options.from ?? TOKEN, timestamp: at, tags };
}

/** A worker's answer in the original dialect: the text and no other tag. */
function answer(worker: string, at: number, text = 'a llama story'): AoMessage {
  return {
    id: nextId('answer'),
    from: worker,
    timestamp: at,
    tags: { Action: 'Inference-Response' },
    data: text,
  };
}

function inferenceError(worker: string, at: number): AoMessage {
  return {
    id: nextId('error'),
    from: worker,
    timestamp: at,
    tags: { Action: 'Inference-Error', 'X-Reason': 'oom' },
  };
}

function info(at: number, from = OTHER): AoMessage {
  return { id: nextId('info'), from, timestamp: at, tags: { Action: 'Info' } };
}

/** A message that only makes time pass (a Cron tick, say). */
function tick(at: number): AoMessage {
  return { id: nextId('tick'), from: 'OWNER', timestamp: at, tags: { Action: 'Tick' } };
}

function dispatchOf(worker: string, tokens: string, prompt = PROMPT): OutMessage {
  return { target: worker, tags: { Action: 'Inference', Tokens: tokens }, data: prompt };
}

/** One herder process per fixture, restored to its booted state before each test. */
function bootEach(lua: string): () => LuaHerder {
  let net: LocalNetwork;
  let herder: LuaHerder;
  let booted: ProcessSnapshot;
  beforeAll(async () => {
    net = await LocalNetwork.create({ seed: 'original-dialect', startTime: 0, startBlockHeight: 0 });
    herder = await LuaHerder.spawn(net, { module: 'aos32', owner: 'OWNER', lua });
    booted = await net.snapshot(herder.pid);
  });
  beforeEach(async () => {
    await net.restore(herder.pid, booted);
    herder.startTrace();
    herder.errors.length = 0;
  });
  afterAll(() => net?.close());
  return () => herder;
}

/** Occupies every worker with a request paying exactly the fee; returns what was dispatched. */
async function occupyAll(herder: LuaHerder, at: number, tokens = '5'): Promise<OutMessage[]> {
  const quantity = String(1n + BigInt(tokens) + 4n);
  const sent: OutMessage[] = [];
  for (let i = 0; i < W.length; i++)
    sent.push(...(await herder.deliver(credit(at + i, { sender: `FILLER-${i}`, tokens, quantity }))));
  return sent;
}

describe('fixture constants', () => {
  it('are read from the Lua globals: one token, sixteen distinct 43-character worker ids, small fees', () => {
    const processId = /^[A-Za-z0-9_-]{43}$/;
    expect(TOKEN).toMatch(processId);
    expect(W).toHaveLength(16);
    expect(new Set(W).size).toBe(16);
    for (const w of W) expect(w).toMatch(processId);
    expect(ORIGINAL_WORKER_HERDER).toMatch(processId);
    expect(ORIGINAL_MODEL_ID).toMatch(processId);
    expect(ORIGINAL_FEES).toEqual({ baseFee: 1n, tokenFee: 1n });
    expect(DIALECT_SETTINGS).toMatchObject({
      token: TOKEN,
      workers: W,
      baseFee: 1n,
      tokenFee: 1n,
      timeoutBase: 3_000,
      timeoutPerToken: 100,
      maxAttempts: 3,
      maxQueueWait: 20_000,
    });
  });

  it('no fixture mentions a request id', () => {
    for (const lua of [originalHerderLua, originalDialectHerderLua, originalWorkerLua])
      expect(lua).not.toMatch(/X-Request/i);
  });
});

describe('the original herder (defects included)', () => {
  const herder = bootEach(originalHerderLua);

  it('dispatches a valid credit as Action and Tokens with the prompt as Data, and nothing else', async () => {
    const out = await herder().deliver(credit(0, { quantity: '10' }));
    expect(out).toEqual([dispatchOf(W[0]!, '5')]);
    expect(Object.keys(out[0]!.tags)).toEqual(['Action', 'Tokens']);
    expect(herder().errors).toEqual([]);
  });

  it('forwards the untagged answer of that worker to the payer with X-Reference', async () => {
    await herder().deliver(credit(0));
    const out = await herder().deliver(answer(W[0]!, 10, 'once upon a time'));
    expect(out).toEqual([
      {
        target: CLIENT,
        tags: { Action: 'Inference-Response', 'X-Reference': 'ref-1' },
        data: 'once upon a time',
      },
    ]);
  });

  it('refunds an underpaid credit to the token itself, not to the payer', async () => {
    const out = await herder().deliver(credit(0, { quantity: '9' }));
    expect(out).toEqual([
      {
        target: TOKEN,
        tags: { Action: 'Transfer', Recipient: TOKEN, Quantity: '9', 'X-Reason': 'Insufficient payment' },
      },
    ]);
  });

  it('raises a Lua error, keeping the payment, on a missing or non-numeric X-Tokens or a missing X-Prompt', async () => {
    const missingTokens = credit(0, { tokens: null });
    const badTokens = credit(1, { tokens: 'five' });
    const missingPrompt = credit(2, { prompt: null });
    for (const msg of [missingTokens, badTokens, missingPrompt])
      expect(await herder().deliver(msg)).toEqual([]);
    expect(herder().errors.map((e) => e.id)).toEqual([missingTokens.id, badTokens.id, missingPrompt.id]);
    expect(herder().errors[0]!.error).toMatch(/arithmetic on a nil value/);
    expect(herder().errors[2]!.error).toMatch(/index a nil value/);
  });

  it('serves a Credit-Notice delivered twice twice', async () => {
    const notice = credit(0);
    expect(await herder().deliver(notice)).toEqual([dispatchOf(W[0]!, '5')]);
    expect(await herder().deliver({ ...notice, timestamp: 1 })).toEqual([dispatchOf(W[1]!, '5')]);
  });

  it('ignores a Credit-Notice that is not from the token', async () => {
    expect(await herder().deliver(credit(0, { from: 'SPOOFER' }))).toEqual([]);
    expect(herder().errors).toEqual([]);
  });

  it('queues a notice without Sender and sends its answer to no one', async () => {
    expect(await herder().deliver(credit(0, { sender: null }))).toEqual([dispatchOf(W[0]!, '5')]);
    const out = await herder().deliver(answer(W[0]!, 10));
    expect(out).toHaveLength(1);
    expect(out[0]!.target).toBeUndefined();
    expect(out[0]!.tags).toEqual({ Action: 'Inference-Response', 'X-Reference': 'ref-1' });
  });

  it('forwards a second answer of a re-tasked worker as the new request’s answer', async () => {
    await herder().deliver(credit(0, { sender: CLIENT, reference: 'first' }));
    expect(await herder().deliver(answer(W[0]!, 1, 'for the first'))).toHaveLength(1);
    // W[0] went to the back of the idle list; keep the fifteen others busy so W[0] gets the next one.
    for (let i = 1; i < W.length; i++) await herder().deliver(credit(1 + i, { sender: `FILLER-${i}` }));
    expect(await herder().deliver(credit(20, { sender: OTHER, reference: 'second' }))).toEqual([
      dispatchOf(W[0]!, '5'),
    ]);
    // A stale or duplicated answer for the first request now completes the second.
    expect(await herder().deliver(answer(W[0]!, 21, 'for the first, again'))).toEqual([
      {
        target: OTHER,
        tags: { Action: 'Inference-Response', 'X-Reference': 'second' },
        data: 'for the first, again',
      },
    ]);
  });

  it('skips every other idle worker when several are idle and several requests wait (set up by Eval)', async () => {
    // Unreachable by messages alone: the owner puts six workers back and five requests in the queue.
    const idle = W.slice(0, 6)
      .map((w) => `"${w}"`)
      .join(', ');
    await herder().eval(
      `IdleWorkers = { ${idle} }\nfor i = 1, 5 do table.insert(Queue, { client = "Q" .. i, prompt = "${PROMPT}", tokens = 5, multiplier = 1 }) end`,
    );
    const out = await herder().deliver(credit(0)); // the sixth request, multiplier 1 as well
    expect(out.map((m) => m.target)).toEqual([W[0], W[2], W[4]]);
    const [reply] = await herder().deliver(info(1));
    expect(reply!.tags['Queue-Length']).toBe('3');
  });

  it('has no timeouts: a silent worker keeps its request however late it gets', async () => {
    await occupyAll(herder(), 0);
    expect(await herder().deliver(credit(100, { sender: OTHER }))).toEqual([]);
    expect(await herder().deliver(tick(10_000_000))).toEqual([]);
    const [reply] = await herder().deliver(info(10_000_001));
    expect(reply!.tags['Queue-Length']).toBe('1');
  });

  it('compares payments above 2^70 a few units apart as equal: the later, larger one is not ahead', async () => {
    await occupyAll(herder(), 0);
    const base = 2n ** 70n;
    // Same fee (two words and 5 tokens: 8); B pays 4 more than A but arrives later.
    await herder().deliver(
      credit(100, { sender: 'PAYER-A', prompt: 'alpha one', quantity: String(base + 1n) }),
    );
    await herder().deliver(
      credit(101, { sender: 'PAYER-B', prompt: 'bravo two', quantity: String(base + 5n) }),
    );
    const out = await herder().deliver(answer(W[3]!, 102));
    expect(out[1]).toEqual(dispatchOf(W[3]!, '5', 'alpha one'));
  });

  it('answers Info with the original fields, and Last-Multiplier inf after a negative X-Tokens', async () => {
    const [before] = await herder().deliver(info(0));
    expect(before).toMatchObject({
      target: OTHER,
      tags: {
        Action: 'Info-Response',
        Name: 'Llama-Herder',
        Version: '0.2',
        'Base-Fee': '1',
        'Token-Fee': '1',
        'Last-Multiplier': '1',
        'Queue-Length': '0',
      },
    });
    expect(Object.keys(before!.tags).sort()).toEqual(
      ['Action', 'Base-Fee', 'Last-Multiplier', 'Name', 'Queue-Length', 'Token-Fee', 'Version'].sort(),
    );
    expect(before!.data).toMatch(/\S/);
    // needed = 1 + 1 × (-5 + 4 words) = 0: the multiplier is 10 / 0.
    expect(await herder().deliver(credit(1, { tokens: '-5' }))).toEqual([dispatchOf(W[0]!, '-5')]);
    const [after] = await herder().deliver(info(2));
    expect(after!.tags['Last-Multiplier']).toBe('inf');
    expect(herder().errors).toEqual([]);
  });
});

describe('the correct herder in the original dialect', () => {
  const herder = bootEach(originalDialectHerderLua);
  const { timeoutBase, timeoutPerToken, maxAttempts, maxQueueWait } = DIALECT_SETTINGS;
  /** Deadline of a 5-token request dispatched at time 0. */
  const deadline5 = timeoutBase + timeoutPerToken * 5;

  it('dispatches a valid credit in the original format: Action and Tokens, the prompt as Data', async () => {
    const out = await herder().deliver(credit(0, { quantity: '10' }));
    expect(out).toEqual([dispatchOf(W[0]!, '5')]);
    expect(Object.keys(out[0]!.tags)).toEqual(['Action', 'Tokens']);
  });

  it('forwards the untagged answer of the worker holding the request to its payer', async () => {
    await herder().deliver(credit(0));
    expect(await herder().deliver(answer(W[0]!, 10, 'once upon a time'))).toEqual([
      {
        target: CLIENT,
        tags: { Action: 'Inference-Response', 'X-Reference': 'ref-1' },
        data: 'once upon a time',
      },
    ]);
    // The request has ended: a second answer from that worker goes nowhere.
    expect(await herder().deliver(answer(W[0]!, 11, 'again'))).toEqual([]);
  });

  it('ignores answers from a worker that holds nothing and from processes outside the herd', async () => {
    await herder().deliver(credit(0));
    expect(await herder().deliver(answer(W[1]!, 1))).toEqual([]);
    expect(await herder().deliver(answer('STRANGER', 2))).toEqual([]);
    expect(await herder().deliver(answer(W[0]!, 3))).toHaveLength(1);
  });

  it('refunds an underpaid credit in full to the payer, with the fee it needed', async () => {
    expect(await herder().deliver(credit(0, { quantity: '9' }))).toEqual([
      {
        target: TOKEN,
        tags: {
          Action: 'Transfer',
          Recipient: CLIENT,
          Quantity: '9',
          'X-Reason': 'Insufficient payment',
          'X-Reference': 'ref-1',
          'X-Needed': String(NEEDED),
        },
      },
    ]);
  });

  it('serves a Credit-Notice delivered twice once', async () => {
    const notice = credit(0);
    expect(await herder().deliver(notice)).toEqual([dispatchOf(W[0]!, '5')]);
    expect(await herder().deliver({ ...notice, timestamp: 1 })).toEqual([]);
    await herder().deliver(answer(W[0]!, 2));
    expect(await herder().deliver({ ...notice, timestamp: 3 })).toEqual([]);
  });

  it('does not take a redelivered answer for the next request of the same worker', async () => {
    await herder().deliver(credit(0, { reference: 'first' }));
    const reply = answer(W[0]!, 1, 'for the first');
    expect(await herder().deliver(reply)).toHaveLength(1);
    // Keep the fifteen others busy so that W[0] gets the next request.
    for (let i = 1; i < W.length; i++) await herder().deliver(credit(1 + i, { sender: `FILLER-${i}` }));
    expect(await herder().deliver(credit(20, { sender: OTHER, reference: 'second' }))).toEqual([
      dispatchOf(W[0]!, '5'),
    ]);
    expect(await herder().deliver({ ...reply, timestamp: 21 })).toEqual([]);
    expect(await herder().deliver(answer(W[0]!, 22, 'for the second'))).toEqual([
      {
        target: OTHER,
        tags: { Action: 'Inference-Response', 'X-Reference': 'second' },
        data: 'for the second',
      },
    ]);
  });

  it('does not queue a paid notice without Sender, and counts it', async () => {
    expect(await herder().deliver(credit(0, { sender: null, quantity: '11' }))).toEqual([]);
    expect(await herder().deliver(credit(1, { sender: null, quantity: '12' }))).toEqual([]);
    expect(await herder().eval('return Unclaimed.Notices .. " " .. Unclaimed.Quantity')).toContain('2 23');
    const [reply] = await herder().deliver(info(2));
    expect(reply!.tags['Queue-Length']).toBe('0');
  });

  it('times a silent worker out after its deadline and re-dispatches the request to another worker', async () => {
    await herder().deliver(credit(0));
    expect(await herder().deliver(tick(deadline5))).toEqual([]);
    expect(await herder().deliver(tick(deadline5 + 1))).toEqual([dispatchOf(W[1]!, '5')]);
    // The timed-out worker's late answer is not forwarded; the retry's answer is.
    expect(await herder().deliver(answer(W[0]!, deadline5 + 2, 'late'))).toEqual([]);
    expect(await herder().deliver(answer(W[1]!, deadline5 + 3, 'on time'))).toEqual([
      { target: CLIENT, tags: { Action: 'Inference-Response', 'X-Reference': 'ref-1' }, data: 'on time' },
    ]);
  });

  it('gives a timed-out worker no new work until it answers again', async () => {
    await herder().deliver(credit(0));
    await herder().deliver(tick(deadline5 + 1)); // W0 timed out, the request went to W1
    const rest = await occupyAll(herder(), deadline5 + 2); // W2..W15 take 14, two wait
    expect(rest.map((m) => m.target)).toEqual(W.slice(2));
    expect(await herder().deliver(answer(W[0]!, deadline5 + 100, 'late'))).toEqual([dispatchOf(W[0]!, '5')]);
  });

  it(`refunds the payer in full after ${maxAttempts} failed attempts`, async () => {
    await herder().deliver(credit(0, { quantity: '25' }));
    for (let attempt = 1; attempt < maxAttempts; attempt++)
      expect(await herder().deliver(inferenceError(W[attempt - 1]!, attempt))).toEqual([
        dispatchOf(W[attempt]!, '5'),
      ]);
    const out = await herder().deliver(inferenceError(W[maxAttempts - 1]!, maxAttempts));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      target: TOKEN,
      tags: { Action: 'Transfer', Recipient: CLIENT, Quantity: '25', 'X-Reference': 'ref-1' },
    });
    expect(out[0]!.tags['X-Reason']).toMatch(/^Inference failed after 3 attempt\(s\)/);
  });

  it('refunds every queued request when every worker is silent, within the stated bound', async () => {
    const bound = maxAttempts * (maxQueueWait + deadline5);
    const arrivals = new Map<string, number>();
    const requests = W.length + 4;
    for (let i = 0; i < requests; i++) {
      const payer = `PAYER-${i}`;
      arrivals.set(payer, i);
      await herder().deliver(credit(i, { sender: payer, quantity: String(10 + i) }));
    }
    const refunds: { payer: string; at: number; quantity: string }[] = [];
    for (let at = 500; at <= bound + 1_000; at += 500) {
      for (const out of await herder().deliver(tick(at))) {
        if (out.tags.Action !== 'Transfer') continue;
        refunds.push({ payer: out.tags.Recipient!, at, quantity: out.tags.Quantity! });
        expect(out.tags['X-Reason']).toMatch(/\S/);
      }
    }
    expect(refunds.map((r) => r.payer).sort()).toEqual([...arrivals.keys()].sort());
    for (const r of refunds) {
      const i = arrivals.get(r.payer)!;
      expect(r.quantity).toBe(String(10 + i));
      expect(r.at).toBeLessThanOrEqual(i + bound);
    }
    expect(herder().errors).toEqual([]);
  });

  it('refunds a request that waited the queue-wait bound while every worker is busy', async () => {
    // Long requests: their deadlines (0 + 3000 + 100 × 1000) lie beyond the queue wait.
    await occupyAll(herder(), 0, '1000');
    await herder().deliver(credit(100, { sender: OTHER, quantity: '12', reference: 'waiting' }));
    expect(await herder().deliver(tick(100 + maxQueueWait - 1))).toEqual([]);
    expect(await herder().deliver(tick(100 + maxQueueWait))).toEqual([
      {
        target: TOKEN,
        tags: {
          Action: 'Transfer',
          Recipient: OTHER,
          Quantity: '12',
          'X-Reason': 'Waited too long in the queue',
          'X-Reference': 'waiting',
        },
      },
    ]);
    const [reply] = await herder().deliver(info(100 + maxQueueWait + 1));
    expect(reply!.tags['Queue-Length']).toBe('0');
  });

  it('orders payments above 2^70 exactly: the larger multiplier first, arrival order among equals', async () => {
    await occupyAll(herder(), 0);
    const base = 2n ** 70n;
    await herder().deliver(
      credit(100, { sender: 'PAYER-A', prompt: 'alpha one', quantity: String(base + 1n) }),
    );
    await herder().deliver(
      credit(101, { sender: 'PAYER-B', prompt: 'bravo two', quantity: String(base + 5n) }),
    );
    await herder().deliver(
      credit(102, { sender: 'PAYER-C', prompt: 'charlie three', quantity: String(base + 1n) }),
    );
    const first = await herder().deliver(answer(W[3]!, 103));
    const second = await herder().deliver(answer(W[4]!, 104));
    const third = await herder().deliver(answer(W[5]!, 105));
    expect(first[1]).toEqual(dispatchOf(W[3]!, '5', 'bravo two'));
    expect(second[1]).toEqual(dispatchOf(W[4]!, '5', 'alpha one'));
    expect(third[1]).toEqual(dispatchOf(W[5]!, '5', 'charlie three'));
  });

  it('answers Info with the original fields and an exact Last-Multiplier', async () => {
    const [before] = await herder().deliver(info(0));
    expect(before).toMatchObject({
      target: OTHER,
      tags: {
        Action: 'Info-Response',
        Name: 'Llama-Herder',
        Version: '0.2',
        'Base-Fee': '1',
        'Token-Fee': '1',
        'Last-Multiplier': '1',
        'Queue-Length': '0',
      },
    });
    expect(before!.data).toMatch(/\S/);
    // (10^80 + 1) / 10, truncated to six decimals.
    await herder().deliver(credit(1, { quantity: String(10n ** 80n + 1n) }));
    const [after] = await herder().deliver(info(2));
    expect(after!.tags['Last-Multiplier']).toBe(`${10n ** 79n}.1`);
  });

  it('never raises on malformed notices and refunds each invalid paid one to its payer with a reason', async () => {
    const refundReason = async (options: CreditOptions): Promise<string | undefined> => {
      const out = await herder().deliver(credit(0, options));
      expect(out).toHaveLength(1);
      expect(out[0]).toMatchObject({ target: TOKEN, tags: { Action: 'Transfer', Recipient: CLIENT } });
      return out[0]!.tags['X-Reason'];
    };
    expect(await refundReason({ prompt: null })).toBe('Missing prompt');
    expect(await refundReason({ prompt: '' })).toBe('Empty prompt');
    expect(await refundReason({ tokens: null })).toBe('Missing tokens');
    for (const tokens of ['-5', '1.5', '', 'five', ' 5', '0x10', '1e3'])
      expect(await refundReason({ tokens })).toBe('Tokens must be a decimal integer');
    expect(await refundReason({ tokens: '0' })).toBe('Tokens out of range');
    expect(await refundReason({ tokens: '9'.repeat(5_000), quantity: '9'.repeat(900) })).toBe(
      'Insufficient payment',
    );
    expect(await refundReason({ quantity: '9'.repeat(DIALECT_SETTINGS.maxAmountDigits + 1) })).toBe(
      'Quantity too large',
    );
    // No funds moved (not a positive decimal Quantity), or nobody to refund: nothing is sent.
    for (const quantity of ['', '0', '000', '-10', 'ten', '1.5', ' 10'])
      expect(await herder().deliver(credit(0, { quantity }))).toEqual([]);
    const noQuantity = credit(0);
    delete (noQuantity.tags as Record<string, string>).Quantity;
    expect(await herder().deliver(noQuantity)).toEqual([]);
    expect(await herder().deliver(credit(0, { sender: null }))).toEqual([]);
    expect(await herder().deliver(credit(0, { sender: '' }))).toEqual([]);
    // Stray and malformed messages of every other kind.
    const strays: AoMessage[] = [
      { id: nextId('stray'), from: W[0]!, timestamp: 1, tags: { Action: 'Inference-Error' } },
      { id: nextId('stray'), from: W[1]!, timestamp: 1, tags: { Action: 'Inference-Response' } },
      { id: nextId('stray'), from: 'NOBODY', timestamp: 1, tags: {} },
      { id: nextId('stray'), from: TOKEN, timestamp: 1, tags: { Action: 'Debit-Notice', Quantity: '5' } },
      { id: nextId('stray'), from: 'NOBODY', timestamp: 1, tags: { Action: 'Inference', Tokens: '5' } },
    ];
    for (const msg of strays) expect(await herder().deliver(msg)).toEqual([]);
    // Nothing was queued by any of it.
    const [reply] = await herder().deliver(info(2));
    expect(reply!.tags['Queue-Length']).toBe('0');
    expect(reply!.tags['Last-Multiplier']).toBe('1');
    expect(herder().errors).toEqual([]);
  });
});

/** A small deterministic PRNG (mulberry32), so that a failing trace replays. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** What the checker knows of one accepted request; its prompt and X-Reference are unique keys. */
interface Tracked {
  readonly key: string;
  readonly sender: string;
  readonly paid: bigint;
  readonly needed: bigint;
  readonly tokens: number;
  readonly arrival: number;
  readonly acceptedAt: number;
  /** When it last entered the queue. */
  queuedSince: number;
  attempts: number;
  holder: string | undefined;
  deadline: number;
  endedAt: number | undefined;
}

/**
 * Random traces against the correct dialect herder, checked black-box from its messages alone:
 * prompts and references are unique, so each dispatch, answer and refund names its request.
 */
describe('the correct herder in the original dialect, on random traces', () => {
  const herder = bootEach(originalDialectHerderLua);
  const { timeoutBase, timeoutPerToken, maxAttempts, maxQueueWait, baseFee, tokenFee } = DIALECT_SETTINGS;
  const words = (prompt: string) => (prompt.match(/[A-Za-z0-9]+/g) ?? []).length;

  for (const seed of [1, 2, 3]) {
    it(`keeps every promise on random trace ${seed}`, async () => {
      const random = prng(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
      const requests = new Map<string, Tracked>();
      /** Worker → key of the last request it was sent, until it answers or reports an error. */
      const holding = new Map<string, string>();
      const credits: AoMessage[] = [];
      let now = 0;
      let arrivals = 0;
      const problems: string[] = [];
      const history: string[] = [];
      const seen = {
        contended: 0,
        forwarded: 0,
        retries: 0,
        timeouts: 0,
        failedRefunds: 0,
        waitRefunds: 0,
        steps: 0,
      };
      const fail = (step: number, what: string) => problems.push(`step ${step}: ${what}`);
      const live = (r: Tracked) => r.endedAt === undefined;
      const held = (r: Tracked) =>
        live(r) && r.holder !== undefined && holding.get(r.holder) === r.key && r.deadline >= now;
      const queued = (r: Tracked) => live(r) && !held(r);
      const ahead = (a: Tracked, b: Tracked) => {
        const x = a.paid * b.needed;
        const y = b.paid * a.needed;
        return x > y || (x === y && a.arrival < b.arrival);
      };

      for (let step = 0; step < 160 || [...requests.values()].some(live); step++) {
        if (step > 600) {
          fail(step, 'requests still live long after the trace');
          break;
        }
        // A burst of payments fills the herd and the queue; then anything goes; then a drain.
        const burst = step < 30;
        const draining = step >= 160;
        if (draining) now += 1_000;
        else if (burst) now += pick([0, 10]);
        else now += pick([0, 0, 10, 50, 100, 300, 700, 1_500, 4_000, 25_000]);
        // What the herder must do at this time whatever the message: passed deadlines.
        const mustRefund = new Set<string>();
        for (const r of requests.values())
          if (live(r) && r.holder !== undefined && holding.get(r.holder) === r.key && r.deadline < now) {
            r.holder = undefined;
            r.queuedSince = now;
            seen.timeouts++;
            if (r.attempts >= maxAttempts) mustRefund.add(r.key);
          }
        // The message.
        let msg: AoMessage;
        let expectRefund: { sender: string; quantity: string; reason: RegExp } | undefined;
        let accepted: Tracked | undefined;
        let answered: { r: Tracked; data: string } | undefined;
        const roll = draining ? 0.9 : burst ? random() * 0.35 : random();
        const holders = [...holding.keys()];
        if (roll < 0.35) {
          const n = ++arrivals;
          const key = `req${seed}x${n}`;
          const tokens = 1 + Math.floor(random() * 30);
          const prompt = `${key} ${pick(['tell', 'tell me', 'tell me a story', 'llamas (?)'])}`;
          const needed = baseFee + tokenFee * BigInt(tokens + words(prompt));
          const paid = pick([
            needed,
            needed + 1n,
            needed * 3n,
            2n ** 70n + BigInt(Math.floor(random() * 8)),
            10n ** 80n + BigInt(n),
            needed - 1n,
          ]);
          const sender = pick(['CLIENT-A', 'CLIENT-B', 'CLIENT-C']);
          msg = credit(now, {
            sender,
            quantity: String(paid),
            tokens: String(tokens),
            prompt,
            reference: key,
          });
          credits.push(msg);
          if (paid < needed)
            expectRefund = { sender, quantity: String(paid), reason: /^Insufficient payment$/ };
          else {
            accepted = {
              key,
              sender,
              paid,
              needed,
              tokens,
              arrival: n,
              acceptedAt: now,
              queuedSince: now,
              attempts: 0,
              holder: undefined,
              deadline: 0,
              endedAt: undefined,
            };
            requests.set(key, accepted);
          }
        } else if (roll < 0.4) {
          const bad = pick<CreditOptions>([
            { prompt: null },
            { tokens: 'x' },
            { tokens: '0' },
            { prompt: '' },
          ]);
          msg = credit(now, { ...bad, sender: 'CLIENT-D', quantity: '50', reference: `bad${step}` });
          expectRefund = { sender: 'CLIENT-D', quantity: '50', reason: /\S/ };
        } else if (roll < 0.45 && credits.length > 0) {
          msg = { ...pick(credits), timestamp: now };
        } else if (roll < 0.8 && holders.length > 0) {
          const worker = pick(holders);
          const r = requests.get(holding.get(worker)!)!;
          const failed = random() < 0.2;
          msg = failed ? inferenceError(worker, now) : answer(worker, now, `answer at ${now} from ${worker}`);
          const current = held(r) && r.holder === worker;
          holding.delete(worker);
          if (current && failed) {
            r.holder = undefined;
            r.queuedSince = now;
            if (r.attempts >= maxAttempts) mustRefund.add(r.key);
          } else if (current) answered = { r, data: msg.data! };
        } else if (roll < 0.85) {
          msg = answer(pick(W), now, 'unasked');
          if (holding.has(msg.from)) msg = tick(now);
        } else if (roll < 0.88) {
          msg = info(now);
        } else {
          msg = tick(now);
        }

        const out = await herder().deliver(msg);
        history.push(
          `#${step} t=${now} ${msg.from.slice(0, 8)} ${JSON.stringify(msg.tags)} ${msg.data ?? ''} => ${out.map((o) => `${o.target?.slice(0, 8)} ${JSON.stringify(o.tags)} ${o.data ?? ''}`).join(' | ')}`,
        );
        let refunded: string | undefined;
        for (const o of out) {
          const { Action: action } = o.tags;
          if (action === 'Inference') {
            const r = requests.get((o.data ?? '').split(' ')[0]!);
            if (r === undefined || !queued(r)) {
              fail(step, `dispatched ${o.data} which is not waiting`);
              continue;
            }
            if (holding.has(o.target) || !W.includes(o.target)) fail(step, `dispatched to busy ${o.target}`);
            if (o.tags.Tokens !== String(r.tokens) || Object.keys(o.tags).length !== 2)
              fail(step, `dispatch tags ${JSON.stringify(o.tags)}`);
            let others = 0;
            for (const q of requests.values()) {
              if (q === r || !queued(q)) continue;
              others++;
              if (ahead(q, r)) fail(step, `dispatched ${r.key} while ${q.key} waited`);
            }
            if (others > 0) seen.contended++;
            holding.set(o.target, r.key);
            r.holder = o.target;
            r.attempts++;
            if (r.attempts > 1) seen.retries++;
            r.deadline = now + timeoutBase + timeoutPerToken * r.tokens;
          } else if (action === 'Inference-Response') {
            if (answered === undefined || o.target !== answered.r.sender || o.data !== answered.data)
              fail(step, `unexpected answer ${JSON.stringify(o)}`);
            else if (o.tags['X-Reference'] !== answered.r.key) fail(step, 'answer without its X-Reference');
            else {
              answered.r.endedAt = now;
              seen.forwarded++;
            }
            answered = undefined;
          } else if (action === 'Transfer') {
            const r = requests.get(o.tags['X-Reference'] ?? '');
            if (r === undefined) {
              if (
                expectRefund === undefined ||
                o.tags.Recipient !== expectRefund.sender ||
                o.tags.Quantity !== expectRefund.quantity ||
                !expectRefund.reason.test(o.tags['X-Reason'] ?? '')
              )
                fail(step, `unexpected refund ${JSON.stringify(o.tags)}`);
              refunded = o.tags['X-Reference'];
              expectRefund = undefined;
              continue;
            }
            if (!live(r) || held(r)) fail(step, `refunded ${r.key}, which was not waiting`);
            if (o.tags.Recipient !== r.sender || o.tags.Quantity !== String(r.paid))
              fail(step, `refund of ${r.key} to ${o.tags.Recipient} for ${o.tags.Quantity}`);
            const reason = o.tags['X-Reason'] ?? '';
            const waited = now - r.queuedSince >= maxQueueWait;
            if (!(mustRefund.has(r.key) && /^Inference failed after 3 attempt/.test(reason)) && !waited)
              fail(step, `refund of ${r.key} for no reason that holds: ${reason}`);
            if (mustRefund.delete(r.key)) seen.failedRefunds++;
            else seen.waitRefunds++;
            r.endedAt = now;
          } else if (action !== 'Info-Response') fail(step, `unexpected ${JSON.stringify(o)}`);
        }
        if (expectRefund !== undefined) fail(step, `no refund for ${refunded ?? msg.id}`);
        if (answered !== undefined) fail(step, `answer for ${answered.r.key} not forwarded`);
        for (const key of mustRefund)
          if (live(requests.get(key)!)) fail(step, `${key} not refunded after its last attempt`);
        if (accepted && live(accepted) && !held(accepted) && holding.size < W.length)
          fail(step, `${accepted.key} waits with a worker idle`);
        const waiting = [...requests.values()].filter(queued);
        for (const r of waiting)
          if (now - r.queuedSince >= maxQueueWait) fail(step, `${r.key} waited past the bound`);
        if (waiting.length > 0 && W.some((w) => !holding.has(w)))
          fail(step, 'a worker idles while requests wait');
        // The herder's own count agrees (asked at the same time, so nothing else changes).
        const reply = await herder().deliver(info(now));
        if (reply.length !== 1 || reply[0]!.tags['Queue-Length'] !== String(waiting.length))
          fail(step, `Info says ${JSON.stringify(reply)}, ${waiting.length} waiting`);
        if (problems.length > 0) {
          problems.push(...history.slice(-12));
          break;
        }
      }
      seen.steps = history.length;
      expect(problems).toEqual([]);
      expect(herder().errors).toEqual([]);
      // The trace went through every path: answers, retries, timeouts and both kinds of refund.
      expect(requests.size).toBeGreaterThan(20);
      for (const count of Object.values(seen)) expect(count).toBeGreaterThan(0);
    });
  }
});

describe('the original worker', () => {
  const worker = bootEach(originalWorkerLua);

  it('loads in aos and ignores Inference from anyone but its herder', async () => {
    const out = await worker().deliver({
      id: nextId('inference'),
      from: 'NOT-THE-HERDER',
      timestamp: 0,
      tags: { Action: 'Inference', Tokens: '5' },
      data: PROMPT,
    });
    expect(out).toEqual([]);
    expect(worker().errors).toEqual([]);
  });

  it('requires the llama module on Init (absent from plain aos, so that Init fails there)', async () => {
    const init: AoMessage = {
      id: nextId('init'),
      from: ORIGINAL_WORKER_HERDER,
      timestamp: 0,
      tags: { Action: 'Init' },
    };
    expect(await worker().deliver(init)).toEqual([]);
    expect(worker().errors).toHaveLength(1);
    expect(worker().errors[0]!.error).toMatch(/llama/);
  });
});
