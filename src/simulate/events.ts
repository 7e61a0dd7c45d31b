/**
 * The simulator's pending events (worker answers, Cron ticks) as a binary min-heap over typed
 * arrays: no allocation per event. Ties in time are broken by insertion order, so a run is
 * deterministic.
 */

export const EventKind = {
  /** A worker finishes and sends Inference-Response. */
  Response: 0,
  /** A worker gives up and sends Inference-Error. */
  Error: 1,
  /** A worker that went silent finally answers, long after its deadline. */
  LateResponse: 2,
  /** A Cron tick reaches the herder (deadlines are checked on every message). */
  Cron: 3,
} as const;

export type EventKind = (typeof EventKind)[keyof typeof EventKind];

export class EventQueue {
  private time: Float64Array;
  private order: Float64Array;
  private kind: Uint8Array;
  private subject: Int32Array;
  private count = 0;
  private inserted = 0;

  constructor(capacity = 1024) {
    this.time = new Float64Array(capacity);
    this.order = new Float64Array(capacity);
    this.kind = new Uint8Array(capacity);
    this.subject = new Int32Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Time of the earliest event; Infinity when empty. */
  peekTime(): number {
    return this.count === 0 ? Number.POSITIVE_INFINITY : this.time[0]!;
  }

  /** Kind of the earliest event (only when not empty). */
  peekKind(): EventKind {
    return this.kind[0] as EventKind;
  }

  /** Subject (worker index) of the earliest event (only when not empty). */
  peekSubject(): number {
    return this.subject[0]!;
  }

  push(time: number, kind: EventKind, subject: number): void {
    if (this.count === this.time.length) this.grow();
    const order = this.inserted++;
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = this.time[parent]!;
      if (pt < time || (pt === time && this.order[parent]! < order)) break;
      this.move(parent, i);
      i = parent;
    }
    this.time[i] = time;
    this.order[i] = order;
    this.kind[i] = kind;
    this.subject[i] = subject;
  }

  /** Removes the earliest event (read it first with the peek methods). */
  pop(): void {
    const last = --this.count;
    if (last === 0) return;
    const time = this.time[last]!;
    const order = this.order[last]!;
    const kind = this.kind[last]!;
    const subject = this.subject[last]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= last) break;
      const right = child + 1;
      if (right < last && this.before(right, child)) child = right;
      const ct = this.time[child]!;
      if (ct > time || (ct === time && this.order[child]! > order)) break;
      this.move(child, i);
      i = child;
    }
    this.time[i] = time;
    this.order[i] = order;
    this.kind[i] = kind;
    this.subject[i] = subject;
  }

  private before(a: number, b: number): boolean {
    const ta = this.time[a]!;
    const tb = this.time[b]!;
    return ta < tb || (ta === tb && this.order[a]! < this.order[b]!);
  }

  private move(from: number, to: number): void {
    this.time[to] = this.time[from]!;
    this.order[to] = this.order[from]!;
    this.kind[to] = this.kind[from]!;
    this.subject[to] = this.subject[from]!;
  }

  private grow(): void {
    const capacity = this.time.length * 2;
    const time = new Float64Array(capacity);
    const order = new Float64Array(capacity);
    const kind = new Uint8Array(capacity);
    const subject = new Int32Array(capacity);
    time.set(this.time);
    order.set(this.order);
    kind.set(this.kind);
    subject.set(this.subject);
    this.time = time;
    this.order = order;
    this.kind = kind;
    this.subject = subject;
  }
}
