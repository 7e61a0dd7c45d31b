/**
 * Where `herd verify` runs its traces: in this thread (one herder), and on worker threads beside
 * it, each with its own booted herder (thread.ts). Either way a trace's outcome depends on the trace
 * alone (session.ts), so which thread runs it, and in what order, changes nothing but the time.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { AoEvalError } from '../ao/network.ts';
import type { TraceSpec } from './scenario.ts';
import { HerderSession, type SessionSetup, type TraceOutcome } from './session.ts';
import type { FromVerifyThread, ThreadError, ToVerifyThread } from './thread.ts';

interface TraceExecutor {
  /**
   * Runs a trace from the booted herder; calls may overlap (they are queued). A speculative run
   * (one that may turn out not to be needed) waits until no other is waiting.
   */
  run(spec: TraceSpec, speculative?: boolean): Promise<TraceOutcome>;
  /** A speculative run of this very spec object turned out to be needed: it goes first. */
  promote(spec: TraceSpec): void;
  close(): Promise<void>;
}

/** Source of a worker thread: registers the TypeScript loader, then runs thread.ts. */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.loader)
  .then(({ register }) => { register(); return import(workerData.entry); })
  .catch((err) => { setTimeout(() => { throw err; }); });
`;

/** Traces sent ahead to a thread at most: one running, the others waiting there. */
const AHEAD = 4;

interface Job {
  readonly id: number;
  readonly spec: TraceSpec;
  readonly resolve: (outcome: TraceOutcome) => void;
  readonly reject: (err: Error) => void;
}

/**
 * Herders that run traces: one in this thread and one in each of `threads - 1` worker threads. A
 * trace goes to the first herder free; this thread's starts at once, the threads' as soon as each
 * has loaded the code and booted its herder.
 */
class TracePool implements TraceExecutor {
  private readonly queue: Job[] = [];
  private readonly speculative: Job[] = [];
  /** Threads ready for work, and the traces sent to each, oldest first. */
  private readonly ready: Worker[] = [];
  private readonly running = new Map<Worker, Job[]>();
  private local: HerderSession | undefined;
  private localBusy = false;
  private failure: Error | undefined;
  private closing = false;
  private nextId = 0;

  private constructor(private readonly workers: Worker[]) {}

  /** Boots the herder of this thread (its error, e.g. an AoEvalError, is thrown) and starts the threads. */
  static async start(setup: SessionSetup, threads: number): Promise<TracePool> {
    const workers: Worker[] = [];
    if (threads > 1) {
      const require = createRequire(import.meta.url);
      const loader = pathToFileURL(require.resolve('tsx/esm/api').replace(/index\.cjs$/, 'index.mjs')).href;
      const entry = new URL('./thread.ts', import.meta.url).href;
      for (let i = 1; i < threads; i++)
        workers.push(
          new Worker(BOOTSTRAP, { eval: true, workerData: { verifyThread: true, setup, loader, entry } }),
        );
    }
    const pool = new TracePool(workers);
    for (const worker of workers) pool.attach(worker);
    try {
      pool.local = await HerderSession.boot(setup);
    } catch (err) {
      await pool.close();
      throw err;
    }
    pool.pump();
    return pool;
  }

  private attach(worker: Worker): void {
    let ready = false;
    worker.on('message', (message: FromVerifyThread) => {
      if (message.type === 'ready') {
        ready = true;
        this.ready.push(worker);
        this.running.set(worker, []);
      } else if (message.type === 'boot-failed') {
        this.fail(fromThread(message.error));
        return;
      } else {
        const job = this.running.get(worker)?.shift();
        if (job?.id === message.id) {
          if (message.type === 'done') job.resolve(message.outcome);
          else job.reject(fromThread(message.error));
        }
      }
      this.pump();
    });
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => {
      if (!ready || (this.running.get(worker)?.length ?? 0) > 0)
        this.fail(new Error(`a verify thread exited (code ${code}) before finishing its work`));
    });
  }

  run(spec: TraceSpec, speculative = false): Promise<TraceOutcome> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      (speculative ? this.speculative : this.queue).push({ id: this.nextId++, spec, resolve, reject });
      this.pump();
    });
  }

  promote(spec: TraceSpec): void {
    const at = this.speculative.findIndex((job) => job.spec === spec);
    if (at >= 0) this.queue.push(...this.speculative.splice(at, 1));
  }

  /** The next trace to hand out: the oldest one needed, else the oldest speculative one. */
  private next(): Job | undefined {
    return this.queue.shift() ?? this.speculative.shift();
  }

  /**
   * Hands out waiting traces: to this thread's herder when it is free, else to the thread with
   * the fewest, up to {@link AHEAD} each, so that a thread rarely waits while this one runs a
   * trace (a trace here holds this thread: the threads' answers are read only between two).
   */
  private pump(): void {
    while (!this.closing && this.queue.length + this.speculative.length > 0) {
      if (this.local && !this.localBusy) {
        const job = this.next()!;
        const local = this.local;
        this.localBusy = true;
        // Not at once: a trace here never yields to the event loop (its awaits are all settled
        // at once), so without this a search running here would starve the threads' answers.
        setImmediate(() =>
          local
            .run(job.spec)
            .then(job.resolve, job.reject)
            .finally(() => {
              this.localBusy = false;
              this.pump();
            }),
        );
        continue;
      }
      let worker: Worker | undefined;
      for (const w of this.ready)
        if (this.running.get(w)!.length < (worker ? this.running.get(worker)!.length : AHEAD)) worker = w;
      if (!worker) return;
      const job = this.next()!;
      this.running.get(worker)!.push(job);
      const message: ToVerifyThread = { type: 'run', id: job.id, spec: job.spec };
      worker.postMessage(message);
    }
  }

  /** A thread failed: every trace waiting or running there fails with it. */
  private fail(err: Error): void {
    if (this.closing) return;
    this.failure ??= err;
    const waiting = [...this.queue.splice(0), ...this.speculative.splice(0)];
    for (const job of [...[...this.running.values()].flat(), ...waiting]) job.reject(err);
    this.running.clear();
    this.ready.length = 0;
  }

  /**
   * Stops the threads and this thread's herder. Traces still waiting are dropped unrun: by now
   * they are speculative ones no search asked for (or the run failed and no one waits for them).
   */
  async close(): Promise<void> {
    this.closing = true;
    this.queue.length = 0;
    this.speculative.length = 0;
    await Promise.all(this.workers.map((worker) => worker.terminate()));
    this.local?.close();
  }
}

/** Starts where the traces run: this thread, and `threads - 1` worker threads beside it. */
export function startExecutor(setup: SessionSetup, threads: number): Promise<TraceExecutor> {
  return TracePool.start(setup, threads);
}

function fromThread(error: ThreadError): Error {
  const err =
    error.name === 'AoEvalError' && error.pid !== undefined && error.luaError !== undefined
      ? new AoEvalError(error.pid, error.luaError)
      : Object.assign(new Error(error.message), { name: error.name });
  if (error.stack !== undefined) err.stack = error.stack;
  return err;
}
