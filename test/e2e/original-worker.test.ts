/**
 * Worker code written for the original Llama-Herder, unchanged, on the local AOS-Llama workers
 * and served by the exported herder, with real inference in llama.wasm:
 * test/fixtures/original-worker.lua uses the Lua wrapper (`Llama = require("llama")`,
 * `Llama.setPrompt`, `Llama.next`), hard-codes its herder's id and a model id, and answers
 * `Inference-Response` with the text alone (no X-Request). The herd gives the herder that id and
 * serves the herd's model under any model id (`serveAnyModelId`); the Llama bridge makes the
 * wrapper API available on `require("llama")`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootLocalHerd, DEFAULT_MINT, type LocalHerd } from '../../src/ao/local-herd.ts';
import type { PendingMessage } from '../../src/ao/mu.ts';
import { tagValue } from '../../src/ao/tags.ts';
import { useBaselineWasmOnly } from '../../src/demo/wasm-tiering.ts';
import { luaString } from '../../src/lua-export/token.ts';
import { neededFee } from '../../src/model/fees.ts';
import { ORIGINAL_MODEL_ID, ORIGINAL_WORKER_HERDER, originalWorkerLua } from '../fixtures/original.ts';

useBaselineWasmOnly();

interface ClientResult {
  ok: boolean;
  status: string;
  reference: string;
  answer?: string;
  reason?: string;
  refunded?: string;
}

const action = (e: { tags: readonly { name: string; value: string }[] }) => tagValue(e.tags, 'Action');

const CALLBACKS = `Calls = {}
function Record(answer, result) Calls[#Calls + 1] = result.reference end`;

function driver(herd: LocalHerd) {
  const { net } = herd;
  return {
    run: (prompt: string, tokens: number, reference: string) =>
      herd.clientEval(
        `return Llama.run(${luaString(prompt)}, ${tokens}, Record, nil, ${luaString(reference)})`,
      ),
    result: (reference: string) => herd.clientRead<ClientResult>(`Llama.result(${luaString(reference)})`),
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
    /** The herder's answers to the client for a reference. */
    answersTo: (reference: string) =>
      net.log.filter(
        (e) =>
          e.from === herd.herder &&
          e.to === herd.client &&
          action(e) === 'Inference-Response' &&
          tagValue(e.tags, 'X-Reference') === reference,
      ),
  };
}

