/**
 * Exhaustive, breadth-first exploration of every state the herder can reach within the bounds.
 *
 * Each distinct abstract state (abstraction.ts), or with symmetry reduction each orbit of states
 * that differ only by a renaming of workers (encoding.ts), is expanded once; every transition is
 * checked (predicates.ts). A transition is stepped in one scratch state, restored from its
 * parent first (restoreHerderState reuses the scratch's objects, where a copy per transition
 * allocated a whole state); a frontier copies what it keeps. Breadth-first order makes the first
 * violation found one with a shortest trace: the reduction keeps distances, since renamed states
 * have renamed successors.
 * What is kept of a state once expanded is its 64-bit fingerprint, the state it was first
 * reached from and by which event, and its edges (fingerprints.ts): traces are rebuilt by
 * replaying events from the initial state, each stored state being the successor of its parent
 * by its event (up to how request ids are spelled). Whole states live only on the frontier,
 * packed (frontier.ts).
 * After a complete exploration, liveness over the explored graph (liveness.ts): bounded-response
 * on every path (no reachable behaviour that lets time advance keeps a request pending forever),
 * and, the weaker some-path form, that from every state some sequence of events still ends every
 * accepted request.
 */
import type { InvariantName } from '../audit/invariants.ts';
import type { HerdConfig } from '../model/config.ts';
import type { StepEvent } from '../model/events.ts';
import { compareMultipliers, type Multiplier, neededFee } from '../model/fees.ts';
import {
  cloneHerderState,
  type HerderState,
  type HerderStepper,
  initialHerderState,
  type RequestRecord,
  restoreHerderState,
  stepInPlace,
} from '../model/herder.ts';
import type { AoMessage, OutMessage } from '../model/messages.ts';
import type { Mutable } from '../model/mutable.ts';
import { RequestQueue } from '../model/queue.ts';
import { AbstractionError, clockwork, normalize } from './abstraction.ts';
import { type CheckBounds, checkerConfig, PROMPT, payment, TIMEOUT, TOKENS } from './bounds.ts';
import { NodeEncoder } from './encoding.ts';
import {
  advanceClock,
  type CheckEvent,
  EventTable,
  enabledEvents,
  Ids,
  messageFor,
  type Node,
} from './environment.ts';
import { FingerprintSet } from './fingerprints.ts';
import { PackedFrontier } from './frontier.ts';
import {
  Column,
  deadlineFinding,
  expandLayer,
  type Frontier,
  type Explorer as LayerExplorer,
  type LayerSink,
  NodeList,
  type PendingViolation,
  timeStands,
} from './layer.ts';
import { describeLimit, type Limit, RunLimits } from './limits.ts';
import { analyseLiveness, type Cycle } from './liveness.ts';
import {
  CHECKED_INVARIANTS,
  type Finding,
  NOTHING_FOUND,
  stateFindings,
  transitionFindings,
} from './predicates.ts';
import { describeStep, describeStepEvent, type TraceStep } from './trace.ts';

/**
 * The model's initial state with a small request queue. Behaviour is the same at any capacity (the
 * queue compacts when it fills); with room for 4 arrivals its trees are small enough for V8 to
 * allocate on the JS heap, which makes every copy several times cheaper.
 */
export function initialCheckState(
  config: HerdConfig,
  order: (a: Multiplier, b: Multiplier) => number = compareMultipliers,
): HerderState {
  return { ...initialHerderState(config, order), queue: new RequestQueue<RequestRecord>(order, 4) };
}

/** The model as the checker explores it (its small-queue initial state). */
export const MODEL_HERDER: HerderStepper = {
  name: 'model',
  init: (config) => initialCheckState(config),
  step: (state, msg, events) => stepInPlace(state, msg, events),
};

