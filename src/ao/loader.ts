/**
 * A guarded wrapper around `@permaweb/ao-loader`: one persistent instance per AO process.
 *
 * - **One instance, memory kept inside it.** The instance is created once with
 *   `UNSAFE_MEMORY: true` and every call passes `null` as the memory, so no heap is copied per
 *   message (passing the heap back costs 60–70 ms for aos and seconds for llama.wasm).
 * - **Process-wide side effects contained.** Instantiating replaces `Date.now` (a fake counter)
 *   and `Math.random`, and defines ~145 warning getters on `globalThis`; each call replaces
 *   `Math.random` and `console.log`, and a call that throws leaves them replaced. Every load and
 *   every call here runs under one process-wide lock that saves those globals before and puts
 *   them back after (also when the call throws), and removes the globals added by a load.
 *   During a call, `Date.now` and `performance.now` are deterministic counters seeded from the
 *   message's Timestamp, so a replay of the same messages computes exactly the same thing.
 * - **Direct memory access.** ao-loader does not expose the Emscripten `Module`; we pass a
 *   `postRun` callback in the loader options (Emscripten calls it with the `Module` once the
 *   runtime is up) and keep it, which gives `HEAPU8` and `resizeHeap`. That is how snapshots are
 *   taken and restored without a heap copy per call. (ao-loader's own way to start from a given
 *   memory is the first argument of `handle(buffer, msg, env)`: when non-null it grows the heap to
 *   `buffer.byteLength` and copies the whole buffer in before the call. It needs a full-size
 *   buffer and touches every page, so restores here write only the non-zero pages instead.)
 * - **Compiled once.** The loader is given an `instantiateWasm` hook that instantiates the
 *   cached `WebAssembly.Module`, so a fresh instance costs ~10–25 ms, not a compile.
 */
import AoLoader from '@permaweb/ao-loader';
import {
  compiledModule,
  type ModuleKey,
  moduleSpec,
  type WasmImports,
  type WasmInstance,
  type WasmModule,
  wasm,
} from './modules.ts';
import type { AoTag } from './tags.ts';

// ---------------------------------------------------------------------------------------------
// Message and result shapes (what the real CU passes to, and gets from, the module)

export type { AoTag } from './tags.ts';

/** A message as evaluated by a CU (`Timestamp`, `Block-Height`, `Nonce` are numbers there). */
export interface AoMessage {
  Id: string;
  Target: string;
  Owner: string;
  From: string;
  Tags: AoTag[];
  Data: string;
  Timestamp: number;
  'Block-Height': number;
  Cron: boolean;
  Module?: string;
  Anchor?: string;
  Nonce?: number;
  Epoch?: number;
  'Hash-Chain'?: string;
  Signature?: string;
  'Read-Only'?: boolean;
  'Forwarded-By'?: string;
}

export interface AoEnv {
  Process: { Id: string; Owner: string; Tags: AoTag[] };
  Module: { Id: string; Owner: string; Tags: AoTag[] };
}

/** One entry of a result's `Messages`. */
export interface AoOutMessage {
  Target: string;
  Tags: AoTag[];
  Data?: unknown;
  Anchor?: string;
}

/** What ao-loader's handle() resolves to (Memory dropped). */
export interface AoResult {
  Output?: unknown;
  Messages?: AoOutMessage[];
  Spawns?: unknown[];
  Assignments?: unknown[];
  Error?: unknown;
  GasUsed?: number;
}

export type CallOutcome =
  | { ok: true; result: AoResult; ms: number; memoryBytes: number }
  | { ok: false; error: Error; ms: number };

/**
 * The `WeaveDrive` option, passed through to ao-loader untouched (src/weavedrive/ provides one).
 * ao-loader calls it as `WeaveDrive(Module, FS)`; parameters are typed `never` so that any
 * two-argument factory is accepted.
 */
export type WeaveDriveOption = (module: never, fs: never) => unknown;

// ---------------------------------------------------------------------------------------------
// Process-wide guards

/** A monotonic clock that ao-loader cannot replace (captured before any load). */
const hrtimeBigint = process.hrtime.bigint.bind(process.hrtime);
export function monotonicMs(): number {
  return Number(hrtimeBigint()) / 1e6;
}

interface SavedProp {
  readonly target: object;
  readonly key: string;
  readonly own: PropertyDescriptor | undefined;
}

