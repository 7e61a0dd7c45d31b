/**
 * Deadlines as a binary min-heap: of running requests (`worker` names the holder) and of waiting
 * ones (the queue-wait bound: `worker` is empty, `arrival` orders requests that share a deadline), so that the check made on every incoming
 * message costs O(log n) per expiry instead of a scan of the herd. Entries are not removed when a
 * request ends: an entry is stale when its worker no longer holds that request, and is skipped.
 * So that stale entries do not pile up (a finished request's entry would otherwise stay until its
 * deadline passes, tens of thousands of them in a large herd), the owner {@link prune}s them now
 * and then, which keeps the heap within a small multiple of the herd's size.
 *
 * The entries are kept as parallel arrays (time, worker, request, arrival), not one object each:
 * the step pushes one per credit and per dispatch, and reads the earliest through {@link topAt},
 * {@link topWorker} and {@link topRequest} before {@link pop}ping it, allocating nothing.
 */
export interface Deadline {
  readonly at: number;
  readonly worker: string;
  readonly request: string;
  /** Arrival number of a waiting request's entry (0 for running requests): breaks ties. */
  readonly arrival?: number;
}

/** Stored arrival of an entry pushed without one (it orders as 0). */
const NO_ARRIVAL = Number.NaN;

export class DeadlineHeap {
  /**
   * Entries 0..size-1; the arrays never shrink, so that a heap that is pruned and filled again
   * allocates nothing. Slots past `size` hold no strings (they would be kept alive).
   */
  private count = 0;
  // Stryker disable ArrayDeclaration: equivalent, every slot is written before it is read
  private ats: number[] = [];
  private workers: string[] = [];
  private requests: string[] = [];
  /** Arrival, or {@link NO_ARRIVAL}. */
  private arrivals: number[] = [];
  // Stryker restore ArrayDeclaration

  get size(): number {
    return this.count;
  }

  push(deadline: Deadline): void {
    this.add(deadline.at, deadline.worker, deadline.request, deadline.arrival ?? NO_ARRIVAL);
  }