export interface CheckOptions {
  readonly herder?: HerderStepper;
  /** Stop after this many distinct states (the result is then incomplete). Default 20,000,000. */
  readonly maxStates?: number;
  /** Keep exploring after a violation, to report the first violation of every invariant. */
  readonly keepGoing?: boolean;
  /** Symmetry reduction: states that differ only by a renaming of workers are one (default on). */
  readonly symmetry?: boolean;
  /** Layers of at least this many states are kept packed (default 0: every one; Infinity: none). */
  readonly packFrom?: number;
  /** Stop after about this many seconds of exploring (the result is then incomplete). */
  readonly maxSeconds?: number;
  /**
   * Stop once the process's resident memory reaches this many bytes (the result is then
   * incomplete). A run also stops before the JavaScript heap runs out (limits.ts).
   */
  readonly maxMemory?: number;
  /** Called about every quarter second while exploring. */
  readonly onProgress?: (progress: Progress) => void;
}

export interface Progress {
  readonly states: number;
  readonly transitions: number;
  readonly depth: number;
  readonly frontier: number;
  readonly seconds: number;
}

export interface Violation {
  readonly invariant: InvariantName;
  readonly detail: string;
  /** The shortest sequence of events that reaches it; the last step is the violating one. */
  readonly trace: TraceStep[];
  /**
   * For a violation that is a behaviour going on forever (bounded-response): the index in `trace`
   * where the cycle begins; the steps from there on repeat forever.
   */
  readonly loop?: number;
}

export interface CheckResult {
  readonly herder: string;
  readonly bounds: CheckBounds;
  readonly states: number;
  /** Every event enabled at every state explored. */
  readonly transitions: number;
  /**
   * Of `transitions`, those not stepped: with symmetry reduction an event of a worker
   * interchangeable with an earlier one leads where that one's same event does (explore.ts).
   */
  readonly bySymmetry: number;
  /** Length of the longest shortest path from the initial state. */
  readonly depth: number;
  /** Wall-clock time of the whole check: exploration, liveness, traces. */
  readonly seconds: number;
  readonly statesPerSecond: number;
  /** Every reachable state was explored (no violation stopped it, no limit was reached). */
  readonly complete: boolean;
  /** The limit that stopped an incomplete run, and why in words (none: complete, or a violation stopped it). */
  readonly stoppedBy: { readonly limit: Limit; readonly reason: string } | undefined;
  /** Whether states were reduced by symmetry (then `states` counts orbits). */
  readonly symmetry: boolean;
  /**
   * How many states the explored ones stand for: with symmetry reduction, the sum of the sizes
   * of their orbits (an unreduced run explores those of them that are reachable); without, `states`.
   */
  readonly represented: number;
  /** Bytes the graph needs per distinct state: fingerprint table, parent pointer, edges. */
  readonly bytesPerState: number;
  readonly invariants: readonly InvariantName[];
  readonly violations: Violation[];
  /** States from which no sequence of events ends every live request (only after a complete run). */
  readonly stuck: { readonly states: number; readonly trace: TraceStep[] } | undefined;
  /** Whether the liveness pass ran (it needs a complete exploration), and its time in seconds. */
  readonly liveness: { readonly seconds: number } | undefined;
}

/** Everything needed to step one node, shared by exploration and trace replay. */
export class Explorer implements LayerExplorer {
  readonly config: HerdConfig;
  readonly table: EventTable;
  readonly clock: ReturnType<typeof clockwork>;
  readonly workers: readonly string[];
  readonly ids: Ids;
  /** Names states (their orbits, with symmetry reduction) by fingerprint. */
  readonly encoder: NodeEncoder;
  /** Names states exactly, never reduced. */
  readonly exact: NodeEncoder;
  /** The multipliers of the payment levels (level 0: underpaid). */
  readonly levels: readonly Multiplier[];

  constructor(
    readonly bounds: CheckBounds,
    readonly herder: HerderStepper = MODEL_HERDER,
    idSuffix = '',
    readonly symmetry = false,
  ) {
    this.ids = new Ids(idSuffix);
    this.config = checkerConfig(bounds);
    this.table = new EventTable(bounds);
    this.workers = this.table.workers;
    this.clock = clockwork(TIMEOUT, bounds.workers + bounds.requests);
    const needed = neededFee(this.config, TOKENS, PROMPT);
    const levels = Array.from(
      { length: bounds.levels + 1 },
      (_, level): Multiplier => ({
        paid: payment(bounds, this.config, level),
        needed,
      }),
    );
    this.levels = levels;
    const context = {
      workers: this.workers,
      ownerActions: bounds.ownerActions,
      requests: bounds.requests,
      levels,
      answersWhenTimedOut: bounds.lateAnswers || bounds.spoofs,
    };
    this.exact = new NodeEncoder({ ...context, symmetry: false }, this.clock);
    this.encoder = symmetry ? new NodeEncoder({ ...context, symmetry: true }, this.clock) : this.exact;
    this.timeEvents = Uint8Array.from(this.table.events, (e) => (e.kind === 'time' ? 1 : 0));
  }

