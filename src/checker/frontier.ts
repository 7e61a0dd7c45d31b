/**
 * The frontier kept compact: every state waiting to be expanded is written as 32-bit words into
 * one growing Int32Array (a hundred words or so instead of a herder state's few kilobytes of
 * objects; a number that is not a 32-bit integer is escaped to the table), read straight from
 * the state and rebuilt straight from the words, through the model's public API as snapshot.ts
 * rebuilds a state, when it is expanded (into the objects of the state rebuilt before it).
 *
 * What is written is the state itself, not its abstraction: every request, worker, timer-heap
 * entry, remembered id and amount, so that a defective herder that keeps something the
 * abstraction does not name (a timer heap it emptied, say) is rebuilt as it was. Only names
 * change: a live request is renamed after its arrival (`q<arrival>`, its payer `C-q<arrival>`
 * when that was its payer's name), an ended one that a worker or a stale heap entry still names
 * becomes `ended`. Nothing the herder does depends on how an id is spelled (every message the
 * checker delivers has a fresh one), and traces are rebuilt by replaying events from the initial
 * state, so the new names never show. Strings, amounts and numbers that are not 32-bit integers
 * are kept once each in a table.
 */
import type { HerdConfig } from '../model/config.ts';
import type { DeadlineHeap } from '../model/deadlines.ts';
import type { Multiplier } from '../model/fees.ts';
import { Herd, type WorkerRecord, type WorkerStatus } from '../model/herd.ts';
import { type HerderState, initialHerderState, type RequestRecord } from '../model/herder.ts';
import { emptyList, type Mutable } from '../model/mutable.ts';
import type { RequestQueue } from '../model/queue.ts';
import { levelOf } from './encoding.ts';
import type { Node } from './environment.ts';
import { OUT, PARKED, type QueuePlace, rebuildQueue, WAITING } from './snapshot.ts';

const STATUSES: readonly WorkerStatus[] = ['idle', 'busy', 'timed-out', 'failed'];
const NONE = -1;
const ENDED = -2;
const ENDED_ID = 'ended';
/** Marks a number kept in the table (the next word is its code). */
const ESCAPE = -0x80000000;

/** Whether `client` is `C-<id>` (the checker's payer of request `id`), without building that string. */
function isDerivedPayer(client: string, id: string): boolean {
  return client.length === id.length + 2 && client.startsWith('C-') && client.endsWith(id);
}

/** Whether names made of arrival number `arrival` are kept (a defective herder may count anyhow). */
function cacheable(arrival: number): boolean {
  return Number.isInteger(arrival) && arrival >= 0 && arrival < 1 << 16;
}

/** Keeps no heap entry (empties a heap before it is refilled). */
const none = (): boolean => false;

function blankRecord(): Mutable<RequestRecord> {
  return {
    id: '',
    client: '',
    reference: undefined,
    prompt: '',
    tokens: 0,
    multiplier: { paid: 0n, needed: 1n },
    arrival: 0,
    slot: 0,
    overtakes: 0,
    attempts: 0,
    tried: [],
    worker: undefined,
    // A time (not a small integer: the field is then kept as a double, as in the herder's records).
    waitUntil: Number.NaN,
  };
}

/** Values kept once each, by value (strings, bigints) or by identity (objects). */
class Table {
  private readonly codes = new Map<unknown, number>();
  private readonly values: unknown[] = [];

  code(value: unknown): number {
    let code = this.codes.get(value);
    if (code === undefined) {
      code = this.values.length;
      this.codes.set(value, code);
      this.values.push(value);
    }
    return code;
  }

  value<T>(code: number): T {
    return this.values[code] as T;
  }

  /** Every value, by code. */
  all(): unknown[] {
    return this.values.slice();
  }

  /** Takes `values` (another table's {@link all}) as its own, by the same codes (the i-th value is code i). */
  load(values: readonly unknown[]): void {
    for (const value of values) {
      if (!this.codes.has(value)) this.codes.set(value, this.values.length);
      this.values.push(value);
    }
  }
}

/**
 * States taken out of a frontier, still packed, to move to another thread: their words (each
 * state's from its start), their ids, and the table the words refer to. Structured clone copies
 * the table (strings, amounts, the config); the arrays' buffers can be transferred.
 */
export interface PackedStates {
  readonly words: Int32Array<ArrayBuffer>;
  readonly starts: Int32Array;
  readonly ids: Int32Array;
  readonly table: unknown[];
}

