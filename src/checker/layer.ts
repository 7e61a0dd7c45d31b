/**
 * One breadth-first layer of the exploration: expand every node of the frontier, check every
 * transition and every new state, and collect the next frontier. Shared by the single-threaded
 * checker and the worker threads of the parallel one, which differ only in how visited states
 * are remembered (`Visited`) and where findings go (`LayerSink`).
 */

import { cloneHerderState } from '../model/herder.ts';
import type { AoMessage, OutMessage } from '../model/messages.ts';
import { AbstractionError } from './abstraction.ts';
import { latestTimer, type Node } from './environment.ts';
import { encodeTarget } from './liveness.ts';
import { type Finding, stateFindings } from './predicates.ts';

/** What a layer needs of the explorer: its events, successors and fingerprints (explore.ts implements it). */
export interface Explorer {
  enabled(node: Node): number[];
  /**
   * The events to step `node` by: the enabled ones less those known by symmetry to lead where one
   * kept does. Sets `leftOut` to how many it left out.
   */
  expansion(node: Node): number[];
  readonly leftOut: number;
  /** The successor of `node` under event `index`; the result, its state too, is valid until the next call. */
  transition(
    node: Node,
    index: number,
  ): { node: Node; msg?: AoMessage; outbox: OutMessage[]; findings: Finding[] };
  /** The node's fingerprint (`hi`, `lo`) and, with symmetry reduction, the size of its orbit. */
  fingerprint(node: Node): { readonly hi: number; readonly lo: number; readonly orbit: number };
  advancesTime(index: number): boolean;
}

/** Growable typed column for per-state and per-edge data. */
export class Column {
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
  /** The values, trimmed (a copy). */
  values(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

export interface FrontierNode {
  readonly id: number;
  readonly node: Node;
}

/** States waiting to be expanded, each with its id. */
export interface Frontier {
  readonly size: number;
  id(i: number): number;
  node(i: number): Node;
  /** Adds a state, copying what it keeps (the node's state may be overwritten after the call). */
  push(id: number, node: Node): void;
}

/** A frontier of whole states, as they are. */
export class NodeList implements Frontier {
  constructor(readonly items: FrontierNode[] = []) {}
  get size(): number {
    return this.items.length;
  }
  id(i: number): number {
    return this.items[i]!.id;
  }
  node(i: number): Node {
    return this.items[i]!.node;
  }
  push(id: number, node: Node): void {
    this.items.push({ id, node: { ...node, state: cloneHerderState(node.state) } });
  }
}

/** A violation found while exploring, before its trace is replayed. */
export interface PendingViolation {
  readonly finding: Finding;
  /** State at which the violating event happened, and the event (undefined: the state itself). */
  readonly at: number;
  readonly event: number | undefined;
}

/** The set of visited states. */
export interface Visited {
  /**
   * The id of the state with this fingerprint, registering it (reached from `parent` by `event`)
   * when new.
   */
  visit(hi: number, lo: number, parent: number, event: number): number;
  /** Whether the last `visit` registered a new state. */
  readonly fresh: boolean;
  /** Distinct states so far. */
  readonly count: number;
}

export interface LayerSink {
  /** Every event enabled at every state expanded: those stepped and those left out by symmetry. */
  transitions: number;
  /** Of `transitions`, those not stepped: each leads where a kept one of a twin worker does. */
  bySymmetry: number;
  /** States the distinct states stand for: the sum of their orbits' sizes (symmetry reduction). */
  represented: number;
  /** Set when the state cap was reached. */
  capped: boolean;
  readonly edgeFrom: { push(value: number): void };
  readonly edgeTo: { push(value: number): void };
  readonly resolved: { push(value: number): void };
  /** States with a live request and none running (time passing changes nothing there). */
  readonly timeStands: { push(value: number): void };
  report(finding: Finding, at: number, event: number | undefined): void;
  /** Whether to stop exploring (a violation was found and the caller does not keep going). */
  stopped(): boolean;
}

/** Expands `frontier`, adding the states first reached from it to `next`. */
export function expandLayer(
  explorer: Explorer,
  frontier: Frontier,
  next: Frontier,
  visited: Visited,
  sink: LayerSink,
  maxStates: number,
  afterNode?: () => void,
): void {
  for (let i = 0; i < frontier.size; i++) {
    if (sink.stopped() || sink.capped) return;
    const id = frontier.id(i);
    const node = frontier.node(i);
    const events = explorer.expansion(node);
    sink.transitions += explorer.leftOut;
    sink.bySymmetry += explorer.leftOut;
    for (const index of events) {
      sink.transitions++;
      let step: ReturnType<Explorer['transition']>;
      try {
        step = explorer.transition(node, index);
      } catch (err) {
        if (!(err instanceof AbstractionError)) throw err;
        sink.report(deadlineFinding(err), id, index);
        continue;
      }
      for (const finding of step.findings) sink.report(finding, id, index);
      if (step.findings.length > 0 && sink.stopped()) return;
      const print = explorer.fingerprint(step.node);
      if (visited.count >= maxStates) {
        sink.capped = true;
        return;
      }
      const target = visited.visit(print.hi, print.lo, id, index);
      if (visited.fresh) {
        sink.represented += print.orbit;
        const broken = stateFindings(step.node.state);
        for (const finding of broken) sink.report(finding, id, index);
        if (step.node.state.requests.size === 0) sink.resolved.push(target);
        else if (timeStands(step.node)) sink.timeStands.push(target);
        next.push(target, step.node);
        if (broken.length > 0 && sink.stopped()) return;
      }
      // Self-loops are left out, except those that advance time (a cycle of their own).
      const advancesTime = explorer.advancesTime(index);
      if (target !== id || advancesTime) {
        sink.edgeFrom.push(id);
        sink.edgeTo.push(encodeTarget(target, advancesTime));
      }
    }
    afterNode?.();
  }
}

/**
 * Whether time passing changes nothing at `node`: no timer is pending, neither the deadline of a
 * running request nor the queue-wait deadline of a waiting one. The model gives every live
 * request one, so with a live request this holds only of a herder that lost track of it (the
 * liveness pass then reports it pending forever). A timer the herder lets pass without acting is
 * caught when the state is normalized ({@link deadlineFinding}).
 */
export function timeStands(node: Node): boolean {
  return latestTimer(node.state) === undefined;
}

/**
 * A timer outside the time scale (a running request's deadline, or a waiting one's queue wait):
 * one already passed that the herder did not act on, or one set beyond what the settings give.
 * Either way the request is not bounded by it.
 */
export function deadlineFinding(err: AbstractionError): Finding {
  return {
    invariant: 'bounded-response',
    detail: `a timer is not one the settings give (a running request's deadline or a waiting one's queue wait): ${err.message}`,
  };
}