describe('one worker running the original worker code, on the exported herder', () => {
  let herd: LocalHerd;
  let d: ReturnType<typeof driver>;
  let worker: string;
  const timeout = { timeoutBase: 10_000, timeoutPerToken: 100 };
  let revenue = 0n;

  beforeAll(async () => {
    herd = await bootLocalHerd({
      seed: 'e2e-original-worker',
      workers: 1,
      workerLua: originalWorkerLua,
      herderId: ORIGINAL_WORKER_HERDER,
      serveAnyModelId: true,
      config: { ...timeout, maxAttempts: 1 },
      clientBoot: CALLBACKS,
    });
    d = driver(herd);
    worker = herd.workers[0]!;
  });
  afterAll(() => herd?.close());

  const fee = (tokens: number, prompt: string) => neededFee(herd.config, tokens, prompt);

  it('boots: the herder has the id the worker hard-codes, the worker loaded its model id', async () => {
    expect(herd.herder).toBe(ORIGINAL_WORKER_HERDER);
    const initialized = herd.net.log.find((e) => e.from === worker && action(e) === 'Worker-Initialized');
    expect(initialized).toBeDefined();
    expect(await herd.net.peek(worker, 'return ModelID')).toBe(ORIGINAL_MODEL_ID);
    // The code's own view: the wrapper API on require("llama"), the global Llama is that table.
    expect(
      await herd.net.peek(
        worker,
        'return type(Llama.setPrompt) .. " " .. type(Llama.set_prompt) .. " " .. tostring(Llama == require("llama"))',
      ),
    ).toBe('function function true');
    expect((await herd.summary()).workers[worker]?.status).toBe('idle');
  });

  it('serves a paid request: the client gets the text the worker generated', async () => {
    const prompt = 'Tell me about llamas';
    const start = herd.net.log.length;
    await d.run(prompt, 8, 'first');
    await herd.net.deliverAll();
    const log = herd.net.log.slice(start);
    const inference = log.find((e) => e.to === worker && action(e) === 'Inference');
    expect(inference?.error).toBeUndefined();
    const answer = log.find((e) => e.from === worker && action(e) === 'Inference-Response');
    // The original's wire format: the text alone.
    expect(tagValue(answer!.tags, 'X-Request')).toBeUndefined();
    expect(answer!.data.length).toBeGreaterThan(0);
    const result = await d.result('first');
    expect(result).toMatchObject({ status: 'answered', ok: true, answer: answer!.data });
    expect(d.answersTo('first')).toHaveLength(1);
    revenue += fee(8, prompt);
    expect(await herd.balance(herd.herder)).toBe(revenue);
    expect(await herd.balance(herd.client)).toBe(DEFAULT_MINT - revenue);
  });

  it('the late untagged answer of a timed-out worker is never forwarded; it brings the worker back', async () => {
    const prompt = 'Answer me late';
    const start = herd.net.log.length;
    await d.run(prompt, 4, 'late');
    // Everything but the worker's answer: it computes the text, the answer is held back.
    const isAnswer = (m: PendingMessage) =>
      m.from === worker && m.target === herd.herder && action(m) === 'Inference-Response';
    await d.deliverExcept(isAnswer);
    expect(herd.net.pending).toHaveLength(1);
    const held = herd.net.pending[0]!;
    expect(tagValue(held.tags, 'X-Request')).toBeUndefined();
    // Past the deadline, a cron tick makes the herder act: its only attempt timed out, refund.
    herd.net.advanceTime(timeout.timeoutBase + 4 * timeout.timeoutPerToken + 1);
    await herd.net.cron(herd.herder);
    await d.deliverExcept((m) => m.id === held.id);
    const result = await d.result('late');
    expect(result).toMatchObject({ status: 'refunded', refunded: fee(4, prompt).toString() });
    expect(result.reason).toMatch(/worker timed out/);
    expect((await herd.summary()).workers[worker]?.status).toBe('timed-out');
    // The late answer arrives: dropped, and the worker is idle again.
    await herd.net.deliverAll();
    const fromHerder = herd.net.log
      .slice(start)
      .filter((e) => e.from === herd.herder && e.to === herd.client && action(e) === 'Inference-Response');
    expect(fromHerder).toHaveLength(0);
    expect(herd.net.log.slice(start).some((e) => e.from === herd.herder && e.data === held.data)).toBe(false);
    expect(await d.calls('late')).toBe(1);
    expect((await herd.summary()).workers[worker]?.status).toBe('idle');

    // The next request is served by it, with its own text, not the late one's.
    const next = 'A new question';
    const startNext = herd.net.log.length;
    await d.run(next, 6, 'after');
    await herd.net.deliverAll();
    const answer = herd.net.log
      .slice(startNext)
      .find((e) => e.from === worker && action(e) === 'Inference-Response');
    const after = await d.result('after');
    expect(after).toMatchObject({ status: 'answered', answer: answer!.data });
    expect(after.answer).not.toBe(held.data);
    expect(d.answersTo('after')).toHaveLength(1);
    revenue += fee(6, next);
    expect(await herd.balance(herd.herder)).toBe(revenue);
    expect(await herd.balance(herd.client)).toBe(DEFAULT_MINT - revenue);
  });
});

