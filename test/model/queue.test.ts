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
      paid: fc.oneof(fc.bigInt({ min: 1n, max: 6n }), fc.bigInt({ min: 1n << 80n, max: (1n << 80n) + 3n })),
      needed: fc.bigInt({ min: 1n, max: 3n }),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ op: 'dispatch' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('requeue' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const), pick: fc.nat() }) },
);

describe('RequestQueue', () => {
  it('behaves like the naive reference under any sequence of operations and any bound', () => {
    fc.assert(
      fc.property(fc.option(fc.nat(4), { nil: null }), fc.array(opArb, { maxLength: 120 }), (bound, ops) => {
        const queue = new RequestQueue<QueueEntry>(compareMultipliers, 2);
        const reference = new ReferenceQueue();
        const live = new Map<string, QueueEntry>();
        let next = 0;
        for (const step of ops) {
          if (step.op === 'enqueue') {
            const id = `r${next++}`;
            const entry: QueueEntry = {
              id,
              multiplier: { paid: step.paid, needed: step.needed },
              slot: 0,
              overtakes: 0,
            };
            queue.enqueue(entry);
            reference.enqueue(id, entry.multiplier);
            live.set(id, entry);
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
            if (pool.length === 0) continue;
            const chosen = pool[step.pick % pool.length]!;
            const entry = live.get(chosen.id)!;
            if (step.op === 'requeue') {
              queue.requeue(entry);
              chosen.state = 'waiting';
            } else {
              queue.release(entry);
              chosen.state = 'gone';
              live.delete(chosen.id);
            }
          }
          expect(queue.length).toBe(reference.waiting().length);
          expect(queue.waitingInArrivalOrder().map((w) => [w.entry.id, w.overtakes])).toEqual(
            reference.waiting().map((e) => [e.id, e.overtakes]),
          );
          for (const e of reference.entries)
            if (e.state === 'parked') expect(queue.isWaiting(live.get(e.id)!)).toBe(false);
        }
      }),
      { numRuns: UNIT_RUNS },
    );
  });

  it('a clone evolves independently of its original', () => {
    const queue = new RequestQueue<QueueEntry>();
    const entries = [3n, 1n, 2n].map((paid, i) => ({
      id: `r${i}`,
      multiplier: { paid, needed: 1n },
      slot: 0,
      overtakes: 0,
    }));
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

  it('orders 100,000 queued requests and honours a bound of 0 (strict arrival order)', () => {
    const queue = new RequestQueue<QueueEntry>();
    const n = LARGE_QUEUE;
    for (let i = 0; i < n; i++)
      queue.enqueue({
        id: `r${i}`,
        multiplier: { paid: BigInt((i * 7919) % 1000) + 1n, needed: 1n },
        slot: 0,
        overtakes: 0,
      });
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
    for (let i = 0; i < 1000; i++)
      strict.enqueue({ id: `s${i}`, multiplier: { paid: BigInt(i), needed: 1n }, slot: 0, overtakes: 0 });
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
    const a: QueueEntry = { id: 'a', multiplier: { paid: 1n, needed: 1n }, slot: 0, overtakes: 0 };
    const stranger: QueueEntry = { id: 'x', multiplier: { paid: 1n, needed: 1n }, slot: 0, overtakes: 0 };
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
