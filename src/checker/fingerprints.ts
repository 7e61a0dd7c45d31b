/**
 * The set of visited states shared by the checker's threads: 64-bit fingerprints of state keys in
 * an open-addressing table in shared memory, claimed with compare-and-swap, each with the id of
 * its state; and per id, the state it was first reached from and by which event (for traces).
 *
 * Fingerprints can collide (two distinct states taken for one): with n states the probability is
 * about n² / 2^65, below 10^-9 for 150,000 states and 10^-5 for 15 million. The single-threaded
 * checker keeps exact keys instead.
 */
import type { Visited } from './layer.ts';

export interface FingerprintBuffers {
  readonly hi: SharedArrayBuffer;
  readonly lo: SharedArrayBuffer;
  /** Per slot: id + 1 of the state, 0 while being written. */
  readonly ids: SharedArrayBuffer;
  readonly parent: SharedArrayBuffer;
  readonly via: SharedArrayBuffer;
  /** [0]: next id; [1]: stop flag. */
  readonly control: SharedArrayBuffer;
}

/** Two 32-bit hashes of a string, never zero (zero marks an empty slot). */
export function fingerprint(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= a >>> 13;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 16;
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b ^= b >>> 16;
  return [a | 1, b | 1];
}

/** A table of `slots` slots (a power of two) for up to `slots / 2` states. */
export function allocateFingerprints(slots: number, control = new SharedArrayBuffer(8)): FingerprintBuffers {
  return {
    hi: new SharedArrayBuffer(4 * slots),
    lo: new SharedArrayBuffer(4 * slots),
    ids: new SharedArrayBuffer(4 * slots),
    parent: new SharedArrayBuffer(2 * slots),
    via: new SharedArrayBuffer(2 * slots),
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

  visit(key: string, parent: number, event: number): number {
    const [h1, h2] = fingerprint(key);
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
