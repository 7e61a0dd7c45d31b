/**
 * End to end on the local AO network: a client process with the client package pays through the
 * token; the herder (aos32, and aos64 below) dispatches to AOS-Llama workers (llama.wasm running
 * worker.lua on the generated tiny model, served by WeaveDrive); the generated tokens come back
 * to the client's callback. Balances are checked exactly after every flow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootLocalHerd, DEFAULT_MINT, type LocalHerd } from '../../src/ao/local-herd.ts';
import type { LogEntry } from '../../src/ao/log.ts';
import type { PendingMessage } from '../../src/ao/mu.ts';
import { tagValue } from '../../src/ao/tags.ts';
import { useBaselineWasmOnly } from '../../src/demo/wasm-tiering.ts';
import { luaString } from '../../src/lua-export/token.ts';
import { neededFee } from '../../src/model/fees.ts';

interface ClientResult {
  ok: boolean;
  status: string;
  reference: string;
  answer?: string;
  reason?: string;
  refunded?: string;
  needed?: string;
  fee?: string;
  request?: string;
}

// Short runs of llama.wasm: skip V8's optimising tier (see src/demo/wasm-tiering.ts).
useBaselineWasmOnly();

const action = (e: { tags: readonly { name: string; value: string }[] }) => tagValue(e.tags, 'Action');

/** Client-side helpers over a booted herd. */
function driver(herd: LocalHerd) {
  const { net } = herd;
  return {
    /** Starts `Llama.run(...)` in the client (callback `Record`); returns the reference. */
    async run(prompt: string, tokens: number, fees = 'nil', reference?: string): Promise<string> {
      const ref = reference === undefined ? 'nil' : luaString(reference);
      return herd.clientEval(`return Llama.run(${luaString(prompt)}, ${tokens}, Record, ${fees}, ${ref})`);
    },
    result: (reference: string) => herd.clientRead<ClientResult>(`Llama.result(${luaString(reference)})`),
    /** How often the callback ran for a reference. */
    calls: (reference: string) =>
      herd.clientRead<number>(
        `(function() local n = 0 for _, c in ipairs(Calls) do if c == ${luaString(reference)} then n = n + 1 end end return n end)()`,
      ),
    /** Delivers every pending message `hold` does not keep back (FIFO otherwise). */
    async deliverExcept(hold: (m: PendingMessage) => boolean): Promise<void> {
      for (;;) {
        const index = net.pending.findIndex((m) => !hold(m));
        if (index < 0) return;
        await net.step(() => index);
      }
    },
    /** Log entries that are the herder's answers to the client for a reference. */
    answersTo: (reference: string): LogEntry[] =>
      net.log.filter(
        (e) =>
          e.from === herd.herder &&
          e.to === herd.client &&
          action(e) === 'Inference-Response' &&
          tagValue(e.tags, 'X-Reference') === reference,
      ),
  };
}

const CALLBACKS = `Calls = {}
function Record(answer, result) Calls[#Calls + 1] = result.reference end`;

