/**
 * A worker thread of the parallel checker: it holds part of the frontier and expands it layer by
 * layer against the shared set of visited states; within a layer, it hands states it has not
 * begun to a thread that has run out, or takes some once it has (sharing.ts).
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { HerderState } from '../model/herder.ts';
import type { CheckBounds } from './bounds.ts';
import type { Node } from './environment.ts';
import { Explorer } from './explore.ts';
import { type FingerprintBuffers, SharedVisited } from './fingerprints.ts';
import { PackedFrontier, type PackedStates } from './frontier.ts';
import {
  Column,
  expandLayer,
  type Frontier,
  type LayerSink,
  type PendingViolation,
  timeStands,
} from './layer.ts';
import { type MemoryReading, RunLimits } from './limits.ts';
import { type Finding, stateFindings } from './predicates.ts';
import { type Shareable, WorkSharing } from './sharing.ts';

export interface ThreadSetup {
  readonly index: number;
  /** The words of work sharing within a layer (sharing.ts), in shared memory. */
  readonly sharing: Int32Array;
  readonly bounds: CheckBounds;
  readonly buffers: FingerprintBuffers;
  readonly keepGoing: boolean;
  readonly maxStates: number;
  /** The thread that starts from the initial state. */
  readonly seed: boolean;
  /** Symmetry reduction (encoding.ts). */
  readonly symmetry: boolean;
}

/** Frontier states moved to another thread, packed, with the number of events enabled at each. */
export interface MovedStates {
  readonly states: PackedStates;
  readonly events: Int32Array;
}

/** The buffers of moved states, transferred to the thread that takes them rather than copied. */
function buffersOf(moved: MovedStates): ArrayBuffer[] {
  const { words, starts, ids } = moved.states;
  return [words.buffer, starts.buffer, ids.buffer, moved.events.buffer] as ArrayBuffer[];
}

export type ToThread =
  | { readonly type: 'expand' }
  | { readonly type: 'attach'; readonly buffers: FingerprintBuffers }
  | { readonly type: 'finish' };

export type FromThread =
  | {
      readonly type: 'ready';
      readonly represented: number;
      readonly frontier: number;
      readonly bound: number;
      readonly pending: PendingViolation[];
    }
  | {
      readonly type: 'expanded';
      readonly transitions: number;
      readonly bySymmetry: number;
      readonly frontier: number;
      /** Events enabled over the whole new frontier: at most that many new states in the next layer. */
      readonly bound: number;
      readonly capped: boolean;
      /** When this thread's own JavaScript heap stopped it (limits.ts), the reading. */
      readonly heap?: MemoryReading;
      /** What the new states stand for: the sum of their orbits' sizes. */
      readonly represented: number;
      readonly pending: PendingViolation[];
    }
  | { readonly type: 'attached' }
  | {
      readonly type: 'finished';
      readonly edgeFrom: Int32Array;
      readonly edgeTo: Int32Array;
      readonly resolved: number[];
      readonly timeStands: number[];
    };

class ThreadSink implements LayerSink {
  transitions = 0;
  bySymmetry = 0;
  represented = 0;
  private ownCap = false;
  readonly edgeFrom = new Column(1 << 16);
  readonly edgeTo = new Column(1 << 16);
  readonly resolved: number[] = [];
  readonly timeStands: number[] = [];
  pending: PendingViolation[] = [];

  constructor(
    private readonly visited: SharedVisited,
    private readonly keepGoing: boolean,
  ) {}

  report(finding: Finding, at: number, event: number | undefined): void {
    if (this.pending.some((p) => p.finding.invariant === finding.invariant)) return;
    this.pending.push({ finding, at, event });
    if (!this.keepGoing) Atomics.store(this.visited.control, 1, 1);
  }

  stopped(): boolean {
    return Atomics.load(this.visited.control, 1) === 1;
  }

  /** This thread reached the state cap or its heap's limit, or the coordinator halted every thread. */
  get capped(): boolean {
    return this.ownCap || Atomics.load(this.visited.control, 2) === 1;
  }

  set capped(value: boolean) {
    this.ownCap = value;
  }
}

/**
 * A thread's frontier, packed (frontier.ts), with the number of events enabled at each state:
 * their sum bounds the states the next layer can add.
 */
class CountedFrontier implements Frontier, Shareable<MovedStates> {
  readonly events: number[] = [];
  bound = 0;
  private readonly packed: PackedFrontier;
  /** The last state rebuilt for expanding (states are expanded in order). */
  private reading = -1;

  constructor(
    private readonly explorer: Explorer,
    private readonly blank: HerderState['queue'],
  ) {
    this.packed = new PackedFrontier(explorer.workers, explorer.levels, blank);
  }

