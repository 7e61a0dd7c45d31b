/**
 * The examples (examples/sentiment-agent, examples/chatbot), loaded into a client process that
 * has the client package, on a local herd: people message the agent, the agent pays the herder
 * through the token, a worker generates inside llama.wasm, the agent answers them. The tiny
 * synthetic model's text is noise, so the tests check the flow and the robustness of the
 * handling (labels, clean replies, prompt sizes), not the meaning.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootLocalHerd, DEFAULT_MINT, type LocalHerd } from '../../src/ao/local-herd.ts';
import type { LogEntry } from '../../src/ao/log.ts';
import { tagValue } from '../../src/ao/tags.ts';
import { useBaselineWasmOnly } from '../../src/demo/wasm-tiering.ts';
import { MAX_PROMPT_BYTES } from '../../src/lua-export/worker.ts';
import { neededFee, utf8Length } from '../../src/model/fees.ts';

// Short runs of llama.wasm: skip V8's optimising tier (see src/demo/wasm-tiering.ts).
useBaselineWasmOnly();

const source = (path: string) => readFileSync(new URL(`../../examples/${path}`, import.meta.url), 'utf8');
const tags = (e: LogEntry) => Object.fromEntries(e.tags.map((t) => [t.name, t.value]));

let herd: LocalHerd;
/** Fees the agent paid for answered inferences. */
let spent = 0n;

beforeAll(async () => {
  herd = await bootLocalHerd({ seed: 'examples' });
  await herd.clientEval(source('sentiment-agent/agent.lua'));
  await herd.clientEval(source('chatbot/chatbot.lua'));
});
afterAll(() => herd?.close());

/** Sends from a wallet to the agent, delivers everything, returns what came back to the wallet. */
async function ask(who: string, tagsIn: Record<string, string>, data?: string): Promise<LogEntry[]> {
  const wallet = herd.net.wallet(who);
  const before = herd.net.messagesTo(wallet).length;
  herd.net.send({ from: wallet, target: herd.client, tags: tagsIn, ...(data !== undefined ? { data } : {}) });
  await herd.net.deliverAll();
  return herd.net.messagesTo(wallet).slice(before);
}

/** The prompts the workers were given since log index `from`. */
const promptsSince = (from: number) =>
  herd.net.log
    .slice(from)
    .filter((e) => herd.workers.includes(e.to) && tagValue(e.tags, 'Action') === 'Inference')
    .map((e) => e.data);

const expectBalances = async () => {
  expect(await herd.balance(herd.client)).toBe(DEFAULT_MINT - spent);
  expect(await herd.balance(herd.herder)).toBe(spent);
};

describe('sentiment agent', () => {
  it('pays for an inference and answers with a label and the raw answer', async () => {
    const from = herd.net.log.length;
    const [reply] = await ask('alice', { Action: 'Analyze-Sentiment' }, 'I love llamas, they are wonderful!');
    const [prompt] = promptsSince(from);
    expect(prompt).toContain('Text: I love llamas, they are wonderful!');
    const t = tags(reply!);
    expect(t.Action).toBe('Sentiment-Result');
    expect(['positive', 'negative', 'neutral', 'unknown']).toContain(t.Sentiment);
    const fromWorker = herd.net.log
      .slice(from)
      .find((e) => herd.workers.includes(e.from) && tagValue(e.tags, 'Action') === 'Inference-Response');
    expect(reply!.data).toBe(fromWorker!.data);
    const fee = neededFee(herd.config, 4, prompt!);
    expect(t['Fee-Paid']).toBe(fee.toString());
    spent += fee;
    await expectBalances();
  });

  it('labels answers robustly', async () => {
    const label = (text: string) => herd.clientEval(`return Sentiment.label(${JSON.stringify(text)})`);
    expect(await label(' Positive, clearly.')).toBe('positive');
    expect(await label('not negative but neutral')).toBe('negative');
    expect(await label('=]t:ev`X#!&n@hBC')).toBe('unknown');
    expect(await label('')).toBe('unknown');
  });

  it('refuses bad input without paying, and reports a refund', async () => {
    const [empty] = await ask('bob', { Action: 'Analyze-Sentiment' }, '   ');
    expect(tags(empty!)).toMatchObject({
      Action: 'Sentiment-Error',
      Reason: 'send the text to analyse as Data',
    });
    const [long] = await ask('bob', { Action: 'Analyze-Sentiment' }, 'x'.repeat(301));
    expect(tags(long!).Reason).toMatch(/too long/);
    // More tokens than the herder allows: paid, then refunded in full.
    await herd.clientEval(`Sentiment.tokens = ${herd.config.maxTokens + 1}`);
    const [refunded] = await ask('bob', { Action: 'Analyze-Sentiment' }, 'meh');
    await herd.clientEval('Sentiment.tokens = 4');
    expect(tags(refunded!)).toMatchObject({
      Action: 'Sentiment-Error',
      Reason: 'inference not done: Tokens out of range',
    });
    await expectBalances();
  });
});

