/**
 * The frontier kept compact: every state waiting to be expanded is written as 32-bit words into
 * one growing Int32Array (a hundred words or so instead of a herder state's few kilobytes of
 * objects; a number that is not a 32-bit integer is escaped to the table) and rebuilt, through the model's public API (snapshot.ts), when it is expanded.
 *
 * What is written is the state itself, not its abstraction: every request, worker, timer-heap
 * entry, remembered id and amount, so that a defective herder that keeps something the
 * abstraction does not name (a timer heap it emptied, say) is rebuilt as it was. Only names
 * change: a live request is renamed after its arrival (`q<arrival>`, its payer `C-q<arrival>`
 * when that was its payer's name), an ended one that a worker or a stale heap entry still names
 * becomes `ended`. Nothing the herder does depends on how an id is spelled (every message the
 * checker delivers has a fresh one), and traces are rebuilt by replaying events from the initial
 * state, so the new names never show. Strings and amounts that are not small numbers are kept
 * once each in a table.
 */
import type { Multiplier } from '../model/fees.ts';
import type { WorkerStatus } from '../model/herd.ts';
import type { RequestRecord } from '../model/herder.ts';
import type { RequestQueue } from '../model/queue.ts';
import type { Node } from './environment.ts';
import { fromPlain, type PlainState, toPlain } from './snapshot.ts';

const STATUSES: readonly WorkerStatus[] = ['idle', 'busy', 'timed-out', 'failed'];
const NONE = -1;
const ENDED = -2;
const ENDED_ID = 'ended';
/** Marks a number kept in the table (the next word is its code). */
const ESCAPE = -0x80000000;

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
}

export class PackedFrontier {
  private data = new Int32Array(1 << 16);
  private used = 0;
  private starts: number[] = [];
  private ids: number[] = [];
  private readonly table = new Table();

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

  /** Keeps the first `size` states only. */
  truncate(size: number): void {
    if (size >= this.ids.length) return;
    this.used = this.starts[size]!;
    this.ids.length = size;
    this.starts.length = size;
  }

  push(id: number, node: Node): void {
    this.ids.push(id);
    this.starts.push(this.used);
    const plain = toPlain(node.state);
    const live = new Map<string, number>();
    for (const [i, { record }] of plain.requests.entries()) live.set(record.id, i);
    const request = (id: string | undefined) => (id === undefined ? NONE : (live.get(id) ?? ENDED));
    const worker = (id: string) => {
      const i = this.workers.indexOf(id);
      return i >= 0 ? i : -2 - this.table.code(id);
    };
    this.put(node.clock, node.sent, this.table.code(plain.config), plain.paused ? 1 : 0, plain.now);
    this.put(plain.handled, plain.arrivals);
    this.put(plain.requests.length);
    for (const { record, place, overtakes } of plain.requests) {
      const derived = record.client === `C-${record.id}`;
      this.put(derived ? NONE : this.table.code(record.client));
      this.put(record.reference === undefined ? NONE : this.table.code(record.reference));
      this.put(this.table.code(record.prompt), record.tokens, this.multiplier(record.multiplier));
      this.put(record.arrival, record.slot, place, overtakes, record.attempts, record.waitUntil);
      this.put(record.worker === undefined ? NONE : worker(record.worker), record.tried.length);
      for (const w of record.tried) this.put(worker(w));
    }
    this.put(plain.seen.length);
    for (const [id, until] of plain.seen) this.put(this.idCode(id, live), until);
    this.put(plain.forgetQueue.length);
    for (const [id, until] of plain.forgetQueue) this.put(this.idCode(id, live), until);
    this.put(plain.workers.length);
    for (const w of plain.workers)
      this.put(
        worker(w.id),
        STATUSES.indexOf(w.status),
        request(w.request),
        request(w.lastRequest),
        w.deadline,
        w.draining ? 1 : 0,
      );
    this.put(plain.idle.length);
    for (const id of plain.idle) this.put(worker(id));
    for (const heap of [plain.deadlines, plain.waits]) {
      this.put(heap.length);
      for (const entry of heap)
        this.put(
          entry.at,
          entry.worker === '' ? NONE : worker(entry.worker),
          request(entry.request),
          entry.arrival ?? Number.NaN,
        );
    }
    this.put(plain.unready.length);
    for (const id of plain.unready) this.put(worker(id));
    const { ledger } = plain;
    for (const amount of [
      ledger.credited,
      ledger.refunded,
      ledger.revenue,
      ledger.escrow,
      ledger.unclaimed,
      ledger.withdrawn,
    ])
      this.amount(amount);
    this.put(plain.lastMultiplier === undefined ? NONE : this.multiplier(plain.lastMultiplier));
  }

