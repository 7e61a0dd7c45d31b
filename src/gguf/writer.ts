import {
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VERSION,
  GgmlType,
  type GgufFile,
  type GgufScalarTypeName,
  type GgufValue,
  TYPE_CODE,
} from './format.ts';

const utf8 = new TextEncoder();
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A growable little-endian byte buffer. */
class ByteSink {
  private buf = new Uint8Array(4096);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.reserve(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }
  i8(v: number): void {
    this.reserve(1);
    this.view.setInt8(this.length, v);
    this.length += 1;
  }
  u16(v: number): void {
    this.reserve(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }
  i16(v: number): void {
    this.reserve(2);
    this.view.setInt16(this.length, v, true);
    this.length += 2;
  }
  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }
  i32(v: number): void {
    this.reserve(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }
  f32(v: number): void {
    this.reserve(4);
    this.view.setFloat32(this.length, v, true);
    this.length += 4;
  }
  f64(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, v, true);
    this.length += 8;
  }
  u64(v: bigint | number): void {
    this.reserve(8);
    this.view.setBigUint64(this.length, BigInt(v), true);
    this.length += 8;
  }
  i64(v: bigint): void {
    this.reserve(8);
    this.view.setBigInt64(this.length, v, true);
    this.length += 8;
  }
  /** F32 values, little-endian (a plain copy on little-endian hosts). */
  f32s(values: Float32Array): void {
    if (HOST_LITTLE_ENDIAN) {
      this.bytes(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
      return;
    }
    for (let j = 0; j < values.length; j++) this.f32(values[j]!);
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  /** A GGUF string: u64 byte length, then the UTF-8 bytes (no terminator). */
  string(s: string): void {
    const b = utf8.encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  padTo(alignment: number): void {
    const rem = this.length % alignment;
    if (rem !== 0) this.bytes(new Uint8Array(alignment - rem));
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function writeScalar(
  out: ByteSink,
  type: GgufScalarTypeName,
  value: number | bigint | boolean | string,
): void {
  switch (type) {
    case 'u8':
      out.u8(value as number);
      return;
    case 'i8':
      out.i8(value as number);
      return;
    case 'u16':
      out.u16(value as number);
      return;
    case 'i16':
      out.i16(value as number);
      return;
    case 'u32':
      out.u32(value as number);
      return;
    case 'i32':
      out.i32(value as number);
      return;
    case 'f32':
      out.f32(value as number);
      return;
    case 'f64':
      out.f64(value as number);
      return;
    case 'u64':
      out.u64(value as bigint);
      return;
    case 'i64':
      out.i64(value as bigint);
      return;
    case 'bool':
      out.u8(value ? 1 : 0);
      return;
    case 'string':
      out.string(value as string);
      return;
  }
}

function writeValue(out: ByteSink, value: GgufValue): void {
  out.u32(TYPE_CODE[value.type]);
  if (value.type !== 'array') {
    writeScalar(out, value.type, value.value);
    return;
  }
  out.u32(TYPE_CODE[value.of]);
  out.u64(value.value.length);
  for (const element of value.value) writeScalar(out, value.of, element);
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

/**
 * Serialises a GGUF v3 file. The output depends only on the input (no clock, no randomness), so
 * equal inputs give byte-identical files.
 */
export function writeGguf(file: GgufFile): Uint8Array {
  const alignment = file.alignment ?? GGUF_DEFAULT_ALIGNMENT;
  if (!Number.isInteger(alignment) || alignment <= 0 || alignment % 8 !== 0) {
    throw new Error(`GGUF alignment must be a positive multiple of 8, got ${alignment}`);
  }
  const names = new Set<string>();
  for (const t of file.tensors) {
    if (names.has(t.name)) throw new Error(`duplicate tensor name ${t.name}`);
    names.add(t.name);
    const elements = t.dims.reduce((a, b) => a * b, 1);
    if (t.dims.length < 1 || t.dims.length > 4) throw new Error(`tensor ${t.name}: 1 to 4 dimensions`);
    if (elements !== t.data.length) {
      throw new Error(
        `tensor ${t.name}: dims [${t.dims}] hold ${elements} values, data has ${t.data.length}`,
      );
    }
  }

  const out = new ByteSink();
  out.bytes(utf8.encode(GGUF_MAGIC));
  out.u32(GGUF_VERSION);
  out.u64(file.tensors.length);
  out.u64(file.metadata.length);
  for (const [key, value] of file.metadata) {
    out.string(key);
    writeValue(out, value);
  }

  let offset = 0;
  const offsets: number[] = [];
  for (const t of file.tensors) {
    offsets.push(offset);
    out.string(t.name);
    out.u32(t.dims.length);
    for (const d of t.dims) out.u64(d);
    out.u32(GgmlType.F32);
    out.u64(offset);
    offset = alignUp(offset + t.data.byteLength, alignment);
  }
  out.padTo(alignment);

  const dataStart = out.length;
  file.tensors.forEach((t, i) => {
    out.padTo(alignment);
    if (out.length - dataStart !== offsets[i]) throw new Error('internal: tensor offset mismatch');
    out.f32s(t.data);
  });
  return out.result();
}
