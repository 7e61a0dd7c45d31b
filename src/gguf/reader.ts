import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  type GgufScalarTypeName,
  type GgufValue,
  TYPE_NAME,
} from './format.ts';

/** A tensor descriptor as read from a GGUF header. */
export interface GgufTensorInfo {
  name: string;
  dims: number[];
  /** ggml type number (0 = F32). */
  type: number;
  /** Offset relative to the start of the tensor data. */
  offset: number;
}

/** The parsed header of a GGUF file (metadata and tensor descriptors, not the data). */
export interface GgufHeader {
  version: number;
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute byte offset where the tensor data starts. */
  dataOffset: number;
}

/** Raised for anything that is not a well-formed GGUF file. */
export class GgufFormatError extends Error {
  override name = 'GgufFormatError';
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes per element for the ggml types whose size is simple; others are reported as unknown. */
const ELEMENT_BYTES: Record<number, number> = { 0: 4, 1: 2 };

class ByteSource {
  private readonly view: DataView;
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private need(n: number): void {
    if (this.pos + n > this.bytes.length) {
      throw new GgufFormatError(
        `truncated: need ${n} bytes at offset ${this.pos}, file has ${this.bytes.length}`,
      );
    }
  }
  u8(): number {
    this.need(1);
    return this.view.getUint8(this.pos++);
  }
  i8(): number {
    this.need(1);
    return this.view.getInt8(this.pos++);
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  i16(): number {
    this.need(2);
    const v = this.view.getInt16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f32(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  i64(): bigint {
    this.need(8);
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }
  /** A u64 that must fit a safe JS integer (counts, lengths, offsets). */
  size(what: string): number {
    const v = this.u64();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufFormatError(`${what} too large: ${v}`);
    return Number(v);
  }
  string(): string {
    const n = this.size('string length');
    this.need(n);
    const s = utf8.decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
}

function readScalar(src: ByteSource, type: GgufScalarTypeName): number | bigint | boolean | string {
  switch (type) {
    case 'u8':
      return src.u8();
    case 'i8':
      return src.i8();
    case 'u16':
      return src.u16();
    case 'i16':
      return src.i16();
    case 'u32':
      return src.u32();
    case 'i32':
      return src.i32();
    case 'f32':
      return src.f32();
    case 'f64':
      return src.f64();
    case 'u64':
      return src.u64();
    case 'i64':
      return src.i64();
    case 'bool':
      return src.u8() !== 0;
    case 'string':
      return src.string();
  }
}

function typeName(code: number, key: string): GgufScalarTypeName | 'array' {
  const name = TYPE_NAME[code];
  if (name === undefined) throw new GgufFormatError(`metadata ${key}: unknown value type ${code}`);
  return name;
}

function readValue(src: ByteSource, key: string): GgufValue {
  const type = typeName(src.u32(), key);
  if (type !== 'array') return { type, value: readScalar(src, type) } as GgufValue;
  const of = typeName(src.u32(), key);
  if (of === 'array') throw new GgufFormatError(`metadata ${key}: nested arrays are not supported`);
  const n = src.size('array length');
  const value: unknown[] = [];
  for (let i = 0; i < n; i++) value.push(readScalar(src, of));
  return { type: 'array', of, value } as GgufValue;
}

/**
 * Parses the header of a GGUF file (v2 or v3) and checks its structure: every tensor's data is
 * aligned and lies inside the file. Throws {@link GgufFormatError} on anything malformed.
 */
export function readGgufHeader(bytes: Uint8Array): GgufHeader {
  const src = new ByteSource(bytes);
  const magic = String.fromCharCode(src.u8(), src.u8(), src.u8(), src.u8());
  if (magic !== GGUF_MAGIC) throw new GgufFormatError(`bad magic ${JSON.stringify(magic)}`);
  const version = src.u32();
  if (version !== 2 && version !== 3) throw new GgufFormatError(`unsupported GGUF version ${version}`);
  const tensorCount = src.size('tensor count');
  const kvCount = src.size('metadata count');

  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = src.string();
    if (metadata.has(key)) throw new GgufFormatError(`duplicate metadata key ${key}`);
    metadata.set(key, readValue(src, key));
  }

  const alignmentValue = metadata.get('general.alignment');
  const alignment =
    alignmentValue && alignmentValue.type === 'u32' ? alignmentValue.value : GGUF_DEFAULT_ALIGNMENT;
  if (alignment <= 0 || alignment % 8 !== 0) throw new GgufFormatError(`bad alignment ${alignment}`);

  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = src.string();
    const nDims = src.u32();
    if (nDims < 1 || nDims > 4) throw new GgufFormatError(`tensor ${name}: ${nDims} dimensions`);
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(src.size(`tensor ${name} dimension`));
    const type = src.u32();
    const offset = src.size(`tensor ${name} offset`);
    if (offset % alignment !== 0) throw new GgufFormatError(`tensor ${name}: offset ${offset} not aligned`);
    tensors.push({ name, dims, type, offset });
  }
  const dataOffset = Math.ceil(src.pos / alignment) * alignment;

  for (const t of tensors) {
    const perElement = ELEMENT_BYTES[t.type];
    if (perElement === undefined) continue;
    const end = dataOffset + t.offset + t.dims.reduce((a, b) => a * b, 1) * perElement;
    if (end > bytes.length) {
      throw new GgufFormatError(`tensor ${t.name}: data ends at ${end}, file has ${bytes.length} bytes`);
    }
  }
  return { version, metadata, tensors, alignment, dataOffset };
}

/** Reads one F32 tensor's values from a whole GGUF file. */
export function readF32Tensor(bytes: Uint8Array, header: GgufHeader, name: string): Float32Array {
  const info = header.tensors.find((t) => t.name === name);
  if (!info) throw new GgufFormatError(`no tensor ${name}`);
  if (info.type !== 0) throw new GgufFormatError(`tensor ${name} is not F32`);
  const n = info.dims.reduce((a, b) => a * b, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset + header.dataOffset + info.offset, n * 4);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** A metadata value as plain JS (number, bigint, boolean, string or an array of those). */
export function metadataValue(header: GgufHeader, key: string): unknown {
  return header.metadata.get(key)?.value;
}
