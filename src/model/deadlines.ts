/**
 * Deadlines as a binary min-heap: of running requests (`worker` names the holder) and of waiting
 * ones (the queue-wait bound: `worker` is empty, `arrival` orders requests that share a deadline), so that the check made on every incoming
 * message costs O(log n) per expiry instead of a scan of the herd. Entries are not removed when a
 * request ends: an entry is stale when its worker no longer holds that request, and is skipped.
 * So that stale entries do not pile up (a finished request's entry would otherwise stay until its
 * deadline passes, tens of thousands of them in a large herd), the owner {@link prune}s them now
 * and then, which keeps the heap within a small multiple of the herd's size.
 */
export interface Deadline {
  readonly at: number;
  readonly worker: string;
  readonly request: string;
  /** Arrival number of a waiting request's entry (0 for running requests): breaks ties. */
  readonly arrival?: number;
}

export class DeadlineHeap {
  private heap: Deadline[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(deadline: Deadline): void {
    const heap = this.heap;
    // Move later parents down into the hole, then fill it.
    let i = heap.length;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(deadline, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = deadline;
  }

  /** Removes and returns the earliest deadline if it is strictly before `now`. */
  popExpired(now: number): Deadline | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined || top.at >= now) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  /**
   * Drops every entry `live` rejects and restores the heap order (O(n)). What is kept pops in
   * the same order as it would have: the order is total on (at, worker), and entries that tie
   * on both are for one worker, of which at most one can be live.
   */
  prune(live: (deadline: Deadline) => boolean): void {
    this.heap = this.heap.filter(live);
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  clone(): DeadlineHeap {
    const twin = new DeadlineHeap();
    twin.heap = this.heap.slice();
    return twin;
  }

  /** Moves the entry at `i` down to its place: earlier children move up into the hole. */
  private siftDown(i: number): void {
    const heap = this.heap;
    const entry = heap[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && earlier(heap[child + 1]!, heap[child]!)) child++;
      if (!earlier(heap[child]!, entry)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = entry;
  }
}

/** Earlier deadline first; ties by worker id, then arrival, so that expiry order is deterministic. */
function earlier(a: Deadline, b: Deadline): boolean {
  if (a.at !== b.at) return a.at < b.at;
  if (a.worker !== b.worker) return a.worker < b.worker;
  return (a.arrival ?? 0) < (b.arrival ?? 0);
}
