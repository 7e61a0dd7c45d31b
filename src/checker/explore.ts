/**
 * Exhaustive, breadth-first exploration of every state the herder can reach within the bounds.
 *
 * Each distinct abstract state (abstraction.ts) is expanded once; every transition is checked
 * (predicates.ts). Breadth-first order makes the first violation found one with a shortest trace.
 * After a complete exploration, liveness: from every state, some state where every accepted
 * request has ended must be reachable; it is checked backwards over the explored graph.
 */
import type { InvariantName } from '../audit/invariants.ts';
import type { HerdConfig } from '../model/config.ts';
import { compareMultipliers, type Multiplier } from '../model/fees.ts';
import { type HerderState, initialHerderState, type RequestRecord, stepInPlace } from '../model/herder.ts';
import type { AoMessage, OutMessage } from '../model/messages.ts';
import { RequestQueue } from '../model/queue.ts';
import { AbstractionError, clockwork, type KeyContext, nodeKey, normalize } from './abstraction.ts';
import { type CheckBounds, checkerConfig, TIMEOUT } from './bounds.ts';
import { copyState } from './copy.ts';
import {
  advanceClock,
  type CheckEvent,
  EventTable,
  enabledEvents,
  Ids,
  messageFor,
  type Node,
} from './environment.ts';
import { CHECKED_INVARIANTS, type Finding, stateFindings, transitionFindings } from './predicates.ts';
import { describeStep, type TraceStep } from './trace.ts';

/** The herder the checker explores: the model, or a variant a test builds to show a defect is caught. */
export interface HerderUnderCheck {
  readonly name: string;
  init(config: HerdConfig): HerderState;
  /** Handles one message, updating `state` in place; returns the outbox. */
  step(state: HerderState, msg: AoMessage): OutMessage[];
}

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

export const MODEL_HERDER: HerderUnderCheck = {
  name: 'model',
  init: (config) => initialCheckState(config),
  step: (state, msg) => stepInPlace(state, msg),
};

export interface CheckOptions {
  readonly herder?: HerderUnderCheck;
  /** Stop after this many distinct states (the result is then incomplete). Default 20,000,000. */
  readonly maxStates?: number;
  /** Keep exploring after a violation, to report the first violation of every invariant. */
  readonly keepGoing?: boolean;
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
}

export interface CheckResult {
  readonly herder: string;
  readonly bounds: CheckBounds;
  readonly states: number;
  readonly transitions: number;
  /** Length of the longest shortest path from the initial state. */
  readonly depth: number;
  readonly seconds: number;
  readonly statesPerSecond: number;
  /** Every reachable state was explored (no violation stopped it, no state cap was hit). */
  readonly complete: boolean;
  readonly invariants: readonly InvariantName[];
  readonly violations: Violation[];
  /** States from which no sequence of events ends every live request (only after a complete run). */
  readonly stuck: { readonly states: number; readonly trace: TraceStep[] } | undefined;
}

/** Growable typed columns for per-state and per-edge data. */
class Column {
  data: Int32Array;
  length = 0;
  constructor(capacity = 1 << 16) {
    this.data = new Int32Array(capacity);
  }
  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }
}

interface Pending {
  readonly finding: Finding;
  /** State at which the violating event happened, and the event (undefined: the state itself). */
  readonly at: number;
  readonly event: number | undefined;
}

/** Everything needed to step one node, shared by exploration and trace replay. */
export class Explorer {
  readonly config: HerdConfig;
  readonly table: EventTable;
  readonly clock: ReturnType<typeof clockwork>;
  readonly workers: readonly string[];
  readonly ids = new Ids();
  readonly keyContext: KeyContext;

  constructor(
    readonly bounds: CheckBounds,
    readonly herder: HerderUnderCheck = MODEL_HERDER,
  ) {
    this.config = checkerConfig(bounds);
    this.table = new EventTable(bounds);
    this.workers = this.table.workers;
    this.clock = clockwork(TIMEOUT, bounds.workers);
    this.keyContext = { workers: this.workers, timeout: TIMEOUT, withdrawals: bounds.ownerActions };
  }

  initial(): Node {
    const state = this.herder.init(this.config);
    normalize(state, this.clock);
    return { state, clock: this.clock.now, sent: 0 };
  }

  key(node: Node): string {
    return nodeKey(node, this.keyContext, this.clock);
  }

  /**
   * The successor of `node` under event `index`, with what the transition broke. Throws only when
   * the abstraction itself fails; a herder that throws is a bad-input-safe finding.
   */
  successor(
    node: Node,
    index: number,
  ): { node: Node; msg?: AoMessage; outbox: OutMessage[]; findings: Finding[] } {
    const event = this.table.events[index]!;
    if (event.kind === 'time')
      return { node: { ...node, clock: advanceClock(node, event.to, this.clock) }, outbox: [], findings: [] };
    const msg = messageFor(node, event, this.bounds, this.config, this.ids)!;
    const state = copyState(node.state);
    let outbox: OutMessage[];
    try {
      outbox = this.herder.step(state, msg);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const finding: Finding = { invariant: 'bad-input-safe', detail: `the handler threw: ${reason}` };
      return { node, msg, outbox: [], findings: [finding] };
    }
    const findings = transitionFindings(node.state, msg, event, outbox, state);
    normalize(state, this.clock);
    return {
      node: { state, clock: this.clock.now, sent: node.sent + (event.kind === 'credit' ? 1 : 0) },
      msg,
      outbox,
      findings,
    };
  }