function saveProp(target: object, key: string): SavedProp {
  return { target, key, own: Object.getOwnPropertyDescriptor(target, key) };
}

function restoreProp(saved: SavedProp): void {
  const current = Object.getOwnPropertyDescriptor(saved.target, saved.key);
  if (saved.own) {
    if (
      !current ||
      current.value !== saved.own.value ||
      current.get !== saved.own.get ||
      current.set !== saved.own.set
    ) {
      Object.defineProperty(saved.target, saved.key, saved.own);
    }
  } else if (current) {
    delete (saved.target as Record<string, unknown>)[saved.key];
  }
}

function saveGlobals(): SavedProp[] {
  return [
    saveProp(Date, 'now'),
    saveProp(Math, 'random'),
    saveProp(console, 'log'),
    saveProp(performance, 'now'),
    saveProp(process, 'hrtime'),
  ];
}

let lockTail: Promise<void> = Promise.resolve();

/**
 * Runs `fn` alone: at most one ao-loader load or call is in flight in this Node process, so
 * the saved globals are always the outside world's, never another call's replacements.
 */
function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const run = lockTail.then(fn);
  lockTail = run.then(
    () => undefined,
    () => undefined,
  );
  return run;
}

/** Runs an ao-loader load under the lock with every global it may touch saved and restored. */
async function guardedLoad<T>(fn: () => Promise<T>): Promise<T> {
  return exclusive(async () => {
    const saved = saveGlobals();
    try {
      return await fn();
    } finally {
      for (const prop of saved) restoreProp(prop);
    }
  });
}

/**
 * Runs one handle() call under the lock. `Math.random` and `console.log` (replaced by ao-loader
 * during the call, left replaced if it throws) are put back; `Date.now` and `performance.now`
 * are deterministic counters during the call (Emscripten's clock functions read them), so the
 * call's result depends on the message only. Plain reads / writes: this runs on every message.
 */
async function guardedCall<T>(fn: () => Promise<T>, clockStartMs: number): Promise<T> {
  return exclusive(async () => {
    const dateNow = Date.now;
    const mathRandom = Math.random;
    const consoleLog = console.log;
    const perf = performance as unknown as { now: () => number };
    const ownPerfNow = Object.hasOwn(perf, 'now');
    const perfNow = perf.now;
    let now = Math.floor(clockStartMs);
    let tick = 0;
    Date.now = () => now++;
    perf.now = () => ++tick;
    try {
      return await fn();
    } finally {
      Date.now = dateNow;
      if (Math.random !== mathRandom) Math.random = mathRandom;
      if (console.log !== consoleLog) console.log = consoleLog;
      if (ownPerfNow) perf.now = perfNow;
      else delete (perf as { now?: () => number }).now;
    }
  });
}

/**
 * One watchdog for hung calls (calls never overlap). Its interval is referenced only while a call
 * with a timeout is in flight, so a call whose promise never settles (e.g. a WeaveDrive callback
 * that throws inside ao-loader) fails after the timeout instead of letting Node exit.
 */
const watchdog: { timer?: NodeJS.Timeout; deadline: number; fail?: (error: Error) => void } = {
  deadline: 0,
};

function armWatchdog(timeoutMs: number, fail: (error: Error) => void): void {
  watchdog.deadline = monotonicMs() + timeoutMs;
  watchdog.fail = fail;
  if (!watchdog.timer) {
    watchdog.timer = setInterval(() => {
      const failCall = watchdog.fail;
      if (failCall && monotonicMs() > watchdog.deadline) {
        watchdog.fail = undefined;
        failCall(new Error('handle() did not settle within the call timeout'));
      }
    }, 250);
  }
  watchdog.timer.ref();
}

function disarmWatchdog(): void {
  watchdog.fail = undefined;
  watchdog.timer?.unref();
}

// ---------------------------------------------------------------------------------------------
// Memory snapshots

/** Snapshot granularity: one WebAssembly page. */
const SNAPSHOT_PAGE = 65536;
const ZERO_PAGE = new Uint8Array(SNAPSHOT_PAGE);

