/**
 * The segment-tree queue against a deliberately naive reference (an array scanned in full), under
 * random enqueue / dispatch / requeue / release sequences that also force slot compaction.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareMultipliers, type Multiplier } from '../../src/model/fees.ts';
import { type QueueEntry, RequestQueue } from '../../src/model/queue.ts';
import { UNIT_RUNS } from '../properties/harness.ts';

/** Size of the large-queue test; mutation testing, which reruns it per mutant, lowers it. */
const LARGE_QUEUE = Number(process.env.HERD_LARGE_QUEUE ?? 100_000);

interface RefEntry {
  id: string;
  multiplier: Multiplier;
  arrival: number;
  overtakes: number;
  state: 'waiting' | 'parked' | 'gone';
}

/** The rule of queue.ts, written as plainly as possible. */
class ReferenceQueue {
  entries: RefEntry[] = [];
  enqueue(id: string, multiplier: Multiplier): void {
    this.entries.push({ id, multiplier, arrival: this.entries.length, overtakes: 0, state: 'waiting' });
  }
  waiting(): RefEntry[] {
    return this.entries.filter((e) => e.state === 'waiting');
  }
  peek(bound: number | null): RefEntry | undefined {
    const waiting = this.waiting();
    const saturated = bound === null ? undefined : waiting.find((e) => e.overtakes >= bound);
    const candidates = saturated ? waiting.filter((e) => e.arrival <= saturated.arrival) : waiting;
    let best: RefEntry | undefined;
    for (const e of candidates) if (!best || compareMultipliers(e.multiplier, best.multiplier) > 0) best = e;
    return best;
  }
  dispatch(entry: RefEntry): void {
    for (const e of this.waiting()) if (e.arrival < entry.arrival) e.overtakes++;
    entry.state = 'parked';
  }
}

type Op =
  | { op: 'enqueue'; paid: bigint; needed: bigint }
  | { op: 'dispatch' }
  | { op: 'requeue'; pick: number }
  | { op: 'release'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('enqueue' as const),
      // Small amounts, amounts at the edge of what the queue compares as doubles (2^26), and huge
      // ones: fees of 2^60 and more that differ by a unit, which doubles cannot tell apart.
      paid: fc.oneof(
        fc.bigInt({ min: 1n, max: 6n }),
        fc.constantFrom((1n << 26n) - 1n, 1n << 26n, (1n << 26n) + 1n),
        fc.bigInt({ min: 1n << 80n, max: (1n << 80n) + 3n }),
      ),
      needed: fc.oneof(
        { weight: 3, arbitrary: fc.bigInt({ min: 1n, max: 3n }) },
        { weight: 1, arbitrary: fc.bigInt({ min: 1n << 60n, max: (1n << 60n) + 3n }) },
      ),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ op: 'dispatch' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('requeue' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const), pick: fc.nat() }) },
);

/** A request to queue: its id and multiplier, not yet placed. */
const entry = (id: string, paid: bigint, needed = 1n): QueueEntry => ({
  id,
  multiplier: { paid, needed },
  slot: 0,
  overtakes: 0,
});

/** A queue under test with its reference and the entries it holds, stepped and checked together. */
class Run {
  readonly live = new Map<string, QueueEntry>();
  next = 0;
  constructor(
    readonly queue: RequestQueue<QueueEntry>,
    readonly reference: ReferenceQueue,
  ) {}