export class PackedFrontier {
  private data: Int32Array<ArrayBufferLike> = new Int32Array(1 << 16);
  private used = 0;
  private starts: number[] = [];
  private ids: number[] = [];
  private readonly table = new Table();
  /** While packing: the ids of the state's live requests, in order (the first `liveCount`). */
  private readonly live: string[] = [];
  private liveCount = 0;
  /** While rebuilding: the read position, the live requests' new names, the workers' fields. */
  private at = 0;
  private readonly names: string[] = [];
  private readonly fields: number[] = [];
  /** While packing: the idle workers in their order (the first of them: see `Herd.idleInto`). */
  private readonly idle: WorkerRecord[] = [];

  constructor(
    /** The herd's possible workers, named by index. */
    private readonly workers: readonly string[],
    /** The payment levels of the bounds, shared by every rebuilt request. */
    private readonly levels: readonly Multiplier[],
    /** An empty queue of the herder's, which rebuilt queues copy (snapshot.ts). */
    private readonly blank: RequestQueue<RequestRecord>,
  ) {}

  get size(): number {
    return this.ids.length;
  }

  /** Words held (4 bytes each). */
  get words(): number {
    return this.used;
  }

  id(i: number): number {
    return this.ids[i]!;
  }

  /**
   * Takes the last `count` states out, as they are packed (moving one costs a copy of its words,
   * where rebuilding it into objects that structured clone copies cost about as much as
   * expanding it).
   */
  take(count: number): PackedStates {
    const from = this.ids.length - count;
    const first = this.starts[from]!;
    const starts = new Int32Array(count);
    for (let i = 0; i < count; i++) starts[i] = this.starts[from + i]! - first;
    const moved: PackedStates = {
      words: this.data.slice(first, this.used),
      starts,
      ids: Int32Array.from(this.ids.slice(from)),
      table: this.table.all(),
    };
    this.used = first;
    this.ids.length = from;
    this.starts.length = from;
    return moved;
  }

  /** The states another frontier {@link take}s, to rebuild each with {@link node}. */
  static of(
    moved: PackedStates,
    workers: readonly string[],
    levels: readonly Multiplier[],
    blank: RequestQueue<RequestRecord>,
  ): PackedFrontier {
    const frontier = new PackedFrontier(workers, levels, blank);
    frontier.data = moved.words;
    frontier.used = moved.words.length;
    frontier.starts = Array.from(moved.starts);
    frontier.ids = Array.from(moved.ids);
    frontier.table.load(moved.table);
    return frontier;
  }

  push(id: number, node: Node): void {
    const { state } = node;
    this.ids.push(id);
    this.starts.push(this.used);
    this.liveCount = 0;
    for (const r of state.requests.keys()) this.live[this.liveCount++] = r;
    this.put(node.clock, node.sent, this.table.code(state.config), state.paused ? 1 : 0, state.now);
    this.put(state.handled, state.generation, state.arrivals);
    this.put(state.requests.size);
    for (const record of state.requests.values()) {
      const place = state.queue.isWaiting(record) ? WAITING : record.worker !== undefined ? PARKED : OUT;
      const derived = isDerivedPayer(record.client, record.id);
      this.put(derived ? NONE : this.table.code(record.client));
      this.put(record.reference === undefined ? NONE : this.table.code(record.reference));
      this.put(this.table.code(record.prompt), record.tokens, this.multiplier(record.multiplier));
      this.put(record.arrival, record.slot, place, state.queue.overtakesOf(record), record.attempts);
      this.put(record.waitUntil);
      this.put(record.worker === undefined ? NONE : this.workerCode(record.worker), record.tried.length);
      for (const w of record.tried) this.put(this.workerCode(w));
    }
    for (const window of [state.seen, state.seenBefore]) {
      this.put(window.size);
      for (const [seenId, until] of window) this.put(this.idCode(seenId), until);
    }
    this.put(state.herd.size);
    for (const w of state.herd.all())
      this.put(
        this.workerCode(w.id),
        STATUSES.indexOf(w.status),
        this.requestCode(w.request),
        this.requestCode(w.lastRequest),
        w.deadline,
        w.draining ? 1 : 0,
      );
    const idle = state.herd.idleInto(this.idle);
    this.put(idle);
    for (let k = 0; k < idle; k++) this.put(this.workerCode(this.idle[k]!.id));
    this.heap(state.deadlines);
    this.heap(state.waits);
    this.put(state.unready.length);
    for (const w of state.unready) this.put(this.workerCode(w));
    const { ledger } = state;
    this.amount(ledger.credited);
    this.amount(ledger.refunded);
    this.amount(ledger.revenue);
    this.amount(ledger.escrow);
    this.amount(ledger.unclaimed);
    this.amount(ledger.withdrawn);
    this.put(state.lastMultiplier === undefined ? NONE : this.multiplier(state.lastMultiplier));
  }