/**
 * A copy of the live part of an instance's linear memory, at 64 KiB page granularity.
 *
 * Emscripten lays the memory out as [static data][stack, growing down][heap up to `sbrk(0)`]
 * [never used]. Between calls the stack pointer is back at the stack base, so the stack region
 * holds only dead frames, and nothing lives above the break. A snapshot therefore covers the
 * static data, the heap up to the break and the part of the stack region that was ever written
 * (found by scanning down from the base until 16 zero pages in a row: the 64 MiB / 1000 MiB
 * stack regions of aos / llama.wasm are almost never touched and need not be read). Inside the
 * covered ranges only non-zero pages are stored. An aos process typically stores 2–20 MiB of its
 * 105 MiB; llama.wasm ~3 MiB of 1200 MiB before a model is loaded.
 */
export interface MemorySnapshot {
  readonly module: ModuleKey;
  /** Size of the memory the snapshot was taken from. */
  readonly byteLength: number;
  /** Covered byte ranges [start, end), page-aligned, ascending, disjoint. */
  readonly ranges: readonly (readonly [number, number])[];
  /** Byte offsets of the stored pages, ascending. Every other covered page was all zeros. */
  readonly offsets: readonly number[];
  /** The stored pages, concatenated in `offsets` order. */
  readonly data: Uint8Array;
}

/** Zero pages in a row that end the scan of the stack region. */
const STACK_SCAN_GAP = 16;

function pageFloor(byte: number): number {
  return Math.floor(byte / SNAPSHOT_PAGE) * SNAPSHOT_PAGE;
}

function pageCeil(byte: number): number {
  return Math.ceil(byte / SNAPSHOT_PAGE) * SNAPSHOT_PAGE;
}

function mergeRanges(ranges: (readonly [number, number])[]): [number, number][] {
  const sorted = ranges.filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1]) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

function isZeroPage(memory: Buffer, offset: number): boolean {
  return memory.subarray(offset, offset + SNAPSHOT_PAGE).equals(ZERO_PAGE);
}

function bufferOf(u8: Uint8Array): Buffer {
  return Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}

// ---------------------------------------------------------------------------------------------
// The instance

/** The parts of the Emscripten `Module` object used here. */
interface EmscriptenModule {
  HEAPU8: Uint8Array;
  resizeHeap(requestedSize: number): boolean;
}

/** Raw exports (before Emscripten's wrappers) used to find the live memory ranges. */
interface LayoutExports {
  sbrk(increment: number | bigint): number | bigint;
  emscripten_stack_get_base(): number | bigint;
  emscripten_stack_get_end(): number | bigint;
}

function layoutExports(exports: Record<string, unknown>): LayoutExports | undefined {
  const e = exports as Record<string, unknown>;
  if (
    typeof e.sbrk === 'function' &&
    typeof e.emscripten_stack_get_base === 'function' &&
    typeof e.emscripten_stack_get_end === 'function'
  ) {
    return e as unknown as LayoutExports;
  }
  return undefined;
}

type HandleFn = (buffer: ArrayBuffer | null, msg: AoMessage, env: AoEnv) => Promise<AoResult>;

export interface InstanceOptions {
  weaveDrive?: WeaveDriveOption;
  /** Also write the module's stdout/stderr to the console (default: only kept in `stderr`). */
  echoOutput?: boolean;
  /** Start from this memory instead of the module's initial one. */
  memory?: MemorySnapshot;
  /** A call that has not settled after this long fails and breaks the instance (0: never). */
  callTimeoutMs?: number;
}

/** Raised by a call made on an instance that threw or timed out before. */
export class BrokenInstanceError extends Error {
  override name = 'BrokenInstanceError';
}

export class AoInstance {
  /** Set once a call threw or timed out: the instance must not be used again. */
  broken = false;
  /** Number of calls made on this instance. */
  calls = 0;
  /** The last lines the module wrote to stdout / stderr (Emscripten `print` / `printErr`). */
  readonly stderr: string[];

  private constructor(
    readonly module: ModuleKey,
    private readonly handleFn: HandleFn,
    private readonly em: EmscriptenModule,
    private readonly layout: LayoutExports | undefined,
    readonly options: InstanceOptions,
    /** Milliseconds the instantiation took. */
    readonly loadMs: number,
    stderr: string[],
  ) {
    this.stderr = stderr;
  }