describe('chatbot', () => {
  it('replies with clean text and remembers the conversation in later prompts', async () => {
    const from = herd.net.log.length;
    const [first] = await ask('carol', { Action: 'Chat' }, 'Hello llama, how are you?');
    const [second] = await ask('carol', { Action: 'Chat' }, 'What do you eat?');
    for (const [i, reply] of [first, second].entries()) {
      const t = tags(reply!);
      expect(t.Action).toBe('Chat-Response');
      expect(t.Turn).toBe(String(i + 1));
      expect(reply!.data.length).toBeGreaterThan(0);
      // Clean: no control characters, no leading/trailing or double spaces.
      // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that none are left
      expect(reply!.data).not.toMatch(/[\u0000-\u001f\u007f]|^\s|\s$|\s\s/);
    }
    const prompts = promptsSince(from);
    expect(prompts).toHaveLength(2);
    expect(prompts[0]).toMatch(/^You are a friendly llama\..*\nUser: Hello llama, how are you\?\nLlama:$/s);
    expect(prompts[1]).toContain('User: Hello llama, how are you?\nLlama: ');
    expect(prompts[1]).toMatch(/User: What do you eat\?\nLlama:$/);
    for (const [i, p] of prompts.entries()) {
      const fee = neededFee(herd.config, 24, p);
      expect(tags([first, second][i]!)['Fee-Paid']).toBe(fee.toString());
      spent += fee;
    }
    await expectBalances();
  });

  it('keeps every prompt within what AOS-Llama runs, however long the conversation', async () => {
    const from = herd.net.log.length;
    for (let i = 0; i < 5; i++) {
      const [reply] = await ask('dave', { Action: 'Chat' }, `${'llama '.repeat(32)}${i}`.slice(0, 200));
      expect(tags(reply!).Action).toBe('Chat-Response');
    }
    const prompts = promptsSince(from);
    expect(prompts).toHaveLength(5);
    for (const p of prompts) {
      expect(utf8Length(p)).toBeLessThanOrEqual(480);
      expect(utf8Length(p)).toBeLessThanOrEqual(MAX_PROMPT_BYTES);
      spent += neededFee(herd.config, 24, p);
    }
    expect(herd.net.log.slice(from).some((e) => tagValue(e.tags, 'Action') === 'Inference-Error')).toBe(
      false,
    );
    await expectBalances();
  });

  it('cleans invalid UTF-8 and control characters', async () => {
    const clean = (luaLiteral: string) => herd.clientEval(`return Chatbot.clean(${luaLiteral})`);
    expect(await clean('"  a\\0b\\n\\tc  "')).toBe('a b c');
    expect(await clean('"ok\\255\\128 fine \\226\\130"')).toBe('ok fine');
    expect(await clean('"caf\\195\\169"')).toBe('café');
  });

  it('answers one message at a time per person; refunds and bad input become Chat-Error', async () => {
    const wallet = herd.net.wallet('erin');
    herd.net.send({ from: wallet, target: herd.client, tags: { Action: 'Chat' }, data: 'first' });
    herd.net.send({ from: wallet, target: herd.client, tags: { Action: 'Chat' }, data: 'second' });
    await herd.net.deliverAll();
    const replies = herd.net.messagesTo(wallet).map(tags);
    expect(replies.map((t) => t.Action).sort()).toEqual(['Chat-Error', 'Chat-Response']);
    expect(replies.find((t) => t.Action === 'Chat-Error')?.Reason).toBe(
      'still answering your previous message',
    );
    const answered = herd.net.log.filter((e) => e.to === herd.workers[0] || e.to === herd.workers[1]);
    const last = answered.filter((e) => tagValue(e.tags, 'Action') === 'Inference').at(-1);
    spent += neededFee(herd.config, 24, last!.data);

    await herd.clientEval(`Chatbot.tokens = ${herd.config.maxTokens + 1}`);
    const [refused] = await ask('erin', { Action: 'Chat' }, 'again');
    await herd.clientEval('Chatbot.tokens = 24');
    expect(tags(refused!)).toMatchObject({ Action: 'Chat-Error', Reason: 'no reply: Tokens out of range' });
    const [empty] = await ask('erin', { Action: 'Chat' }, '\u0001\u0002');
    expect(tags(empty!).Reason).toBe('send your message as Data');
    const [reset] = await ask('erin', { Action: 'Reset-Chat' });
    expect(tags(reset!).Action).toBe('Chat-Reset');
    await expectBalances();
    const summary = await herd.summary();
    expect(BigInt(summary.ledger.revenue)).toBe(spent);
    expect(summary.ledger.escrow).toBe('0');
  });
});