  /**
   * The i-th state pushed, rebuilt into the objects of the one before (valid until the next call:
   * a layer expands one state at a time, and a thread that gives states away copies each at once).
   */
  node(i: number): Node {
    this.at = this.starts[i]!;
    const clock = this.next();
    const sent = this.next();
    const config = this.table.value<HerdConfig>(this.next());
    const rebuilt = this.rebuiltFor(config);
    const state = rebuilt.state;
    rebuilt.clock = clock;
    rebuilt.sent = sent;
    state.config = config;
    state.paused = this.next() === 1;
    state.now = this.next();
    state.handled = this.next();
    state.generation = this.next();
    state.arrivals = this.next();
    const count = this.next();
    const names = this.names;
    const { requests } = state;
    if (requests.size > 0) requests.clear();
    const places = this.places;
    if (places.length !== count) places.length = count;
    for (let r = 0; r < count; r++) {
      const clientCode = this.next();
      const referenceCode = this.next();
      const prompt = this.table.value<string>(this.next());
      const tokens = this.next();
      const multiplier = this.multiplierOf(this.next());
      const arrival = this.next();
      const id = this.requestName(arrival);
      names[r] = id;
      const slot = this.next();
      const place = this.next();
      const overtakes = this.next();
      const attempts = this.next();
      const waitUntil = this.next();
      const holder = this.next();
      const triedCount = this.next();
      this.records[r] ??= blankRecord();
      const record = this.records[r]!;
      emptyList(record.tried);
      for (let k = 0; k < triedCount; k++) record.tried.push(this.workerOf(this.next()));
      record.id = id;
      record.client = clientCode === NONE ? this.payerName(arrival) : this.table.value<string>(clientCode);
      record.reference = referenceCode === NONE ? undefined : this.table.value<string>(referenceCode);
      record.prompt = prompt;
      record.tokens = tokens;
      record.multiplier = multiplier;
      record.arrival = arrival;
      record.slot = slot;
      record.overtakes = overtakes;
      record.attempts = attempts;
      record.worker = holder === NONE ? undefined : this.workerOf(holder);
      record.waitUntil = waitUntil;
      requests.set(id, record);
      places[r] ??= { record, place, overtakes };
      const at = places[r]!;
      at.record = record;
      at.place = place;
      at.overtakes = overtakes;
    }
    this.windowInto(state.seen);
    this.windowInto(state.seenBefore);
    // The herd as snapshot.ts rebuilds it: every worker added, all failed, the idle ones made idle
    // in their order, then each given its status and fields.
    const herd = new Herd();
    const workers: WorkerRecord[] = [];
    const fields = this.fields;
    for (let k = this.next(), f = 0; k > 0; k--) {
      workers.push(herd.add(this.workerOf(this.next())));
      for (let j = 0; j < 5; j++) fields[f++] = this.next();
    }
    for (const w of workers) herd.setStatus(w, 'failed');
    for (let k = this.next(); k > 0; k--) herd.setStatus(herd.get(this.workerOf(this.next()))!, 'idle');
    for (let k = 0; k < workers.length; k++) {
      const w = workers[k]!;
      const status = STATUSES[fields[5 * k]!]!;
      if (status !== 'idle') herd.setStatus(w, status);
      w.request = this.requestOf(fields[5 * k + 1]!);
      w.lastRequest = this.requestOf(fields[5 * k + 2]!);
      w.deadline = fields[5 * k + 3]!;
      w.draining = fields[5 * k + 4] === 1;
    }
    state.herd = herd;
    this.heapInto(state.deadlines);
    this.heapInto(state.waits);
    const { unready, ledger } = state;
    emptyList(unready);
    for (let k = this.next(); k > 0; k--) unready.push(this.workerOf(this.next()));
    ledger.credited = this.amountOf();
    ledger.refunded = this.amountOf();
    ledger.revenue = this.amountOf();
    ledger.escrow = this.amountOf();
    ledger.unclaimed = this.amountOf();
    ledger.withdrawn = this.amountOf();
    const last = this.next();
    state.lastMultiplier = last === NONE ? undefined : this.multiplierOf(last);
    rebuildQueue(this.blank, places, state.queue);
    return rebuilt;
  }

  /** What {@link node} rebuilds into: a herder state made at the first call, with a queue like `blank`. */
  private rebuiltFor(config: HerdConfig): { state: Mutable<HerderState>; clock: number; sent: number } {
    this.into ??= {
      state: { ...initialHerderState(config), queue: rebuildQueue(this.blank, []) },
      clock: 0,
      sent: 0,
    };
    return this.into;
  }

  private into: { state: Mutable<HerderState>; clock: number; sent: number } | undefined;
  /** The records and queue places of the state rebuilt last, reused by the next. */
  private readonly records: Mutable<RequestRecord>[] = [];
  private readonly places: QueuePlace[] = [];

