/**
 * The checker on several threads. Each worker thread holds part of the frontier and expands it;
 * the set of visited states is shared (fingerprints.ts), so a state reached by two threads is
 * still expanded once. Layers stay synchronous: the coordinator starts a layer on every thread,
 * waits for all, and grows the shared table if the next layer could overfill it. Within a layer
 * the threads share the work (sharing.ts): one that has expanded its own states takes some from
 * one still expanding, so that all finish together. Traces and the liveness pass (bounded-response
 * on every path, liveness.ts) then run here, on the graph gathered from every thread, exactly as
 * in the single-threaded checker.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import type { CheckBounds } from './bounds.ts';
import {
  type CheckOptions,
  type CheckResult,
  type ExploredGraph,
  finishCheck,
  stopReason,
} from './explore.ts';
import { allocateFingerprints, SharedVisited, sharedCapacity, slotsFor } from './fingerprints.ts';
import { Column, type PendingViolation } from './layer.ts';
import { describeLimit, type MemoryReading, RunLimits } from './limits.ts';
import { resetSharing, sharingWords } from './sharing.ts';
import type { FromThread, ThreadSetup, ToThread } from './thread.ts';

/** Source of a worker thread: registers the TypeScript loader, then runs thread.ts. */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.loader)
  .then(({ register }) => { register(); return import(workerData.entry); })
  .catch((err) => { setTimeout(() => { throw err; }); });
