/**
 * A local AO network over ao-loader: spawns processes from the known modules and relays their
 * messages the way the real MU / SU / CU do, deterministically.
 *
 * What a process sees (aos 2.x rules, measured on these modules):
 * - its first message is the spawn (`Id = Target = <pid>`, `Owner = From = <owner>`, `Module`,
 *   `Tags` with `Type=Process`, `Authority=<MU>`, `Name`, …); `env.Process = { Id, Owner, Tags }`
 *   carries the same tags, so aos trusts the MU as an authority;
 * - a message from a process is relayed as the MU does: `Owner = <MU id>`, `From = <sender pid>`,
 *   plus `From-Process`, `From-Module` and `Pushed-For` tags;
 * - a message from an external wallet has `From = Owner = <wallet>`. aos drops a message only if
 *   `msg.From ~= msg.Owner` and neither is an authority, so signed wallet messages are trusted;
 *   only `Eval` (and the `On-Boot` boot handler) additionally require `From == process Owner`;
 * - `Timestamp` (ms) and `Block-Height` come from a virtual clock ({@link LocalNetwork.advanceTime});
 *   `Nonce` is the process's slot number (spawn = 0); cron ticks come from the owner with
 *   `Cron = true` and no Nonce, as a CU generates them.
 *
 * Ids are 43-char base64url strings derived from the seed: wallets, the MU and the SU are SHA-256
 * digests of the seed and a label; process and message ids mix a seed-derived key with a counter.
 * The same seed and the same calls give the same ids, results and log.
 *
 * Delivery order is FIFO unless a {@link Picker} chooses (a fixed list of choices, or a fast-check
 * scheduler), so interleavings can be explored.
 *
 * ## CU error semantics
 *
 * When evaluation fails, a real CU keeps the memory from before the message and publishes none of
 * its messages. How the modules report a handler that raises (measured with ao-loader 0.0.49):
 * - aos32 and aos64 (aos 2.0.4): `result.Error` holds the printed text plus the Lua error;
 *   `Output`, `Messages` are absent. Memory changes made before the raise are still in the
 *   instance (a persistent ao-loader instance never rolls back);
 * - llama.wasm (aos 2.0.0.rc1): no `Error`. The error is printed into `Output.data`
 *   (`Error handling message with Action = …` then the Lua error) and the messages sent before
 *   the raise are still in `Messages`. A raising `Eval` does set `Error` in all three;
 * - a trap / abort / rejected WeaveDrive load makes `handle()` reject; that instance is unusable.
 *
 * By default (`rollbackOn: 'raise'`) any of these rolls the process back: no memory change, no
 * outgoing message. `rollbackOn: 'error-field'` rolls back only when `Error` is set or `handle()`
 * rejects, which is what a real CU does with llama.wasm's printed errors.
 *
 * How the rollback is done — measured on this machine (2 shared cores, Node 20, ao-loader 0.0.49):
 * - one simple message costs ~0.6 ms (minimal message) to ~1.5 ms (CU-shaped message and env)
 *   in a persistent instance, for all three modules;
 * - copying the whole memory costs ~10 ms into a preallocated buffer and ~60 ms into a new one for
 *   aos (105 MiB), ~100 ms / ~1070 ms for llama.wasm (1200 MiB). A snapshot of the live pages
 *   only (loader.ts: static data, used stack, heap up to the break; zero pages skipped) costs
 *   2–5 ms for aos (≈2 MiB stored) and 2–10 ms for llama.wasm without a model (≈2.6 MiB);
 *   writing it back in place ~3–8 ms, into a fresh instance 25–70 ms (mostly instantiation).
 * (a) A snapshot before every message would therefore still cost 2–5× the message itself; there
 * is no cheaper way to know which pages a call wrote (WebAssembly memory has no write barrier
 * visible from JS). We use (b), **checkpoint + deterministic replay**: each process keeps a
 * checkpoint (taken right after spawn and boot) and a journal of every call made since. A failed
 * message restores the checkpoint — in place, or into a fresh instance if `handle()` rejected
 * (the instance is then unusable) — and replays the journal, comparing every replayed result with
 * the recorded one (a divergence throws {@link ReplayDivergenceError}); then it checkpoints again.
 * A new checkpoint is taken when the time spent in calls since the last one exceeds
 * `checkpointFactor` (50) × the measured cost of the last checkpoint, so checkpoints cost at most
 * 1/50 = 2 % of compute and a rollback replays at most ~50 checkpoint-costs of messages (measured
 * 30–120 ms for a failure after 1,500 messages). Measured end to end (src/ao/bench.ts, medians of
 * 400): a network step costs 1.05–1.10× the bare ao-loader call on the same message.
 * Replay is exact because calls are deterministic: ao-loader fixes `Math.random` during a call,
 * and loader.ts fixes `Date.now` / `performance.now` to counters seeded by the message Timestamp.
 */
import { createHash } from 'node:crypto';
import {
  type AoEnv,
  AoInstance,
  type AoMessage,
  type AoResult,
  type AoTag,
  type MemorySnapshot,
  monotonicMs,
  type WeaveDriveOption,
} from './loader.ts';
import { base64url43, type ModuleKey, type ModuleSpec, moduleId, moduleSpec } from './modules.ts';

// ---------------------------------------------------------------------------------------------
// Public types

export type TagsInput = readonly AoTag[] | Readonly<Record<string, string>>;

export interface NetworkOptions {
  /** Seed of every id; same seed + same calls = same ids and log. Default 'llama-herder'. */
  seed?: string | number;
  /** Virtual clock start (ms since epoch). Default 2025-01-01T00:00:00Z. */
  startTime?: number;
  /** Block height at `startTime`. Default 1,580,000. */
  startBlockHeight?: number;
  /** Virtual block time. Default 120,000 ms. */
  blockTimeMs?: number;
  /** Virtual ms the clock advances before each evaluation. Default 0. */
  msPerMessage?: number;
  /** Default delivery order (FIFO if absent). */
  pick?: Picker;
  /** What rolls a message back; see the module comment. Default 'raise'. */
  rollbackOn?: 'raise' | 'error-field';
  /** Checkpoint when call time since the last checkpoint > factor × checkpoint cost. Default 50. */
  checkpointFactor?: number;
  /** Compare replayed results with the recorded ones. Default true. */
  verifyReplay?: boolean;
  /** A call that does not settle within this many ms fails (0: never). Default 300,000. */
  callTimeoutMs?: number;
  /** Observes every message handed to a module (not replays), e.g. to re-run them elsewhere. */
  onCall?: (pid: string, msg: AoMessage, env: AoEnv) => void;
}