describe('a herd mixing original and exported workers', () => {
  let herd: LocalHerd;
  let d: ReturnType<typeof driver>;

  beforeAll(async () => {
    herd = await bootLocalHerd({
      seed: 'e2e-mixed-workers',
      workers: 3,
      workerLua: [originalWorkerLua, undefined, originalWorkerLua],
      herderId: ORIGINAL_WORKER_HERDER,
      serveAnyModelId: true,
      clientBoot: CALLBACKS,
    });
    d = driver(herd);
  });
  afterAll(() => herd?.close());

  it('serves a burst of six paid requests, every one answered once, by both kinds of worker', async () => {
    const start = herd.net.log.length;
    const prompts = ['One', 'Two words', 'Three more words', 'Four', 'Five llamas here', 'Six'];
    const references = prompts.map((_, i) => `burst-${i + 1}`);
    for (const [i, prompt] of prompts.entries()) await d.run(prompt, 4 + i, references[i]!);
    await herd.net.deliverAll();
    let paid = 0n;
    for (const [i, reference] of references.entries()) {
      const result = await d.result(reference);
      expect(result, reference).toMatchObject({ status: 'answered', ok: true });
      expect(result.answer!.length).toBeGreaterThan(0);
      expect(d.answersTo(reference)).toHaveLength(1);
      expect(await d.calls(reference)).toBe(1);
      paid += neededFee(herd.config, 4 + i, prompts[i]!);
    }
    const answers = herd.net.log
      .slice(start)
      .filter((e) => herd.workers.includes(e.from) && action(e) === 'Inference-Response');
    expect(answers).toHaveLength(6);
    const [original1, exported, original2] = herd.workers;
    const untagged = answers.filter((e) => tagValue(e.tags, 'X-Request') === undefined).map((e) => e.from);
    const tagged = answers.filter((e) => tagValue(e.tags, 'X-Request') !== undefined).map((e) => e.from);
    expect(untagged.length).toBeGreaterThan(0);
    expect(tagged.length).toBeGreaterThan(0);
    for (const from of untagged) expect([original1, original2]).toContain(from);
    for (const from of tagged) expect(from).toBe(exported);
    expect(herd.net.log.slice(start).filter((e) => e.error !== undefined)).toEqual([]);
    expect(await herd.balance(herd.herder)).toBe(paid);
    expect(await herd.balance(herd.client)).toBe(DEFAULT_MINT - paid);
    const summary = await herd.summary();
    expect(summary.queueLength).toBe(0);
    for (const worker of herd.workers) expect(summary.workers[worker]?.status).toBe('idle');
  });
});

describe('a herd of original workers that all go silent', () => {
  let herd: LocalHerd;
  let d: ReturnType<typeof driver>;
  const settings = { timeoutBase: 10_000, timeoutPerToken: 100, maxAttempts: 2, maxQueueWait: 20_000 };

  beforeAll(async () => {
    herd = await bootLocalHerd({
      seed: 'e2e-silent-original-workers',
      workers: 2,
      workerLua: originalWorkerLua,
      herderId: ORIGINAL_WORKER_HERDER,
      serveAnyModelId: true,
      config: settings,
      clientBoot: CALLBACKS,
    });
    d = driver(herd);
  });
  afterAll(() => herd?.close());

  it('refunds every running and queued request within the bound, to the payer, in full', async () => {
    const tokens = 4;
    const bound =
      settings.maxAttempts *
      (settings.maxQueueWait + settings.timeoutBase + settings.timeoutPerToken * tokens);
    // Their answers never arrive: every answer of a worker to the herder is held back.
    const silent = (m: PendingMessage) => herd.workers.includes(m.from) && m.target === herd.herder;
    const references = ['s1', 's2', 's3', 's4'];
    const paidAt = new Map<string, number>();
    for (const reference of references) {
      await d.run(`Silent ${reference}`, tokens, reference);
      paidAt.set(reference, herd.net.now);
      await d.deliverExcept(silent);
    }
    const summary = await herd.summary();
    expect(Object.keys(summary.requests)).toHaveLength(4);
    expect(summary.queueLength).toBe(2);
    const refundedAt = new Map<string, number>();
    const start = herd.net.now;
    while (refundedAt.size < references.length && herd.net.now - start <= bound + 5_000) {
      herd.net.advanceTime(1_000);
      await herd.net.cron(herd.herder);
      await d.deliverExcept(silent);
      for (const reference of references) {
        if (refundedAt.has(reference)) continue;
        const result = await d.result(reference);
        if (result.status === 'refunded') refundedAt.set(reference, herd.net.now);
      }
    }
    expect([...refundedAt.keys()].sort()).toEqual(references);
    let total = 0n;
    for (const reference of references) {
      expect(refundedAt.get(reference)! - paidAt.get(reference)!).toBeLessThanOrEqual(bound);
      const result = await d.result(reference);
      const fee = neededFee(herd.config, tokens, `Silent ${reference}`);
      expect(result.refunded).toBe(fee.toString());
      // Timed out on a silent worker, then no worker left to take it: refunded from the queue.
      expect(result.reason).toMatch(/Waited too long in the queue|timed out/);
      expect(d.answersTo(reference)).toHaveLength(0);
      total += fee;
    }
    // Every refund went back to the payer: the client has all of it, the herder nothing.
    expect(total).toBeGreaterThan(0n);
    expect(await herd.balance(herd.client)).toBe(DEFAULT_MINT);
    expect(await herd.balance(herd.herder)).toBe(0n);
    const after = await herd.summary();
    expect(Object.keys(after.requests)).toHaveLength(0);
    expect(after.queueLength).toBe(0);
  });
});
