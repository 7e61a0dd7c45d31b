/**
 * Synthetic llama-architecture models for tests and demos.
 *
 * The weights are random but shaped so that greedy (or low-temperature) decoding produces
 * printable ASCII and sometimes ends the sequence:
 *
 * - Dimension 0 of every token embedding is a constant (a "bias channel"); the attention and
 *   feed-forward output projections never write to it, so after the final RMS norm it is a
 *   positive number for every position. Column 0 of the output layer therefore acts as a
 *   per-token bias: 0 for printable ASCII (0x20–0x7E), `▁` and end-of-sequence, strongly negative
 *   for every other token.
 * - Every printable token has a designated successor: they form one shuffled path that ends
 *   with `.`, whose successor is `</s>`. Output row `t` is the embedding of `t`'s predecessor,
 *   so the residual stream (dominated by the current token's embedding) scores the successor
 *   highest. Generation therefore wanders through the printable characters and ends the
 *   sequence when it reaches `.` (on average after several dozen tokens). Small random
 *   attention and feed-forward layers add some context dependence on top.
 *
 * Everything is derived from a seeded PRNG: the same options give a byte-identical file.
 */
import type { GgufFile, GgufTensor, GgufValue } from './format.ts';
import { Prng } from './prng.ts';
import { writeGguf } from './writer.ts';

/** Sizes and seed of a synthetic model. */
export interface LlamaModelOptions {
  /** Embedding width (`llama.embedding_length`). Must be a multiple of `heads`. */
  nEmbd: number;
  /** Number of transformer blocks (`llama.block_count`). */
  layers: number;
  /** Attention heads (`llama.attention.head_count`); the key/value heads are the same. */
  heads: number;
  /** Feed-forward width (`llama.feed_forward_length`). */
  nFf: number;
  /** Trained context length written into the metadata (`llama.context_length`). */
  contextLength: number;
  /** PRNG seed for the weights. */
  seed: number;
  /** `general.name`. */
  name: string;
}

/** The default tiny model: ~470 KB, a few milliseconds per token inside llama.wasm. */
export const TINY_MODEL_OPTIONS: Readonly<LlamaModelOptions> = Object.freeze({
  nEmbd: 64,
  layers: 2,
  heads: 4,
  nFf: 128,
  contextLength: 2048,
  seed: 0x11a3a,
  name: 'llama-herder tiny',
});

/**
 * Byte-fallback vocabulary of 260 tokens: `<unk>`, `<s>`, `</s>`, `<0x00>` … `<0xFF>`, and `▁`
 * (U+2581, the SentencePiece word boundary, decoded as a space) so that the spaces of a prompt
 * are single tokens.
 */
export const VOCAB_SIZE = 260;
export const UNK_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;
/** Token id of the byte `b`. */
export const byteToken = (b: number): number => 3 + b;
/** Token id of `▁` (a space). */
export const SPACE_ID = 259;

/** llama.cpp token types. */
const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, BYTE: 6 } as const;

/** Strength of the "successor" signal in the output layer. */
const SUCCESSOR_GAIN = 0.15;
/** Value of the bias channel in every token embedding. */
const BIAS_CHANNEL = 4;
/** Output-layer bias (column 0) of tokens that should never be generated. */
const FORBIDDEN_BIAS = -12;
/** Scale of the attention and feed-forward output projections relative to the embeddings. */
const LAYER_OUTPUT_SCALE = 0.3;

/** Tokens that may be generated: printable ASCII bytes and `▁` (a space). */
function isPrintableToken(t: number): boolean {
  return (t >= byteToken(0x20) && t <= byteToken(0x7e)) || t === SPACE_ID;
}

/** The token list, types and scores of the byte-fallback vocabulary. */
export function byteVocabulary(): { tokens: string[]; types: number[]; scores: number[] } {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TOKEN_TYPE.UNKNOWN, TOKEN_TYPE.CONTROL, TOKEN_TYPE.CONTROL];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TOKEN_TYPE.BYTE);
  }
  tokens.push('\u2581');
  types.push(TOKEN_TYPE.NORMAL);
  return { tokens, types, scores: tokens.map(() => 0) };
}

function validate(o: LlamaModelOptions): void {
  const positive = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  };
  positive('nEmbd', o.nEmbd);
  positive('layers', o.layers);
  positive('heads', o.heads);
  positive('nFf', o.nFf);
  positive('contextLength', o.contextLength);
  if (o.nEmbd % o.heads !== 0) throw new Error(`nEmbd (${o.nEmbd}) must be a multiple of heads (${o.heads})`);
  if ((o.nEmbd / o.heads) % 2 !== 0) throw new Error('the head size (nEmbd / heads) must be even for RoPE');
  if (o.nEmbd < 8) throw new Error('nEmbd must be at least 8');
}

/**
 * A random matrix in ggml layout: `dims = [nIn, nOut]`, row `j` (output `j`) holds `nIn`
 * contiguous values. `skipRow0` leaves output 0 at zero (keeps the bias channel clean).
 */
function matrix(rng: Prng, nIn: number, nOut: number, scale: number, skipRow0 = false): Float32Array {
  const m = new Float32Array(nIn * nOut);
  for (let j = skipRow0 ? 1 : 0; j < nOut; j++) {
    for (let i = 0; i < nIn; i++) m[j * nIn + i] = rng.normal() * scale;
  }
  return m;
}