  initial(): Node {
    const state = this.herder.init(this.config);
    normalize(state, this.clock);
    return { state, clock: this.clock.now, sent: 0 };
  }

  /** The node's name as a string: its orbit's with symmetry reduction. */
  key(node: Node): string {
    return this.encoder.key(node);
  }

  /** The node's exact name, never reduced. */
  exactKey(node: Node): string {
    return this.exact.key(node);
  }

  fingerprint(node: Node): NodeEncoder {
    return this.encoder.fingerprint(node);
  }

  /**
   * The successor of `node` under event `index`, with what the transition broke. Throws only when
   * the abstraction itself fails; a herder that throws is a bad-input-safe finding. With `events`,
   * the herder's step appends what it did (traces ask for them; exploring does not).
   */
  successor(
    node: Node,
    index: number,
    events?: StepEvent[],
    inScratch = false,
  ): { node: Node; msg?: AoMessage; outbox: OutMessage[]; findings: Finding[] } {
    const event = this.table.events[index]!;
    if (event.kind === 'time') {
      const clock = advanceClock(node, event.to, this.clock);
      if (!inScratch)
        return { node: { state: node.state, clock, sent: node.sent }, outbox: [], findings: [] };
      // The parent's own state, unchanged: a frontier copies what it keeps.
      return this.result(node.state, clock, node.sent, undefined, NOTHING_SENT, NOTHING_FOUND);
    }
    const msg = messageFor(node, event, this.bounds, this.config, this.ids)!;
    const state = inScratch ? this.scratchFrom(node.state) : cloneHerderState(node.state);
    let outbox: OutMessage[];
    try {
      outbox = this.herder.step(state, msg, events);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const finding: Finding = { invariant: 'bad-input-safe', detail: `the handler threw: ${reason}` };
      return { node, msg, outbox: [], findings: [finding] };
    }
    const findings = transitionFindings(node.state, msg, event, outbox, state);
    normalize(state, this.clock);
    const sent = node.sent + (event.kind === 'credit' ? 1 : 0);
    // A list of the caller's own (traces append to it): what was found may be the shared empty one.
    if (!inScratch)
      return { node: { state, clock: this.clock.now, sent }, msg, outbox, findings: [...findings] };
    return this.result(state, this.clock.now, sent, msg, outbox, findings);
  }

  /** A transition's result in scratch, as short-lived as its state: one object serves every transition. */
  private result(
    state: HerderState,
    clock: number,
    sent: number,
    msg: AoMessage | undefined,
    outbox: OutMessage[],
    findings: Finding[],
  ): ReturnType<Explorer['successor']> {
    const stepped = this.stepped;
    stepped.node.state = state;
    stepped.node.clock = clock;
    stepped.node.sent = sent;
    stepped.msg = msg;
    stepped.outbox = outbox;
    stepped.findings = findings;
    return stepped;
  }

  private readonly stepped: {
    node: Mutable<Node>;
    msg?: AoMessage;
    outbox: OutMessage[];
    findings: Finding[];
  } = {
    node: { state: undefined as unknown as HerderState, clock: 0, sent: 0 },
    outbox: [],
    findings: [],
  };

  /**
   * {@link successor} stepped in the explorer's one scratch state, restored from `node`'s first:
   * the result, its state too, is valid until the next call (a frontier copies what it keeps).
   */
  transition(node: Node, index: number): ReturnType<Explorer['successor']> {
    return this.successor(node, index, undefined, true);
  }

  private scratch: HerderState | undefined;

