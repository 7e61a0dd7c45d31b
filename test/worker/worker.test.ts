/**
 * worker.lua inside the real AOS-Llama module (llama.wasm through ao-loader), with the tiny
 * synthetic model served by the local WeaveDrive.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildLlamaModel,
  ensureTinyModel,
  llamaModelFile,
  type ModelFile,
  writeGguf,
} from '../../src/gguf/index.ts';
import { MAX_PROMPT_BYTES, workerLua } from '../../src/lua-export/worker.ts';
import { type CallResult, id43, LlamaProcess, OWNER } from './llama-process.ts';

const HERDER = id43('H');
const CLIENT = id43('C');
const PRINTABLE = /^[\x20-\x7e]*$/;

/** The single message a call sent, checked to go to `target`. */
function only(r: CallResult, target: string) {
  expect(r.sent).toHaveLength(1);
  expect(r.sent[0]!.target).toBe(target);
  return r.sent[0]!;
}

let model: ModelFile;
const scratch = mkdtempSync(join(tmpdir(), 'herd-worker-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Broken model files, each named by what is wrong with it. */
function writeBrokenModels(): void {
  const tiny = buildLlamaModel();
  const put = (name: string, bytes: Uint8Array) => writeFileSync(join(scratch, name), bytes);
  put(
    'garbage',
    Uint8Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff),
  );
  put('empty', new Uint8Array(0));
  put('truncated', tiny.subarray(0, Math.floor(tiny.length * 0.6)));
  put('header-cut', tiny.subarray(0, 2000));
  const v7 = tiny.slice();
  v7[4] = 7;
  put('version-7', v7);
  const badShape = llamaModelFile();
  badShape.tensors.find((t) => t.name === 'blk.0.ffn_gate.weight')!.dims = [128, 64];
  put('bad-shape', writeGguf(badShape));
  const missingTensor = llamaModelFile();
  missingTensor.tensors = missingTensor.tensors.filter((t) => t.name !== 'blk.1.ffn_up.weight');
  put('missing-tensor', writeGguf(missingTensor));
  const missingKey = llamaModelFile();
  missingKey.metadata = missingKey.metadata.filter(([k]) => k !== 'llama.block_count');
  put('missing-key', writeGguf(missingKey));
  const extra = llamaModelFile();
  extra.tensors.push({ name: 'extra.weight', dims: [4], data: new Float32Array(4) });
  put('extra-tensor', writeGguf(extra));
  // Structurally valid, but llama.cpp does not know the architecture: passes the preflight.
  const unknownArch = llamaModelFile();
  unknownArch.metadata = unknownArch.metadata.map(([k, v]) =>
    k === 'general.architecture' ? [k, { type: 'string', value: 'no-such-arch' }] : [k, v],
  );
  put('unknown-arch', writeGguf(unknownArch));
}

beforeAll(async () => {
  model = await ensureTinyModel();
  writeBrokenModels();
});

describe('worker with a baked herder and the tiny model', () => {
  let w: LlamaProcess;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    w = await new LlamaProcess(id43('W'), dirname(model.path)).start();
    timings.instantiateMs = w.instantiateMs;
  });

  afterAll(() => {
    const rssMiB = process.memoryUsage().rss / 2 ** 20;
    console.info(
      `[worker] model ${model.bytes} bytes; ${Object.entries(timings)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join('; ')}; RSS ${rssMiB.toFixed(0)} MiB`,
    );
  });

  it('evaluates worker.lua from the owner', async () => {
    await w.eval(workerLua({ herder: HERDER }));
    expect(await w.eval('return Worker.state .. " " .. Herder')).toBe(`uninitialised ${HERDER}`);
    expect(await w.eval('return type(Llama.onLog) .. type(Llama.onProgress)')).toBe('functionfunction');
  });

  it('answers Inference before Init with Inference-Error', async () => {
    const r = await w.fromProcess(HERDER, { Action: 'Inference', Tokens: '8', 'X-Request': 'early' }, 'hi');
    expect(only(r, HERDER).tags).toMatchObject({
      Action: 'Inference-Error',
      'X-Request': 'early',
      'X-Reason': 'model not loaded',
    });
  });

  it('ignores an Init from anyone but the owner and the herder', async () => {
    const r = await w.fromProcess(CLIENT, { Action: 'Init', 'Model-ID': model.id });
    expect(r.sent).toEqual([]);
    expect(w.driveEvents.filter((e) => e.kind === 'open')).toEqual([]);
  });

  it('loads the model on Init from the owner and tells the owner and the herder', async () => {
    const r = await w.fromOwner({ Action: 'Init', 'Model-ID': model.id });
    timings.initMs = r.ms;
    expect(r.sent.map((m) => m.target)).toEqual([OWNER, HERDER]);
    for (const m of r.sent)
      expect(m.tags).toMatchObject({ Action: 'Worker-Initialized', 'Model-ID': model.id });
    const opens = w.driveEvents.filter((e) => e.kind === 'open');
    // One open for the Lua preflight, two by llama.cpp (header, then the tensor data).
    expect(opens).toHaveLength(3);
    for (const o of opens) expect(o).toMatchObject({ path: `/data/${model.id}`, size: model.bytes });
    expect(w.driveEvents.filter((e) => e.kind === 'close')).toHaveLength(3);
    expect(await w.eval('return Worker.state')).toBe('ready');
  });

  it('answers a second Init (Title-Cased tag, from the herder) without reloading', async () => {
    const events = w.driveEvents.length;
    const r = await w.fromProcess(HERDER, { Action: 'Init', 'Model-Id': model.id });
    expect(only(r, HERDER).tags).toMatchObject({ Action: 'Worker-Initialized', 'Model-ID': model.id });
    expect(w.driveEvents.length).toBe(events);
  });

  it('generates up to Tokens tokens of printable text for the herder', async () => {
    const r = await w.fromProcess(
      HERDER,
      { Action: 'Inference', Tokens: '8', 'X-Request': 'r-1' },
      'Hello there',
    );
    timings.inference8Ms = r.ms;
    const m = only(r, HERDER);
    expect(m.tags).toMatchObject({ Action: 'Inference-Response', 'X-Request': 'r-1' });
    const generated = Number(m.tags['Tokens-Generated']);
    expect(m.data).toMatch(PRINTABLE);
    // Every token of the tiny model is one printable character.
    expect(m.data).toHaveLength(generated);
    expect(generated).toBe(8);
  });

  it('is deterministic', async () => {
    const ask = () =>
      w.fromProcess(HERDER, { Action: 'Inference', Tokens: '8', 'x-request': 'r-2' }, 'Hello there');
    const a = await ask();
    const b = await ask();
    expect(only(a, HERDER).data).toBe(only(b, HERDER).data);
    expect(a.sent[0]!.tags['X-Request']).toBe('r-2');
  });

  it('stops early at the end of the sequence', async () => {
    const r = await w.fromProcess(
      HERDER,
      { Action: 'Inference', Tokens: '300', 'X-Request': 'long' },
      'Tell me a story',
    );
    const m = only(r, HERDER);
    const generated = Number(m.tags['Tokens-Generated']);
    expect(generated).toBeGreaterThan(0);
    expect(generated).toBeLessThan(300);
    // The tiny model ends a sequence after '.'.
    expect(m.data.endsWith('.')).toBe(true);
    expect(m.data).toMatch(PRINTABLE);
  });

  it('ignores Inference from anyone but the herder, and other Actions', async () => {
    expect((await w.fromOwner({ Action: 'Inference', Tokens: '8', 'X-Request': 'o' }, 'hi')).sent).toEqual(
      [],
    );
    expect(
      (await w.fromProcess(CLIENT, { Action: 'Inference', Tokens: '8', 'X-Request': 'c' }, 'hi')).sent,
    ).toEqual([]);
    expect((await w.fromProcess(HERDER, { Action: 'Info' })).sent).toEqual([]);
    expect((await w.fromProcess(HERDER, { Action: 'Something-Else', Tokens: '1' })).sent).toEqual([]);
  });

  it('refuses bad Tokens and prompts longer than one batch', async () => {
    for (const tokens of ['0', 'abc', '-1', '1.5', '']) {
      const r = await w.fromProcess(
        HERDER,
        { Action: 'Inference', Tokens: tokens, 'X-Request': 'bad' },
        'hi',
      );
      expect(only(r, HERDER).tags).toMatchObject({
        Action: 'Inference-Error',
        'X-Request': 'bad',
        'X-Reason': 'Tokens must be a decimal integer >= 1',
      });
    }
    const noTokens = await w.fromProcess(HERDER, { Action: 'Inference', 'X-Request': 'none' }, 'hi');
    expect(only(noTokens, HERDER).tags.Action).toBe('Inference-Error');
    const long = await w.fromProcess(
      HERDER,
      { Action: 'Inference', Tokens: '4', 'X-Request': 'long-prompt' },
      'a'.repeat(MAX_PROMPT_BYTES + 1),
    );
    expect(only(long, HERDER).tags).toMatchObject({
      Action: 'Inference-Error',
      'X-Reason': `prompt too long: at most ${MAX_PROMPT_BYTES} bytes`,
    });
    const longest = await w.fromProcess(
      HERDER,
      { Action: 'Inference', Tokens: '4', 'X-Request': 'longest' },
      'a'.repeat(MAX_PROMPT_BYTES),
    );
    expect(only(longest, HERDER).tags).toMatchObject({
      Action: 'Inference-Response',
      'Tokens-Generated': '4',
    });
  });

  it('costs a few milliseconds per token, with no measurable handler overhead', async () => {
    const prompt = 'Hello there';
    const handler = async (tokens: number) => {
      const r = await w.fromProcess(
        HERDER,
        { Action: 'Inference', Tokens: String(tokens), 'X-Request': `t${tokens}` },
        prompt,
      );
      expect(r.sent[0]!.tags['Tokens-Generated']).toBe(String(tokens));
      return r.ms;
    };
    // The same token loop without the handler: an Eval of the raw calls.
    const raw = async (tokens: number) => {
      const t0 = performance.now();
      await w.eval(
        `local llama = require("llama") llama.set_prompt(${JSON.stringify(prompt)}) for i = 1, ${tokens} do if llama.next() == nil then break end end return 1`,
      );
      return performance.now() - t0;
    };
    const runs: Record<string, () => Promise<number>> = {
      handler1: () => handler(1),
      handler64: () => handler(64),
      raw1: () => raw(1),
      raw64: () => raw(64),
    };
    const names = Object.keys(runs);
    const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    // Interleaved, rotating the order, so that machine load and ordering hit all variants alike.
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < names.length; j++) {
        const name = names[(i + j) % names.length]!;
        samples[name]!.push(await runs[name]!());
      }
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const m = Object.fromEntries(names.map((n) => [n, median(samples[n]!)])) as Record<string, number>;
    timings.handlerOneTokenMs = m.handler1!;
    timings.handler64TokensMs = m.handler64!;
    timings.raw64TokensMs = m.raw64!;
    timings.handlerMsPerToken = (m.handler64! - m.handler1!) / 63;
    timings.rawMsPerToken = (m.raw64! - m.raw1!) / 63;
    expect(timings.handlerMsPerToken).toBeGreaterThan(0);
    expect(timings.handlerMsPerToken).toBeLessThan(50);
  });
});

