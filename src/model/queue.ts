/**
 * The request queue: highest multiplier first, first-come-first-served among equals, and bounded
 * overtaking (docs/design.md §2.4).
 *
 * "Overtaken" is counted at dispatch: dispatching request r overtakes every *waiting* request
 * that arrived before r. A waiting request whose count has reached `maxOvertakes` is saturated;
 * while one is waiting, only requests that arrived no later than the earliest saturated one may
 * be dispatched (anything later would overtake it once more). Among those candidates the best
 * multiplier wins, ties by arrival. With no bound this is pure priority order.
 *
 * Why a segment tree and not a heap: the rule needs "best entry among arrivals ≤ s", "earliest
 * entry whose count ≥ bound" and "add 1 to every entry that arrived before r". A segment tree
 * over arrival order, storing the best entry and the largest count per range with lazy range
 * addition, does each in O(log n). Entries keep their leaf (slot) while running, so a retried
 * request returns to its place in arrival order; slots are compacted when the tree fills.
 */
import { compareMultipliers, type Multiplier } from './fees.ts';

/** What the queue needs to know of a request. The queue owns `slot` and `overtakes`. */
export interface QueueEntry {
  readonly id: string;
  readonly multiplier: Multiplier;
  /** Position in arrival order (assigned by the queue; compacted, order-preserving). */
  slot: number;
  /** Times this request has been overtaken while waiting (exact only while it is not waiting). */
  overtakes: number;
}

const EMPTY = Number.NEGATIVE_INFINITY;
const NONE = -1;
/**
 * Multipliers whose paid and needed are both below this compare exactly as doubles: each
 * cross product is below 2^52. Larger ones (or a custom order) take the bigint comparison.
 */
const SMALL = 1n << 26n;

export class RequestQueue<E extends QueueEntry = QueueEntry> {
  private capacity: number;
  /** Entry at each slot: waiting or parked (running), `undefined` when free. */
  private slots: (E | undefined)[];
  /** Per tree node: slot of the best waiting entry in range, or NONE. */
  private best: number[];
  /** Per tree node: largest overtake count of a waiting entry in range, or EMPTY. */
  private count: number[];
  /** Per tree node: pending addition for the node's children. */
  private pending: number[];
  /**
   * Per slot: the entry's paid and needed as doubles when both are below {@link SMALL} (NaN
   * otherwise), so that the default order compares without bigint products.
   */
  private paid: number[];
  private needed: number[];
  /** Whether the order is the exact default one, which the doubles reproduce. */
  private readonly exact: boolean;
  private nextSlot = 0;
  private reserved = 0;
  private waiting = 0;
  /**
   * A request that arrived at an empty queue, its leaf not yet written: the only waiting one,
   * with no overtakes. A herd with capacity to spare dispatches such a request within its
   * arrival's step, and the tree then never sees it; any other use of the tree writes the leaf
   * first ({@link settle}).
   */
  private lone: E | undefined;

  /**
   * @param compare order of multipliers; the exact cross-multiplication by default (a different
   *   order exists only to show that the properties catch an inexact one).
   */
  constructor(
    private readonly compare: (a: Multiplier, b: Multiplier) => number = compareMultipliers,
    capacity = 16,
  ) {
    this.capacity = ceilPow2(Math.max(2, capacity));
    this.slots = new Array(this.capacity);
    this.best = filled(2 * this.capacity, NONE);
    this.count = filled(2 * this.capacity, EMPTY);
    this.pending = filled(2 * this.capacity, 0);
    this.paid = filled(this.capacity, Number.NaN);
    this.needed = filled(this.capacity, Number.NaN);
    this.exact = compare === compareMultipliers;
  }

  /** Number of waiting requests. */
  get length(): number {
    return this.waiting;
  }

  /** Adds a newly arrived request behind every earlier arrival, with no overtakes. */
  enqueue(entry: E): void {
    this.settle();
    if (this.nextSlot === this.capacity) this.compact();
    entry.slot = this.nextSlot++;
    entry.overtakes = 0;
    this.slots[entry.slot] = entry;
    this.keepSmall(entry);
    this.reserved++;
    if (this.waiting === 0) this.lone = entry;
    else this.setLeaf(entry.slot, entry.overtakes);
    this.waiting++;
  }

  /** Writes the leaf of the {@link lone} request, if any, into the tree. */
  private settle(): void {
    const lone = this.lone;
    if (lone === undefined) return;
    this.lone = undefined;
    this.setLeaf(lone.slot, lone.overtakes);
  }