  private scratchFrom(source: HerderState): HerderState {
    if (this.scratch === undefined) this.scratch = cloneHerderState(source);
    else restoreHerderState(this.scratch, source);
    return this.scratch;
  }

  enabled(node: Node): number[] {
    return enabledEvents(node, this.table, this.clock);
  }

  /**
   * The enabled events less, with symmetry reduction, every event of a worker that has a twin
   * before it (`NodeEncoder.twinOf`): it leads to the orbit the twin's same event leads to, and
   * that event is enabled too and stepped first, so no state is first reached by one left out
   * (parents stay as they were) and the edge it would add is already there.
   */
  expansion(node: Node): number[] {
    const events = this.enabled(node);
    this.leftOut = 0;
    if (!this.encoder.mayHaveTwins(node.state)) return events;
    this.encoder.encode(node);
    let kept = 0;
    for (const index of events) {
      const w = this.table.workerOf[index]!;
      if (w >= 0 && this.encoder.twinOf(w) !== w) this.leftOut++;
      else events[kept++] = index;
    }
    events.length = kept;
    return events;
  }

  /** How many enabled events the last {@link expansion} left out. */
  leftOut = 0;

  event(index: number): CheckEvent {
    return this.table.events[index]!;
  }

  /** Whether event `index` moves the clock (a time event). */
  advancesTime(index: number): boolean {
    return this.timeEvents[index] === 1;
  }

  private readonly timeEvents = new Uint8Array(0);
}

/** A time event's outbox in scratch: none (shared, never written). */
const NOTHING_SENT: OutMessage[] = [];

/**
 * Layers of this many states or more are kept packed (frontier.ts): a few hundred bytes a state
 * instead of a few kilobytes. Every layer is, the first too: besides the memory, the model's code
 * then meets states of one shape. Stepping whole states (each a copy of another) as well as rebuilt
 * ones made V8 drop its optimized code for being fed objects of another layout, ~150 times a run,
 * and the 2 × 4 failures + timeouts space took 3.5 s instead of 2.6 s (`packFrom: 4096`, measured).
 */
const PACK_FROM = 0;

/** Explores every reachable state within `bounds` and checks every invariant on the way. */
export function check(bounds: CheckBounds, options: CheckOptions = {}): CheckResult {
  const symmetry = options.symmetry ?? true;
  const explorer = new Explorer(bounds, options.herder, '', symmetry);
  const maxStates = options.maxStates ?? 20_000_000;
  const started = performance.now();
  const limits = new RunLimits(options, started);
  const visited = new FingerprintSet();
  const sink = new SingleSink(options.keepGoing === true);

  const root = explorer.initial();
  const print = explorer.fingerprint(root);
  visited.visit(print.hi, print.lo, -1, -1);
  sink.represented += print.orbit;
  if (root.state.requests.size === 0) sink.resolved.push(0);
  else if (timeStands(root)) sink.timeStands.push(0);
  for (const finding of stateFindings(root.state)) sink.report(finding, 0, undefined);

  // Packed (frontier.ts) unless `packFrom` keeps small layers whole (tests compare the two).
  const layer = (size: number): Frontier =>
    size < (options.packFrom ?? PACK_FROM)
      ? new NodeList()
      : new PackedFrontier(explorer.workers, explorer.levels, blank);
  const blank = root.state.queue;
  let frontier = layer(1);
  frontier.push(0, root);
  let depth = 0;
  let lastReport = started;
  while (frontier.size > 0 && !sink.stopped()) {
    const next = layer(frontier.size);
    expandLayer(explorer, frontier, next, visited, sink, maxStates, () => {
      const now = performance.now();
      if (limits.exceeded(now)) sink.capped = true;
      if (!options.onProgress) return;
      if (now - lastReport < 250) return;
      lastReport = now;
      options.onProgress({
        states: visited.count,
        transitions: sink.transitions,
        depth,
        frontier: frontier.size,
        seconds: (now - started) / 1000,
      });
    });
    if (sink.capped) break;
    if (next.size > 0) depth++;
    frontier = next;
  }
  // Stopped by a violation or by the cap: some states were never expanded.
  const complete = !sink.capped && !sink.stopped();
  const graph: ExploredGraph = {
    states: visited.count,
    parent: visited.parent,
    via: visited.via,
    edgeFrom: sink.edgeFrom,
    edgeTo: sink.edgeTo,
    resolved: sink.resolved,
    timeStands: sink.timeStands,
  };
  const bytes = visited.bytes + 8 * sink.edgeFrom.length;
  visited.clear();
  return finishCheck(bounds, options.herder, graph, sink.pending, {
    transitions: sink.transitions,
    bySymmetry: sink.bySymmetry,
    depth,
    complete,
    stoppedBy: sink.capped ? stopReason(limits, options) : undefined,
    started,
    symmetry,
    represented: sink.represented,
    bytes,
  });
}

