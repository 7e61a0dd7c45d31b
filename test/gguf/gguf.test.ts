import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  BOS_ID,
  buildLlamaModel,
  byteToken,
  EOS_ID,
  ensureModel,
  ensureTinyModel,
  GgufFormatError,
  type GgufValue,
  isModelId,
  llamaModelFile,
  metadataValue,
  modelId,
  modelsCacheDir,
  Prng,
  readF32Tensor,
  readGgufHeader,
  SPACE_ID,
  TINY_MODEL_OPTIONS,
  VOCAB_SIZE,
  writeGguf,
} from '../../src/gguf/index.ts';

const tiny = buildLlamaModel();
const header = readGgufHeader(tiny);

/** Bytes of the tensor data of a model with these sizes (all F32, 32-byte aligned tensors). */
function tensorBytes(d: number, layers: number, nFf: number): number {
  const align = (n: number) => Math.ceil(n / 32) * 32;
  const perLayer = 2 * align(d * 4) + 4 * align(d * d * 4) + 3 * align(d * nFf * 4);
  return 2 * align(VOCAB_SIZE * d * 4) + align(d * 4) + layers * perLayer;
}

describe('GGUF writer and reader', () => {
  it('round-trips every metadata type and tensor data', () => {
    const metadata: [string, GgufValue][] = [
      ['a.u8', { type: 'u8', value: 255 }],
      ['a.i8', { type: 'i8', value: -128 }],
      ['a.u16', { type: 'u16', value: 65535 }],
      ['a.i16', { type: 'i16', value: -32768 }],
      ['a.u32', { type: 'u32', value: 4294967295 }],
      ['a.i32', { type: 'i32', value: -2147483648 }],
      ['a.f32', { type: 'f32', value: 0.5 }],
      ['a.f64', { type: 'f64', value: Math.PI }],
      ['a.u64', { type: 'u64', value: 2n ** 64n - 1n }],
      ['a.i64', { type: 'i64', value: -(2n ** 63n) }],
      ['a.bool', { type: 'bool', value: true }],
      ['a.string', { type: 'string', value: 'héllo ▁ wörld' }],
      ['a.strings', { type: 'array', of: 'string', value: ['', 'x', '<0x0A>'] }],
      ['a.ints', { type: 'array', of: 'i32', value: [1, -2, 3] }],
      ['a.bigs', { type: 'array', of: 'u64', value: [0n, 2n ** 40n] }],
      ['a.bools', { type: 'array', of: 'bool', value: [true, false] }],
      ['a.floats', { type: 'array', of: 'f32', value: [1.5, -2.25] }],
    ];
    const t1 = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const t2 = Float32Array.from([-1.5]);
    const bytes = writeGguf({
      metadata,
      tensors: [
        { name: 'x', dims: [3, 2], data: t1 },
        { name: 'y', dims: [1], data: t2 },
      ],
    });
    const h = readGgufHeader(bytes);
    expect(h.version).toBe(3);
    expect([...h.metadata.entries()]).toEqual(metadata);
    expect(h.tensors).toEqual([
      { name: 'x', dims: [3, 2], type: 0, offset: 0 },
      { name: 'y', dims: [1], type: 0, offset: 32 },
    ]);
    expect(h.dataOffset % 32).toBe(0);
    expect(readF32Tensor(bytes, h, 'x')).toEqual(t1);
    expect(readF32Tensor(bytes, h, 'y')).toEqual(t2);
    expect(bytes.length).toBe(h.dataOffset + 32 + 4);
  });

  it('refuses inconsistent tensors', () => {
    expect(() =>
      writeGguf({ metadata: [], tensors: [{ name: 'x', dims: [2, 2], data: new Float32Array(3) }] }),
    ).toThrow(/hold 4 values/);
    const data = new Float32Array(1);
    expect(() =>
      writeGguf({
        metadata: [],
        tensors: [
          { name: 'x', dims: [1], data },
          { name: 'x', dims: [1], data },
        ],
      }),
    ).toThrow(/duplicate/);
  });

  it('rejects malformed files with GgufFormatError', () => {
    const bad = (bytes: Uint8Array) => () => readGgufHeader(bytes);
    expect(bad(new TextEncoder().encode('GGML and more bytes here....'))).toThrow(GgufFormatError);
    expect(bad(tiny.subarray(0, 3))).toThrow(/truncated/);
    expect(bad(tiny.subarray(0, 2000))).toThrow(/truncated/);
    expect(bad(tiny.subarray(0, tiny.length - 1))).toThrow(/data ends at/);
    const v9 = tiny.slice(0, 64);
    v9[4] = 9;
    expect(bad(v9)).toThrow(/version 9/);
  });
});

