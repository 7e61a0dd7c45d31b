/**
 * A local AO network over ao-loader: spawns processes from the known modules and relays their
 * messages the way the real MU / SU / CU do, deterministically. This class owns the processes,
 * the queue and the log, and composes the units:
 * - ids.ts and clock.ts: ids from the seed, virtual time and block height;
 * - mu.ts: how messages are signed and tagged when sent and relayed;
 * - scheduler.ts: delivery order ({@link Picker}), Timestamp / Block-Height / Nonce, cron ticks;
 * - cu.ts: evaluation with a CU's error semantics (checkpoint + deterministic replay);
 * - log.ts: the log entries and how they read.
 *
 * What a process sees (aos 2.x rules, measured on these modules): its first message is the spawn
 * (`Id = Target = <pid>`, `Owner = From = <owner>`, `Module`, `Tags` with `Type=Process`,
 * `Authority=<MU>`, `Name`, …); `env.Process = { Id, Owner, Tags }` carries the same tags, so aos
 * trusts the MU as an authority. The same seed and the same calls give the same ids, results and
 * log. Delivery order is FIFO unless a {@link Picker} chooses (a fixed list of choices, or a
 * fast-check scheduler), so interleavings can be explored.
 */
import { VirtualClock } from './clock.ts';
import {
  type Evaluation,
  type EvaluationOptions,
  type EvaluationStats,
  emptyStats,
  ProcessEvaluator,
  processEnv,
} from './cu.ts';
import { IdMint, isAoId } from './ids.ts';
import type { AoEnv, AoMessage, MemorySnapshot, WeaveDriveOption } from './loader.ts';
import { evaluationEntry, externalEntry, type LogEntry, type LogKind } from './log.ts';
import { type ModuleKey, moduleId } from './modules.ts';
import { type PendingMessage, pushed, type SendInput, signer, spawnTags, submitted } from './mu.ts';
import { dataText, outputText } from './results.ts';
import {
  type CronSchedule,
  cronSchedule,
  cronTick,
  dueTicks,
  fifo,
  type Picker,
  type Slot,
  stamp,
  takeNext,
} from './scheduler.ts';
import { type AoTag, EVAL_TAGS, MESSAGE_TAGS, type TagsInput, toTags, withDefaults } from './tags.ts';

// What code outside src/ao/ takes from the network besides the class.
export type { LogEntry } from './log.ts';

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
  /** What rolls a message back; see cu.ts. Default 'raise'. */
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

export type NetworkStats = EvaluationStats;

/** Lua that failed to evaluate in a process (spawn, Eval, peek). */
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

interface Proc extends Slot {
  readonly id: string;
  readonly name?: string;
  readonly module: ModuleKey;
  readonly owner: string;
  readonly tags: readonly AoTag[];
  readonly cron: CronSchedule;
  readonly cu: ProcessEvaluator;
}

const DEFAULT_DELIVERY_LIMIT = 100_000;

export class LocalNetwork {
  readonly seed: string;
  /** The MU's wallet: `Owner` of relayed messages and the processes' Authority. */
  readonly muId: string;
  readonly schedulerId: string;
  readonly stats: NetworkStats = emptyStats();

  private readonly ids: IdMint;
  private readonly clock: VirtualClock;
  private readonly msPerMessage: number;
  private readonly pick: Picker;
  private readonly callTimeoutMs: number;
  private readonly evaluation: EvaluationOptions;
  private readonly procs = new Map<string, Proc>();
  private readonly queue: PendingMessage[] = [];
  private readonly entries: LogEntry[] = [];
  private closed = false;

  private constructor(options: NetworkOptions) {
    this.seed = String(options.seed ?? 'llama-herder');
    this.clock = new VirtualClock(options);
    this.msPerMessage = options.msPerMessage ?? 0;
    this.pick = options.pick ?? fifo;
    this.callTimeoutMs = options.callTimeoutMs ?? 300_000;
    this.evaluation = {
      rollbackOn: options.rollbackOn ?? 'raise',
      checkpointFactor: options.checkpointFactor ?? 50,
      verifyReplay: options.verifyReplay ?? true,
      ...(options.onCall ? { onCall: options.onCall } : {}),
    };
    this.ids = new IdMint(this.seed);
    this.muId = this.ids.named('mu');
    this.schedulerId = this.ids.named('su');
  }