/** What an exploration leaves behind for liveness and traces. */
export interface ExploredGraph {
  readonly states: number;
  /** Per state: the state it was first reached from (-1 for the initial state), and by which event. */
  readonly parent: Column;
  readonly via: Column;
  /** Transitions between distinct states, and time-advancing self-loops (targets encoded, liveness.ts). */
  readonly edgeFrom: Column;
  readonly edgeTo: Column;
  /** States where no request is live. */
  readonly resolved: readonly number[];
  /** States with a live request and none running. */
  readonly timeStands: readonly number[];
}

/** Traces for the violations found, the liveness check when the exploration was complete, the result. */
export function finishCheck(
  bounds: CheckBounds,
  herder: HerderStepper | undefined,
  graph: ExploredGraph,
  pending: readonly PendingViolation[],
  run: {
    transitions: number;
    bySymmetry: number;
    depth: number;
    complete: boolean;
    stoppedBy: CheckResult['stoppedBy'];
    started: number;
    symmetry: boolean;
    represented: number;
    /** Bytes the exploration kept for its states (fingerprints, parents, edges). */
    bytes: number;
  },
): CheckResult {
  const pathTo = (target: number): number[] => {
    const events: number[] = [];
    for (let at = target; graph.parent.data[at]! >= 0; at = graph.parent.data[at]!)
      events.push(graph.via.data[at]!);
    return events.reverse();
  };
  const violations: Violation[] = pending.map(({ finding, at, event }) => {
    const trace = replay(bounds, herder, event === undefined ? pathTo(at) : [...pathTo(at), event]);
    // The replay's own words, so that the ids in the detail are those of the trace.
    const prefix = `${finding.invariant}: `;
    const replayed = trace[trace.length - 1]?.findings.find((f) => f.startsWith(prefix));
    return {
      invariant: finding.invariant,
      detail: replayed === undefined ? finding.detail : replayed.slice(prefix.length),
      trace,
    };
  });
  let stuck: CheckResult['stuck'];
  let liveness: CheckResult['liveness'];
  if (run.complete) {
    const began = performance.now();
    const found = analyseLiveness(graph);
    if (found.lasso !== undefined)
      violations.push(
        lassoViolation(
          bounds,
          herder,
          pathTo(found.lasso.entry),
          found.lasso.cycle,
          pathTo,
          found.pendingForever,
          run.symmetry,
        ),
      );
    if (found.stuck.count > 0)
      stuck = { states: found.stuck.count, trace: replay(bounds, herder, pathTo(found.stuck.id)) };
    liveness = { seconds: (performance.now() - began) / 1000 };
  }
  const seconds = (performance.now() - run.started) / 1000;
  return {
    herder: herder?.name ?? MODEL_HERDER.name,
    bounds,
    states: graph.states,
    transitions: run.transitions,
    bySymmetry: run.bySymmetry,
    depth: run.depth,
    seconds,
    statesPerSecond: Math.round(graph.states / Math.max(seconds, 1e-6)),
    complete: run.complete,
    stoppedBy: run.stoppedBy,
    symmetry: run.symmetry,
    represented: run.symmetry ? run.represented : graph.states,
    bytesPerState: Math.round(run.bytes / Math.max(graph.states, 1)),
    invariants: CHECKED_INVARIANTS,
    violations,
    stuck,
    liveness,
  };
}