  /** The i-th state pushed, rebuilt. */
  node(i: number): Node {
    let at = this.starts[i]!;
    const next = () => {
      const word = this.data[at++]!;
      return word === ESCAPE ? this.table.value<number>(this.data[at++]!) : word;
    };
    const clock = next();
    const sent = next();
    const config = this.table.value<PlainState['config']>(next());
    const paused = next() === 1;
    const now = next();
    const handled = next();
    const arrivals = next();
    const count = next();
    const names: string[] = [];
    const requests: PlainState['requests'] = [];
    const worker = (code: number) => (code >= 0 ? this.workers[code]! : this.table.value<string>(-2 - code));
    for (let r = 0; r < count; r++) {
      const clientCode = next();
      const referenceCode = next();
      const prompt = this.table.value<string>(next());
      const tokens = next();
      const multiplier = this.multiplierOf(next());
      const arrival = next();
      const id = `q${arrival}`;
      names.push(id);
      const slot = next();
      const place = next();
      const overtakes = next();
      const attempts = next();
      const waitUntil = next();
      const holder = next();
      const triedCount = next();
      const tried: string[] = [];
      for (let k = 0; k < triedCount; k++) tried.push(worker(next()));
      const record: RequestRecord = {
        id,
        client: clientCode === NONE ? `C-${id}` : this.table.value<string>(clientCode),
        reference: referenceCode === NONE ? undefined : this.table.value<string>(referenceCode),
        prompt,
        tokens,
        multiplier,
        arrival,
        slot,
        overtakes,
        attempts,
        tried,
        worker: holder === NONE ? undefined : worker(holder),
        waitUntil,
      };
      requests.push({ record, place, overtakes });
    }
    const request = (code: number) => (code === NONE ? undefined : code === ENDED ? ENDED_ID : names[code]!);
    const id = (code: number) => (code >= 0 ? names[code]! : this.table.value<string>(-1 - code));
    const seen: [string, number][] = [];
    for (let k = next(); k > 0; k--) seen.push([id(next()), next()]);
    const forgetQueue: [string, number][] = [];
    for (let k = next(); k > 0; k--) forgetQueue.push([id(next()), next()]);
    const workers: PlainState['workers'] = [];
    for (let k = next(); k > 0; k--)
      workers.push({
        id: worker(next()),
        status: STATUSES[next()]!,
        request: request(next()),
        lastRequest: request(next()),
        deadline: next(),
        draining: next() === 1,
        idleStamp: 0,
      });
    const idle: string[] = [];
    for (let k = next(); k > 0; k--) idle.push(worker(next()));
    const heaps: PlainState['deadlines'][] = [];
    for (let h = 0; h < 2; h++) {
      const heap: PlainState['deadlines'] = [];
      for (let k = next(); k > 0; k--) {
        const entryAt = next();
        const who = next();
        const what = request(next()) ?? '';
        const arrival = next();
        heap.push({
          at: entryAt,
          worker: who === NONE ? '' : worker(who),
          request: what,
          ...(Number.isNaN(arrival) ? {} : { arrival }),
        });
      }
      heaps.push(heap);
    }
    const unready: string[] = [];
    for (let k = next(); k > 0; k--) unready.push(worker(next()));
    const amount = () => {
      const kind = next();
      const value = next();
      return kind === 0 ? BigInt(value) : this.table.value<bigint>(value);
    };
    const ledger = {
      credited: amount(),
      refunded: amount(),
      revenue: amount(),
      escrow: amount(),
      unclaimed: amount(),
      withdrawn: amount(),
    };
    const last = next();
    const plain: PlainState = {
      config,
      paused,
      now,
      seen,
      handled,
      forgetQueue,
      arrivals,
      requests,
      workers,
      idle,
      deadlines: heaps[0]!,
      waits: heaps[1]!,
      unready,
      ledger,
      lastMultiplier: last === NONE ? undefined : this.multiplierOf(last),
    };
    return { state: fromPlain(plain, this.blank), clock, sent };
  }

  /** A remembered id: a live request's by its rank, any other by the table. */
  private idCode(id: string, live: Map<string, number>): number {
    const rank = live.get(id);
    return rank === undefined ? -1 - this.table.code(id) : rank;
  }

  private multiplier(m: Multiplier): number {
    for (let i = 0; i < this.levels.length; i++)
      if (this.levels[i]!.paid === m.paid && this.levels[i]!.needed === m.needed) return i;
    return -1 - this.table.code(m);
  }

  private multiplierOf(code: number): Multiplier {
    return code >= 0 ? this.levels[code]! : this.table.value<Multiplier>(-1 - code);
  }

  /** An amount: exact as a number when it is a safe integer, else from the table. */
  private amount(value: bigint): void {
    if (value >= -0x1fffffffffffffn && value <= 0x1fffffffffffffn) this.put(0, Number(value));
    else this.put(1, this.table.code(value));
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