export interface SpawnOptions {
  module: ModuleKey;
  /** Owner wallet address (see {@link LocalNetwork.wallet}). */
  owner: string;
  /** Becomes the `Name` tag (aos's `Name` global). */
  name?: string;
  /** Lua evaluated after the spawn, as an `Eval` from the owner (or the spawn's On-Boot data). */
  boot?: string;
  /** How `boot` runs: an owner Eval after spawn (default) or `On-Boot=Data` in the spawn. */
  bootMode?: 'eval' | 'on-boot';
  /** Extra spawn tags (e.g. `Cron-Interval`, `Cron-Tag-Action`). */
  tags?: TagsInput;
  /** Spawn message Data (when boot is not On-Boot). */
  data?: string;
  /** Passed to ao-loader as its `WeaveDrive` option. */
  weaveDrive?: WeaveDriveOption;
  /**
   * The process id (43 base64url characters, not already a process of this network), e.g. one
   * that code written elsewhere hard-codes; fresh by default.
   */
  id?: string;
}

export interface SendInput {
  /** A process of this network (relayed: Owner = MU) or an external wallet (From = Owner). */
  from: string;
  target: string;
  tags?: TagsInput;
  data?: string;
  /** Override the signer (`Owner`), e.g. to test spoofing. */
  owner?: string;
  /** Reuse a message id, e.g. to model a duplicate delivery; fresh by default. */
  id?: string;
}

/** A message waiting for delivery. */
export interface PendingMessage {
  readonly id: string;
  readonly kind: 'message' | 'cron';
  readonly from: string;
  readonly owner: string;
  readonly target: string;
  readonly tags: readonly AoTag[];
  readonly data: string;
  readonly anchor?: string;
  /** Id of the message whose evaluation sent this one. */
  readonly cause?: string;
  /** Cron ticks: the boundary time they belong to. */
  readonly at?: number;
}

export type LogKind = 'spawn' | 'message' | 'eval' | 'cron' | 'external';

/** One line of the timeline: an evaluation, or a message leaving the network (`external`). */
export interface LogEntry {
  readonly seq: number;
  readonly kind: LogKind;
  readonly id: string;
  readonly from: string;
  readonly owner: string;
  readonly to: string;
  readonly tags: readonly AoTag[];
  readonly data: string;
  readonly timestamp: number;
  readonly blockHeight: number;
  readonly nonce?: number;
  readonly cause?: string;
  /** `Output.data` of the result (ANSI colours kept; see {@link stripAnsi}). */
  readonly output?: string;
  /** Handler / eval error (ANSI stripped), or why handle() rejected. */
  readonly error?: string;
  /** The message's effects were discarded (CU error semantics). */
  readonly rolledBack?: boolean;
  /** handle() rejected (trap, abort, timeout). */
  readonly thrown?: boolean;
  /** Ids of the messages this evaluation sent (none if rolled back). */
  readonly sent: readonly string[];
  /** Number of `Spawns` in the result (not executed by this network). */
  readonly spawns?: number;
  /** Evaluated at once (spawn, eval, cron()), not taken from the queue by the picker. */
  readonly direct?: boolean;
}

/** Chooses which pending message is delivered next (an index into `pending`). */
export type Picker = (pending: readonly PendingMessage[]) => number | Promise<number>;

/** The part of `fc.Scheduler` used by {@link pickWithScheduler}. */
export interface SchedulerLike {
  schedule<T>(task: Promise<T>, label?: string): Promise<T>;
}

export interface DryRunResult {
  readonly output: string;
  readonly error?: string;
  readonly messages: readonly { target: string; tags: readonly AoTag[]; data: string }[];
}

export interface ProcessSnapshot {
  readonly pid: string;
  readonly module: ModuleKey;
  readonly memory: MemorySnapshot;
  /** Virtual time the snapshot was taken. */
  readonly takenAt: number;
  /** The process's next Nonce and the last Timestamp / Block-Height it saw, then. */
  readonly nonce: number;
  readonly lastTimestamp: number;
  readonly lastBlockHeight: number;
  /** When its next cron tick was due (processes with a `Cron-Interval`). */
  readonly nextCronAt?: number;
}

export interface RestoreOptions {
  /**
   * Write the snapshot back into the process's own instance (a copy of its live pages, a few ms
   * for aos) instead of starting a fresh instance from it (tens to hundreds of ms, mostly
   * instantiation). A broken instance is replaced by a fresh one either way.
   */
  readonly inPlace?: boolean;
  /**
   * Also wind the network back to when the snapshot was taken: the virtual clock, and the
   * process's Nonce, last Timestamp and Block-Height. What follows then sees exactly what it
   * would have seen right after the snapshot, whatever ran in between: for a network holding
   * this one process (the clock is shared by all).
   */
  readonly rewind?: boolean;
}

export interface ProcessInfo {
  readonly id: string;
  readonly name?: string;
  readonly module: ModuleKey;
  readonly owner: string;
  readonly tags: readonly AoTag[];
  /** Next Nonce (slot) the scheduler assigns. */
  readonly nonce: number;
  readonly memoryBytes: number;
}

export interface NetworkStats {
  /** Evaluations (deliveries, evals, crons, spawns, dry-runs, peeks). */
  evaluations: number;
  callMs: number;
  checkpoints: number;
  checkpointMs: number;
  rollbacks: number;
  replayedCalls: number;
  rollbackMs: number;
  freshInstances: number;
}

