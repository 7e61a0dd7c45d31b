import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLlamaModel, type LlamaModelOptions } from './llama-model.ts';

/** A model file on disk, named by its id. */
export interface ModelFile {
  /** Absolute path of the file (`<models dir>/<id>`). */
  path: string;
  /** Stable model id: 43-character base64url SHA-256 of the bytes (shaped like an Arweave tx id). */
  id: string;
  /** File size in bytes. */
  bytes: number;
}

/** The id of a model: the unpadded base64url SHA-256 of its bytes (always 43 characters). */
export function modelId(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('base64url');
}

/** `true` for strings shaped like a model id / Arweave transaction id. */
export function isModelId(s: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(s);
}

/** The project root (two levels above this file). */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Directory where generated models are cached: `$HERD_CACHE_DIR/models` when HERD_CACHE_DIR is
 * set, else `<project root>/.cache/models` (git-ignored).
 */
export function modelsCacheDir(): string {
  const root = process.env.HERD_CACHE_DIR || join(PROJECT_ROOT, '.cache');
  return join(root, 'models');
}

/**
 * Writes `bytes` as `<dir>/<id>` unless a file of that name and size is already there. The write
 * goes through a temporary file and a rename, so concurrent writers never expose a partial file.
 */
export function storeModel(bytes: Uint8Array, dir: string = modelsCacheDir()): ModelFile {
  const id = modelId(bytes);
  const path = join(dir, id);
  if (!existsSync(path) || statSync(path).size !== bytes.length) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  }
  return { path, id, bytes: bytes.length };
}

/** Generates a synthetic model with `options` and stores it in the cache directory. */
export function ensureModel(
  options: Partial<LlamaModelOptions> = {},
  dir: string = modelsCacheDir(),
): ModelFile {
  return storeModel(buildLlamaModel(options), dir);
}

const tinyByDir = new Map<string, ModelFile>();

/**
 * The default tiny model (n_embd 64, 2 layers, 4 heads, n_ff 128, ~470 KB), generated into the
 * cache directory on first use. Its id is the same on every machine.
 */
export async function ensureTinyModel(): Promise<ModelFile> {
  const dir = modelsCacheDir();
  const cached = tinyByDir.get(dir);
  if (cached && existsSync(cached.path)) return cached;
  const file = ensureModel({}, dir);
  tinyByDir.set(dir, file);
  return file;
}
