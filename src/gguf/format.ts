/**
 * GGUF v3 container format: constants and the in-memory description of a file.
 *
 * A GGUF file is: magic `GGUF`, version (u32), tensor count (u64), metadata count (u64),
 * the metadata key/value pairs, the tensor descriptors (name, dims, type, offset), padding to
 * the alignment, then the tensor data (each tensor's offset is relative to the data start and a
 * multiple of the alignment). All integers are little-endian.
 */

/** The four bytes every GGUF file starts with. */
export const GGUF_MAGIC = 'GGUF';
/** The container version this writer produces. */
export const GGUF_VERSION = 3;
/** Default alignment of the tensor data (also written as `general.alignment`). */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Metadata value types, as numbered in the GGUF specification. */
export const GgufType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufType = (typeof GgufType)[keyof typeof GgufType];

/** Tensor element types used here (ggml numbering). Only F32 is written. */
export const GgmlType = {
  F32: 0,
  F16: 1,
} as const;
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];

/** A scalar metadata value with its explicit GGUF type. */
export type GgufScalar =
  | { type: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64'; value: number }
  | { type: 'u64' | 'i64'; value: bigint }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string };

/** An array metadata value: all elements share one scalar type. */
export type GgufArray =
  | { type: 'array'; of: 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64'; value: number[] }
  | { type: 'array'; of: 'u64' | 'i64'; value: bigint[] }
  | { type: 'array'; of: 'bool'; value: boolean[] }
  | { type: 'array'; of: 'string'; value: string[] };

export type GgufValue = GgufScalar | GgufArray;
export type GgufScalarTypeName = GgufScalar['type'];

/** Maps the writer's type names to GGUF type numbers. */
export const TYPE_CODE: Record<GgufScalarTypeName | 'array', GgufType> = {
  u8: GgufType.UINT8,
  i8: GgufType.INT8,
  u16: GgufType.UINT16,
  i16: GgufType.INT16,
  u32: GgufType.UINT32,
  i32: GgufType.INT32,
  f32: GgufType.FLOAT32,
  bool: GgufType.BOOL,
  string: GgufType.STRING,
  array: GgufType.ARRAY,
  u64: GgufType.UINT64,
  i64: GgufType.INT64,
  f64: GgufType.FLOAT64,
};

/** The inverse of {@link TYPE_CODE}. */
export const TYPE_NAME: Record<number, GgufScalarTypeName | 'array'> = Object.fromEntries(
  Object.entries(TYPE_CODE).map(([name, code]) => [code, name]),
) as Record<number, GgufScalarTypeName | 'array'>;

/** One F32 tensor to write. `dims` is in ggml order: `dims[0]` is the contiguous (row) length. */
export interface GgufTensor {
  name: string;
  dims: number[];
  data: Float32Array;
}

/** Everything a GGUF file holds, in writing order. */
export interface GgufFile {
  metadata: [key: string, value: GgufValue][];
  tensors: GgufTensor[];
  /** Tensor data alignment in bytes; defaults to 32. */
  alignment?: number;
}