  /** Instantiates the module (from the cached compiled module) under the global guards. */
  static async create(module: ModuleKey, options: InstanceOptions = {}): Promise<AoInstance> {
    const spec = moduleSpec(module);
    const compiled = await compiledModule(module);
    const t0 = monotonicMs();
    const stderr: string[] = [];
    const capture = (line: unknown): void => {
      stderr.push(String(line));
      if (stderr.length > 50) stderr.shift();
      if (options.echoOutput) process.stderr.write(`[${module}] ${String(line)}\n`);
    };
    const { handleFn, em, layout } = await guardedLoad(async () => {
      const globalsBefore = new Set(Object.getOwnPropertyNames(globalThis));
      let captured: EmscriptenModule | undefined;
      let layout: LayoutExports | undefined;
      let failInstantiate: (error: unknown) => void = () => undefined;
      const instantiateFailed = new Promise<never>((_, reject) => {
        failInstantiate = reject;
      });
      const instantiateWasm = (
        imports: WasmImports,
        receive: (instance: WasmInstance, module: WasmModule) => unknown,
      ): object => {
        wasm.instantiate(compiled, imports).then(
          (instance) => {
            layout = layoutExports(instance.exports);
            receive(instance, compiled);
          },
          (error: unknown) => failInstantiate(error),
        );
        return {};
      };
      const loaderOptions: Record<string, unknown> = {
        format: spec.format,
        memoryLimit: spec.memoryLimit,
        computeLimit: spec.computeLimit,
        extensions: [],
        UNSAFE_MEMORY: true,
        print: capture,
        printErr: capture,
        postRun: [
          (m: EmscriptenModule) => {
            captured = m;
          },
        ],
      };
      if (options.weaveDrive) loaderOptions.WeaveDrive = options.weaveDrive;
      try {
        const handle = (await Promise.race([
          AoLoader(instantiateWasm, loaderOptions),
          instantiateFailed,
        ])) as HandleFn;
        if (!captured) throw new Error(`ao-loader did not run postRun for ${spec.file}`);
        return { handleFn: handle, em: captured, layout };
      } finally {
        // Emscripten's debug build defines warning getters for missing symbols on globalThis.
        for (const name of Object.getOwnPropertyNames(globalThis)) {
          if (globalsBefore.has(name)) continue;
          const descriptor = Object.getOwnPropertyDescriptor(globalThis, name);
          if (descriptor?.configurable) delete (globalThis as Record<string, unknown>)[name];
        }
      }
    });
    const instance = new AoInstance(module, handleFn, em, layout, options, monotonicMs() - t0, stderr);
    if (options.memory) instance.restore(options.memory);
    return instance;
  }

  /** A fresh instance of the same module and options, starting from `memory`. */
  fork(memory?: MemorySnapshot): Promise<AoInstance> {
    const options: InstanceOptions = { ...this.options };
    if (memory) options.memory = memory;
    else delete options.memory;
    return AoInstance.create(this.module, options);
  }

  /** Current size of the linear memory in bytes. */
  get memoryBytes(): number {
    return this.em.HEAPU8.byteLength;
  }

  /**
   * Evaluates one message. Never rejects for module failures: a thrown `handle()` (trap, abort,
   * rejected WeaveDrive load) or a timeout comes back as `{ ok: false }` and breaks the instance.
   */
  async call(msg: AoMessage, env: AoEnv): Promise<CallOutcome> {
    if (this.broken) throw new BrokenInstanceError(`the ${this.module} instance failed before`);
    this.calls += 1;
    const timeoutMs = this.options.callTimeoutMs ?? 0;
    return guardedCall(async () => {
      const t0 = monotonicMs();
      try {
        const pending = this.handleFn(null, msg, env);
        const res =
          timeoutMs > 0
            ? await new Promise<AoResult>((resolve, reject) => {
                armWatchdog(timeoutMs, reject);
                pending.then(resolve, reject);
              })
            : await pending;
        const result: AoResult = {
          Output: res.Output,
          Messages: res.Messages,
          Spawns: res.Spawns,
          Assignments: res.Assignments,
          Error: res.Error,
          GasUsed: res.GasUsed,
        };
        return { ok: true, result, ms: monotonicMs() - t0, memoryBytes: this.memoryBytes } as const;
      } catch (thrown: unknown) {
        this.broken = true;
        const error = thrown instanceof Error ? thrown : new Error(describeThrown(thrown));
        const lastOutput = this.stderr.slice(-5).join('\n');
        if (lastOutput && !error.message.includes(lastOutput)) {
          error.message = `${error.message}\n(module output: ${lastOutput})`;
        }
        return { ok: false, error, ms: monotonicMs() - t0 } as const;
      } finally {
        if (timeoutMs > 0) disarmWatchdog();
      }
    }, msg.Timestamp);
  }