describe('a herd on aos32: token, herder, two AOS-Llama workers, one broken worker, a client', () => {
  let herd: LocalHerd;
  let d: ReturnType<typeof driver>;
  /** Fees of answered requests: the herder's revenue. */
  let revenue = 0n;
  let refunds = 0n;
  const timeout = { timeoutBase: 10_000, timeoutPerToken: 100 };

  beforeAll(async () => {
    herd = await bootLocalHerd({
      seed: 'e2e-aos32',
      brokenWorkers: 1,
      config: { ...timeout, maxAttempts: 2 },
      clientBoot: CALLBACKS,
    });
    d = driver(herd);
  });
  afterAll(() => herd?.close());

  const fee = (tokens: number, prompt: string) => neededFee(herd.config, tokens, prompt);
  const expectBalances = async () => {
    expect(await herd.balance(herd.herder)).toBe(revenue);
    expect(await herd.balance(herd.client)).toBe(DEFAULT_MINT - revenue);
  };
  const isInference = (m: PendingMessage) => herd.workers.includes(m.target) && action(m) === 'Inference';

  it('boots: the broken worker answers Worker-Error and the herder marks it failed', async () => {
    const [broken] = herd.brokenWorkers;
    const error = herd.net.log.find(
      (e) => e.from === broken && e.to === herd.herder && action(e) === 'Worker-Error',
    );
    expect(tagValue(error!.tags, 'X-Reason')).toMatch(/model not found/);
    const summary = await herd.summary();
    expect(summary.workers[broken!]?.status).toBe('failed');
    for (const worker of herd.workers) expect(summary.workers[worker]?.status).toBe('idle');
    await expectBalances();
  });

  it('pays through the token; real generated tokens come back to the callback', async () => {
    const prompt = 'Tell me about llamas';
    const start = herd.net.log.length;
    const reference = await d.run(prompt, 8);
    await herd.net.deliverAll();
    const result = await d.result(reference);
    const fromWorker = herd.net.log
      .slice(start)
      .find((e) => herd.workers.includes(e.from) && action(e) === 'Inference-Response');
    expect(fromWorker).toBeDefined();
    expect(tagValue(fromWorker!.tags, 'Tokens-Generated')).toBe('8');
    expect(fromWorker!.data.length).toBeGreaterThan(0);
    expect(result).toMatchObject({
      ok: true,
      status: 'answered',
      answer: fromWorker!.data,
      fee: fee(8, prompt).toString(),
      needed: fee(8, prompt).toString(),
    });
    expect(await d.calls(reference)).toBe(1);
    // The request went client → token → herder → worker → herder → client.
    const path = herd.net.log
      .slice(start)
      .filter((e) => e.kind === 'message')
      .map((e) => `${herd.names[e.from]}>${herd.names[e.to]}:${action(e)}`);
    expect(path).toEqual([
      'client>herder:Info',
      'herder>client:Info-Response',
      'client>token:Transfer',
      'token>client:Debit-Notice',
      'token>herder:Credit-Notice',
      `herder>${herd.names[fromWorker!.from]}:Inference`,
      `${herd.names[fromWorker!.from]}>herder:Inference-Response`,
      'herder>client:Inference-Response',
    ]);
    revenue += fee(8, prompt);
    await expectBalances();
  });

  it('serves a higher multiplier first when both workers are busy, and charges it exactly', async () => {
    const start = herd.net.log.length;
    const refs = ['p-a', 'p-b', 'p-c', 'p-d'];
    const prompt = 'Rank me';
    await herd.clientEval(
      refs
        .map(
          (r, i) =>
            `Llama.run(${luaString(prompt)}, 4, Record, ${i === 3 ? '{ Multiplier = "2.5" }' : 'nil'}, "${r}")`,
        )
        .join('\n'),
    );
    await herd.net.deliverAll();
    // Dispatch order, from the request ids the herder gave the workers.
    const referenceOf = new Map(
      herd.net.log
        .slice(start)
        .filter((e) => e.from === herd.herder && action(e) === 'Inference-Response' && e.to === herd.client)
        .map((e) => [tagValue(e.tags, 'X-Request'), tagValue(e.tags, 'X-Reference')]),
    );
    const order = herd.net.log
      .slice(start)
      .filter((e) => e.from === herd.herder && action(e) === 'Inference')
      .map((e) => referenceOf.get(tagValue(e.tags, 'X-Request')));
    expect(order).toEqual(['p-a', 'p-b', 'p-d', 'p-c']);
    const needed = fee(4, prompt);
    const boosted = (needed * 25n + 9n) / 10n;
    for (const r of refs) {
      expect(await d.result(r)).toMatchObject({
        status: 'answered',
        fee: (r === 'p-d' ? boosted : needed).toString(),
      });
      expect(await d.calls(r)).toBe(1);
    }
    revenue += 3n * needed + boosted;
    await expectBalances();
  });

  it('an underpayment is refunded in full and the refund reaches the callback', async () => {
    const prompt = 'Cheap question';
    const reference = await d.run(prompt, 4, '{ Fee = "5" }', 'under');
    await herd.net.deliverAll();
    expect(await d.result(reference)).toMatchObject({
      ok: false,
      status: 'refunded',
      reason: 'Insufficient payment',
      refunded: '5',
      needed: fee(4, prompt).toString(),
      fee: '5',
    });
    expect(await d.calls(reference)).toBe(1);
    refunds += 5n;
    await expectBalances();
  });

  it('an invalid request is refunded with its reason; a payment beyond the balance is refused', async () => {
    await d.run('Too many tokens', herd.config.maxTokens + 1, 'nil', 'too-many');
    await d.run('Too rich', 1, `{ Fee = "${DEFAULT_MINT * 10n}" }`, 'too-rich');
    await herd.net.deliverAll();
    expect(await d.result('too-many')).toMatchObject({ status: 'refunded', reason: 'Tokens out of range' });
    expect(await d.result('too-rich')).toMatchObject({
      status: 'payment-failed',
      reason: 'the token refused the payment: Insufficient Balance!',
    });
    refunds += fee(herd.config.maxTokens + 1, 'Too many tokens');
    await expectBalances();
  });

  it('a worker that times out: the request is retried on the other worker; its late answer is dropped', async () => {
    const prompt = 'Slow or fast';
    const start = herd.net.log.length;
    await d.run(prompt, 4, 'nil', 'slow');
    await d.deliverExcept(isInference);
    const [held] = herd.net.pending;
    expect(herd.net.pending).toHaveLength(1);
    const slowWorker = held!.target;
    herd.net.advanceTime(timeout.timeoutBase + 4 * timeout.timeoutPerToken + 1);
    // Any message makes the herder look at its deadlines: here the client asks for prices.
    await herd.clientEval('Llama.getPrices()');
    await d.deliverExcept((m) => m.id === held!.id);
    expect((await herd.summary()).workers[slowWorker]?.status).toBe('timed-out');
    const result = await d.result('slow');
    expect(result).toMatchObject({ status: 'answered', fee: fee(4, prompt).toString() });
    const answeredBy = herd.net.log
      .slice(start)
      .filter((e) => herd.workers.includes(e.from) && action(e) === 'Inference-Response')
      .map((e) => e.from);
    expect(answeredBy).toHaveLength(1);
    expect(answeredBy[0]).not.toBe(slowWorker);
    // The held Inference arrives at last: the worker answers late, the herder drops the answer
    // and takes the worker back.
    await herd.net.deliverAll();
    const late = herd.net.log
      .slice(start)
      .filter((e) => e.from === slowWorker && action(e) === 'Inference-Response' && e.to === herd.herder);
    expect(late).toHaveLength(1);
    expect(d.answersTo('slow')).toHaveLength(1);
    expect(await d.calls('slow')).toBe(1);
    expect((await herd.summary()).workers[slowWorker]?.status).toBe('idle');
    revenue += fee(4, prompt);
    await expectBalances();
  });

  it('a request whose only attempt times out is refunded to the callback', async () => {
    herd.net.send({
      from: herd.owner,
      target: herd.herder,
      tags: { Action: 'Set-Limits', 'Max-Attempts': '1' },
    });
    await herd.net.deliverAll();
    const prompt = 'Nobody answers';
    await d.run(prompt, 2, 'nil', 'doomed');
    await d.deliverExcept(isInference);
    const [held] = herd.net.pending;
    herd.net.advanceTime(timeout.timeoutBase + 2 * timeout.timeoutPerToken + 1);
    await herd.clientEval('Llama.getPrices()');
    await d.deliverExcept((m) => m.id === held!.id);
    const result = await d.result('doomed');
    expect(result).toMatchObject({ status: 'refunded', refunded: fee(2, prompt).toString() });
    expect(result.reason).toMatch(/^Inference failed after 1 attempt\(s\): worker timed out/);
    await herd.net.deliverAll();
    expect(d.answersTo('doomed')).toHaveLength(0);
    expect(await d.calls('doomed')).toBe(1);
    refunds += fee(2, prompt);
    herd.net.send({
      from: herd.owner,
      target: herd.herder,
      tags: { Action: 'Set-Limits', 'Max-Attempts': '2' },
    });
    await herd.net.deliverAll();
    await expectBalances();
  });

  it('in the end: the broken worker never got work, and the books match the token', async () => {
    const [broken] = herd.brokenWorkers;
    expect(herd.net.log.filter((e) => e.to === broken && action(e) === 'Inference')).toHaveLength(0);
    const { ledger, queueLength } = await herd.summary();
    expect(queueLength).toBe(0);
    expect(BigInt(ledger.revenue)).toBe(revenue);
    expect(BigInt(ledger.refunded)).toBe(refunds);
    expect(BigInt(ledger.escrow)).toBe(0n);
    expect(BigInt(ledger.credited)).toBe(revenue + refunds);
    await expectBalances();
    expect(await herd.clientRead<number>('Llama.inFlight()')).toBe(0);
  });
});

