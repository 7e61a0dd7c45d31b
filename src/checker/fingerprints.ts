/**
 * Sets of visited states: 64-bit fingerprints of their encodings (encoding.ts) in open-addressing
 * tables, each with the id of its state; and per id, the state it was first reached from and by
 * which event (traces are rebuilt from these by re-execution). One table for a single thread,
 * growing as it fills; one in shared memory for the checker's threads, claimed with
 * compare-and-swap, grown by the coordinator between layers.
 *
 * Fingerprints can collide (two distinct states taken for one): with n states the probability is
 * about n² / 2^65, below 10^-9 for 150,000 states and 10^-5 for 15 million.
 */
import { Column, type Visited } from './layer.ts';

/** Chance that two of `states` distinct states share a 64-bit fingerprint: about n² / 2^65. */
export function collisionProbability(states: number): number {
  return (states * states) / 2 ** 65;
}

/**
 * The single-threaded set: about 24 bytes a state in the table (kept at most half full), 8 for
 * the parent and event.
 */
export class FingerprintSet implements Visited {
  private hi = new Int32Array(1 << 10);
  private lo = new Int32Array(1 << 10);
  private ids = new Int32Array(1 << 10);
  private mask = (1 << 10) - 1;
  readonly parent = new Column();
  readonly via = new Column();
  fresh = false;

  get count(): number {
    return this.parent.length;
  }

  /** Bytes the states need: the table and a parent and an event each. */
  get bytes(): number {
    return 12 * this.hi.length + 8 * this.count;
  }

  visit(h1: number, h2: number, parent: number, event: number): number {
    const { hi, lo, mask } = this;
    for (let i = h2 & mask; ; i = (i + 1) & mask) {
      const current = hi[i]!;
      if (current === 0) {
        const id = this.parent.length;
        hi[i] = h1;
        lo[i] = h2;
        this.ids[i] = id;
        this.parent.push(parent);
        this.via.push(event);
        this.fresh = true;
        if (2 * (id + 1) > hi.length) this.grow();
        return id;
      }
      if (current === h1 && lo[i] === h2) {
        this.fresh = false;
        return this.ids[i]!;
      }
    }
  }

  /** Frees the table; the parent and event columns stay. */
  clear(): void {
    this.hi = new Int32Array(2);
    this.lo = new Int32Array(2);
    this.ids = new Int32Array(2);
    this.mask = 1;
  }

  private grow(): void {
    const slots = 2 * this.hi.length;
    const hi = new Int32Array(slots);
    const lo = new Int32Array(slots);
    const ids = new Int32Array(slots);
    const mask = slots - 1;
    for (let j = 0; j < this.hi.length; j++) {
      const h1 = this.hi[j]!;
      if (h1 === 0) continue;
      let i = this.lo[j]! & mask;
      while (hi[i] !== 0) i = (i + 1) & mask;
      hi[i] = h1;
      lo[i] = this.lo[j]!;
      ids[i] = this.ids[j]!;
    }
    this.hi = hi;
    this.lo = lo;
    this.ids = ids;
    this.mask = mask;
  }
}

export interface FingerprintBuffers {
  readonly hi: SharedArrayBuffer;
  readonly lo: SharedArrayBuffer;
  /** Per slot: id + 1 of the state, 0 while being written. */
  readonly ids: SharedArrayBuffer;
  readonly parent: SharedArrayBuffer;
  readonly via: SharedArrayBuffer;
  /** [0]: next id; [1]: stop flag (a violation); [2]: halt flag (a time or memory limit, limits.ts). */
  readonly control: SharedArrayBuffer;
}

/**
 * How many states a shared table of `slots` slots may hold: three quarters. The table grows only
 * between layers, so it is sized for every state a layer could add (the events enabled on its
 * frontier); a layer really adds a fraction of that, so the load it reaches stays well below.
 */
export function sharedCapacity(slots: number): number {
  return (slots >>> 2) * 3;
}

/** The smallest table (a power of two, at least 2^16 slots) with room for `states` states. */
export function slotsFor(states: number): number {
  let slots = 1 << 16;
  while (sharedCapacity(slots) < states) slots *= 2;
  return slots;
}

/** A table of `slots` slots (a power of two) for up to {@link sharedCapacity} states. */
export function allocateFingerprints(slots: number, control = new SharedArrayBuffer(12)): FingerprintBuffers {
  const capacity = sharedCapacity(slots);
  return {
    hi: new SharedArrayBuffer(4 * slots),
    lo: new SharedArrayBuffer(4 * slots),
    ids: new SharedArrayBuffer(4 * slots),
    parent: new SharedArrayBuffer(4 * capacity),
    via: new SharedArrayBuffer(4 * capacity),
    control,
  };
}

export class SharedVisited implements Visited {
  private hi!: Int32Array;
  private lo!: Int32Array;
  private ids!: Int32Array;
  parent!: Int32Array;
  via!: Int32Array;
  readonly control: Int32Array;
  private readonly controlBuffer: SharedArrayBuffer;
  private mask = 0;
  fresh = false;

  constructor(buffers: FingerprintBuffers) {
    this.controlBuffer = buffers.control;
    this.control = new Int32Array(buffers.control);
    this.attach(buffers);
  }

  /** Uses (new, larger) buffers; only between layers, when no thread is visiting. */
  attach(buffers: FingerprintBuffers): void {
    this.hi = new Int32Array(buffers.hi);
    this.lo = new Int32Array(buffers.lo);
    this.ids = new Int32Array(buffers.ids);
    this.parent = new Int32Array(buffers.parent);
    this.via = new Int32Array(buffers.via);
    this.mask = this.hi.length - 1;
  }

  get count(): number {
    return Atomics.load(this.control, 0);
  }

  get slots(): number {
    return this.hi.length;
  }

  visit(h1: number, h2: number, parent: number, event: number): number {
    const { hi, lo, ids } = this;
    for (let i = h2 & this.mask; ; i = (i + 1) & this.mask) {
      let current = Atomics.load(hi, i);
      if (current === 0) {
        current = Atomics.compareExchange(hi, i, 0, h1);
        if (current === 0) {
          Atomics.store(lo, i, h2);
          const id = Atomics.add(this.control, 0, 1);
          this.parent[id] = parent;
          this.via[id] = event;
          Atomics.store(ids, i, id + 1);
          this.fresh = true;
          return id;
        }
      }
      if (current !== h1) continue;
      let low = Atomics.load(lo, i);
      while (low === 0) low = Atomics.load(lo, i);
      if (low !== h2) continue;
      let id = Atomics.load(ids, i);
      while (id === 0) id = Atomics.load(ids, i);
      this.fresh = false;
      return id - 1;
    }
  }

  /** Copies every entry into a table of `slots` slots (single-threaded, between layers). */
  grow(slots: number): FingerprintBuffers {
    const buffers = allocateFingerprints(slots, this.controlBuffer);
    const hi = new Int32Array(buffers.hi);
    const lo = new Int32Array(buffers.lo);
    const ids = new Int32Array(buffers.ids);
    const mask = slots - 1;
    for (let j = 0; j < this.hi.length; j++) {
      const h1 = this.hi[j]!;
      if (h1 === 0) continue;
      let i = this.lo[j]! & mask;
      while (hi[i] !== 0) i = (i + 1) & mask;
      hi[i] = h1;
      lo[i] = this.lo[j]!;
      ids[i] = this.ids[j]!;
    }
    const count = this.count;
    new Int32Array(buffers.parent).set(this.parent.subarray(0, count));
    new Int32Array(buffers.via).set(this.via.subarray(0, count));
    return buffers;
  }
}