  /**
   * The byte ranges that can hold live data now (see {@link MemorySnapshot}); the whole memory
   * if the module does not export its layout.
   */
  liveRanges(): [number, number][] {
    const heap = this.em.HEAPU8;
    const size = heap.byteLength;
    if (!this.layout) return [[0, size]];
    // Stack region [end, base): grows down from base. The pages holding `end` and `base` also
    // hold static data resp. the heap start, so they are covered by those ranges.
    const stackEnd = Number(this.layout.emscripten_stack_get_end());
    const stackBase = Number(this.layout.emscripten_stack_get_base());
    const staticEnd = Math.min(size, pageCeil(stackEnd));
    const heapStart = Math.min(size, pageFloor(stackBase));
    const zero = moduleSpec(this.module).memory64 ? 0n : 0;
    const brk = Math.min(size, pageCeil(Number(this.layout.sbrk(zero))));
    // The written part of the stack region: down from the base to before a run of zero pages.
    const memory = bufferOf(heap);
    let low = heapStart;
    let zeros = 0;
    for (let offset = heapStart - SNAPSHOT_PAGE; offset >= staticEnd; offset -= SNAPSHOT_PAGE) {
      if (isZeroPage(memory, offset)) {
        zeros += 1;
        if (zeros >= STACK_SCAN_GAP) break;
      } else {
        zeros = 0;
        low = offset;
      }
    }
    return mergeRanges([
      [0, staticEnd],
      [low, heapStart],
      [heapStart, Math.max(heapStart + SNAPSHOT_PAGE, brk)],
    ]);
  }

  /** Copies the non-zero live pages: 2–5 ms (aos), 2–10 ms (llama.wasm); a first one up to ~40 ms. */
  snapshot(): MemorySnapshot {
    const heap = this.em.HEAPU8;
    const memory = bufferOf(heap);
    const ranges = this.liveRanges();
    const offsets: number[] = [];
    for (const [start, end] of ranges) {
      for (let offset = start; offset < end; offset += SNAPSHOT_PAGE) {
        if (!isZeroPage(memory, offset)) offsets.push(offset);
      }
    }
    const data = new Uint8Array(offsets.length * SNAPSHOT_PAGE);
    offsets.forEach((offset, i) => {
      data.set(heap.subarray(offset, offset + SNAPSHOT_PAGE), i * SNAPSHOT_PAGE);
    });
    return { module: this.module, byteLength: heap.byteLength, ranges, offsets, data };
  }

  /**
   * Makes the memory equal to the snapshot on every page the snapshot covers or that is live
   * now (growing the memory if needed): stored pages are written, the others zeroed if not zero
   * already. Only valid between calls.
   */
  restore(snapshot: MemorySnapshot): void {
    if (snapshot.module !== this.module) {
      throw new Error(`cannot restore a ${snapshot.module} snapshot into a ${this.module} instance`);
    }
    if (this.em.HEAPU8.byteLength < snapshot.byteLength) {
      const grown = this.em.resizeHeap(snapshot.byteLength);
      if (!grown || this.em.HEAPU8.byteLength < snapshot.byteLength) {
        throw new Error(`cannot grow the ${this.module} heap to ${snapshot.byteLength} bytes`);
      }
    }
    const heap = this.em.HEAPU8;
    const memory = bufferOf(heap);
    const { offsets, data } = snapshot;
    const touch = mergeRanges([...snapshot.ranges, ...this.liveRanges()]);
    let next = 0;
    for (const [start, end] of touch) {
      for (let offset = start; offset < end; offset += SNAPSHOT_PAGE) {
        while (next < offsets.length && offsets[next]! < offset) next += 1;
        if (next < offsets.length && offsets[next] === offset) {
          heap.set(data.subarray(next * SNAPSHOT_PAGE, (next + 1) * SNAPSHOT_PAGE), offset);
        } else if (!isZeroPage(memory, offset)) {
          heap.fill(0, offset, offset + SNAPSHOT_PAGE);
        }
      }
    }
  }
}

function describeThrown(thrown: unknown): string {
  if (typeof thrown === 'string') return thrown;
  try {
    return JSON.stringify(thrown);
  } catch {
    return String(thrown);
  }
}
