/**
 * Deadlines of running requests as a binary min-heap, so that the check made on every incoming
 * message costs O(log n) per expiry instead of a scan of the herd. Entries are never removed
 * early: an entry is stale when its worker no longer holds that request, and is skipped.
 */
export interface Deadline {
  readonly at: number;
  readonly worker: string;
  readonly request: string;
}

export class DeadlineHeap {
  private heap: Deadline[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(deadline: Deadline): void {
    const heap = this.heap;
    heap.push(deadline);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** Removes and returns the earliest deadline if it is strictly before `now`. */
  popExpired(now: number): Deadline | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined || top.at >= now) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < heap.length && earlier(heap[left]!, heap[least]!)) least = left;
        if (right < heap.length && earlier(heap[right]!, heap[least]!)) least = right;
        if (least === i) break;
        [heap[i], heap[least]] = [heap[least]!, heap[i]!];
        i = least;
      }
    }
    return top;
  }

  clone(): DeadlineHeap {
    const twin = new DeadlineHeap();
    twin.heap = this.heap.slice();
    return twin;
  }
}

/** Earlier deadline first; ties by worker id so that expiry order is deterministic. */
function earlier(a: Deadline, b: Deadline): boolean {
  return a.at < b.at || (a.at === b.at && a.worker < b.worker);
}
