import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { GGUF_MAGIC } from './format.ts';
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

/**
 * The user's cache directory for llama-herder, never inside the package (which may be
 * read-only once installed): `$HERD_CACHE_DIR` when set, else `$XDG_CACHE_HOME/llama-herder`,
 * else `~/.cache/llama-herder`.
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env, home: () => string = homedir): string {
  if (env.HERD_CACHE_DIR) return resolve(env.HERD_CACHE_DIR);
  if (env.XDG_CACHE_HOME) return join(resolve(env.XDG_CACHE_HOME), 'llama-herder');
  return join(home(), '.cache', 'llama-herder');
}

/** Directory where models are cached: `<cache dir>/models` (see {@link cacheDir}). */
export function modelsCacheDir(): string {
  return join(cacheDir(), 'models');
}

/** Why `path` is not a GGUF file (its magic and version), or undefined when it looks like one. */
export function ggufProblem(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    return `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  }
  try {
    if (!statSync(path).isFile()) return `${path} is not a file`;
    const head = Buffer.alloc(8);
    const read = readSync(fd, head, 0, 8, 0);
    if (read < 8 || head.toString('latin1', 0, 4) !== GGUF_MAGIC)
      return `${path} is not a GGUF model (it does not start with "${GGUF_MAGIC}")`;
    const version = head.readUInt32LE(4);
    if (version !== 2 && version !== 3)
      return `${path} is GGUF version ${version}; llama.cpp here reads 2 and 3`;
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Makes a GGUF file of one's own servable as `/data/<id>`: its id is the SHA-256 of its bytes
 * (as for generated models), and `<models dir>/<id>` becomes a symbolic link to it (nothing is
 * copied). Check it first with {@link ggufProblem}.
 */
export function linkModel(path: string, dir: string = modelsCacheDir()): ModelFile {
  const source = realpathSync(path);
  const hash = createHash('sha256');
  const fd = openSync(source, 'r');
  const chunk = Buffer.alloc(1 << 20);
  let bytes = 0;
  try {
    for (let n = readSync(fd, chunk); n > 0; n = readSync(fd, chunk)) {
      hash.update(chunk.subarray(0, n));
      bytes += n;
    }
  } finally {
    closeSync(fd);
  }
  const id = hash.digest('base64url');
  const target = join(dir, id);
  mkdirSync(dir, { recursive: true });
  if (!existsSync(target) || statSync(target).size !== bytes) {
    if (lstatSync(target, { throwIfNoEntry: false })) unlinkSync(target);
    symlinkSync(source, target);
  }
  return { path: target, id, bytes };
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