describe('worker failures', () => {
  it('reports a missing Model-ID and a missing model with Worker-Error, then stays failed', async () => {
    const w = await new LlamaProcess(id43('X'), scratch).start();
    await w.eval(workerLua());
    expect(await w.eval('return tostring(Herder)')).toBe('nil');
    // No herder yet: Inference is ignored.
    expect(
      (await w.fromProcess(HERDER, { Action: 'Inference', Tokens: '1', 'X-Request': 'q' })).sent,
    ).toEqual([]);

    // The owner names the herder; without a Model-ID the worker stays uninitialised.
    const noId = await w.fromOwner({ Action: 'Init', Herder: HERDER });
    expect(noId.sent.map((m) => m.target)).toEqual([OWNER, HERDER]);
    for (const m of noId.sent)
      expect(m.tags).toMatchObject({ Action: 'Worker-Error', 'X-Reason': 'Model-ID is missing' });
    expect(await w.eval('return Worker.state')).toBe('uninitialised');

    const missing = id43('Z');
    const r = await w.fromOwner({ Action: 'Init', 'Model-ID': missing });
    expect(r.sent.map((m) => m.target)).toEqual([OWNER, HERDER]);
    for (const m of r.sent) {
      expect(m.tags).toMatchObject({
        Action: 'Worker-Error',
        'X-Reason': `model not found: /data/${missing}`,
      });
    }
    expect(await w.eval('return Worker.state')).toBe('failed');

    const again = await w.fromProcess(HERDER, { Action: 'Init', 'Model-ID': model.id });
    expect(only(again, HERDER).tags).toMatchObject({
      Action: 'Worker-Error',
      'X-Reason': 'model load failed earlier; spawn a new worker',
    });
    const infer = await w.fromProcess(HERDER, { Action: 'Inference', Tokens: '2', 'X-Request': 'q2' }, 'hi');
    expect(only(infer, HERDER).tags).toMatchObject({
      Action: 'Inference-Error',
      'X-Reason': 'model not loaded',
    });
  });

  it('reports a corrupt model with Worker-Error', async () => {
    const w = await new LlamaProcess(id43('Y'), scratch).start();
    await w.eval(workerLua({ herder: HERDER }));
    const r = await w.fromOwner({ Action: 'Init', 'Model-ID': 'truncated' });
    expect(r.sent.map((m) => m.target)).toEqual([OWNER, HERDER]);
    expect(r.sent[0]!.tags).toMatchObject({ Action: 'Worker-Error' });
    expect(r.sent[0]!.tags['X-Reason']).toMatch(/^corrupt model: tensor .* lies past the end of the file/);
    expect(await w.eval('return "still answering"')).toBe('still answering');
  });

  it('checks GGUF headers before llama.cpp sees them', async () => {
    const w = await new LlamaProcess(id43('V'), scratch).start();
    await w.eval(workerLua());
    const check = (id: string) => w.eval(`return tostring(Worker.checkModel("/data/${id}"))`);
    const expected: Record<string, RegExp> = {
      garbage: /^not a GGUF model: bad magic$/,
      empty: /^not a GGUF model: file is only 0 bytes$/,
      truncated: /past the end of the file \(truncated\?\)$/,
      'header-cut': /^corrupt model: header runs past the end of the file$/,
      'version-7': /^unsupported GGUF version 7$/,
      'bad-shape': /^corrupt model: tensor blk\.0\.ffn_gate\.weight is \[128, 64\], expected \[64, 128\]$/,
      'missing-tensor': /^corrupt model: tensor blk\.1\.ffn_up\.weight is missing$/,
      'missing-key': /^corrupt model: llama\.block_count is missing$/,
      'extra-tensor': /^corrupt model: unexpected tensor extra\.weight$/,
      'no-such-file': /^model not found: \/data\/no-such-file$/,
      'unknown-arch': /^nil$/,
    };
    for (const [id, reason] of Object.entries(expected)) expect(await check(id)).toMatch(reason);
    writeFileSync(join(scratch, 'good'), buildLlamaModel());
    expect(await check('good')).toBe('nil');
  });

  it('survives llama.cpp aborting a load it could not check, and stays failed', async () => {
    const w = await new LlamaProcess(id43('U'), scratch).start();
    await w.eval(workerLua({ herder: HERDER }));
    // llama.cpp throws a C++ exception, which this build turns into an abort of the whole call.
    await expect(w.fromOwner({ Action: 'Init', 'Model-ID': 'unknown-arch' })).rejects.toThrow(/Aborted/);
    expect(await w.eval('return Worker.state')).toBe('loading');
    const again = await w.fromOwner({ Action: 'Init', 'Model-ID': model.id });
    expect(again.sent.map((m) => m.target)).toEqual([OWNER, HERDER]);
    expect(again.sent[0]!.tags).toMatchObject({
      Action: 'Worker-Error',
      'X-Reason': 'model load failed earlier; spawn a new worker',
    });
    const infer = await w.fromProcess(HERDER, { Action: 'Inference', Tokens: '2', 'X-Request': 'q3' }, 'hi');
    expect(only(infer, HERDER).tags).toMatchObject({
      Action: 'Inference-Error',
      'X-Reason': 'model not loaded',
    });
  });
});