export class AoEvalError extends Error {
  override name = 'AoEvalError';
  constructor(
    readonly pid: string,
    readonly luaError: string,
    readonly entry?: LogEntry,
  ) {
    super(`${pid.slice(0, 8)}…: ${luaError}`);
  }
}

export class ReplayDivergenceError extends Error {
  override name = 'ReplayDivergenceError';
}

// ---------------------------------------------------------------------------------------------
// Pickers

/** FIFO. */
export const fifo: Picker = () => 0;

/**
 * Delivery n picks `choices[n] % pending.length` (e.g. an `fc.array(fc.nat())`), FIFO once the
 * choices run out.
 */
export function pickByChoices(choices: readonly number[]): Picker {
  let n = 0;
  return (pending) => {
    const choice = choices[n];
    n += 1;
    return choice === undefined ? 0 : Math.abs(Math.trunc(choice)) % pending.length;
  };
}

/**
 * Lets a fast-check scheduler (`fc.scheduler()`) choose: every pending message becomes a
 * scheduled task and the first one the scheduler releases is delivered. Drive it with
 * `await s.waitFor(net.deliverAll({ pick: pickWithScheduler(s) }))`.
 */
export function pickWithScheduler(scheduler: SchedulerLike): Picker {
  return (pending) =>
    Promise.race(
      pending.map((m, i) =>
        scheduler.schedule(
          Promise.resolve(i),
          `${m.from.slice(0, 6)}→${m.target.slice(0, 6)} ${actionOf(m.tags)}`,
        ),
      ),
    );
}

/**
 * Replays a recorded delivery order: each step picks the pending message with the id of the next
 * queued delivery in `log` (the same seed and the same calls give the same ids). Throws if that
 * message is not pending, i.e. the run has diverged from the recording.
 */