  /** The request that must be dispatched next under `maxOvertakes` (null = unbounded). */
  peek(maxOvertakes: number | null): E | undefined {
    if (this.waiting === 0) return undefined;
    // The only waiting request is next under any bound.
    if (this.lone !== undefined) return this.lone;
    let last = this.capacity - 1;
    if (maxOvertakes !== null) {
      const saturated = this.firstAtLeast(maxOvertakes);
      if (saturated !== NONE) last = saturated;
    }
    const slot = this.bestUpTo(last);
    return slot === NONE ? undefined : this.slots[slot];
  }

  /**
   * Marks a waiting request as dispatched: every earlier waiting arrival is overtaken once more;
   * the request keeps its slot (parked) in case it has to be retried.
   */
  dispatch(entry: E): void {
    if (entry === this.lone) {
      // No other request waits, so none is overtaken; its count is still the 0 it arrived with.
      this.lone = undefined;
      this.waiting--;
      return;
    }
    this.settle();
    // Its count is read once, before the range addition, which leaves it unchanged.
    const slot = entry.slot;
    const overtakes = this.slots[slot] === entry ? this.readLeaf(slot) : EMPTY;
    if (overtakes === EMPTY) throw new Error(`request ${entry.id} is not waiting`);
    entry.overtakes = overtakes;
    this.overtakeBefore(slot);
    this.waiting--;
  }

  /**
   * Empties leaf `slot` and adds 1 to every waiting leaf before it, in one pass down its path
   * and back up: the slots before it are exactly the left children hanging off the path where
   * it turns right.
   */
  private overtakeBefore(slot: number): void {
    let node = this.descendTo(slot);
    this.count[node] = EMPTY;
    this.pending[node] = 0;
    this.best[node] = NONE;
    for (; node > 1; node >>= 1) {
      // A right child: its left sibling lies wholly before the slot (a subtree with no waiting
      // leaf is left alone, as a range addition does).
      if (node & 1 && this.count[node - 1] !== EMPTY) {
        this.count[node - 1]! += 1;
        this.pending[node - 1]! += 1;
      }
      this.pull(node >> 1);
    }
  }

  /** Puts a parked (dispatched) request back in its arrival place, keeping its overtake count. */
  requeue(entry: E): void {
    this.settle();
    if (this.slots[entry.slot] !== entry || this.isWaiting(entry))
      throw new Error(`request ${entry.id} is not parked in the queue`);
    this.setLeaf(entry.slot, entry.overtakes);
    this.waiting++;
  }

  /** Forgets a request for good (answered or refunded), whether waiting or parked. */
  release(entry: E): void {
    this.settle();
    if (this.slots[entry.slot] !== entry) throw new Error(`request ${entry.id} is not in the queue`);
    if (this.isWaiting(entry)) {
      entry.overtakes = this.readLeaf(entry.slot);
      this.setLeaf(entry.slot, EMPTY);
      this.waiting--;
    }
    this.slots[entry.slot] = undefined;
    this.reserved--;
  }

  isWaiting(entry: E): boolean {
    // A leaf's best is its own slot exactly while its entry waits (setLeaf, overtakeBefore and
    // compact write both together; pending additions never make a count EMPTY or finite).
    if (entry === this.lone) return true;
    return this.slots[entry.slot] === entry && this.best[this.capacity + entry.slot] !== NONE;
  }

  /** Current overtake count of a queued or parked request. */
  overtakesOf(entry: E): number {
    // The lone request's leaf is unwritten (EMPTY): its count is the 0 it arrived with.
    const live = this.readLeaf(entry.slot);
    return live === EMPTY ? entry.overtakes : live;
  }

  /** Waiting requests in arrival order, with their current overtake counts. */
  waitingInArrivalOrder(): { entry: E; overtakes: number }[] {
    this.settle();
    const result: { entry: E; overtakes: number }[] = [];
    for (let slot = 0; slot < this.nextSlot; slot++) {
      const entry = this.slots[slot];
      if (entry === undefined) continue;
      const overtakes = this.readLeaf(slot);
      if (overtakes !== EMPTY) result.push({ entry, overtakes });
    }
    return result;
  }

  /**
   * Makes this queue equal to `source` (same order of multipliers), in its own arrays where the
   * capacities agree; `own` gives this queue's entry for each of `source`'s.
   */
  restoreFrom(source: RequestQueue<E>, own: (entry: E) => E): void {
    if (this.compare !== source.compare) throw new Error('queues with different orders');
    const capacity = source.capacity;
    if (capacity !== this.capacity) {
      this.capacity = capacity;
      this.slots = new Array(capacity);
      this.best = source.best.slice();
      this.count = source.count.slice();
      this.pending = source.pending.slice();
      this.paid = source.paid.slice();
      this.needed = source.needed.slice();
    } else {
      copyInto(this.best, source.best);
      copyInto(this.count, source.count);
      copyInto(this.pending, source.pending);
      copyInto(this.paid, source.paid);
      copyInto(this.needed, source.needed);
    }
    for (let slot = 0; slot < capacity; slot++) {
      const entry = source.slots[slot];
      this.slots[slot] = entry === undefined ? undefined : own(entry);
    }
    this.nextSlot = source.nextSlot;
    this.reserved = source.reserved;
    this.waiting = source.waiting;
    this.lone = source.lone === undefined ? undefined : own(source.lone);
  }

