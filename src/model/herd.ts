/**
 * The herd: registered workers, their status, and the order in which they became idle.
 * Dispatch takes the worker that has been idle longest, i.e. the front of the idle FIFO.
 */
import type { ProcessId } from './config.ts';

/**
 * - `idle`: ready for work;
 * - `busy`: holds exactly one request until it answers or its deadline passes;
 * - `timed-out`: missed a deadline; gets no work until it answers its last request again;
 * - `failed`: reported Worker-Error (e.g. its model did not load); gets no work.
 */
export type WorkerStatus = 'idle' | 'busy' | 'timed-out' | 'failed';

export interface WorkerRecord {
  readonly id: ProcessId;
  status: WorkerStatus;
  /** The request it holds while busy. */
  request: string | undefined;
  /** The last request it was given (a timed-out worker recovers by answering it). */
  lastRequest: string | undefined;
  /** When its current request times out (ms), while busy. */
  deadline: number;
  /** Removal requested while busy: it leaves the herd once it is free. */
  draining: boolean;
  /** Stamp of its current place in the idle FIFO; stale FIFO entries are skipped. */
  idleStamp: number;
}

/**
 * A new worker's record, idle. Every record is made here, copies too (then written over): objects
 * from one literal share one layout in V8, and the model checker's code, fed records made by
 * `add`, by copies and by restores alike, then stays monomorphic (a spread copy had a layout of
 * its own).
 */
function newWorker(id: ProcessId): WorkerRecord {
  return {
    id,
    status: 'idle',
    request: undefined,
    lastRequest: undefined,
    deadline: 0,
    draining: false,
    idleStamp: 0,
  };
}

/** A copy of `source`, made as every record is. */
function copyOf(source: WorkerRecord): WorkerRecord {
  const copy = newWorker(source.id);
  copyWorker(copy, source);
  return copy;
}

/**
 * Writes `source`'s fields over `own`, the same worker's record: field by field, which the model
 * checker's restore (before every transition) does at a fraction of `Object.assign`'s cost.
 */
function copyWorker(own: WorkerRecord, source: WorkerRecord): void {
  own.status = source.status;
  own.request = source.request;
  own.lastRequest = source.lastRequest;
  own.deadline = source.deadline;
  own.draining = source.draining;
  own.idleStamp = source.idleStamp;
}

export class Herd {
  private readonly workers = new Map<ProcessId, WorkerRecord>();
  /**
   * Idle FIFO with lazy deletion, as two parallel arrays (no pair allocated per entry): worker id
   * and stamp; an entry is valid iff the stamp matches the worker's. Entries idleHead..idleTail-1;
   * the arrays never shrink (consumed entries are moved out in place), so that the FIFO allocates
   * nothing once it has reached its size.
   */
  // Stryker disable next-line ArrayDeclaration: equivalent, a malformed entry names no worker and is skipped
  private idleIds: ProcessId[] = [];
  // Stryker disable next-line ArrayDeclaration: equivalent, as for idleIds
  private idleStamps: number[] = [];
  private idleHead = 0;
  private idleTail = 0;
  private stamps = 0;
  private idle = 0;
  /** Busy workers, kept in step with every status change (Info-Response reports it). */
  private busy = 0;

  constructor(initial: readonly ProcessId[] = []) {
    for (const id of initial) this.add(id);
  }

  get size(): number {
    return this.workers.size;
  }

  get idleCount(): number {
    return this.idle;
  }

  get busyCount(): number {
    return this.busy;
  }

  get(id: ProcessId): WorkerRecord | undefined {
    return this.workers.get(id);
  }

  /** Workers in registration order. */
  all(): IterableIterator<WorkerRecord> {
    return this.workers.values();
  }

  /** Registers a new worker as idle (the newest idle one). */
  add(id: ProcessId): WorkerRecord {
    const record = newWorker(id);
    this.workers.set(id, record);
    this.enterIdle(record);
    return record;
  }

  /** Takes a worker out of the herd (an idle one leaves the idle count; its FIFO entry goes stale). */
  remove(record: WorkerRecord): void {
    if (record.status === 'idle') this.idle--;
    else if (record.status === 'busy') this.busy--;
    this.workers.delete(record.id);
  }

  /** Changes a worker's status, keeping the idle FIFO and the idle count in step. */
  setStatus(record: WorkerRecord, status: WorkerStatus): void {
    if (record.status === 'idle') this.idle--;
    else if (record.status === 'busy') this.busy--;
    record.idleStamp = 0;
    record.status = status;
    if (status === 'idle') this.enterIdle(record);
    else if (status === 'busy') this.busy++;
  }

