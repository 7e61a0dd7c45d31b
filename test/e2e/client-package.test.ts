/**
 * The client package on its own: its files, and its Lua in one aos32 process whose herder and
 * token are wallets played by the test (so every message the package sends can be inspected and
 * every answer forged, including spoofed ones).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AoEvalError, LocalNetwork } from '../../src/ao/network.ts';
import { stripAnsi } from '../../src/ao/results.ts';
import {
  clientInstallLua,
  clientLua,
  clientPackage,
  clientPackageProblems,
  DEFAULT_CLIENT_DIR,
} from '../../src/lua-export/client.ts';
import { luaString } from '../../src/lua-export/token.ts';
import { neededFee } from '../../src/model/fees.ts';
import { MODEL_VERSION } from '../../src/model/version.ts';

const ID = (c: string) => c.repeat(43);

describe('client package files', () => {
  it('lays out main.lua, install.lua, manifest.json and README.md, deterministically', () => {
    const files = clientPackage({ herder: ID('H'), token: ID('T') });
    expect(files.map((f) => f.path)).toEqual([
      `${DEFAULT_CLIENT_DIR}/main.lua`,
      `${DEFAULT_CLIENT_DIR}/install.lua`,
      `${DEFAULT_CLIENT_DIR}/manifest.json`,
      `${DEFAULT_CLIENT_DIR}/README.md`,
    ]);
    expect(clientPackage({ herder: ID('H'), token: ID('T') })).toEqual(files);
    expect(clientPackage({ dir: 'out/client' })[0]!.path).toBe('out/client/main.lua');
    const manifest = JSON.parse(files[2]!.content);
    expect(manifest).toMatchObject({ name: 'llama-herder', version: MODEL_VERSION, main: 'main.lua' });
    expect(manifest.herder).toBe(ID('H'));
  });

  it('names the model version in every Lua header and bakes the ids only when given', () => {
    for (const text of [clientLua(), clientInstallLua()]) {
      expect(text.split('\n')[1]).toBe(`-- model version: ${MODEL_VERSION}`);
    }
    expect(clientLua()).toContain('local DEFAULT_HERDER = nil\n');
    expect(clientLua({ herder: ID('H') })).toContain(`local DEFAULT_HERDER = "${ID('H')}"\n`);
    expect(clientInstallLua({ moduleName: '@sam/Llama-Herder' })).toContain(
      'package.loaded["@sam/Llama-Herder"] = (function()',
    );
  });

  it('refuses bad options', () => {
    expect(clientPackageProblems({ herder: 'not an id' })).toEqual(['herder must be a process id']);
    expect(clientPackageProblems({ dir: '../x' })).toHaveLength(1);
    expect(clientPackageProblems({ moduleName: 'a b' })).toHaveLength(1);
    expect(() => clientPackage({ token: '' })).toThrow(/token must be a process id/);
  });
});

describe('client package in aos32', () => {
  let net: LocalNetwork;
  let pid: string;
  let herder: string;
  let token: string;

  /** Runs Lua as the owner; returns the output without colours. */
  const run = async (lua: string) => stripAnsi(await net.eval(pid, lua));
  const read = async <T>(expr: string): Promise<T> =>
    JSON.parse(await net.peek(pid, `return require('json').encode(${expr})`)) as T;
  /** Messages the client sent to `to` since log index `from`. */
  const sent = (to: string, from: number) =>
    net.log.slice(from).filter((e) => e.kind === 'external' && e.from === pid && e.to === to);
  const tags = (e: { tags: readonly { name: string; value: string }[] }) =>
    Object.fromEntries(e.tags.map((t) => [t.name, t.value]));

  async function answerInfo(baseFee: string, tokenFee: string) {
    net.send({
      from: herder,
      target: pid,
      tags: { Action: 'Info-Response', 'Base-Fee': baseFee, 'Token-Fee': tokenFee, 'Last-Multiplier': '1' },
    });
    await net.deliverAll();
  }

  beforeAll(async () => {
    net = await LocalNetwork.create({ seed: 'client-package' });
    herder = net.wallet('herder');
    token = net.wallet('token');
    // A catch-all handler loaded before the package: it must only see what is not the package's.
    pid = await net.spawn({
      module: 'aos32',
      owner: net.wallet('owner'),
      boot: `Greedy = {}
Handlers.add('greedy', function(m) return m.Tags.Action == 'Credit-Notice' or m.Tags.Action == 'Inference-Response' end,
  function(m) Greedy[#Greedy + 1] = m.From end)`,
    });
    await run(clientInstallLua({ herder, token, moduleName: '@sam/Llama-Herder' }));
    await run(`Llama = require("@sam/Llama-Herder")
Results = {}
function Keep(answer, result) Results[#Results + 1] = { answer = answer or false, result = result } end`);
  });
  afterAll(() => net.close());

  it('loads under the chosen module name and reports its settings', async () => {
    expect(await run('return Llama._version')).toBe(MODEL_VERSION);
    expect(await run('return Llama.herder')).toBe(herder);
    expect(await run('return Llama.token')).toBe(token);
  });

  it('waits for prices before paying, then pays the exact needed fee with the X- tags', async () => {
    const from = net.log.length;
    expect(await run('return Llama.run("Hello there, llama", 5, Keep)')).toBe('llama-1');
    expect(sent(herder, from).map((e) => tags(e).Action)).toEqual(['Info']);
    expect(sent(token, from)).toHaveLength(0);
    expect(await read('Llama.result("llama-1")')).toMatchObject({ status: 'awaiting-prices' });
    await answerInfo('100', '10');
    const [transfer] = sent(token, from);
    const needed = neededFee({ baseFee: 100n, tokenFee: 10n }, 5, 'Hello there, llama');
    expect(tags(transfer!)).toMatchObject({
      Action: 'Transfer',
      Recipient: herder,
      Quantity: needed.toString(),
      'X-Prompt': 'Hello there, llama',
      'X-Tokens': '5',
      'X-Reference': 'llama-1',
    });
    expect(await read('Llama.result("llama-1")')).toMatchObject({ status: 'paying', fee: '180' });
  });

  it('hands the answer to the callback only from the herder, once', async () => {
    // Spoofed answers: from another wallet, and for an unknown reference.
    net.send({
      from: net.wallet('mallory'),
      target: pid,
      tags: { Action: 'Inference-Response', 'X-Reference': 'llama-1' },
      data: 'forged',
    });
    net.send({
      from: herder,
      target: pid,
      tags: { Action: 'Inference-Response', 'X-Reference': 'nope' },
      data: 'x',
    });
    await net.deliverAll();
    expect(await read('#Results')).toBe(0);
    net.send({
      from: herder,
      target: pid,
      tags: { Action: 'Inference-Response', 'X-Reference': 'llama-1', 'X-Request': 'R1' },
      data: 'a real answer',
    });
    net.send({
      from: herder,
      target: pid,
      tags: { Action: 'Inference-Response', 'X-Reference': 'llama-1' },
      data: 'again',
    });
    await net.deliverAll();
    const results = await read<{ answer: string; result: Record<string, unknown> }[]>('Results');
    expect(results).toHaveLength(1);
    expect(results[0]!.answer).toBe('a real answer');
    expect(results[0]!.result).toMatchObject({
      ok: true,
      status: 'answered',
      reference: 'llama-1',
      request: 'R1',
      fee: '180',
      needed: '180',
    });
    expect(await read('Llama.inFlight()')).toBe(0);
  });

  it('reports a refund (Credit-Notice from the token, Sender = herder) to the callback', async () => {
    await run('Results = {}; return Llama.run("Hi", 1, Keep, { Fee = "7" }, "mine")');
    // Not a refund: wrong token, wrong sender.
    for (const [from, sender] of [
      [net.wallet('fake-token'), herder],
      [token, net.wallet('someone')],
    ] as const) {
      net.send({
        from,
        target: pid,
        tags: {
          Action: 'Credit-Notice',
          Sender: sender,
          Quantity: '7',
          'X-Reference': 'mine',
          'X-Reason': 'x',
        },
      });
    }
    net.send({
      from: token,
      target: pid,
      tags: {
        Action: 'Credit-Notice',
        Sender: herder,
        Quantity: '7',
        'X-Reference': 'mine',
        'X-Reason': 'Insufficient payment',
        'X-Needed': '120',
        'X-Request': 'R2',
      },
    });
    await net.deliverAll();
    // The catch-all handler saw the two fakes only (and the three spoofed answers before).
    expect(await read('Greedy')).toEqual([
      net.wallet('mallory'),
      herder,
      herder,
      net.wallet('fake-token'),
      token,
    ]);
    const results = await read<{ answer: boolean; result: Record<string, unknown> }[]>('Results');
    expect(results).toEqual([
      {
        answer: false,
        result: expect.objectContaining({
          ok: false,
          status: 'refunded',
          reason: 'Insufficient payment',
          refunded: '7',
          needed: '120',
          fee: '7',
          reference: 'mine',
        }),
      },
    ]);
  });

  it('reports a refused payment (Transfer-Error) and marks a debited one paid', async () => {
    await run('Results = {}; Llama.run("a", 1, Keep, nil, "t1"); Llama.run("b", 1, Keep, nil, "t2")');
    net.send({
      from: token,
      target: pid,
      tags: { Action: 'Debit-Notice', Recipient: herder, 'X-Reference': 't2' },
    });
    net.send({
      from: token,
      target: pid,
      tags: { Action: 'Transfer-Error', Error: 'Insufficient Balance!', 'X-Reference': 't1' },
    });
    await net.deliverAll();
    expect(await read('Llama.result("t2")')).toMatchObject({ status: 'paid' });
    expect(await read('Results[1].result')).toMatchObject({
      ok: false,
      status: 'payment-failed',
      reason: 'the token refused the payment: Insufficient Balance!',
    });
  });

  it('survives a callback that raises: the request still ends, the error is recorded', async () => {
    await run('Llama.run("c", 1, function() error("boom") end, nil, "bad-callback")');
    net.send({
      from: herder,
      target: pid,
      tags: { Action: 'Inference-Response', 'X-Reference': 'bad-callback' },
      data: 'ok',
    });
    const [entry] = await net.deliverAll();
    expect(entry?.error).toBeUndefined();
    const result = await read<Record<string, string>>('Llama.result("bad-callback")');
    expect(result.status).toBe('answered');
    expect(result.callbackError).toMatch(/boom/);
  });

  it('refuses bad arguments before sending anything', async () => {
    const from = net.log.length;
    const cases: [string, RegExp][] = [
      ['Llama.run("", 1)', /prompt must be a non-empty string/],
      ['Llama.run("x", 0)', /tokens must be an integer >= 1/],
      ['Llama.run("x", "1.5")', /tokens must be an integer >= 1/],
      ['Llama.run("x", 1, "not a function")', /callback must be a function/],
      ['Llama.run("x", 1, nil, { Fee = "0" })', /Fee must be a positive integer/],
      ['Llama.run("x", 1, nil, { Fee = "1", Multiplier = "2" })', /either Fee or Multiplier/],
      ['Llama.run("x", 1, nil, { Multiplier = "0.9" })', /at least 1/],
      ['Llama.run("x", 1, nil, { Multiplier = "1e3" })', /plain decimal/],
      ['Llama.run("x", 1, nil, nil, "t2")', /already in flight/],
      ['Llama.configure({ herder = "bad id!" })', /herder must be a process id/],
    ];
    for (const [lua, message] of cases) {
      const error = await run(lua).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, lua).toBeInstanceOf(AoEvalError);
      expect((error as AoEvalError).luaError, lua).toMatch(message);
    }
    expect(sent(token, from)).toHaveLength(0);
  });

  it('a new herder means new prices: waiting requests ask it, and can be cancelled unpaid', async () => {
    const other = net.wallet('other-herder');
    let from = net.log.length;
    await run(`Llama.herder = "${other}"; Llama.run("wait", 1, Keep, nil, "w1")`);
    expect(await read('Llama.prices')).toBeNull();
    expect(sent(other, from).map((e) => tags(e).Action)).toEqual(['Info']);
    expect(await run('return tostring(Llama.cancel("w1")) .. " " .. tostring(Llama.cancel("w1"))')).toBe(
      'true false',
    );
    expect(await read('Llama.result("w1")')).toBeNull();
    // A request still waiting when the herder changes asks the new herder for prices, and pays it.
    await run('Llama.run("wait again", 1, Keep, nil, "w2")');
    from = net.log.length;
    await run(`Llama.herder = "${herder}"`);
    expect(sent(herder, from).map((e) => tags(e).Action)).toEqual(['Info']);
    await answerInfo('100', '10');
    const [transfer] = sent(token, from);
    expect(tags(transfer!)).toMatchObject({ Recipient: herder, 'X-Reference': 'w2', Quantity: '130' });
  });

  it('computes fees exactly, far beyond 2^64, with multipliers rounded up', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.bigInt({ min: 0n, max: 10n ** 40n }),
        fc.bigInt({ min: 1n, max: 10n ** 30n }),
        fc.string({ maxLength: 40 }).filter((s) => s.trim() !== '' && !s.includes('\u0000')),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 99 }),
        fc.stringMatching(/^[0-9]{0,6}$/),
        async (baseFee, tokenFee, prompt, tokens, whole, fraction) => {
          await answerInfo(baseFee.toString(), tokenFee.toString());
          const text = fraction === '' ? String(whole) : `${whole}.${fraction}`;
          const num = BigInt(`${whole}${fraction}`);
          const den = 10n ** BigInt(fraction.length);
          const lit = luaString(prompt);
          const out = await run(
            `local fee, needed = Llama.calculateFee(${lit}, ${tokens}, { Multiplier = "${text}" })
return Llama.calculateFee(${lit}, ${tokens}) .. " " .. fee .. " " .. needed`,
          );
          const needed = neededFee({ baseFee, tokenFee }, tokens, prompt);
          const fee = (needed * num + den - 1n) / den;
          expect(out).toBe(`${needed} ${fee} ${needed}`);
        },
      ),
      { numRuns: 60 },
    );
  });
});