describe('synthetic llama model', () => {
  it('has the header llama.cpp needs', () => {
    expect(header.version).toBe(3);
    expect(header.alignment).toBe(32);
    const meta = (key: string) => metadataValue(header, key);
    expect(meta('general.architecture')).toBe('llama');
    expect(meta('llama.context_length')).toBe(2048);
    expect(meta('llama.embedding_length')).toBe(64);
    expect(meta('llama.block_count')).toBe(2);
    expect(meta('llama.feed_forward_length')).toBe(128);
    expect(meta('llama.attention.head_count')).toBe(4);
    expect(meta('llama.attention.layer_norm_rms_epsilon')).toBeCloseTo(1e-5, 10);
    expect(meta('tokenizer.ggml.model')).toBe('llama');
    expect(meta('tokenizer.ggml.bos_token_id')).toBe(BOS_ID);
    expect(meta('tokenizer.ggml.eos_token_id')).toBe(EOS_ID);

    const tokens = meta('tokenizer.ggml.tokens') as string[];
    expect(tokens).toHaveLength(VOCAB_SIZE);
    expect(tokens.slice(0, 3)).toEqual(['<unk>', '<s>', '</s>']);
    expect(tokens[byteToken(0)]).toBe('<0x00>');
    expect(tokens[byteToken(0x0a)]).toBe('<0x0A>');
    expect(tokens[byteToken(0xff)]).toBe('<0xFF>');
    expect(tokens[SPACE_ID]).toBe('\u2581');
    const types = meta('tokenizer.ggml.token_type') as number[];
    expect(types.slice(0, 4)).toEqual([2, 3, 3, 6]);
    expect(types.filter((t) => t === 6)).toHaveLength(256);
    expect(meta('tokenizer.ggml.scores')).toHaveLength(VOCAB_SIZE);
  });

  it('has every llama tensor with ggml shapes, F32, aligned, inside the file', () => {
    const dims = Object.fromEntries(header.tensors.map((t) => [t.name, t.dims]));
    const names = ['token_embd.weight', 'output_norm.weight', 'output.weight'];
    for (let l = 0; l < 2; l++) {
      for (const part of [
        'attn_norm',
        'attn_q',
        'attn_k',
        'attn_v',
        'attn_output',
        'ffn_norm',
        'ffn_gate',
        'ffn_down',
        'ffn_up',
      ]) {
        names.push(`blk.${l}.${part}.weight`);
      }
    }
    expect(Object.keys(dims).sort()).toEqual(names.sort());
    expect(dims['token_embd.weight']).toEqual([64, VOCAB_SIZE]);
    expect(dims['output.weight']).toEqual([64, VOCAB_SIZE]);
    expect(dims['blk.1.attn_k.weight']).toEqual([64, 64]);
    expect(dims['blk.0.ffn_gate.weight']).toEqual([64, 128]);
    expect(dims['blk.0.ffn_down.weight']).toEqual([128, 64]);
    expect(dims['blk.0.ffn_norm.weight']).toEqual([64]);
    for (const t of header.tensors) {
      expect(t.type).toBe(0);
      expect(t.offset % 32).toBe(0);
    }
    expect(tiny.length).toBe(header.dataOffset + tensorBytes(64, 2, 128));
  });

  it('biases the output layer towards printable tokens and end of sequence', () => {
    const out = readF32Tensor(tiny, header, 'output.weight');
    const embd = readF32Tensor(tiny, header, 'token_embd.weight');
    const d = 64;
    for (let t = 0; t < VOCAB_SIZE; t++) {
      expect(embd[t * d]).toBeGreaterThan(0); // the constant bias channel
      const allowed = t === EOS_ID || t === SPACE_ID || (t >= byteToken(0x20) && t <= byteToken(0x7e));
      if (allowed) expect(out[t * d]).toBe(0);
      else expect(out[t * d]).toBeLessThan(-5);
    }
    // '.' is followed by end of sequence: the </s> row is the embedding of '.', scaled.
    const dot = byteToken(0x2e);
    const ratio = out[EOS_ID * d + 1]! / embd[dot * d + 1]!;
    for (let i = 1; i < d; i++) expect(out[EOS_ID * d + i]).toBeCloseTo(ratio * embd[dot * d + i]!, 5);
  });

  it('is deterministic: same options, same bytes, same id', () => {
    const again = buildLlamaModel();
    expect(Buffer.from(again).equals(Buffer.from(tiny))).toBe(true);
    expect(modelId(again)).toBe(modelId(tiny));
    const other = buildLlamaModel({ seed: 7 });
    expect(other.length).toBe(tiny.length);
    expect(modelId(other)).not.toBe(modelId(tiny));
    // The default options are frozen so that the tiny model's id stays the same everywhere.
    expect(Object.isFrozen(TINY_MODEL_OPTIONS)).toBe(true);
    // Pinned: any change to the generator or its defaults changes the id (and must do so on purpose).
    expect(modelId(tiny)).toBe('4J_TmjPiUo7dAdjVwl89hzlZRYH49A9geFIEeQBiHnQ');
    expect(tiny.length).toBe(469_952);
  });

  it('is about 470 KB by default and scales with the configured sizes', () => {
    expect(tiny.length).toBeGreaterThan(460_000);
    expect(tiny.length).toBeLessThan(480_000);
    const options = { nEmbd: 96, layers: 3, heads: 6, nFf: 200, contextLength: 512 };
    const bigger = buildLlamaModel(options);
    const h = readGgufHeader(bigger);
    expect(metadataValue(h, 'llama.embedding_length')).toBe(96);
    expect(metadataValue(h, 'llama.block_count')).toBe(3);
    expect(metadataValue(h, 'llama.attention.head_count')).toBe(6);
    expect(metadataValue(h, 'llama.feed_forward_length')).toBe(200);
    expect(metadataValue(h, 'llama.context_length')).toBe(512);
    expect(metadataValue(h, 'llama.rope.dimension_count')).toBe(16);
    expect(h.tensors).toHaveLength(3 + 9 * 3);
    expect(bigger.length).toBe(h.dataOffset + tensorBytes(96, 3, 200));
  });

  it('rejects impossible sizes', () => {
    expect(() => llamaModelFile({ nEmbd: 64, heads: 5 })).toThrow(/multiple of heads/);
    expect(() => llamaModelFile({ layers: 0 })).toThrow(/positive integer/);
    expect(() => llamaModelFile({ nEmbd: 12, heads: 4 })).toThrow(/even/);
  });

  it('draws its weights from a seeded generator', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const xs = Array.from({ length: 5 }, () => a.nextU32());
    expect(Array.from({ length: 5 }, () => b.nextU32())).toEqual(xs);
    const normals = Array.from({ length: 4000 }, () => a.normal());
    const mean = normals.reduce((s, x) => s + x, 0) / normals.length;
    const variance = normals.reduce((s, x) => s + (x - mean) ** 2, 0) / normals.length;
    expect(Math.abs(mean)).toBeLessThan(0.1);
    expect(variance).toBeGreaterThan(0.85);
    expect(variance).toBeLessThan(1.15);
  });
});

