/**
 * Liveness over the explored graph, after a complete exploration.
 *
 * bounded-response, on every path: no behaviour that lets time advance keeps an accepted request
 * pending forever. In the finite graph such a behaviour is a lasso: a path to a cycle that
 * advances time and on which a request stays pending throughout. Cycles are found as strongly
 * connected components (Tarjan, iteratively). Within a component the number of credits sent is
 * fixed (it only grows), so no request arrives in it and none can end in it: either every state of
 * it is resolved (no live request) or every live request stays pending around any cycle in it. A
 * component with a live request and a time-advancing transition inside it is therefore a
 * violation.
 *
 * Time that passes while no deadline is running is not an event of the exploration (nothing the
 * herder does depends on it, so it would lead back to the same state). A state with a live
 * request and no running one thus has an implicit cycle of its own: time passes, Cron ticks
 * arrive, nothing else ever happens (workers that are down stay silent, no one pays, the owner
 * does nothing). Such states, and dead ends with a live request (which are among them: a running
 * request always has an enabled answer), are violations too.
 *
 * The same pass also finds the states from which no sequence of events at all ends every live
 * request (the weaker, some-path form): components are finished sinks first, so whether one
 * reaches a resolved state is known from the components it has edges to.
 */

/** Edges are stored with their target; a time-advancing edge stores `~target` instead. */
export function encodeTarget(target: number, advancesTime: boolean): number {
  return advancesTime ? ~target : target;
}

function decodeTarget(stored: number): number {
  return stored < 0 ? ~stored : stored;
}

export interface EdgeList {
  readonly length: number;
  readonly data: Int32Array;
}

export interface LivenessInput {
  readonly states: number;
  readonly edgeFrom: EdgeList;
  /** Targets, encoded by {@link encodeTarget}. */
  readonly edgeTo: EdgeList;
  /** States with no live request. */
  readonly resolved: readonly number[];
  /** States with a live request and none running: time passing changes nothing there. */
  readonly timeStands: readonly number[];
}

/** A lasso's cycle. */
export type Cycle =
  /** The implicit one of a state where time stands: time passes forever and nothing happens. */
  | { readonly kind: 'time-stands' }
  /**
   * Explicit: `states[0]` (the lasso's entry) → `states[1]` → … → `states[k] = states[0]`; the
   * step from `states[timeStep]` to the next one advances time.
   */
  | { readonly kind: 'cycle'; readonly states: readonly number[]; readonly timeStep: number };

export interface LivenessResult {
  /** The lasso whose path to its cycle is shortest (undefined: bounded-response holds). */
  readonly lasso: { readonly entry: number; readonly cycle: Cycle } | undefined;
  /** How many states have a live request on a time-advancing cycle (implicit ones included). */
  readonly pendingForever: number;
  /** States from which no sequence of events ends every live request, and the first of them. */
  readonly stuck: { readonly count: number; readonly id: number };
}