  step(step: Op, bound: number | null): void {
    const { queue, reference, live } = this;
    if (step.op === 'enqueue') {
      const id = `r${this.next++}`;
      const queued = entry(id, step.paid, step.needed);
      queue.enqueue(queued);
      reference.enqueue(id, queued.multiplier);
      live.set(id, queued);
    } else if (step.op === 'dispatch') {
      const expected = reference.peek(bound);
      const actual = queue.peek(bound);
      expect(actual?.id).toBe(expected?.id);
      if (actual && expected) {
        queue.dispatch(actual);
        reference.dispatch(expected);
        expect(queue.overtakesOf(actual)).toBe(expected.overtakes);
      }
    } else {
      const pool = reference.entries.filter((e) =>
        step.op === 'requeue' ? e.state === 'parked' : e.state !== 'gone',
      );
      if (pool.length === 0) return;
      const chosen = pool[step.pick % pool.length]!;
      const held = live.get(chosen.id)!;
      if (step.op === 'requeue') {
        queue.requeue(held);
        chosen.state = 'waiting';
      } else {
        queue.release(held);
        chosen.state = 'gone';
        live.delete(chosen.id);
      }
    }
    this.check();
  }

  check(): void {
    const { queue, reference, live } = this;
    expect(queue.length).toBe(reference.waiting().length);
    expect(queue.waitingInArrivalOrder().map((w) => [w.entry.id, w.overtakes])).toEqual(
      reference.waiting().map((e) => [e.id, e.overtakes]),
    );
    for (const e of reference.entries)
      if (e.state === 'parked') expect(queue.isWaiting(live.get(e.id)!)).toBe(false);
  }

  /** An independent copy: the queue cloned, or restored into `into`; the reference and entries copied. */
  copy(into?: RequestQueue<QueueEntry>): Run {
    const copies = new Map([...this.live].map(([id, e]) => [id, { ...e }]));
    const own = (e: QueueEntry) => copies.get(e.id)!;
    let queue: RequestQueue<QueueEntry>;
    if (into === undefined) queue = this.queue.clone(own);
    else {
      into.restoreFrom(this.queue, own);
      queue = into;
    }
    const reference = new ReferenceQueue();
    reference.entries = this.reference.entries.map((e) => ({ ...e }));
    const run = new Run(queue, reference);
    for (const [id, e] of copies) run.live.set(id, e);
    run.next = this.next;
    return run;
  }
}