describe('a herd on aos64 (tag names Title-Cased), workers in the herder config', () => {
  let herd: LocalHerd;
  beforeAll(async () => {
    herd = await bootLocalHerd({
      seed: 'e2e-aos64',
      herderModule: 'aos64',
      clientModule: 'aos64',
      tokenModule: 'aos64',
      registration: 'config',
      clientBoot: CALLBACKS,
    });
  });
  afterAll(() => herd?.close());

  it('answers a paid prompt with a multiplier and keeps the books exact', async () => {
    const d = driver(herd);
    const prompt = 'Llamas, alpacas and vicunas';
    await d.run(prompt, 6, '{ Multiplier = "1.25" }', 'm');
    await herd.net.deliverAll();
    const needed = neededFee(herd.config, 6, prompt);
    const paid = (needed * 125n + 99n) / 100n;
    const result = await d.result('m');
    expect(result).toMatchObject({
      ok: true,
      status: 'answered',
      fee: paid.toString(),
      needed: needed.toString(),
    });
    expect(result.answer!.length).toBeGreaterThan(0);
    expect(await herd.balance(herd.herder)).toBe(paid);
    expect(await herd.balance(herd.client)).toBe(DEFAULT_MINT - paid);
    const info = herd.net.log.find((e) => action(e) === 'Info-Response');
    expect(tagValue(info!.tags, 'Workers')).toBe('2');
  });
});