  enabled(node: Node): number[] {
    return enabledEvents(node, this.table, this.clock);
  }

  event(index: number): CheckEvent {
    return this.table.events[index]!;
  }
}

/** Explores every reachable state within `bounds` and checks every invariant on the way. */
export function check(bounds: CheckBounds, options: CheckOptions = {}): CheckResult {
  const explorer = new Explorer(bounds, options.herder);
  const maxStates = options.maxStates ?? 20_000_000;
  const started = performance.now();
  const keys = new Map<string, number>();
  const parent = new Column();
  const via = new Column();
  const resolved: number[] = [];
  const edgeFrom = new Column(1 << 18);
  const edgeTo = new Column(1 << 18);
  const pending: Pending[] = [];
  const seenInvariants = new Set<InvariantName>();
  let transitions = 0;
  let depth = 0;
  let complete = true;

  const record = (finding: Finding, at: number, event: number | undefined): boolean => {
    if (seenInvariants.has(finding.invariant)) return false;
    seenInvariants.add(finding.invariant);
    pending.push({ finding, at, event });
    return true;
  };

  const root = explorer.initial();
  keys.set(explorer.key(root), 0);
  parent.push(-1);
  via.push(-1);
  if (root.state.requests.size === 0) resolved.push(0);
  for (const finding of stateFindings(root.state)) record(finding, 0, undefined);

  let frontier: { id: number; node: Node }[] = [{ id: 0, node: root }];
  let lastReport = started;
  const stop = () => pending.length > 0 && !options.keepGoing;
  explore: while (frontier.length > 0 && !stop()) {
    const next: { id: number; node: Node }[] = [];
    for (const { id, node } of frontier) {
      for (const index of explorer.enabled(node)) {
        transitions++;
        let step: ReturnType<Explorer['successor']>;
        try {
          step = explorer.successor(node, index);
        } catch (err) {
          if (!(err instanceof AbstractionError)) throw err;
          record(
            {
              invariant: 'no-lost-request',
              detail: `a running request's deadline can never pass: ${err.message}`,
            },
            id,
            index,
          );
          continue;
        }
        for (const finding of step.findings) record(finding, id, index);
        if (step.findings.length > 0 && stop()) break explore;
        const key = explorer.key(step.node);
        let target = keys.get(key);
        if (target === undefined) {
          const broken = stateFindings(step.node.state);
          for (const finding of broken) record(finding, id, index);
          if (broken.length > 0 && stop()) break explore;
          target = keys.size;
          if (target >= maxStates) {
            complete = false;
            break explore;
          }
          keys.set(key, target);
          parent.push(id);
          via.push(index);
          if (step.node.state.requests.size === 0) resolved.push(target);
          next.push({ id: target, node: step.node });
        }
        if (target !== id) {
          edgeFrom.push(id);
          edgeTo.push(target);
        }
      }
      if (options.onProgress && (transitions & 0x3ff) === 0) {
        const now = performance.now();
        if (now - lastReport > 250) {
          lastReport = now;
          options.onProgress({
            states: keys.size,
            transitions,
            depth,
            frontier: next.length,
            seconds: (now - started) / 1000,
          });
        }
      }
    }
    if (next.length > 0) depth++;
    frontier = next;
  }
  if (frontier.length > 0) complete = false;
  const seconds = (performance.now() - started) / 1000;
  const states = keys.size;
  keys.clear();

  const pathTo = (target: number): number[] => {
    const events: number[] = [];
    for (let at = target; parent.data[at]! >= 0; at = parent.data[at]!) events.push(via.data[at]!);
    return events.reverse();
  };
  const violations = pending.map(({ finding, at, event }) => {
    const trace = replay(bounds, options.herder, event === undefined ? pathTo(at) : [...pathTo(at), event]);
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
  if (complete && violations.length === 0) {
    const first = firstStuck(states, edgeFrom, edgeTo, resolved);
    if (first.count > 0)
      stuck = { states: first.count, trace: replay(bounds, options.herder, pathTo(first.id)) };
  }
  return {
    herder: explorer.herder.name,
    bounds,
    states,
    transitions,
    depth,
    seconds,
    statesPerSecond: Math.round(states / Math.max(seconds, 1e-6)),
    complete,
    invariants: CHECKED_INVARIANTS,
    violations,
    stuck,
  };
}

/**
 * States from which no resolved state (no live request) is reachable: backward breadth-first
 * search from the resolved states over the reversed edges. Returns how many, and the one found
 * first in the forward search (so its trace is shortest).
 */
function firstStuck(
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

/** Replays a path of events from the initial state, describing each step. */
export function replay(
  bounds: CheckBounds,
  herder: HerderUnderCheck | undefined,
  events: readonly number[],
): TraceStep[] {
  const explorer = new Explorer(bounds, herder);
  let node = explorer.initial();
  const steps: TraceStep[] = [];
  for (const index of events) {
    const step = explorer.successor(node, index);
    if (step.msg !== undefined) step.findings.push(...stateFindings(step.node.state));
    steps.push(describeStep(explorer.event(index), step.msg, step.outbox, step.node, step.findings));
    node = step.node;
  }
  return steps;
}