describe('model cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herd-cache-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names models by the base64url SHA-256 of their bytes', () => {
    const id = modelId(tiny);
    expect(id).toHaveLength(43);
    expect(isModelId(id)).toBe(true);
    expect(id).toBe(createHash('sha256').update(tiny).digest('base64url'));
  });

  it('generates the tiny model once into HERD_CACHE_DIR/models', async () => {
    const previous = process.env.HERD_CACHE_DIR;
    process.env.HERD_CACHE_DIR = dir;
    try {
      expect(modelsCacheDir()).toBe(join(dir, 'models'));
      const first = await ensureTinyModel();
      expect(first.id).toBe(modelId(tiny));
      expect(first.path).toBe(join(dir, 'models', first.id));
      expect(first.bytes).toBe(tiny.length);
      expect(statSync(first.path).size).toBe(tiny.length);
      expect(modelId(readFileSync(first.path))).toBe(first.id);
      const mtime = statSync(first.path).mtimeMs;
      const second = await ensureTinyModel();
      expect(second).toEqual(first);
      expect(statSync(first.path).mtimeMs).toBe(mtime);
    } finally {
      if (previous === undefined) delete process.env.HERD_CACHE_DIR;
      else process.env.HERD_CACHE_DIR = previous;
    }
  });

  it('stores other sizes next to it', () => {
    const file = ensureModel({ nEmbd: 32, layers: 1, heads: 2, nFf: 64 }, join(dir, 'other'));
    expect(file.path).toBe(join(dir, 'other', file.id));
    expect(modelId(readFileSync(file.path))).toBe(file.id);
  });
});