/** The limit a capped run reached: time or memory as measured, else the state cap. */
export function stopReason(limits: RunLimits, options: CheckOptions): CheckResult['stoppedBy'] {
  const limit = limits.reached ?? 'states';
  return { limit, reason: describeLimit(limit, limits.memory, options) };
}

/** Findings, edges and counts of a single-threaded exploration: the first violation of each invariant. */
class SingleSink implements LayerSink {
  transitions = 0;
  bySymmetry = 0;
  represented = 0;
  capped = false;
  readonly edgeFrom = new Column(1 << 18);
  readonly edgeTo = new Column(1 << 18);
  readonly resolved: number[] = [];
  readonly timeStands: number[] = [];
  readonly pending: PendingViolation[] = [];
  private readonly seen = new Set<InvariantName>();

  constructor(private readonly keepGoing: boolean) {}

  report(finding: Finding, at: number, event: number | undefined): void {
    if (this.seen.has(finding.invariant)) return;
    this.seen.add(finding.invariant);
    this.pending.push({ finding, at, event });
  }

  stopped(): boolean {
    return this.pending.length > 0 && !this.keepGoing;
  }
}

/**
 * States from which no resolved state (no live request) is reachable: backward breadth-first
 * search from the resolved states over the reversed edges. Returns how many, and the one found
 * first in the forward search (so its trace is shortest).
 */
export function firstStuck(
  states: number,
  from: Column,
  to: Column,
  resolved: readonly number[],
): { count: number; id: number } {
  const start = new Int32Array(states + 1);
  for (let e = 0; e < to.length; e++) start[to.data[e]! + 1]!++;
  for (let s = 0; s < states; s++) start[s + 1]! += start[s]!;
  const fill = start.slice(0, states);
  const sources = new Int32Array(to.length);
  for (let e = 0; e < to.length; e++) sources[fill[to.data[e]!]!++] = from.data[e]!;
  const reaches = new Uint8Array(states);
  const queue = new Int32Array(states);
  let head = 0;
  let tail = 0;
  for (const s of resolved) {
    reaches[s] = 1;
    queue[tail++] = s;
  }
  while (head < tail) {
    const s = queue[head++]!;
    for (let i = start[s]!; i < start[s + 1]!; i++) {
      const p = sources[i]!;
      if (reaches[p] === 0) {
        reaches[p] = 1;
        queue[tail++] = p;
      }
    }
  }
  let count = 0;
  let id = -1;
  for (let s = 0; s < states; s++)
    if (reaches[s] === 0) {
      count++;
      if (id < 0) id = s;
    }
  return { count, id };
}

/**
 * In an event path for {@link replay}: the implicit step of a state where nothing runs (liveness.ts):
 * time passes and a Cron tick arrives; the herder's state stays the same.
 */
export const TIME_PASSES = -1;

/** The node reached by `events` from the initial state. */
function nodeAfter(explorer: Explorer, events: readonly number[]): Node {
  let node = explorer.initial();
  for (const index of events) node = explorer.successor(node, index).node;
  return node;
}

/**
 * The events that go round an explicit cycle of state ids (liveness.ts), found by stepping. With
 * symmetry reduction the ids name orbits, so going round once may end in the entry with its
 * workers renamed: the round is then repeated until the entry itself comes back.
 */
function cycleEvents(
  bounds: CheckBounds,
  herder: HerderStepper | undefined,
  cycle: Extract<Cycle, { kind: 'cycle' }>,
  pathTo: (target: number) => number[],
  symmetry: boolean,
): number[] {
  const explorer = new Explorer(bounds, herder, '-cycle', symmetry);
  let node = nodeAfter(explorer, pathTo(cycle.states[0]!));
  const entry = explorer.exactKey(node);
  const wanted = cycle.states.slice(1).map((id) => explorer.key(nodeAfter(explorer, pathTo(id))));
  const events: number[] = [];
  // A renaming of n workers comes back to the identity after at most n! rounds.
  for (let round = 0; round < 40_320; round++) {
    for (let i = 0; i < wanted.length; i++) {
      let next: Node | undefined;
      for (const index of explorer.enabled(node)) {
        if (i === cycle.timeStep && !explorer.advancesTime(index)) continue;
        let successor: Node;
        try {
          successor = explorer.successor(node, index).node;
        } catch {
          continue;
        }
        if (explorer.key(successor) !== wanted[i]) continue;
        events.push(index);
        next = successor;
        break;
      }
      if (next === undefined)
        throw new Error(`no event leads from state ${cycle.states[i]} to ${cycle.states[i + 1]}`);
      node = next;
    }
    if (explorer.exactKey(node) === entry) return events;
  }
  throw new Error(`the cycle through state ${cycle.states[0]} does not come back to it`);
}