describe('RequestQueue', () => {
  it('behaves like the naive reference under any sequence of operations and any bound', () => {
    fc.assert(
      fc.property(fc.option(fc.nat(4), { nil: null }), fc.array(opArb, { maxLength: 120 }), (bound, ops) => {
        const run = new Run(new RequestQueue<QueueEntry>(compareMultipliers, 2), new ReferenceQueue());
        for (const step of ops) run.step(step, bound);
      }),
      { numRuns: UNIT_RUNS },
    );
  });

  it('a clone evolves independently of its original', () => {
    const queue = new RequestQueue<QueueEntry>();
    const entries = [3n, 1n, 2n].map((paid, i) => entry(`r${i}`, paid));
    for (const e of entries) queue.enqueue(e);
    const copies = new Map<string, QueueEntry>();
    const twin = queue.clone((e) => {
      const copy = { ...e };
      copies.set(e.id, copy);
      return copy;
    });
    twin.dispatch(twin.peek(null)!);
    expect(twin.length).toBe(2);
    expect(queue.length).toBe(3);
    expect(queue.peek(null)?.id).toBe('r0');
    expect(twin.peek(null)?.id).toBe('r2');
    expect(queue.clone((e) => e).peek(0)?.id).toBe('r0');
  });

  it('a clone, and a queue of another size restored from it, each go on like the original would', () => {
    fc.assert(
      fc.property(
        fc.option(fc.nat(4), { nil: null }),
        fc.array(opArb, { maxLength: 40 }),
        fc.nat(40),
        fc.tuple(
          fc.array(opArb, { maxLength: 30 }),
          fc.array(opArb, { maxLength: 30 }),
          fc.array(opArb, { maxLength: 30 }),
        ),
        (bound, before, held, [afterOriginal, afterClone, afterRestored]) => {
          const original = new Run(new RequestQueue<QueueEntry>(compareMultipliers, 2), new ReferenceQueue());
          for (const step of before) original.step(step, bound);
          const twin = original.copy();
          // A queue that held `held` other requests (so its capacity may differ), restored from it.
          const other = new RequestQueue<QueueEntry>(compareMultipliers, 2);
          for (let i = 0; i < held; i++) other.enqueue(entry(`o${i}`, BigInt(i + 1)));
          const restored = original.copy(other);
          restored.check();
          // Each goes its own way; each is checked after every step of every one.
          const runs: [Run, Op[]][] = [
            [original, afterOriginal],
            [twin, afterClone],
            [restored, afterRestored],
          ];
          for (let i = 0; i < 30; i++)
            for (const [run, steps] of runs) {
              if (i < steps.length) run.step(steps[i]!, bound);
              for (const [r] of runs) r.check();
            }
        },
      ),
      { numRuns: UNIT_RUNS },
    );
  });

  it('orders exactly multipliers that doubles cannot tell apart (a small payment over a huge fee)', () => {
    // 3 / (2^60 + 2) < 3 / (2^60 + 1), though both fees are the same double: the later one goes first.
    const queue = new RequestQueue<QueueEntry>(compareMultipliers, 2);
    for (const [i, needed] of [(1n << 60n) + 2n, (1n << 60n) + 1n].entries())
      queue.enqueue(entry(`r${i}`, 3n, needed));
    expect(queue.peek(null)?.id).toBe('r1');
  });

  it('a queue in another order than the exact one follows that order, small amounts included', () => {
    // The doubles shortcut reproduces the exact order only: an order of its own is asked every time.
    const reversed = (a: Multiplier, b: Multiplier) => compareMultipliers(b, a);
    const queue = new RequestQueue<QueueEntry>(reversed, 2);
    for (const [i, paid] of [3n, 1n, 2n].entries()) queue.enqueue(entry(`r${i}`, paid));
    expect(queue.peek(null)?.id).toBe('r1');
    // Restoring needs one order on both sides: entries placed by one order mean nothing to another.
    const exact = new RequestQueue<QueueEntry>(compareMultipliers, 2);
    expect(() => exact.restoreFrom(queue, (e) => e)).toThrow('queues with different orders');
  });

  it('orders 100,000 queued requests and honours a bound of 0 (strict arrival order)', () => {
    const queue = new RequestQueue<QueueEntry>();
    const n = LARGE_QUEUE;
    for (let i = 0; i < n; i++) queue.enqueue(entry(`r${i}`, BigInt((i * 7919) % 1000) + 1n));
    let previous: bigint | undefined;
    for (let i = 0; i < n / 2; i++) {
      const head = queue.peek(null)!;
      if (previous !== undefined) expect(head.multiplier.paid <= previous).toBe(true);
      previous = head.multiplier.paid;
      queue.dispatch(head);
      queue.release(head);
    }
    expect(queue.length).toBe(n / 2);
    const strict = new RequestQueue<QueueEntry>();
    for (let i = 0; i < 1000; i++) strict.enqueue(entry(`s${i}`, BigInt(i)));
    // With bound 0 every waiting request is saturated from arrival: nothing may overtake.
    const order: string[] = [];
    while (strict.length > 0) {
      const head = strict.peek(0)!;
      order.push(head.id);
      strict.dispatch(head);
    }
    expect(order).toEqual(Array.from({ length: 1000 }, (_, i) => `s${i}`));
  });

  it('refuses operations on requests it does not hold in the right state', () => {
    const queue = new RequestQueue<QueueEntry>();
    const a = entry('a', 1n);
    const stranger = entry('x', 1n);
    queue.enqueue(a);
    expect(() => queue.requeue(a)).toThrow(/not parked/);
    expect(() => queue.release(stranger)).toThrow(/not in the queue/);
    queue.dispatch(a);
    expect(() => queue.dispatch(a)).toThrow(/not waiting/);
    queue.release(a);
    expect(queue.length).toBe(0);
    expect(queue.peek(null)).toBeUndefined();
  });
});