export function analyseLiveness(input: LivenessInput): LivenessResult {
  const n = input.states;
  const m = input.edgeFrom.length;
  const from = input.edgeFrom.data;
  const to = input.edgeTo.data;
  // Forward adjacency (CSR), targets still encoded.
  const start = new Int32Array(n + 1);
  for (let e = 0; e < m; e++) start[from[e]! + 1]!++;
  for (let s = 0; s < n; s++) start[s + 1]! += start[s]!;
  const fill = start.slice(0, n);
  const targets = new Int32Array(m);
  for (let e = 0; e < m; e++) targets[fill[from[e]!]!++] = to[e]!;

  const resolved = new Uint8Array(n);
  for (const s of input.resolved) resolved[s] = 1;
  const timeStands = new Uint8Array(n);
  for (const s of input.timeStands) timeStands[s] = 1;

  // Tarjan's algorithm without recursion.
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const component = new Int32Array(n).fill(-1);
  const stack = new Int32Array(n);
  const callNode = new Int32Array(n);
  const callEdge = new Int32Array(n);
  const reaches = new Uint8Array(n);
  const timed = new Uint8Array(n);
  let sp = 0;
  let counter = 0;
  let components = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    let depth = 0;
    callNode[0] = root;
    callEdge[0] = start[root]!;
    index[root] = low[root] = counter++;
    stack[sp++] = root;
    while (depth >= 0) {
      const v = callNode[depth]!;
      const e = callEdge[depth]!;
      if (e < start[v + 1]!) {
        callEdge[depth] = e + 1;
        const w = decodeTarget(targets[e]!);
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack[sp++] = w;
          depth++;
          callNode[depth] = w;
          callEdge[depth] = start[w]!;
        } else if (component[w] === -1 && index[w]! < low[v]!) low[v] = index[w]!;
        continue;
      }
      // v is done.
      if (low[v] === index[v]) {
        const c = components++;
        let first = sp - 1;
        while (stack[first] !== v) first--;
        for (let i = first; i < sp; i++) component[stack[i]!] = c;
        let reach = 0;
        let time = 0;
        for (let i = first; i < sp; i++) {
          const s = stack[i]!;
          if (resolved[s] === 1) reach = 1;
          for (let k = start[s]!; k < start[s + 1]!; k++) {
            const stored = targets[k]!;
            const w = decodeTarget(stored);
            const cw = component[w]!;
            if (cw === c) {
              if (stored < 0) time = 1;
            } else if (reaches[cw] === 1) reach = 1;
          }
        }
        reaches[c] = reach;
        timed[c] = time;
        sp = first;
      }
      depth--;
      if (depth >= 0) {
        const parent = callNode[depth]!;
        if (low[v]! < low[parent]!) low[parent] = low[v]!;
      }
    }
  }

  let entry = -1;
  let pendingForever = 0;
  let stuckCount = 0;
  let stuckId = -1;
  for (let s = 0; s < n; s++) {
    const c = component[s]!;
    if (reaches[c] === 0) {
      stuckCount++;
      if (stuckId < 0) stuckId = s;
    }
    if (timeStands[s] === 1 || (timed[c] === 1 && resolved[s] === 0)) {
      pendingForever++;
      if (entry < 0) entry = s;
    }
  }
  const stuck = { count: stuckCount, id: stuckId };
  if (entry < 0) return { lasso: undefined, pendingForever, stuck };
  if (timeStands[entry] === 1)
    return { lasso: { entry, cycle: { kind: 'time-stands' } }, pendingForever, stuck };
  return {
    lasso: { entry, cycle: shortestTimedCycle(entry, component, start, targets, from, to, m) },
    pendingForever,
    stuck,
  };
}

/**
 * The shortest cycle through `entry` that takes a time-advancing edge, within its component:
 * breadth-first distances from `entry` and back to it, joined at the best time edge.
 */
function shortestTimedCycle(
  entry: number,
  component: Int32Array,
  start: Int32Array,
  targets: Int32Array,
  from: Int32Array,
  to: Int32Array,
  m: number,
): Cycle {
  const c = component[entry]!;
  // Backward adjacency of the component only, as a map: components of interest are small.
  const back = new Map<number, number[]>();
  for (let e = 0; e < m; e++) {
    const u = from[e]!;
    const v = decodeTarget(to[e]!);
    if (component[u] !== c || component[v] !== c) continue;
    const list = back.get(v);
    if (list === undefined) back.set(v, [u]);
    else list.push(u);
  }
  const forward = bfs(entry, (s, visit) => {
    for (let k = start[s]!; k < start[s + 1]!; k++) {
      const w = decodeTarget(targets[k]!);
      if (component[w] === c) visit(w);
    }
  });
  const backward = bfs(entry, (s, visit) => {
    for (const u of back.get(s) ?? []) visit(u);
  });
  let best: { u: number; v: number; length: number } | undefined;
  for (const [u, du] of forward.distance) {
    for (let k = start[u]!; k < start[u + 1]!; k++) {
      const stored = targets[k]!;
      if (stored >= 0) continue;
      const v = ~stored;
      const dv = backward.distance.get(v);
      if (dv === undefined) continue;
      const length = du + 1 + dv;
      if (best === undefined || length < best.length) best = { u, v, length };
    }
  }
  if (best === undefined) throw new Error(`no time-advancing cycle through state ${entry}`);
  const states: number[] = [];
  for (let s: number | undefined = best.u; s !== undefined; s = forward.parent.get(s)) states.push(s);
  states.reverse();
  const timeStep = states.length - 1;
  // From v back to entry: follow the backward search's parents, which point towards entry.
  for (let s = best.v; ; s = backward.parent.get(s)!) {
    states.push(s);
    if (s === entry && states.length > 1) break;
  }
  return { kind: 'cycle', states, timeStep };
}

function bfs(
  origin: number,
  neighbours: (s: number, visit: (t: number) => void) => void,
): { distance: Map<number, number>; parent: Map<number, number> } {
  const distance = new Map<number, number>([[origin, 0]]);
  const parent = new Map<number, number>();
  const queue = [origin];
  for (let head = 0; head < queue.length; head++) {
    const s = queue[head]!;
    const d = distance.get(s)!;
    neighbours(s, (t) => {
      if (distance.has(t)) return;
      distance.set(t, d + 1);
      parent.set(t, s);
      queue.push(t);
    });
  }
  return { distance, parent };
}