  get size(): number {
    return this.packed.size;
  }
  id(i: number): number {
    return this.packed.id(i);
  }
  node(i: number): Node {
    this.reading = i;
    return this.packed.node(i);
  }

  /** States after the one being expanded, not begun. */
  get left(): number {
    return this.size - this.reading - 1;
  }
  push(id: number, node: Node, events = this.explorer.enabled(node).length): void {
    this.packed.push(id, node);
    this.events.push(events);
    this.bound += events;
  }

  /** Takes the last `count` states out, packed, to move to another thread. */
  take(count: number): MovedStates {
    const from = this.size - count;
    const events = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      events[i] = this.events[from + i]!;
      this.bound -= events[i]!;
    }
    while (this.events.length > from) this.events.pop();
    return { states: this.packed.take(count), events };
  }

  /** Adds the states another thread's frontier took out. */
  adopt(moved: MovedStates): void {
    const { workers, levels } = this.explorer;
    const states = PackedFrontier.of(moved.states, workers, levels, this.blank);
    for (let i = 0; i < states.size; i++) this.push(states.id(i), states.node(i), moved.events[i]!);
  }
}

function run(
  setup: ThreadSetup,
  ports: readonly (MessagePort | undefined)[],
  port: NonNullable<typeof parentPort>,
): void {
  const explorer = new Explorer(setup.bounds, undefined, `t${setup.index}`, setup.symmetry);
  const visited = new SharedVisited(setup.buffers);
  const blank = explorer.initial().state.queue;
  const sink = new ThreadSink(visited, setup.keepGoing);
  const heap = new RunLimits({}, performance.now());
  let frontier = new CountedFrontier(explorer, blank);
  const sharing = new WorkSharing<MovedStates>(setup.sharing, setup.index, ports, buffersOf);
  const send = (message: FromThread, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

  if (setup.seed) {
    const root = explorer.initial();
    const print = explorer.fingerprint(root);
    visited.visit(print.hi, print.lo, -1, -1);
    sink.represented += print.orbit;
    if (root.state.requests.size === 0) sink.resolved.push(0);
    else if (timeStands(root)) sink.timeStands.push(0);
    for (const finding of stateFindings(root.state)) sink.report(finding, 0, undefined);
    frontier.push(0, root);
  }
  send({
    type: 'ready',
    represented: sink.represented,
    frontier: frontier.size,
    bound: frontier.bound,
    pending: sink.pending,
  });
  sink.pending = [];
  sink.represented = 0;

  port.on('message', (message: ToThread) => {
    switch (message.type) {
      case 'expand': {
        const before = sink.transitions;
        const beforeBySymmetry = sink.bySymmetry;
        const next = new CountedFrontier(explorer, blank);
        let current = frontier;
        const stopping = () => sink.stopped() || sink.capped;
        const afterNode = () => {
          // Each thread has a heap of its own, which only it can measure.
          if (heap.exceeded(performance.now())) sink.capped = true;
          sharing.serve(current, stopping());
        };
        expandLayer(explorer, current, next, visited, sink, setup.maxStates, afterNode);
        // Then states taken from threads still expanding theirs, while one has some to give.
        let moved = sharing.takeMore(current, stopping());
        while (moved !== undefined) {
          current = new CountedFrontier(explorer, blank);
          current.adopt(moved);
          expandLayer(explorer, current, next, visited, sink, setup.maxStates, afterNode);
          moved = sharing.takeMore(current, stopping());
        }
        frontier = next;
        send({
          type: 'expanded',
          transitions: sink.transitions - before,
          bySymmetry: sink.bySymmetry - beforeBySymmetry,
          frontier: frontier.size,
          bound: frontier.bound,
          capped: sink.capped,
          ...(heap.reached === undefined ? {} : { heap: heap.memory }),
          represented: sink.represented,
          pending: sink.pending,
        });
        sink.pending = [];
        sink.represented = 0;
        return;
      }
      case 'attach':
        visited.attach(message.buffers);
        send({ type: 'attached' });
        return;
      case 'finish': {
        const edgeFrom = sink.edgeFrom.values();
        const edgeTo = sink.edgeTo.values();
        send({ type: 'finished', edgeFrom, edgeTo, resolved: sink.resolved, timeStands: sink.timeStands }, [
          edgeFrom.buffer as ArrayBuffer,
          edgeTo.buffer as ArrayBuffer,
        ]);
        for (const p of ports) p?.close();
        return;
      }
    }
  });
}

if (parentPort !== null && workerData?.checkerThread)
  run(workerData.setup as ThreadSetup, workerData.ports as (MessagePort | undefined)[], parentPort);