function ones(n: number): Float32Array {
  return new Float32Array(n).fill(1);
}

/** Builds the tensors and metadata of a synthetic model (not yet serialised). */
export function llamaModelFile(options: Partial<LlamaModelOptions> = {}): GgufFile {
  const o: LlamaModelOptions = { ...TINY_MODEL_OPTIONS, ...options };
  validate(o);
  const rng = new Prng(o.seed);
  const d = o.nEmbd;

  // Token embeddings: bias channel + random features.
  const embd = new Float32Array(VOCAB_SIZE * d);
  for (let t = 0; t < VOCAB_SIZE; t++) {
    embd[t * d] = BIAS_CHANNEL;
    for (let i = 1; i < d; i++) embd[t * d + i] = rng.normal();
  }

  // Successors: one shuffled path through the printable tokens that ends with '.', then </s>.
  // Tokens that are never generated (control tokens, other bytes) get no designated successor:
  // after them the bias channel still keeps the choice among the printable tokens.
  const period = byteToken(0x2e);
  const printable: number[] = [];
  for (let b = 0x20; b <= 0x7e; b++) if (byteToken(b) !== period) printable.push(byteToken(b));
  printable.push(SPACE_ID);
  const path = [...rng.shuffle(printable), period, EOS_ID];

  // Output layer: column 0 = bias, the rest = the predecessor's embedding.
  const output = new Float32Array(VOCAB_SIZE * d);
  for (let k = 0; k + 1 < path.length; k++) {
    const s = path[k]!;
    const t = path[k + 1]!;
    for (let i = 1; i < d; i++) output[t * d + i] = SUCCESSOR_GAIN * embd[s * d + i]!;
  }
  for (let t = 0; t < VOCAB_SIZE; t++) {
    output[t * d] = t === EOS_ID || isPrintableToken(t) ? 0 : FORBIDDEN_BIAS;
  }

  const tensors: GgufTensor[] = [{ name: 'token_embd.weight', dims: [d, VOCAB_SIZE], data: embd }];
  const inScale = 1 / Math.sqrt(d);
  for (let l = 0; l < o.layers; l++) {
    const p = `blk.${l}`;
    tensors.push(
      { name: `${p}.attn_norm.weight`, dims: [d], data: ones(d) },
      { name: `${p}.attn_q.weight`, dims: [d, d], data: matrix(rng, d, d, inScale) },
      { name: `${p}.attn_k.weight`, dims: [d, d], data: matrix(rng, d, d, inScale) },
      { name: `${p}.attn_v.weight`, dims: [d, d], data: matrix(rng, d, d, inScale) },
      {
        name: `${p}.attn_output.weight`,
        dims: [d, d],
        data: matrix(rng, d, d, LAYER_OUTPUT_SCALE * inScale, true),
      },
      { name: `${p}.ffn_norm.weight`, dims: [d], data: ones(d) },
      { name: `${p}.ffn_gate.weight`, dims: [d, o.nFf], data: matrix(rng, d, o.nFf, inScale) },
      {
        name: `${p}.ffn_down.weight`,
        dims: [o.nFf, d],
        data: matrix(rng, o.nFf, d, LAYER_OUTPUT_SCALE / Math.sqrt(o.nFf), true),
      },
      { name: `${p}.ffn_up.weight`, dims: [d, o.nFf], data: matrix(rng, d, o.nFf, inScale) },
    );
  }
  tensors.push(
    { name: 'output_norm.weight', dims: [d], data: ones(d) },
    { name: 'output.weight', dims: [d, VOCAB_SIZE], data: output },
  );

  const vocab = byteVocabulary();
  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const metadata: [string, GgufValue][] = [
    ['general.architecture', { type: 'string', value: 'llama' }],
    ['general.name', { type: 'string', value: o.name }],
    ['general.alignment', u32(32)],
    ['llama.context_length', u32(o.contextLength)],
    ['llama.embedding_length', u32(d)],
    ['llama.block_count', u32(o.layers)],
    ['llama.feed_forward_length', u32(o.nFf)],
    ['llama.attention.head_count', u32(o.heads)],
    ['llama.attention.head_count_kv', u32(o.heads)],
    ['llama.attention.layer_norm_rms_epsilon', { type: 'f32', value: 1e-5 }],
    ['llama.rope.dimension_count', u32(d / o.heads)],
    ['llama.rope.freq_base', { type: 'f32', value: 10000 }],
    ['tokenizer.ggml.model', { type: 'string', value: 'llama' }],
    ['tokenizer.ggml.tokens', { type: 'array', of: 'string', value: vocab.tokens }],
    ['tokenizer.ggml.scores', { type: 'array', of: 'f32', value: vocab.scores }],
    ['tokenizer.ggml.token_type', { type: 'array', of: 'i32', value: vocab.types }],
    ['tokenizer.ggml.bos_token_id', u32(BOS_ID)],
    ['tokenizer.ggml.eos_token_id', u32(EOS_ID)],
    ['tokenizer.ggml.unknown_token_id', u32(UNK_ID)],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
  ];
  if (vocab.tokens.length !== VOCAB_SIZE) throw new Error('internal: vocabulary size');
  return { metadata, tensors, alignment: 32 };
}

/** Serialises a synthetic llama model to GGUF v3 bytes (deterministic). */
export function buildLlamaModel(options: Partial<LlamaModelOptions> = {}): Uint8Array {
  return writeGguf(llamaModelFile(options));
}