  /** {@link push} without an entry object (no `arrival`: a running request's deadline). */
  add(at: number, worker: string, request: string, arrival = NO_ARRIVAL): void {
    const { ats, workers, requests, arrivals } = this;
    // Move later parents down into the hole, then fill it.
    let i = this.count++;
    const order = arrival || 0;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(at, worker, order, ats[parent]!, workers[parent]!, arrivals[parent]! || 0)) break;
      ats[i] = ats[parent]!;
      workers[i] = workers[parent]!;
      requests[i] = requests[parent]!;
      arrivals[i] = arrivals[parent]!;
      i = parent;
    }
    ats[i] = at;
    workers[i] = worker;
    requests[i] = request;
    arrivals[i] = arrival;
  }

  /**
   * Removes the last entry when it is `request`'s at `at` (the heap stays ordered: it is a
   * leaf). A request dispatched in the step it entered the queue takes its queue-wait
   * entry back out so: it was added last, the latest deadline, and is stale from then on.
   */
  dropLast(at: number, request: string): void {
    const last = this.count - 1;
    if (last < 0 || this.ats[last] !== at || this.requests[last] !== request) return;
    // Stryker disable next-line StringLiteral: memory only, see `count`
    this.workers[last] = '';
    // Stryker disable next-line StringLiteral: memory only, see `count`
    this.requests[last] = '';
    this.count = last;
  }

  /** Whether the earliest deadline is strictly before `now`. */
  hasExpired(now: number): boolean {
    return this.count > 0 && this.ats[0]! < now;
  }

  /** The earliest entry's time, worker and request (the heap must not be empty). */
  get topAt(): number {
    return this.ats[0]!;
  }

  get topWorker(): string {
    return this.workers[0]!;
  }

  get topRequest(): string {
    return this.requests[0]!;
  }

  /** Removes and returns the earliest deadline if it is strictly before `now`. */
  popExpired(now: number): Deadline | undefined {
    if (!this.hasExpired(now)) return undefined;
    const top = this.entry(0);
    this.pop();
    return top;
  }

  /** Removes the earliest entry (the heap must not be empty). */
  pop(): void {
    const last = --this.count;
    const worker = this.workers[last]!;
    const request = this.requests[last]!;
    // Stryker disable next-line StringLiteral: memory only, see `count`
    this.workers[last] = '';
    // Stryker disable next-line StringLiteral: memory only, see `count`
    this.requests[last] = '';
    if (last > 0) this.siftDown(0, this.ats[last]!, worker, request, this.arrivals[last]!);
  }

  /**
   * Drops every entry `live` rejects and restores the heap order (O(n)). What is kept pops in
   * the same order as it would have: the order is total on (at, worker), and entries that tie
   * on both are for one worker, of which at most one can be live.
   */
  prune(live: (deadline: Deadline) => boolean): void {
    this.pruneBy((at, worker, request, i) => live(this.entryOf(at, worker, request, this.arrivals[i]!)));
  }

  /** {@link prune} by an entry's fields, without an entry object; `i` is its index, kept or not. */
  pruneBy(live: (at: number, worker: string, request: string, i: number) => boolean): void {
    const { ats, workers, requests, arrivals, count } = this;
    let kept = 0;
    for (let i = 0; i < count; i++) {
      if (!live(ats[i]!, workers[i]!, requests[i]!, i)) continue;
      ats[kept] = ats[i]!;
      workers[kept] = workers[i]!;
      requests[kept] = requests[i]!;
      arrivals[kept] = arrivals[i]!;
      kept++;
    }
    // Stryker disable ConditionalExpression,EqualityOperator,StringLiteral: memory only, see `count`
    for (let i = kept; i < count; i++) {
      workers[i] = '';
      requests[i] = '';
    }
    // Stryker restore ConditionalExpression,EqualityOperator,StringLiteral
    this.count = kept;
    // Stryker disable next-line ArithmeticOperator: equivalent, sifting down from a leaf moves nothing
    for (let i = (kept >> 1) - 1; i >= 0; i--)
      this.siftDown(i, ats[i]!, workers[i]!, requests[i]!, arrivals[i]!);
  }

  /** Calls `visit` with every entry's fields, in heap order (`arrival` NaN for an entry without one). */
  each(visit: (at: number, worker: string, request: string, arrival: number) => void): void {
    for (let i = 0; i < this.count; i++)
      visit(this.ats[i]!, this.workers[i]!, this.requests[i]!, this.arrivals[i]!);
  }

  /**
   * Rewrites every entry's time by `to`, which must keep their order (strictly increasing): the
   * heap stays ordered as it is. (The model checker moves timers to a canonical time scale so.)
   */
  retime(to: (at: number) => number): void {
    for (let i = 0; i < this.count; i++) this.ats[i] = to(this.ats[i]!);
  }

  /**
   * Makes this heap hold `source`'s entries in its order, in its own arrays (no allocation once
   * they are long enough).
   */
  restoreFrom(source: DeadlineHeap): void {
    const n = source.count;
    for (let i = 0; i < n; i++) {
      this.ats[i] = source.ats[i]!;
      this.workers[i] = source.workers[i]!;
      this.requests[i] = source.requests[i]!;
      this.arrivals[i] = source.arrivals[i]!;
    }
    // Slots past the size hold no strings.
    // Stryker disable ConditionalExpression,EqualityOperator,StringLiteral: memory only
    for (let i = n; i < this.count; i++) {
      this.workers[i] = '';
      this.requests[i] = '';
    }
    // Stryker restore ConditionalExpression,EqualityOperator,StringLiteral
    this.count = n;
  }

  clone(): DeadlineHeap {
    const twin = new DeadlineHeap();
    const n = this.count;
    twin.count = n;
    twin.ats = this.ats.slice(0, n);
    twin.arrivals = this.arrivals.slice(0, n);
    twin.workers = this.workers.slice(0, n);
    twin.requests = this.requests.slice(0, n);
    return twin;
  }

  private entry(i: number): Deadline {
    return this.entryOf(this.ats[i]!, this.workers[i]!, this.requests[i]!, this.arrivals[i]!);
  }

  private entryOf(at: number, worker: string, request: string, arrival: number): Deadline {
    return Number.isNaN(arrival) ? { at, worker, request } : { at, worker, request, arrival };
  }

  /** Puts the given entry at `i` and moves it down to its place: earlier children move up into the hole. */
  private siftDown(i: number, at: number, worker: string, request: string, arrival: number): void {
    const { ats, workers, requests, arrivals } = this;
    const length = this.count;
    const order = arrival || 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= length) break;
      if (
        child + 1 < length &&
        earlier(
          ats[child + 1]!,
          workers[child + 1]!,
          arrivals[child + 1]! || 0,
          ats[child]!,
          workers[child]!,
          arrivals[child]! || 0,
        )
      )
        child++;
      if (!earlier(ats[child]!, workers[child]!, arrivals[child]! || 0, at, worker, order)) break;
      ats[i] = ats[child]!;
      workers[i] = workers[child]!;
      requests[i] = requests[child]!;
      arrivals[i] = arrivals[child]!;
      i = child;
    }
    ats[i] = at;
    workers[i] = worker;
    requests[i] = request;
    arrivals[i] = arrival;
  }
}

/** Earlier deadline first; ties by worker id, then arrival, so that expiry order is deterministic. */
function earlier(
  atA: number,
  workerA: string,
  arrivalA: number,
  atB: number,
  workerB: string,
  arrivalB: number,
): boolean {
  if (atA !== atB) return atA < atB;
  if (workerA !== workerB) return workerA < workerB;
  return arrivalA < arrivalB;
}