  /**
   * The idle worker to dispatch to: the longest-idle one that is not in `avoid` (workers the
   * request already failed on), else the longest-idle one. O(|avoid|) amortised.
   */
  pickIdle(avoid: readonly ProcessId[]): WorkerRecord | undefined {
    // Trimmed on every call, not only when falling back: an early return left the skipped
    // entries in place for good, a million of them in a long simulation.
    this.trimIdleQueue();
    let fallback: WorkerRecord | undefined;
    let seen = 0;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a cost bound only, among |avoid| + 1 live entries one is not avoided
    for (let i = this.idleHead; i < this.idleTail && seen <= avoid.length; i++) {
      const id = this.idleIds[i]!;
      const record = this.workers.get(id);
      if (record === undefined || record.idleStamp !== this.idleStamps[i]) {
        if (i === this.idleHead) this.idleHead++;
        continue;
      }
      if (!avoid.includes(id)) return record;
      fallback ??= record;
      // Stryker disable next-line UpdateOperator: a cost bound only, see the loop condition
      seen++;
    }
    return fallback;
  }

  /** Entries the idle FIFO holds, live or stale, the consumed ones not yet trimmed included. */
  get idleBacklog(): number {
    return this.idleTail;
  }

  /** Idle workers, longest idle first. */
  idleInOrder(): WorkerRecord[] {
    // Stryker disable next-line ArrayDeclaration: equivalent, the array is cut to the count written
    const result: WorkerRecord[] = [];
    result.length = this.idleInto(result);
    return result;
  }

  /**
   * {@link idleInOrder} written into `out` from its start (what is past the returned count is
   * left as it was): without an array per call, for the model checker's every transition.
   */
  idleInto(out: WorkerRecord[]): number {
    let count = 0;
    for (let i = this.idleHead; i < this.idleTail; i++) {
      const record = this.workers.get(this.idleIds[i]!);
      if (record !== undefined && record.idleStamp === this.idleStamps[i]) out[count++] = record;
    }
    return count;
  }

  /**
   * Makes this herd equal to `source`, as {@link clone} would copy it, in its own objects: the
   * records of the workers both name, in the same order, are written over (the model checker
   * restores one scratch state before every transition instead of copying the parent).
   */
  restoreFrom(source: Herd): void {
    // Both herds' workers in step: while they name the same workers in the same order, each record
    // is written over (a record holds no mutable parts of its own: its fields copy as they are);
    // otherwise the map is filled anew with copies.
    let same = this.workers.size === source.workers.size;
    if (same) {
      const own = this.workers.values();
      for (const record of source.workers.values()) {
        const mine = own.next().value!;
        if (mine.id !== record.id) {
          same = false;
          break;
        }
        copyWorker(mine, record);
      }
    }
    if (!same) {
      this.workers.clear();
      for (const record of source.workers.values()) this.workers.set(record.id, copyOf(record));
    }
    const live = source.idleTail - source.idleHead;
    for (let i = 0; i < live; i++) {
      this.idleIds[i] = source.idleIds[source.idleHead + i]!;
      this.idleStamps[i] = source.idleStamps[source.idleHead + i]!;
    }
    // Entries past the tail are left as they are (every read stops at the tail): setting the
    // arrays' lengths costs, and growing them again allocates.
    this.idleHead = 0;
    this.idleTail = live;
    this.stamps = source.stamps;
    this.busy = source.busy;
    this.idle = source.idle;
  }

  clone(): Herd {
    const twin = new Herd();
    for (const record of this.workers.values()) twin.workers.set(record.id, copyOf(record));
    twin.idleIds = this.idleIds.slice(this.idleHead, this.idleTail);
    twin.idleStamps = this.idleStamps.slice(this.idleHead, this.idleTail);
    // Stryker disable next-line ArithmeticOperator: equivalent, reads past the copied entries find none and skip
    twin.idleTail = this.idleTail - this.idleHead;
    twin.stamps = this.stamps;
    twin.busy = this.busy;
    twin.idle = this.idle;
    return twin;
  }

  /** Makes `record` the newest idle worker. */
  private enterIdle(record: WorkerRecord): void {
    // Stryker disable next-line UpdateOperator: equivalent, stamps only need to be unique and non-zero
    record.idleStamp = ++this.stamps;
    this.idleIds[this.idleTail] = record.id;
    this.idleStamps[this.idleTail] = record.idleStamp;
    this.idleTail++;
    this.idle++;
  }

  private trimIdleQueue(): void {
    const { idleIds: ids, idleStamps: stamps, idleHead: head, idleTail: tail } = this;
    if (head > 1024 && head * 2 > tail) {
      for (let i = head; i < tail; i++) {
        ids[i - head] = ids[i]!;
        stamps[i - head] = stamps[i]!;
      }
      // Consumed ids past the new tail are dropped, so that they are not kept alive (memory only).
      // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral,ArithmeticOperator: equivalent, no read reaches them
      for (let i = tail - head; i < tail; i++) ids[i] = '';
      this.idleHead = 0;
      this.idleTail = tail - head;
    }
  }
}