  /** A deep copy whose entries are produced by `copy` (called once per queued or parked entry). */
  clone(copy: (entry: E) => E): RequestQueue<E> {
    this.settle();
    const twin = new RequestQueue<E>(this.compare, 2);
    twin.capacity = this.capacity;
    twin.slots = this.slots.map((entry) => (entry === undefined ? undefined : copy(entry)));
    twin.best = this.best.slice();
    twin.count = this.count.slice();
    twin.pending = this.pending.slice();
    twin.paid = this.paid.slice();
    twin.needed = this.needed.slice();
    twin.nextSlot = this.nextSlot;
    twin.reserved = this.reserved;
    twin.waiting = this.waiting;
    return twin;
  }

  /** Is slot a better than slot b? Higher multiplier, then earlier arrival (lower slot). */
  private better(a: number, b: number): number {
    if (a === NONE) return b;
    if (b === NONE) return a;
    if (this.exact) {
      const paidA = this.paid[a]!;
      const paidB = this.paid[b]!;
      // Stryker disable next-line ConditionalExpression: equivalent, the bigint order below agrees
      if (!Number.isNaN(paidA) && !Number.isNaN(paidB)) {
        const left = paidA * this.needed[b]!;
        const right = paidB * this.needed[a]!;
        if (left !== right) return left > right ? a : b;
        return Math.min(a, b);
      }
    }
    const order = this.compare(this.slots[a]!.multiplier, this.slots[b]!.multiplier);
    if (order !== 0) return order > 0 ? a : b;
    return Math.min(a, b);
  }

  /** Records `entry`'s multiplier as doubles at its slot when they are small enough to be exact. */
  private keepSmall(entry: E): void {
    const { paid, needed } = entry.multiplier;
    const small = paid < SMALL && needed < SMALL;
    this.paid[entry.slot] = small ? Number(paid) : Number.NaN;
    this.needed[entry.slot] = small ? Number(needed) : Number.NaN;
  }

  private pushDown(node: number): void {
    const add = this.pending[node]!;
    if (add === 0) return;
    const left = 2 * node;
    this.count[left]! += add;
    this.pending[left]! += add;
    this.count[left + 1]! += add;
    this.pending[left + 1]! += add;
    this.pending[node] = 0;
  }

  private pull(node: number): void {
    const left = 2 * node;
    this.count[node] = Math.max(this.count[left]!, this.count[left + 1]!);
    this.best[node] = this.better(this.best[left]!, this.best[left + 1]!);
  }

  /** The node of leaf `slot`, with every pending addition on its path pushed down to it. */
  private descendTo(slot: number): number {
    let node = 1;
    let lo = 0;
    let hi = this.capacity - 1;
    while (lo < hi) {
      this.pushDown(node);
      const mid = (lo + hi) >> 1;
      if (slot <= mid) {
        node = 2 * node;
        hi = mid;
      } else {
        node = 2 * node + 1;
        lo = mid + 1;
      }
    }
    return node;
  }

  /** Sets a leaf's count (EMPTY = not waiting) and refreshes its ancestors. */
  private setLeaf(slot: number, overtakes: number): void {
    let node = this.descendTo(slot);
    this.count[node] = overtakes;
    this.pending[node] = 0;
    this.best[node] = overtakes === EMPTY ? NONE : slot;
    // The path's pending additions were pushed down: a node is a function of its children alone,
    // so once one is unchanged so is every ancestor.
    for (node >>= 1; node >= 1; node >>= 1) {
      const count = this.count[node];
      const best = this.best[node];
      this.pull(node);
      // Stryker disable next-line ConditionalExpression,LogicalOperator,BlockStatement: equivalent, refreshing the rest changes nothing
      if (this.count[node] === count && this.best[node] === best) break;
    }
  }

  private readLeaf(slot: number): number {
    let node = 1;
    let lo = 0;
    let hi = this.capacity - 1;
    let add = 0;
    while (lo < hi) {
      add += this.pending[node]!;
      const mid = (lo + hi) >> 1;
      if (slot <= mid) {
        node = 2 * node;
        hi = mid;
      } else {
        node = 2 * node + 1;
        lo = mid + 1;
      }
    }
    return this.count[node]! + add;
  }

