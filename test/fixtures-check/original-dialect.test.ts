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