  static async create(options: NetworkOptions = {}): Promise<LocalNetwork> {
    return new LocalNetwork(options);
  }

  // ---- identities and time ------------------------------------------------------------------

  /** A fresh deterministic 43-char id (see ids.ts). */
  newId(): string {
    return this.ids.next();
  }

  /** A deterministic wallet address for a name (not a process). */
  wallet(name: string): string {
    return this.ids.named(`wallet:${name}`);
  }

  /** Virtual time, ms. */
  get now(): number {
    return this.clock.now;
  }

  get blockHeight(): number {
    return this.clock.blockHeight;
  }

  /**
   * Moves the virtual clock forward. Processes spawned with a `Cron-Interval` get one queued
   * cron tick per interval boundary crossed.
   */
  advanceTime(ms: number): void {
    if (!(ms >= 0)) throw new Error(`advanceTime: ms must be ≥ 0, got ${ms}`);
    this.clock.now += ms;
    for (const proc of this.procs.values()) {
      for (const at of dueTicks(proc.cron, this.clock.now, proc.id)) {
        this.queue.push(cronTick(this.newId(), proc.id, proc.owner, proc.cron, at));
      }
    }
  }

  // ---- processes ----------------------------------------------------------------------------

  /** Spawns a process and evaluates its spawn message (and boot Lua). Returns the pid. */
  async spawn(options: SpawnOptions): Promise<string> {
    this.assertOpen();
    if (options.id !== undefined && (!isAoId(options.id) || this.procs.has(options.id))) {
      throw new Error(`spawn: id ${JSON.stringify(options.id)} is not a free 43-character process id`);
    }
    const pid = options.id ?? this.newId();
    const userTags = toTags(options.tags);
    const onBoot = options.boot !== undefined && options.bootMode === 'on-boot';
    const tags = spawnTags(userTags, {
      module: options.module,
      scheduler: this.schedulerId,
      authority: this.muId,
      ...(options.name !== undefined ? { name: options.name } : {}),
      onBoot,
    });
    const env = processEnv(pid, options.owner, tags, options.module, this.ids.named('module-owner'));
    const cron = cronSchedule(userTags, this.clock.now, this.clock.blockTimeMs);
    const cu = await ProcessEvaluator.start(
      pid,
      options.module,
      env,
      {
        ...(options.weaveDrive ? { weaveDrive: options.weaveDrive } : {}),
        callTimeoutMs: this.callTimeoutMs,
      },
      this.evaluation,
      this.stats,
    );
    const proc: Proc = {
      id: pid,
      ...(options.name !== undefined ? { name: options.name } : {}),
      module: options.module,
      owner: options.owner,
      tags,
      cron,
      cu,
      nonce: 0,
      lastTimestamp: this.clock.now,
      lastBlockHeight: this.clock.blockHeight,
    };
    this.clock.now += this.msPerMessage;
    const msg: AoMessage = {
      Id: pid,
      Target: pid,
      Owner: options.owner,
      From: options.owner,
      Module: moduleId(options.module),
      Tags: tags,
      Data: onBoot ? (options.boot ?? '') : (options.data ?? ''),
      Timestamp: this.clock.now,
      'Block-Height': this.clock.blockHeight,
      Nonce: 0,
      Epoch: 0,
      Cron: false,
    };
    proc.nonce = 1;
    const evaluation = await cu.evaluate(msg);
    if (evaluation.error !== undefined && evaluation.rolledBack) {
      throw new AoEvalError(pid, `spawn failed: ${evaluation.error}`);
    }
    this.procs.set(pid, proc);
    this.record(proc, 'spawn', msg, evaluation, undefined, true);
    if (options.boot !== undefined && !onBoot) await this.eval(pid, options.boot);
    // A first checkpoint (a few ms) measures the checkpoint cost that paces the next ones.
    cu.checkpoint();
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
      memoryBytes: proc.cu.memoryBytes,
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
    const id = input.id ?? this.newId();
    this.enqueue(submitted(input, id, this.procs.get(input.from), this.muId));
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
    return this.deliver(await takeNext(this.queue, pick ?? this.pick));
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
      tags: toTags(EVAL_TAGS),
      data: lua,
    };
    const entry = await this.deliver(pending, 'eval', true);
    if (entry.error !== undefined) throw new AoEvalError(pid, entry.error, entry);
    return entry.output ?? '';
  }

  /** Delivers a cron tick (From = Owner = process owner, Cron = true) now. */
  async cron(pid: string): Promise<LogEntry> {
    this.assertOpen();
    const proc = this.proc(pid);
    return this.deliver(cronTick(this.newId(), proc.id, proc.owner, proc.cron), undefined, true);
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
    const from = input.from ?? proc.owner;
    const msg: AoMessage = {
      Id: this.newId(),
      Target: pid,
      Owner: signer(from, this.procs.get(from), this.muId, input.owner),
      From: from,
      Tags: withDefaults(toTags(input.tags), MESSAGE_TAGS),
      Data: input.data ?? '',
      Timestamp: Math.max(this.clock.now, proc.lastTimestamp),
      'Block-Height': Math.max(this.clock.blockHeight, proc.lastBlockHeight),
      Cron: false,
      'Read-Only': true,
    };
    const evaluation = await proc.cu.dryRun(msg);
    if (evaluation.thrown) return { output: '', error: evaluation.error ?? '', messages: [] };
    return {
      output: outputText(evaluation.result),
      ...(evaluation.error !== undefined ? { error: evaluation.error } : {}),
      messages: (evaluation.result?.Messages ?? []).map((m) => ({
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
      Tags: toTags(EVAL_TAGS),
      Data: lua,
      Timestamp: proc.lastTimestamp,
      'Block-Height': proc.lastBlockHeight,
      Nonce: proc.nonce - 1,
      Cron: false,
      'Read-Only': true,
    };
    const evaluation = await proc.cu.evaluate(msg, false);
    if (evaluation.error !== undefined) throw new AoEvalError(pid, evaluation.error);
    // A peek must not act: discard one that sends anything.
    if ((evaluation.result?.Messages ?? []).length > 0) await proc.cu.undoLast();
    else proc.cu.maybeCheckpoint();
    return outputText(evaluation.result);
  }

  // ---- snapshots ----------------------------------------------------------------------------

  /** A copy of the process's memory (also becomes its rollback checkpoint). */
  async snapshot(pid: string): Promise<ProcessSnapshot> {
    this.assertOpen();
    const proc = this.proc(pid);
    const memory = proc.cu.checkpoint();
    return {
      pid,
      module: proc.module,
      memory,
      takenAt: this.clock.now,
      nonce: proc.nonce,
      lastTimestamp: proc.lastTimestamp,
      lastBlockHeight: proc.lastBlockHeight,
      ...(proc.cron.nextAt !== undefined ? { nextCronAt: proc.cron.nextAt } : {}),
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
    await proc.cu.restore(snapshot.memory, options.inPlace === true);
    if (options.rewind) {
      this.clock.now = snapshot.takenAt;
      proc.nonce = snapshot.nonce;
      proc.lastTimestamp = snapshot.lastTimestamp;
      proc.lastBlockHeight = snapshot.lastBlockHeight;
      if (snapshot.nextCronAt !== undefined) proc.cron.nextAt = snapshot.nextCronAt;
    }
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
    this.clock.now += this.msPerMessage;
    const msg = stamp(pending, proc, this.clock);
    const evaluation = await proc.cu.evaluate(msg);
    const logKind = kind ?? (pending.kind === 'cron' ? 'cron' : 'message');
    return this.record(proc, logKind, msg, evaluation, pending.cause, direct);
  }

  /** Logs an evaluation, then relays what it sent (a rolled-back one sent nothing). */
  private record(
    proc: Proc,
    kind: LogKind,
    msg: AoMessage,
    evaluation: Evaluation,
    cause: string | undefined,
    direct: boolean,
  ): LogEntry {
    const sent: string[] = [];
    const entry = evaluationEntry(this.entries.length, kind, msg, evaluation, cause, direct, sent);
    this.entries.push(entry);
    if (!evaluation.rolledBack && evaluation.result) {
      for (const out of evaluation.result.Messages ?? []) {
        const id = this.newId();
        this.enqueue(pushed(out, id, proc, this.muId, msg.Id));
        sent.push(id);
      }
    }
    return entry;
  }

  /** Queues a message to a process, or logs it as leaving the network. */
  private enqueue(pending: PendingMessage): void {
    if (this.procs.has(pending.target)) this.queue.push(pending);
    else
      this.entries.push(externalEntry(this.entries.length, pending, this.clock.now, this.clock.blockHeight));
  }
}