  /** Leftmost waiting slot whose count is ≥ bound, or NONE. */
  private firstAtLeast(bound: number): number {
    if (this.count[1]! < bound) return NONE;
    let node = 1;
    let lo = 0;
    let hi = this.capacity - 1;
    while (lo < hi) {
      this.pushDown(node);
      const mid = (lo + hi) >> 1;
      if (this.count[2 * node]! >= bound) {
        node = 2 * node;
        hi = mid;
      } else {
        node = 2 * node + 1;
        lo = mid + 1;
      }
    }
    return lo;
  }

  /** Best waiting slot in [0, last]. */
  private bestUpTo(last: number): number {
    // Down the path to `last`: where it turns right, the left child lies wholly in range. The
    // pieces are combined from the last one back, as the recursive definition nests them:
    // better(piece₁, better(piece₂, …)).
    let node = 1;
    let lo = 0;
    let hi = this.capacity - 1;
    let pieces = 0;
    while (hi > last) {
      const mid = (lo + hi) >> 1;
      if (last <= mid) {
        node = 2 * node;
        hi = mid;
      } else {
        leftPieces[pieces++] = this.best[2 * node]!;
        node = 2 * node + 1;
        lo = mid + 1;
      }
    }
    let best = this.best[node]!;
    while (pieces > 0) best = this.better(leftPieces[--pieces]!, best);
    return best;
  }

  /**
   * Renumbers live slots 0..n-1 in arrival order into a tree with room to grow. The arrays are
   * reused when the size stays (a queue that hovers around one length compacts again and again).
   */
  private compact(): void {
    this.settle();
    const old = this.capacity;
    // The live entries and their leaf data, gathered into module-level scratch arrays (a queue that
    // hovers around one length compacts every few dozen arrivals; fresh arrays each time were an
    // eighth of the simulator's allocation).
    const entries = compactEntries as (E | undefined)[];
    // Every pending addition pushed down to the leaves, top first: then a leaf's count is exact
    // (one pass over the tree instead of a walk from the root per live slot).
    for (let node = 1; node < old; node++) this.pushDown(node);
    let live = 0;
    for (let slot = 0; slot < this.nextSlot; slot++) {
      const entry = this.slots[slot];
      if (entry === undefined) continue;
      entries[live] = entry;
      compactCounts[live] = this.count[old + slot]!;
      compactPaid[live] = this.paid[slot]!;
      compactNeeded[live] = this.needed[slot]!;
      live++;
    }
    const capacity = ceilPow2(Math.max(16, 2 * (live + 1)));
    if (capacity === old) {
      this.slots.fill(undefined);
      this.best.fill(NONE);
      this.count.fill(EMPTY);
      this.pending.fill(0);
    } else {
      this.capacity = capacity;
      this.slots = new Array(capacity);
      this.best = filled(2 * capacity, NONE);
      this.count = filled(2 * capacity, EMPTY);
      this.pending = filled(2 * capacity, 0);
      this.paid = filled(capacity, Number.NaN);
      this.needed = filled(capacity, Number.NaN);
    }
    for (let slot = 0; slot < live; slot++) {
      const entry = entries[slot]!;
      entries[slot] = undefined; // the scratch array keeps no request alive
      const overtakes = compactCounts[slot]!;
      entry.slot = slot;
      this.slots[slot] = entry;
      // The multiplier as doubles moves with the entry (what keepSmall made of it).
      this.paid[slot] = compactPaid[slot]!;
      this.needed[slot] = compactNeeded[slot]!;
      const leaf = capacity + slot;
      this.count[leaf] = overtakes;
      this.best[leaf] = overtakes === EMPTY ? NONE : slot;
    }
    for (let node = capacity - 1; node >= 1; node--) this.pull(node);
    this.nextSlot = live;
    this.reserved = live;
  }
}

/** The whole-left-child pieces of one {@link RequestQueue.bestUpTo} call (a tree's depth at most). */
const leftPieces: number[] = [];

/** Scratch of {@link RequestQueue.compact}: live entries, their counts and their doubles, in slot order. */
const compactEntries: (QueueEntry | undefined)[] = [];
const compactCounts: number[] = [];
const compactPaid: number[] = [];
const compactNeeded: number[] = [];

/**
 * An array of `length` copies of `value`, built by pushing so that it is packed. Plain arrays,
 * not typed ones: a state is copied for every transition the model checker explores, and
 * copying a typed array (a buffer of its own) costs several times as much.
 */
function filled(length: number, value: number): number[] {
  const array: number[] = [];
  for (let i = 0; i < length; i++) array.push(value);
  return array;
}

/** Copies `from` into `to`, of the same length. */
function copyInto(to: number[], from: readonly number[]): void {
  for (let i = 0; i < from.length; i++) to[i] = from[i]!;
}

function ceilPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