/** What keeps the requests of `state` pending, in words. */
function pendingRequests(state: HerderState): string {
  const parts: string[] = [];
  for (const r of state.requests.values())
    parts.push(
      state.queue.isWaiting(r)
        ? `${r.id} (queued)`
        : r.worker !== undefined
          ? `${r.id} (running on ${r.worker})`
          : `${r.id} (neither queued nor running)`,
    );
  return parts.join(', ');
}

/** The bounded-response violation of a lasso: the shortest path to its cycle, then the cycle. */
function lassoViolation(
  bounds: CheckBounds,
  herder: HerderStepper | undefined,
  prefix: number[],
  cycle: Cycle,
  pathTo: (target: number) => number[],
  pendingForever: number,
  symmetry: boolean,
): Violation {
  const loop =
    cycle.kind === 'time-stands' ? [TIME_PASSES] : cycleEvents(bounds, herder, cycle, pathTo, symmetry);
  const entry = nodeAfter(new Explorer(bounds, herder), prefix).state;
  const pending = pendingRequests(entry);
  const why =
    cycle.kind === 'time-stands'
      ? 'no request is running, so nothing obliges any event but the passing of time, and the herder never ends them'
      : `on a cycle of ${loop.length} step(s) that advances time, the herder never ends them`;
  const detail = `${pending} ${entry.requests.size === 1 ? 'stays' : 'stay'} pending forever: ${why} (${pendingForever.toLocaleString('en-US')} reachable state(s) lie on such a behaviour)`;
  const trace = replay(bounds, herder, [...prefix, ...loop]);
  trace[trace.length - 1]!.findings.push(`bounded-response: ${detail}`);
  return { invariant: 'bounded-response', detail, trace, loop: prefix.length };
}

/**
 * Replays a path of events from the initial state, describing each step. {@link TIME_PASSES} in
 * the path is time passing in a state where nothing runs, then a Cron tick.
 */
export function replay(
  bounds: CheckBounds,
  herder: HerderStepper | undefined,
  events: readonly number[],
): TraceStep[] {
  const explorer = new Explorer(bounds, herder);
  let node = explorer.initial();
  const steps: TraceStep[] = [];
  for (const index of events) {
    const did: StepEvent[] = [];
    if (index === TIME_PASSES) {
      const cron = explorer.table.cron;
      const step = explorer.successor({ ...node, clock: explorer.clock.now + 1 }, cron, did);
      if (explorer.exactKey(step.node) !== explorer.exactKey(node))
        throw new Error(
          `time passing changed a state where no request runs${did.length > 0 ? ` (${did.map(describeStepEvent).join('; ')})` : ''}: the checker needs a time event for what the herder now does with time`,
        );
      step.findings.push(...stateFindings(step.node.state));
      steps.push({
        ...describeStep(explorer.event(cron), step.msg, did, step.outbox, step.node, step.findings),
        event: 'time passes, then a Cron tick',
      });
      node = step.node;
      continue;
    }
    let step: ReturnType<Explorer['successor']>;
    try {
      step = explorer.successor(node, index, did);
    } catch (err) {
      if (!(err instanceof AbstractionError)) throw err;
      // The step itself is the violation: its state cannot be named, the trace ends here.
      steps.push(describeStep(explorer.event(index), undefined, did, [], node, [deadlineFinding(err)]));
      return steps;
    }
    if (step.msg !== undefined) step.findings.push(...stateFindings(step.node.state));
    steps.push(describeStep(explorer.event(index), step.msg, did, step.outbox, step.node, step.findings));
    node = step.node;
  }
  return steps;
}
