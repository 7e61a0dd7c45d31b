/**
 * The CU's part of the local network: evaluating one process's messages in its ao-loader
 * instance, with a real CU's error semantics, by checkpoint and deterministic replay.
 *
 * ## Error semantics
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
 * ## How the rollback is done
 *
 * Measured on this machine (2 shared cores, Node 20, ao-loader 0.0.49):
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
import {
  type AoEnv,
  AoInstance,
  type AoMessage,
  type AoResult,
  type InstanceOptions,
  type MemorySnapshot,
  monotonicMs,
} from './loader.ts';
import { type ModuleKey, type ModuleSpec, moduleId, moduleSpec } from './modules.ts';
import { errorText, outputText, printedHandlerError } from './results.ts';
import type { AoTag } from './tags.ts';

/** The outcome of evaluating one message. */
export interface Evaluation {
  readonly result?: AoResult;
  readonly error?: string;
  /** handle() rejected (trap, abort, timeout). */
  readonly thrown: boolean;
  /** The message's effects were discarded. */
  readonly rolledBack: boolean;
}

/** Counters shared by every process of a network. */
export interface EvaluationStats {
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

export function emptyStats(): EvaluationStats {
  return {
    evaluations: 0,
    callMs: 0,
    checkpoints: 0,
    checkpointMs: 0,
    rollbacks: 0,
    replayedCalls: 0,
    rollbackMs: 0,
    freshInstances: 0,
  };
}

export interface EvaluationOptions {
  /** What rolls a message back; see the module comment. */
  readonly rollbackOn: 'raise' | 'error-field';
  /** Checkpoint when call time since the last checkpoint > factor × checkpoint cost. */
  readonly checkpointFactor: number;
  /** Compare replayed results with the recorded ones. */
  readonly verifyReplay: boolean;
  /** Observes every message handed to a module (not replays). */
  readonly onCall?: (pid: string, msg: AoMessage, env: AoEnv) => void;
}

/** The `env` a CU evaluates a process's messages with: the process and its module. */
export function processEnv(
  pid: string,
  owner: string,
  tags: AoTag[],
  module: ModuleKey,
  moduleOwner: string,
): AoEnv {
  const spec = moduleSpec(module);
  return {
    Process: { Id: pid, Owner: owner, Tags: tags },
    Module: {
      Id: moduleId(module),
      Owner: moduleOwner,
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
}

export class ReplayDivergenceError extends Error {
  override name = 'ReplayDivergenceError';
}

interface JournalEntry {
  readonly msg: AoMessage;
  readonly result: AoResult;
}

/** One process's instance, its checkpoint and the journal of calls since. */
export class ProcessEvaluator {
  readonly spec: ModuleSpec;
  /** null: the state of a fresh instance. */
  private checkpointMemory: MemorySnapshot | null = null;
  private journal: JournalEntry[] = [];
  private journalMs = 0;
  private checkpointCostMs: number;

  private constructor(
    readonly pid: string,
    readonly module: ModuleKey,
    readonly env: AoEnv,
    private instance: AoInstance,
    private readonly options: EvaluationOptions,
    private readonly stats: EvaluationStats,
  ) {
    this.spec = moduleSpec(module);
    this.checkpointCostMs = this.spec.checkpointCostEstimateMs;
  }

  /** A fresh instance of `module` for process `pid`. */
  static async start(
    pid: string,
    module: ModuleKey,
    env: AoEnv,
    instanceOptions: InstanceOptions,
    options: EvaluationOptions,
    stats: EvaluationStats,
  ): Promise<ProcessEvaluator> {
    const instance = await AoInstance.create(module, instanceOptions);
    stats.freshInstances += 1;
    return new ProcessEvaluator(pid, module, env, instance, options, stats);
  }

  get memoryBytes(): number {
    return this.instance.memoryBytes;
  }

  /** Runs one message; on failure rolls the process back. */
  async evaluate(msg: AoMessage, autoCheckpoint = true): Promise<Evaluation> {
    this.options.onCall?.(this.pid, msg, this.env);
    const outcome = await this.instance.call(msg, this.env);
    this.stats.evaluations += 1;
    this.stats.callMs += outcome.ms;
    if (!outcome.ok) {
      await this.rollback();
      return { error: outcome.error.message, thrown: true, rolledBack: true };
    }
    const result = outcome.result;
    let error: string | undefined;
    let rollback = false;
    if (result.Error !== undefined && result.Error !== null) {
      error = errorText(result.Error);
      rollback = true;
    } else if (outcome.memoryBytes > this.spec.memoryLimitBytes) {
      error = `memory limit exceeded: ${outcome.memoryBytes} > ${this.spec.memoryLimitBytes} bytes`;
      rollback = true;
    } else if (this.spec.handlerErrors === 'output-text') {
      error = printedHandlerError(outputText(result));
      rollback = error !== undefined && this.options.rollbackOn === 'raise';
    }
    if (rollback) {
      await this.rollback();
      return { result, ...(error !== undefined ? { error } : {}), thrown: false, rolledBack: true };
    }
    this.journal.push({ msg, result });
    this.journalMs += outcome.ms;
    if (autoCheckpoint) this.maybeCheckpoint();
    return { result, ...(error !== undefined ? { error } : {}), thrown: false, rolledBack: false };
  }

  /**
   * Runs one message and discards every effect, as a CU dry-run; the error is the one the
   * handler raised (or printed), if any.
   */
  async dryRun(msg: AoMessage): Promise<Evaluation> {
    if (this.journal.length > 0 && this.journalMs > this.checkpointCostMs) this.checkpoint();
    this.options.onCall?.(this.pid, msg, this.env);
    const outcome = await this.instance.call(msg, this.env);
    this.stats.evaluations += 1;
    this.stats.callMs += outcome.ms;
    await this.rollback();
    if (!outcome.ok) return { error: outcome.error.message, thrown: true, rolledBack: true };
    const result = outcome.result;
    const error =
      result.Error !== undefined && result.Error !== null
        ? errorText(result.Error)
        : this.spec.handlerErrors === 'output-text'
          ? printedHandlerError(outputText(result))
          : undefined;
    return { result, ...(error !== undefined ? { error } : {}), thrown: false, rolledBack: true };
  }

  /** Undoes the last evaluation that was kept (it must be the last call made). */
  async undoLast(): Promise<void> {
    this.journal.pop();
    await this.rollback();
  }

  /** Checkpoints when the calls since the last checkpoint cost enough (see the module comment). */
  maybeCheckpoint(): void {
    if (this.journalMs > this.options.checkpointFactor * this.checkpointCostMs) this.checkpoint();
  }

  /** Takes a checkpoint of the live memory now and returns it. */
  checkpoint(): MemorySnapshot {
    const t0 = monotonicMs();
    const memory = this.instance.snapshot();
    const ms = monotonicMs() - t0;
    this.checkpointMemory = memory;
    this.journal = [];
    this.journalMs = 0;
    this.checkpointCostMs = ms;
    this.stats.checkpoints += 1;
    this.stats.checkpointMs += ms;
    return memory;
  }

  /**
   * Puts `memory` in place: written into the instance (`inPlace`, when it is not broken) or in a
   * fresh instance started from it. It becomes the checkpoint.
   */
  async restore(memory: MemorySnapshot, inPlace: boolean): Promise<void> {
    if (inPlace && !this.instance.broken) {
      this.instance.restore(memory);
    } else {
      this.instance = await this.instance.fork(memory);
      this.stats.freshInstances += 1;
    }
    this.checkpointMemory = memory;
    this.journal = [];
    this.journalMs = 0;
  }

  /** Restores the checkpoint and replays the journal: the state before the failed call. */
  private async rollback(): Promise<void> {
    const t0 = monotonicMs();
    this.stats.rollbacks += 1;
    if (this.instance.broken || this.checkpointMemory === null) {
      this.instance = await this.instance.fork(this.checkpointMemory ?? undefined);
      this.stats.freshInstances += 1;
    } else {
      this.instance.restore(this.checkpointMemory);
    }
    for (const entry of this.journal) {
      const outcome = await this.instance.call(entry.msg, this.env);
      this.stats.replayedCalls += 1;
      if (!outcome.ok) {
        throw new ReplayDivergenceError(`replay of ${entry.msg.Id} threw: ${outcome.error.message}`);
      }
      if (this.options.verifyReplay && !sameResult(outcome.result, entry.result)) {
        throw new ReplayDivergenceError(
          `replay of ${entry.msg.Id} in ${this.pid} gave a different result than the original run`,
        );
      }
    }
    if (this.journal.length > 0) this.checkpoint();
    this.stats.rollbackMs += monotonicMs() - t0;
  }
}

function sameResult(a: AoResult, b: AoResult): boolean {
  return (
    JSON.stringify([a.Output, a.Messages, a.Spawns, a.Assignments, a.Error]) ===
    JSON.stringify([b.Output, b.Messages, b.Spawns, b.Assignments, b.Error])
  );
}