export function pickInLogOrder(log: readonly LogEntry[]): Picker {
  const order = log.filter((e) => (e.kind === 'message' || e.kind === 'cron') && !e.direct).map((e) => e.id);
  let next = 0;
  return (pending) => {
    const id = order[next];
    if (id === undefined) throw new Error('pickInLogOrder: the recorded trace has no more deliveries');
    const index = pending.findIndex((p) => p.id === id);
    if (index < 0) throw new Error(`pickInLogOrder: diverged, ${id} is not pending at delivery ${next}`);
    next += 1;
    return index;
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

export function toTags(input: TagsInput | undefined): AoTag[] {
  if (!input) return [];
  if (Array.isArray(input)) return (input as readonly AoTag[]).map((t) => ({ name: t.name, value: t.value }));
  return Object.entries(input as Record<string, string>).map(([name, value]) => ({ name, value }));
}

/** First tag of that name, compared case-insensitively. */
export function tagValue(tags: readonly AoTag[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return tags.find((t) => t.name.toLowerCase() === lower)?.value;
}

function actionOf(tags: readonly AoTag[]): string {
  return tagValue(tags, 'Action') ?? '';
}

function withDefaults(tags: AoTag[], defaults: readonly AoTag[]): AoTag[] {
  const out = [...tags];
  for (const d of defaults) if (tagValue(out, d.name) === undefined) out.push(d);
  return out;
}

/** The text of a result's Output (aos returns `{ data, prompt, ... }`). */
export function outputText(result: AoResult | undefined): string {
  const output = result?.Output;
  if (output === undefined || output === null) return '';
  if (typeof output === 'string') return output;
  if (typeof output === 'object' && 'data' in output) {
    const data = (output as { data: unknown }).data;
    if (typeof data === 'string') return data;
    if (data === undefined || data === null) return '';
    return JSON.stringify(data);
  }
  return JSON.stringify(output);
}

function dataText(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data === undefined || data === null) return '';
  return JSON.stringify(data);
}

function errorText(error: unknown): string {
  return stripAnsi(typeof error === 'string' ? error : JSON.stringify(error)).trim();
}

const PRINTED_HANDLER_ERROR = `${ESC}[31mError${ESC}[90m handling message`;

/** The error aos 2.0.0.rc1 prints into Output when a handler raises (llama.wasm), if any. */
export function printedHandlerError(output: string): string | undefined {
  const at = output.indexOf(PRINTED_HANDLER_ERROR);
  if (at < 0) return undefined;
  const text = stripAnsi(output.slice(at));
  const cut = text.indexOf('stack traceback:');
  return (cut >= 0 ? text.slice(0, cut) : text).trim();
}

const UNITS: Record<string, number> = {
  millisecond: 1,
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
};

/** Parses a `Cron-Interval` value such as `1-minute`, `10-seconds`, `2-blocks`. */
export function parseCronInterval(value: string, blockTimeMs: number): number | undefined {
  const match = /^\s*(\d+)\s*-\s*([a-z]+?)s?\s*$/i.exec(value);
  if (!match) return undefined;
  const count = Number(match[1]);
  const unit = match[2]!.toLowerCase();
  const ms = unit === 'block' ? blockTimeMs : UNITS[unit];
  if (!ms || count <= 0) return undefined;
  return count * ms;
}

// ---------------------------------------------------------------------------------------------
// The network

interface JournalEntry {
  readonly msg: AoMessage;
  readonly result: AoResult;
}

interface Proc {
  readonly id: string;
  readonly name?: string;
  readonly module: ModuleKey;
  readonly spec: ModuleSpec;
  readonly owner: string;
  readonly tags: readonly AoTag[];
  readonly env: AoEnv;
  readonly cronTags: readonly AoTag[];
  readonly cronIntervalMs?: number;
  nextCronAt?: number;
  instance: AoInstance;
  nonce: number;
  lastTimestamp: number;
  lastBlockHeight: number;
  /** null: the state of a fresh instance. */
  checkpoint: MemorySnapshot | null;
  journal: JournalEntry[];
  journalMs: number;
  checkpointCostMs: number;
}

interface Evaluation {
  readonly result?: AoResult;
  readonly error?: string;
  readonly thrown: boolean;
  readonly rolledBack: boolean;
}

const DEFAULT_START = Date.UTC(2025, 0, 1);
const DEFAULT_DELIVERY_LIMIT = 100_000;

export class LocalNetwork {
  readonly seed: string;
  /** The MU's wallet: `Owner` of relayed messages and the processes' Authority. */
  readonly muId: string;
  readonly schedulerId: string;
  readonly stats: NetworkStats = {
    evaluations: 0,
    callMs: 0,
    checkpoints: 0,
    checkpointMs: 0,
    rollbacks: 0,
    replayedCalls: 0,
    rollbackMs: 0,
    freshInstances: 0,
  };

  private readonly options: Required<Omit<NetworkOptions, 'seed' | 'pick' | 'onCall'>> & {
    pick: Picker;
    onCall?: (pid: string, msg: AoMessage, env: AoEnv) => void;
  };
  private readonly procs = new Map<string, Proc>();
  private readonly queue: PendingMessage[] = [];
  private readonly entries: LogEntry[] = [];
  private counter = 0;
  private readonly idWords: Uint32Array;
  private readonly idBuffer = Buffer.alloc(32);
  private clock: number;
  private closed = false;

  private constructor(options: NetworkOptions) {
    this.seed = String(options.seed ?? 'llama-herder');
    this.options = {
      startTime: options.startTime ?? DEFAULT_START,
      startBlockHeight: options.startBlockHeight ?? 1_580_000,
      blockTimeMs: options.blockTimeMs ?? 120_000,
      msPerMessage: options.msPerMessage ?? 0,
      pick: options.pick ?? fifo,
      rollbackOn: options.rollbackOn ?? 'raise',
      checkpointFactor: options.checkpointFactor ?? 50,
      verifyReplay: options.verifyReplay ?? true,
      callTimeoutMs: options.callTimeoutMs ?? 300_000,
      ...(options.onCall ? { onCall: options.onCall } : {}),
    };
    this.clock = this.options.startTime;
    const idSeed = createHash('sha256').update(`${this.seed}\u0000ids`).digest();
    this.idWords = new Uint32Array(8);
    for (let i = 0; i < 8; i++) this.idWords[i] = idSeed.readUInt32LE(i * 4);
    this.muId = this.digest('mu');
    this.schedulerId = this.digest('su');
  }

  static async create(options: NetworkOptions = {}): Promise<LocalNetwork> {
    return new LocalNetwork(options);
  }

  // ---- identities and time ------------------------------------------------------------------

  private digest(label: string): string {
    return base64url43(createHash('sha256').update(`${this.seed}\u0000${label}`).digest());
  }

  /**
   * A fresh deterministic 43-char id: 8 words, each a bijective mix (Murmur3's finaliser) of a
   * seed-derived word and the counter, so ids are distinct for 2^32 calls and cost ~1 µs
   * (a SHA-256 per id cost ~15 µs, over 1 % of a message).
   */
  newId(): string {
    this.counter += 1;
    const c = Math.imul(this.counter, 0x9e3779b1);
    const out = this.idBuffer;
    for (let i = 0; i < 8; i++) {
      let h = (this.idWords[i]! ^ c) >>> 0;
      h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
      out.writeUInt32LE((h ^ (h >>> 16)) >>> 0, i * 4);
    }
    return out.toString('base64url', 0, 32).slice(0, 43);
  }

  /** A deterministic wallet address for a name (not a process). */
  wallet(name: string): string {
    return this.digest(`wallet:${name}`);
  }

  /** Virtual time, ms. */
  get now(): number {
    return this.clock;
  }

  get blockHeight(): number {
    return (
      this.options.startBlockHeight +
      Math.floor((this.clock - this.options.startTime) / this.options.blockTimeMs)
    );
  }

  /**
   * Moves the virtual clock forward. Processes spawned with a `Cron-Interval` get one queued
   * cron tick per interval boundary crossed.
   */
  advanceTime(ms: number): void {
    if (!(ms >= 0)) throw new Error(`advanceTime: ms must be ≥ 0, got ${ms}`);
    this.clock += ms;
    for (const proc of this.procs.values()) {
      if (proc.cronIntervalMs === undefined || proc.nextCronAt === undefined) continue;
      const ticks = Math.floor((this.clock - proc.nextCronAt) / proc.cronIntervalMs) + 1;
      if (ticks > 10_000) {
        throw new Error(`advanceTime: ${ticks} cron ticks for ${proc.id}; advance in smaller steps`);
      }
      while (proc.nextCronAt <= this.clock) {
        this.queue.push(this.cronMessage(proc, proc.nextCronAt));
        proc.nextCronAt += proc.cronIntervalMs;
      }
    }
  }

  // ---- processes ----------------------------------------------------------------------------

  /** Spawns a process and evaluates its spawn message (and boot Lua). Returns the pid. */
  async spawn(options: SpawnOptions): Promise<string> {
    this.assertOpen();
    const spec = moduleSpec(options.module);
    if (options.id !== undefined && (!/^[A-Za-z0-9_-]{43}$/.test(options.id) || this.procs.has(options.id))) {
      throw new Error(`spawn: id ${JSON.stringify(options.id)} is not a free 43-character process id`);
    }
    const pid = options.id ?? this.newId();
    const modId = moduleId(options.module);
    const userTags = toTags(options.tags);
    const onBoot = options.boot !== undefined && options.bootMode === 'on-boot';
    const base: AoTag[] = [
      { name: 'Data-Protocol', value: 'ao' },
      { name: 'Variant', value: 'ao.TN.1' },
      { name: 'Type', value: 'Process' },
      { name: 'Module', value: modId },
      { name: 'Scheduler', value: this.schedulerId },
    ];
    if (options.name !== undefined) base.push({ name: 'Name', value: options.name });
    if (onBoot) base.push({ name: 'On-Boot', value: 'Data' });
    const tags = [
      ...base.filter((t) => tagValue(userTags, t.name) === undefined),
      ...userTags,
      { name: 'Authority', value: this.muId },
    ];
    const env: AoEnv = {
      Process: { Id: pid, Owner: options.owner, Tags: tags },
      Module: {
        Id: modId,
        Owner: this.digest('module-owner'),
        Tags: [
          { name: 'Data-Protocol', value: 'ao' },
          { name: 'Variant', value: 'ao.TN.1' },
          { name: 'Type', value: 'Module' },
          { name: 'Module-Format', value: spec.format },
          { name: 'Input-Encoding', value: 'JSON-1' },
          { name: 'Output-Encoding', value: 'JSON-1' },
          { name: 'Memory-Limit', value: spec.memoryLimit },
          { name: 'Compute-Limit', value: String(spec.computeLimit) },
        ],
      },
    };
    const cronTags: AoTag[] = [];
    for (const t of userTags) {
      if (t.name.toLowerCase().startsWith('cron-tag-')) {
        cronTags.push({ name: t.name.slice('cron-tag-'.length), value: t.value });
      }
    }
    const intervalTag = tagValue(userTags, 'Cron-Interval');
    const cronIntervalMs =
      intervalTag === undefined ? undefined : parseCronInterval(intervalTag, this.options.blockTimeMs);
    if (intervalTag !== undefined && cronIntervalMs === undefined) {
      throw new Error(`spawn: cannot parse Cron-Interval '${intervalTag}'`);
    }
    const instance = await AoInstance.create(options.module, {
      ...(options.weaveDrive ? { weaveDrive: options.weaveDrive } : {}),
      callTimeoutMs: this.options.callTimeoutMs,
    });
    this.stats.freshInstances += 1;
    const proc: Proc = {
      id: pid,
      ...(options.name !== undefined ? { name: options.name } : {}),
      module: options.module,
      spec,
      owner: options.owner,
      tags,
      env,
      cronTags: cronTags.length > 0 ? cronTags : [{ name: 'Action', value: 'Cron' }],
      ...(cronIntervalMs !== undefined ? { cronIntervalMs, nextCronAt: this.clock + cronIntervalMs } : {}),
      instance,
      nonce: 0,
      lastTimestamp: this.clock,
      lastBlockHeight: this.blockHeight,
      checkpoint: null,
      journal: [],
      journalMs: 0,
      checkpointCostMs: spec.checkpointCostEstimateMs,
    };
    this.clock += this.options.msPerMessage;
    const msg: AoMessage = {
      Id: pid,
      Target: pid,
      Owner: options.owner,
      From: options.owner,
      Module: modId,
      Tags: tags,
      Data: onBoot ? (options.boot ?? '') : (options.data ?? ''),
      Timestamp: this.clock,
      'Block-Height': this.blockHeight,
      Nonce: 0,
      Epoch: 0,
      Cron: false,
    };
    proc.nonce = 1;
    const evaluation = await this.evaluate(proc, msg);
    if (evaluation.error !== undefined && evaluation.rolledBack) {
      throw new AoEvalError(pid, `spawn failed: ${evaluation.error}`);
    }
    this.procs.set(pid, proc);
    this.record(proc, 'spawn', msg, evaluation, undefined, true);
    if (options.boot !== undefined && !onBoot) await this.eval(pid, options.boot);
    // A first checkpoint (a few ms) measures the checkpoint cost that paces the next ones.
    this.checkpoint(proc);
    return pid;
  }

  /** Whether `address` is a process of this network. */
  isProcess(address: string): boolean {
    return this.procs.has(address);
  }

  processInfo(pid: string): ProcessInfo {
    const proc = this.proc(pid);
    return {
      id: proc.id,
      ...(proc.name !== undefined ? { name: proc.name } : {}),
      module: proc.module,
      owner: proc.owner,
      tags: proc.tags,
      nonce: proc.nonce,
      memoryBytes: proc.instance.memoryBytes,
    };
  }

  get processes(): readonly string[] {
    return [...this.procs.keys()];
  }

  private proc(pid: string): Proc {
    const proc = this.procs.get(pid);
    if (!proc) throw new Error(`unknown process ${pid}`);
    return proc;
  }

  // ---- messages -----------------------------------------------------------------------------

  /** Queues a message; returns its id. */
  send(input: SendInput): string {
    this.assertOpen();
    const fromProc = this.procs.get(input.from);
    const id = input.id ?? this.newId();
    const tags = withDefaults(toTags(input.tags), [
      { name: 'Data-Protocol', value: 'ao' },
      { name: 'Variant', value: 'ao.TN.1' },
      { name: 'Type', value: 'Message' },
    ]);
    if (fromProc) {
      tags.push(
        { name: 'From-Process', value: fromProc.id },
        { name: 'From-Module', value: moduleId(fromProc.module) },
      );
    }
    const pending: PendingMessage = {
      id,
      kind: 'message',
      from: input.from,
      owner: input.owner ?? (fromProc ? this.muId : input.from),
      target: input.target,
      tags,
      data: input.data ?? '',
    };
    if (this.procs.has(input.target)) this.queue.push(pending);
    else this.recordExternal(pending);
    return id;
  }

  /** Messages waiting for delivery, in queue order. */
  get pending(): readonly PendingMessage[] {
    return this.queue;
  }

  /** Delivers one pending message (chosen by `pick`); undefined if none is pending. */
  async step(pick?: Picker): Promise<LogEntry | undefined> {
    this.assertOpen();
    if (this.queue.length === 0) return undefined;
    const chosen = await (pick ?? this.options.pick)(this.queue);
    if (!Number.isInteger(chosen) || chosen < 0 || chosen >= this.queue.length) {
      throw new Error(`picker returned ${chosen} for ${this.queue.length} pending messages`);
    }
    const [message] = this.queue.splice(chosen, 1);
    return this.deliver(message!);
  }

  /**
   * Delivers until nothing is pending. With an explicit `maxMessages` it stops quietly after that
   * many; without it, more than 100,000 deliveries throw (a message loop).
   */
  async deliverAll(options: { maxMessages?: number; pick?: Picker } = {}): Promise<LogEntry[]> {
    const limit = options.maxMessages ?? DEFAULT_DELIVERY_LIMIT;
    const delivered: LogEntry[] = [];
    while (this.queue.length > 0) {
      if (delivered.length >= limit) {
        if (options.maxMessages === undefined) {
          throw new Error(`deliverAll: more than ${limit} deliveries; is there a message loop?`);
        }
        break;
      }
      const entry = await this.step(options.pick);
      if (entry) delivered.push(entry);
    }
    return delivered;
  }

  /** Evaluates Lua in the process as an `Eval` from its owner, now; returns Output.data. */
  async eval(pid: string, lua: string): Promise<string> {
    this.assertOpen();
    const proc = this.proc(pid);
    const pending: PendingMessage = {
      id: this.newId(),
      kind: 'message',
      from: proc.owner,
      owner: proc.owner,
      target: pid,
      tags: [
        { name: 'Data-Protocol', value: 'ao' },
        { name: 'Variant', value: 'ao.TN.1' },
        { name: 'Type', value: 'Message' },
        { name: 'Action', value: 'Eval' },
      ],
      data: lua,
    };
    const entry = await this.deliver(pending, 'eval', true);
    if (entry.error !== undefined) throw new AoEvalError(pid, entry.error, entry);
    return entry.output ?? '';
  }

  /** Delivers a cron tick (From = Owner = process owner, Cron = true) now. */
  async cron(pid: string): Promise<LogEntry> {
    this.assertOpen();
    return this.deliver(this.cronMessage(this.proc(pid)), undefined, true);
  }

  private cronMessage(proc: Proc, at?: number): PendingMessage {
    return {
      id: this.newId(),
      kind: 'cron',
      from: proc.owner,
      owner: proc.owner,
      target: proc.id,
      tags: withDefaults(
        [...proc.cronTags],
        [
          { name: 'Data-Protocol', value: 'ao' },
          { name: 'Variant', value: 'ao.TN.1' },
          { name: 'Type', value: 'Message' },
        ],
      ),
      data: '',
      ...(at !== undefined ? { at } : {}),
    };
  }

  /**
   * Evaluates a message against the current state and discards every effect (as a CU dry-run:
   * `Read-Only = true`, nothing sent, no memory change). Costs a restore + short replay (aos:
   * ~10–30 ms); for frequent reads of Lua state use {@link peek}.
   */
  async dryRun(
    pid: string,
    input: { from?: string; owner?: string; tags?: TagsInput; data?: string },
  ): Promise<DryRunResult> {
    this.assertOpen();
    const proc = this.proc(pid);
    if (proc.journal.length > 0 && proc.journalMs > proc.checkpointCostMs) this.checkpoint(proc);
    const from = input.from ?? proc.owner;
    const fromProc = this.procs.get(from);
    const msg: AoMessage = {
      Id: this.newId(),
      Target: pid,
      Owner: input.owner ?? (fromProc ? this.muId : from),
      From: from,
      Tags: withDefaults(toTags(input.tags), [
        { name: 'Data-Protocol', value: 'ao' },
        { name: 'Variant', value: 'ao.TN.1' },
        { name: 'Type', value: 'Message' },
      ]),
      Data: input.data ?? '',
      Timestamp: Math.max(this.clock, proc.lastTimestamp),
      'Block-Height': Math.max(this.blockHeight, proc.lastBlockHeight),
      Cron: false,
      'Read-Only': true,
    };
    this.options.onCall?.(pid, msg, proc.env);
    const outcome = await proc.instance.call(msg, proc.env);
    this.stats.evaluations += 1;
    this.stats.callMs += outcome.ms;
    await this.rollback(proc);
    if (!outcome.ok) return { output: '', error: outcome.error.message, messages: [] };
    const result = outcome.result;
    const output = outputText(result);
    const error =
      result.Error !== undefined && result.Error !== null
        ? errorText(result.Error)
        : proc.spec.handlerErrors === 'output-text'
          ? printedHandlerError(output)
          : undefined;
    return {
      output,
      ...(error !== undefined ? { error } : {}),
      messages: (result.Messages ?? []).map((m) => ({
        target: m.Target,
        tags: m.Tags,
        data: dataText(m.Data),
      })),
    };
  }

  /**
   * Cheap read: evaluates Lua as a read-only owner `Eval` stamped with the process's last
   * Timestamp (so time-driven handlers see no time pass) and returns Output.data. Not logged,
   * no Nonce used. Its memory effects are kept (aos bookkeeping, GC; replayed exactly on
   * rollback) unless it sends a message or fails, in which case it is rolled back like a dry-run.
   * Use it for pure reads, e.g. `return require('json').encode(State)`.
   */
  async peek(pid: string, lua: string): Promise<string> {
    this.assertOpen();
    const proc = this.proc(pid);
    const msg: AoMessage = {
      Id: this.newId(),
      Target: pid,
      Owner: proc.owner,
      From: proc.owner,
      Tags: [
        { name: 'Data-Protocol', value: 'ao' },
        { name: 'Variant', value: 'ao.TN.1' },
        { name: 'Type', value: 'Message' },
        { name: 'Action', value: 'Eval' },
      ],
      Data: lua,
      Timestamp: proc.lastTimestamp,
      'Block-Height': proc.lastBlockHeight,
      Nonce: proc.nonce - 1,
      Cron: false,
      'Read-Only': true,
    };
    const evaluation = await this.evaluate(proc, msg, false);
    if (evaluation.error !== undefined) throw new AoEvalError(pid, evaluation.error);
    if ((evaluation.result?.Messages ?? []).length > 0) {
      // A peek must not act: discard it (it is the last journal entry).
      proc.journal.pop();
      await this.rollback(proc);
    } else {
      this.maybeCheckpoint(proc);
    }
    return outputText(evaluation.result);
  }

  // ---- snapshots ----------------------------------------------------------------------------

  /** A copy of the process's memory (also becomes its rollback checkpoint). */
  async snapshot(pid: string): Promise<ProcessSnapshot> {
    this.assertOpen();
    const proc = this.proc(pid);
    const memory = this.checkpoint(proc);
    return {
      pid,
      module: proc.module,
      memory,
      takenAt: this.clock,
      nonce: proc.nonce,
      lastTimestamp: proc.lastTimestamp,
      lastBlockHeight: proc.lastBlockHeight,
      ...(proc.nextCronAt !== undefined ? { nextCronAt: proc.nextCronAt } : {}),
    };
  }

  /**
   * Replaces the process's instance with a fresh one started from the snapshot (or, with
   * `inPlace`, writes the snapshot into its instance). Pending messages stay queued; the
   * scheduler's Nonce keeps counting unless `rewind` is set.
   */
  async restore(pid: string, snapshot: ProcessSnapshot, options: RestoreOptions = {}): Promise<void> {
    this.assertOpen();
    const proc = this.proc(pid);
    if (snapshot.module !== proc.module) {
      throw new Error(`restore: snapshot of a ${snapshot.module} process, ${pid} runs ${proc.module}`);
    }
    if (options.inPlace && !proc.instance.broken) {
      proc.instance.restore(snapshot.memory);
    } else {
      proc.instance = await proc.instance.fork(snapshot.memory);
      this.stats.freshInstances += 1;
    }
    if (options.rewind) {
      this.clock = snapshot.takenAt;
      proc.nonce = snapshot.nonce;
      proc.lastTimestamp = snapshot.lastTimestamp;
      proc.lastBlockHeight = snapshot.lastBlockHeight;
      if (snapshot.nextCronAt !== undefined) proc.nextCronAt = snapshot.nextCronAt;
    }
    proc.checkpoint = snapshot.memory;
    proc.journal = [];
    proc.journalMs = 0;
  }

  // ---- log ----------------------------------------------------------------------------------

  /** Every evaluation and every message that left the network, in order. */
  get log(): readonly LogEntry[] {
    return this.entries;
  }

  /** Messages sent to an address outside the network (e.g. a wallet). */
  messagesTo(address: string): LogEntry[] {
    return this.entries.filter((e) => e.kind === 'external' && e.to === address);
  }

  /** Log entries of evaluations by a process. */
  evaluationsOf(pid: string): LogEntry[] {
    return this.entries.filter((e) => e.kind !== 'external' && e.to === pid);
  }

  /** Stops the network; instances are released. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
    this.procs.clear();
  }

  // ---- internals ----------------------------------------------------------------------------

  private assertOpen(): void {
    if (this.closed) throw new Error('the network is closed');
  }

  private async deliver(pending: PendingMessage, kind?: LogKind, direct = false): Promise<LogEntry> {
    const proc = this.proc(pending.target);
    this.clock += this.options.msPerMessage;
    const cron = pending.kind === 'cron';
    const timestamp = Math.max(
      cron && pending.at !== undefined ? pending.at : this.clock,
      proc.lastTimestamp,
    );
    const blockHeight = Math.max(
      this.options.startBlockHeight +
        Math.floor((timestamp - this.options.startTime) / this.options.blockTimeMs),
      proc.lastBlockHeight,
    );
    const msg: AoMessage = {
      Id: pending.id,
      Target: pending.target,
      Owner: pending.owner,
      From: pending.from,
      Tags: pending.tags as AoTag[],
      Data: pending.data,
      Timestamp: timestamp,
      'Block-Height': blockHeight,
      Cron: cron,
    };
    if (pending.anchor !== undefined) msg.Anchor = pending.anchor;
    if (!cron) {
      msg.Nonce = proc.nonce;
      msg.Epoch = 0;
      proc.nonce += 1;
    }
    proc.lastTimestamp = timestamp;
    proc.lastBlockHeight = blockHeight;
    const evaluation = await this.evaluate(proc, msg);
    return this.record(proc, kind ?? (cron ? 'cron' : 'message'), msg, evaluation, pending.cause, direct);
  }

  /** Runs one message; on failure rolls the process back (CU semantics). */
  private async evaluate(proc: Proc, msg: AoMessage, autoCheckpoint = true): Promise<Evaluation> {
    this.options.onCall?.(proc.id, msg, proc.env);
    const outcome = await proc.instance.call(msg, proc.env);
    this.stats.evaluations += 1;
    this.stats.callMs += outcome.ms;
    if (!outcome.ok) {
      await this.rollback(proc);
      return { error: outcome.error.message, thrown: true, rolledBack: true };
    }
    const result = outcome.result;
    let error: string | undefined;
    let rollback = false;
    if (result.Error !== undefined && result.Error !== null) {
      error = errorText(result.Error);
      rollback = true;
    } else if (outcome.memoryBytes > proc.spec.memoryLimitBytes) {
      error = `memory limit exceeded: ${outcome.memoryBytes} > ${proc.spec.memoryLimitBytes} bytes`;
      rollback = true;
    } else if (proc.spec.handlerErrors === 'output-text') {
      error = printedHandlerError(outputText(result));
      rollback = error !== undefined && this.options.rollbackOn === 'raise';
    }
    if (rollback) {
      await this.rollback(proc);
      return { result, ...(error !== undefined ? { error } : {}), thrown: false, rolledBack: true };
    }
    proc.journal.push({ msg, result });
    proc.journalMs += outcome.ms;
    if (autoCheckpoint) this.maybeCheckpoint(proc);
    return { result, ...(error !== undefined ? { error } : {}), thrown: false, rolledBack: false };
  }

  private maybeCheckpoint(proc: Proc): void {
    if (proc.journalMs > this.options.checkpointFactor * proc.checkpointCostMs) this.checkpoint(proc);
  }

  private checkpoint(proc: Proc): MemorySnapshot {
    const t0 = monotonicMs();
    const memory = proc.instance.snapshot();
    const ms = monotonicMs() - t0;
    proc.checkpoint = memory;
    proc.journal = [];
    proc.journalMs = 0;
    proc.checkpointCostMs = ms;
    this.stats.checkpoints += 1;
    this.stats.checkpointMs += ms;
    return memory;
  }

  /** Restores the checkpoint and replays the journal: the state before the failed call. */
  private async rollback(proc: Proc): Promise<void> {
    const t0 = monotonicMs();
    this.stats.rollbacks += 1;
    if (proc.instance.broken || proc.checkpoint === null) {
      proc.instance = await proc.instance.fork(proc.checkpoint ?? undefined);
      this.stats.freshInstances += 1;
    } else {
      proc.instance.restore(proc.checkpoint);
    }
    for (const entry of proc.journal) {
      const outcome = await proc.instance.call(entry.msg, proc.env);
      this.stats.replayedCalls += 1;
      if (!outcome.ok) {
        throw new ReplayDivergenceError(`replay of ${entry.msg.Id} threw: ${outcome.error.message}`);
      }
      if (this.options.verifyReplay && !sameResult(outcome.result, entry.result)) {
        throw new ReplayDivergenceError(
          `replay of ${entry.msg.Id} in ${proc.id} gave a different result than the original run`,
        );
      }
    }
    if (proc.journal.length > 0) this.checkpoint(proc);
    this.stats.rollbackMs += monotonicMs() - t0;
  }

  private record(
    proc: Proc,
    kind: LogKind,
    msg: AoMessage,
    evaluation: Evaluation,
    cause: string | undefined,
    direct: boolean,
  ): LogEntry {
    const sent: string[] = [];
    const result = evaluation.result;
    const output = result ? outputText(result) : undefined;
    const spawns = evaluation.rolledBack ? 0 : (result?.Spawns?.length ?? 0);
    const entry: LogEntry = {
      seq: this.entries.length,
      kind,
      id: msg.Id,
      from: msg.From,
      owner: msg.Owner,
      to: msg.Target,
      tags: msg.Tags,
      data: msg.Data,
      timestamp: msg.Timestamp,
      blockHeight: msg['Block-Height'],
      ...(msg.Nonce !== undefined ? { nonce: msg.Nonce } : {}),
      ...(cause !== undefined ? { cause } : {}),
      ...(output !== undefined ? { output } : {}),
      ...(evaluation.error !== undefined ? { error: evaluation.error } : {}),
      ...(evaluation.rolledBack ? { rolledBack: true } : {}),
      ...(evaluation.thrown ? { thrown: true } : {}),
      ...(spawns > 0 ? { spawns } : {}),
      ...(direct ? { direct: true } : {}),
      sent,
    };
    this.entries.push(entry);
    if (!evaluation.rolledBack && result) {
      for (const out of result.Messages ?? []) sent.push(this.relay(proc, out, msg.Id));
    }
    return entry;
  }

  /** Queues (or records as external) one message from a result, as the MU pushes it. */
  private relay(
    proc: Proc,
    out: { Target: string; Tags: AoTag[]; Data?: unknown; Anchor?: string },
    cause: string,
  ): string {
    const id = this.newId();
    const tags: AoTag[] = [
      ...(out.Tags ?? []),
      { name: 'From-Process', value: proc.id },
      { name: 'From-Module', value: moduleId(proc.module) },
      { name: 'Pushed-For', value: cause },
    ];
    const pending: PendingMessage = {
      id,
      kind: 'message',
      from: proc.id,
      owner: this.muId,
      target: out.Target,
      tags,
      data: dataText(out.Data),
      ...(out.Anchor !== undefined ? { anchor: out.Anchor } : {}),
      cause,
    };
    if (this.procs.has(out.Target)) this.queue.push(pending);
    else this.recordExternal(pending);
    return id;
  }

  private recordExternal(pending: PendingMessage): void {
    this.entries.push({
      seq: this.entries.length,
      kind: 'external',
      id: pending.id,
      from: pending.from,
      owner: pending.owner,
      to: pending.target,
      tags: pending.tags,
      data: pending.data,
      timestamp: this.clock,
      blockHeight: this.blockHeight,
      ...(pending.cause !== undefined ? { cause: pending.cause } : {}),
      sent: [],
    });
  }
}

/**
 * One line of a human-readable timeline, e.g.
 * `#12 +1.5s client → token Transfer [Quantity=5 X-Prompt=hi] → 2 sent`.
 * `names` maps addresses to short names; others are shortened to 6 characters.
 */
export function formatLogEntry(
  entry: LogEntry,
  names: Readonly<Record<string, string>> = {},
  startTime?: number,
): string {
  const name = (address: string) => names[address] ?? `${address.slice(0, 6)}…`;
  const hidden = new Set([
    'Data-Protocol',
    'Variant',
    'Type',
    'From-Process',
    'From-Module',
    'Pushed-For',
    'Reference',
    'Action',
  ]);
  const shown = entry.tags
    .filter((t) => !hidden.has(t.name))
    .map((t) => `${t.name}=${t.value.length > 24 ? `${t.value.slice(0, 23)}…` : t.value}`);
  const time = startTime === undefined ? '' : ` +${((entry.timestamp - startTime) / 1000).toFixed(1)}s`;
  const action = entry.kind === 'spawn' ? 'Spawn' : (tagValue(entry.tags, 'Action') ?? entry.kind);
  let line = `#${entry.seq}${time} ${name(entry.from)} → ${name(entry.to)} ${action}`;
  if (shown.length > 0 && entry.kind !== 'spawn') line += ` [${shown.join(' ')}]`;
  if (entry.data && entry.kind !== 'spawn' && action !== 'Eval') {
    const data = entry.data.replace(/\s+/g, ' ');
    line += ` "${data.length > 40 ? `${data.slice(0, 39)}…` : data}"`;
  }
  if (entry.error !== undefined) {
    line += ` ✗ ${entry.error.split('\n').find((l) => l.trim() !== '') ?? 'error'}${entry.rolledBack ? ' (rolled back)' : ''}`;
  }
  if (entry.kind === 'external') line += ' (leaves the network)';
  else if (entry.sent.length > 0) line += ` → ${entry.sent.length} sent`;
  return line;
}

function sameResult(a: AoResult, b: AoResult): boolean {
  return (
    JSON.stringify([a.Output, a.Messages, a.Spawns, a.Assignments, a.Error]) ===
    JSON.stringify([b.Output, b.Messages, b.Spawns, b.Assignments, b.Error])
  );
}