`;

class ThreadHandle {
  private readonly waiting: { resolve: (message: FromThread) => void; reject: (err: Error) => void }[] = [];
  private failure: Error | undefined;

  constructor(readonly worker: Worker) {
    worker.on('message', (message: FromThread) => this.waiting.shift()?.resolve(message));
    worker.on('error', (err) => {
      this.failure = err;
      for (const { reject } of this.waiting.splice(0)) reject(err);
    });
  }

  /** The next message from the thread, which must be of `type`. */
  next<T extends FromThread['type']>(type: T): Promise<Extract<FromThread, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.waiting.push({
        resolve: (message) => {
          if (message.type === type) resolve(message as Extract<FromThread, { type: T }>);
          else reject(new Error(`checker thread sent ${message.type}, expected ${type}`));
        },
        reject,
      });
    });
  }

  send(message: ToThread): void {
    this.worker.postMessage(message);
  }
}

/** Joins the threads' columns into one. */
function joined(parts: readonly Int32Array[]): Column {
  const column = new Column(
    Math.max(
      1,
      parts.reduce((n, p) => n + p.length, 0),
    ),
  );
  for (const part of parts) {
    column.data.set(part, column.length);
    column.length += part.length;
  }
  return column;
}

/** Explores like `check`, on `threads` worker threads. Only the model itself (no variants). */
export async function checkInParallel(
  bounds: CheckBounds,
  options: Omit<CheckOptions, 'herder'> & { readonly threads: number },
): Promise<CheckResult> {
  const started = performance.now();
  const symmetry = options.symmetry ?? true;
  const maxStates = options.maxStates ?? 20_000_000;
  const limits = new RunLimits(options, started);
  let buffers = allocateFingerprints(1 << 16);
  const visited = new SharedVisited(buffers);
  const require = createRequire(import.meta.url);
  const loader = pathToFileURL(require.resolve('tsx/esm/api').replace(/index\.cjs$/, 'index.mjs')).href;
  const entry = new URL('./thread.ts', import.meta.url).href;
  const threads: ThreadHandle[] = [];
  const sharing = sharingWords(options.threads);
  // A direct channel between every pair of threads, for moving states without going through here.
  const ports: (MessagePort | undefined)[][] = Array.from({ length: options.threads }, () => []);
  for (let i = 0; i < options.threads; i++)
    for (let j = i + 1; j < options.threads; j++) {
      const channel = new MessageChannel();
      ports[i]![j] = channel.port1;
      ports[j]![i] = channel.port2;
    }
  for (let i = 0; i < options.threads; i++) {
    const setup: ThreadSetup = {
      index: i,
      bounds,
      buffers,
      keepGoing: options.keepGoing === true,
      maxStates,
      seed: i === 0,
      sharing,
      symmetry,
    };
    const own = ports[i]!;
    const worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: { checkerThread: true, setup, loader, entry, ports: own },
      transferList: own.filter((p): p is MessagePort => p !== undefined),
    });
    threads.push(new ThreadHandle(worker));
  }
  try {
    const pending: PendingViolation[] = [];
    const frontier: number[] = [];
    const bound: number[] = [];
    const ready = await Promise.all(threads.map((t) => t.next('ready')));
    let represented = 0;
    ready.forEach((r, i) => {
      represented += r.represented;
      frontier[i] = r.frontier;
      bound[i] = r.bound;
      pending.push(...r.pending);
    });
    const seen = new Set(pending.map((p) => p.finding.invariant));
    let transitions = 0;
    let bySymmetry = 0;
    let depth = 0;
    let capped = false;
    let threadHeap: MemoryReading | undefined;
    const stopped = () => pending.length > 0 && options.keepGoing !== true;
    while (frontier.some((n) => n > 0) && !stopped()) {
      // Room for every state the layer could add (fingerprints.ts).
      const needed = visited.count + bound.reduce((a, b) => a + b, 0);
      if (needed > sharedCapacity(visited.slots)) {
        buffers = visited.grow(slotsFor(needed));
        visited.attach(buffers);
        for (const t of threads) t.send({ type: 'attach', buffers });
        await Promise.all(threads.map((t) => t.next('attached')));
      }
      resetSharing(sharing);
      for (const t of threads) t.send({ type: 'expand' });
      // Time and memory are measured here while the threads expand; a limit halts them all.
      const progress = setInterval(() => {
        if (limits.exceeded(performance.now())) Atomics.store(visited.control, 2, 1);
        options.onProgress?.({
          states: visited.count,
          transitions,
          depth,
          frontier: frontier.reduce((a, b) => a + b, 0),
          seconds: (performance.now() - started) / 1000,
        });
      }, 250);
      const results = await Promise.all(threads.map((t) => t.next('expanded'))).finally(() =>
        clearInterval(progress),
      );
      results.forEach((r, i) => {
        transitions += r.transitions;
        bySymmetry += r.bySymmetry;
        represented += r.represented;
        frontier[i] = r.frontier;
        bound[i] = r.bound;
        capped ||= r.capped;
        threadHeap ??= r.heap;
        for (const p of r.pending)
          if (!seen.has(p.finding.invariant)) {
            seen.add(p.finding.invariant);
            pending.push(p);
          }
      });
      if (limits.exceeded(performance.now())) capped = true;
      if (capped) break;
      if (frontier.some((n) => n > 0)) depth++;
    }
    for (const t of threads) t.send({ type: 'finish' });
    const finished = await Promise.all(threads.map((t) => t.next('finished')));
    const states = visited.count;
    const graph: ExploredGraph = {
      states,
      parent: joined([visited.parent.subarray(0, states)]),
      via: joined([visited.via.subarray(0, states)]),
      edgeFrom: joined(finished.map((f) => f.edgeFrom)),
      edgeTo: joined(finished.map((f) => f.edgeTo)),
      resolved: finished.flatMap((f) => f.resolved),
      timeStands: finished.flatMap((f) => f.timeStands),
    };
    return finishCheck(bounds, undefined, graph, pending, {
      transitions,
      bySymmetry,
      depth,
      complete: !capped && !stopped(),
      stoppedBy: capped ? parallelStopReason(limits, threadHeap, { ...options, maxStates }) : undefined,
      started,
      symmetry,
      represented,
      // The shared table (fingerprint, id; parent, event) and every thread's edges.
      bytes: 12 * visited.slots + 8 * sharedCapacity(visited.slots) + 8 * graph.edgeFrom.length,
    });
  } finally {
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }
}

/** The limit a capped parallel run reached: the coordinator's measures, a thread's heap, or the state cap. */
function parallelStopReason(
  limits: RunLimits,
  threadHeap: MemoryReading | undefined,
  options: CheckOptions,
): CheckResult['stoppedBy'] {
  if (limits.reached === undefined && threadHeap !== undefined)
    return {
      limit: 'heap',
      reason: describeLimit('heap', threadHeap, options, "a checker thread's JavaScript heap"),
    };
  return stopReason(limits, options);
}