  /** A live request's name, `q<arrival>`, made once per arrival (a rebuilt state names every live request). */
  private requestName(arrival: number): string {
    let name = this.requestNames[arrival];
    if (name === undefined) {
      name = `q${arrival}`;
      if (cacheable(arrival)) this.requestNames[arrival] = name;
    }
    return name;
  }

  /** The checker's payer of the request of `arrival`, `C-q<arrival>`, made once per arrival. */
  private payerName(arrival: number): string {
    let name = this.payerNames[arrival];
    if (name === undefined) {
      name = `C-${this.requestName(arrival)}`;
      if (cacheable(arrival)) this.payerNames[arrival] = name;
    }
    return name;
  }

  private readonly requestNames: string[] = [];
  private readonly payerNames: string[] = [];

  /** The next word of the state being rebuilt. */
  private next(): number {
    const word = this.data[this.at++]!;
    return word === ESCAPE ? this.table.value<number>(this.data[this.at++]!) : word;
  }

  /** The rank of a live request of the state being packed, or -1. */
  private liveRank(id: string): number {
    for (let i = 0; i < this.liveCount; i++) if (this.live[i] === id) return i;
    return -1;
  }

  private workerCode(id: string): number {
    const i = this.workers.indexOf(id);
    return i >= 0 ? i : -2 - this.table.code(id);
  }

  private workerOf(code: number): string {
    return code >= 0 ? this.workers[code]! : this.table.value<string>(-2 - code);
  }

  /** A request a worker or a heap entry names: a live one by rank, an ended one as such. */
  private requestCode(id: string | undefined): number {
    if (id === undefined) return NONE;
    const rank = this.liveRank(id);
    return rank >= 0 ? rank : ENDED;
  }

  private requestOf(code: number): string | undefined {
    return code === NONE ? undefined : code === ENDED ? ENDED_ID : this.names[code]!;
  }

  private idOf(code: number): string {
    return code >= 0 ? this.names[code]! : this.table.value<string>(-1 - code);
  }

  private heap(heap: DeadlineHeap): void {
    this.put(heap.size);
    heap.each(this.putEntry);
  }

  private readonly putEntry = (at: number, worker: string, request: string, arrival: number): void =>
    this.put(at, worker === '' ? NONE : this.workerCode(worker), this.requestCode(request), arrival);

  /** One generation of remembered ids, each with the end of its window, into `window`. */
  private windowInto(window: Map<string, number>): void {
    if (window.size > 0) window.clear();
    for (let k = this.next(); k > 0; k--) window.set(this.idOf(this.next()), this.next());
  }

  private heapInto(heap: DeadlineHeap): void {
    heap.pruneBy(none);
    for (let k = this.next(); k > 0; k--) {
      const at = this.next();
      const who = this.next();
      const what = this.requestOf(this.next()) ?? '';
      heap.add(at, who === NONE ? '' : this.workerOf(who), what, this.next());
    }
  }

  private amountOf(): bigint {
    return this.table.value<bigint>(this.next());
  }

  /** A remembered id: a live request's by its rank, any other by the table. */
  private idCode(id: string): number {
    const rank = this.liveRank(id);
    return rank < 0 ? -1 - this.table.code(id) : rank;
  }

  private multiplier(m: Multiplier): number {
    const level = levelOf(this.levels, m);
    return level >= 0 ? level : -1 - this.table.code(m);
  }

  private multiplierOf(code: number): Multiplier {
    return code >= 0 ? this.levels[code]! : this.table.value<Multiplier>(-1 - code);
  }

  /**
   * An amount, by its code in the table (a run meets few distinct amounts: the books' totals are
   * sums of a few payments). Comparing and converting a bigint cost more than the lookup, and a
   * rebuilt state then shares the table's bigints instead of making new ones.
   */
  private amount(value: bigint): void {
    this.put(this.table.code(value));
  }

  private put(a: number, b?: number, c?: number, d?: number, e?: number, f?: number): void {
    this.word(a);
    if (b !== undefined) this.word(b);
    if (c !== undefined) this.word(c);
    if (d !== undefined) this.word(d);
    if (e !== undefined) this.word(e);
    if (f !== undefined) this.word(f);
  }

  private word(value: number): void {
    if (this.used + 2 > this.data.length) {
      const grown = new Int32Array(2 * this.data.length);
      grown.set(this.data.subarray(0, this.used));
      this.data = grown;
    }
    if ((value | 0) === value && value !== ESCAPE && !Object.is(value, -0)) this.data[this.used++] = value;
    else {
      this.data[this.used++] = ESCAPE;
      this.data[this.used++] = this.table.code(value);
    }
  }
}
