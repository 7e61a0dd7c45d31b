import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineHeap } from '../../src/model/deadlines.ts';
import { Herd, type WorkerStatus } from '../../src/model/herd.ts';
import { UNIT_RUNS } from '../properties/harness.ts';

const IDS = ['A', 'B', 'C', 'D', 'E'];

describe('Herd', () => {
  it('picks the longest-idle worker not to avoid, else the longest-idle one, like a plain list', () => {
    const op = fc.record({
      worker: fc.constantFrom(...IDS),
      action: fc.constantFrom<WorkerStatus | 'remove' | 'add'>(
        'idle',
        'busy',
        'timed-out',
        'failed',
        'remove',
        'add',
      ),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.subarray(IDS), (ops, avoid) => {
        const herd = new Herd(['A', 'B']);
        /** Reference: ids in the order they last became idle. */
        let idleOrder = ['A', 'B'];
        const present = new Set(['A', 'B']);
        for (const { worker, action } of ops) {
          if (action === 'add') {
            if (present.has(worker)) continue;
            herd.add(worker);
            present.add(worker);
            idleOrder.push(worker);
          } else if (!present.has(worker)) continue;
          else if (action === 'remove') {
            herd.remove(herd.get(worker)!);
            present.delete(worker);
            idleOrder = idleOrder.filter((id) => id !== worker);
          } else {
            herd.setStatus(herd.get(worker)!, action);
            idleOrder = idleOrder.filter((id) => id !== worker);
            if (action === 'idle') idleOrder.push(worker);
          }
          expect(herd.idleCount).toBe(idleOrder.length);
          expect(herd.busyCount).toBe([...herd.all()].filter((w) => w.status === 'busy').length);
          expect(herd.idleInOrder().map((w) => w.id)).toEqual(idleOrder);
          expect(herd.size).toBe(present.size);
          const expected = idleOrder.find((id) => !avoid.includes(id)) ?? idleOrder[0];
          expect(herd.pickIdle(avoid)?.id).toBe(expected);
        }
        const twin = herd.clone();
        expect(twin.idleInOrder().map((w) => w.id)).toEqual(idleOrder);
        for (const w of twin.all()) twin.setStatus(w, 'busy');
        expect(herd.idleCount).toBe(idleOrder.length);
      }),
      { numRuns: UNIT_RUNS },
    );
  });

  it('a clone and its original evolve independently', () => {
    const change = fc.record({
      worker: fc.constantFrom(...IDS),
      status: fc.constantFrom<WorkerStatus>('idle', 'busy', 'failed'),
    });
    fc.assert(
      fc.property(
        fc.array(change, { maxLength: 20 }),
        fc.array(change, { maxLength: 20 }),
        (before, after) => {
          const herd = new Herd(IDS);
          const apply = (h: Herd, changes: typeof before) => {
            for (const { worker, status } of changes) h.setStatus(h.get(worker)!, status);
          };
          apply(herd, before);
          const order = herd.idleInOrder().map((w) => w.id);
          const twin = herd.clone();
          apply(twin, after);
          expect(herd.idleInOrder().map((w) => w.id)).toEqual(order);
          apply(herd, after);
          expect(herd.idleInOrder().map((w) => w.id)).toEqual(twin.idleInOrder().map((w) => w.id));
          expect(herd.idleCount).toBe(twin.idleCount);
          expect(herd.busyCount).toBe(twin.busyCount);
        },
      ),
      { numRuns: UNIT_RUNS },
    );
  });

  it('a herd restored from another has its workers and idle order, whatever either held before', () => {
    // Herds that change, pick (which drops stale entries at the FIFO's head) and are restored from
    // one another in any order: entries consumed at the source's head, and entries the target held
    // past its new tail, must never count as idle workers.
    const op = fc.oneof(
      fc.record({
        herd: fc.nat(2),
        worker: fc.constantFrom(...IDS),
        status: fc.constantFrom<WorkerStatus>('idle', 'busy', 'failed'),
      }),
      fc.record({ herd: fc.nat(2), pick: fc.subarray(IDS, { maxLength: 2 }) }),
      fc.record({ herd: fc.nat(2), from: fc.nat(2) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const herds = [new Herd(IDS), new Herd(IDS), new Herd(['A', 'B'])];
        /** Reference: per herd, ids in the order they last became idle. */
        const orders = [[...IDS], [...IDS], ['A', 'B']];
        for (const o of ops) {
          const herd = herds[o.herd]!;
          if ('from' in o) {
            herd.restoreFrom(herds[o.from]!);
            orders[o.herd] = [...orders[o.from]!];
          } else if ('pick' in o) herd.pickIdle(o.pick);
          else {
            const worker = herd.get(o.worker);
            if (worker === undefined) continue;
            herd.setStatus(worker, o.status);
            orders[o.herd] = orders[o.herd]!.filter((id) => id !== o.worker);
            if (o.status === 'idle') orders[o.herd]!.push(o.worker);
          }
          for (const [i, h] of herds.entries()) {
            expect(h.idleInOrder().map((w) => w.id)).toEqual(orders[i]);
            expect(h.idleCount).toBe(orders[i]!.length);
            expect(h.busyCount).toBe([...h.all()].filter((w) => w.status === 'busy').length);
          }
        }
      }),
      { numRuns: UNIT_RUNS },
    );
  });

  it('a restore copies only the live entries of a source that was itself restored, then picked', () => {
    // `source` keeps, past its tail, an entry left from an earlier restore that names one of its
    // idle workers with that worker's stamp; after a pick moved its head, a restore reading past
    // the tail would list that worker twice.
    const longer = new Herd(['A', 'B', 'C']);
    const shorter = new Herd(['A', 'B', 'C']);
    shorter.setStatus(shorter.get('A')!, 'busy');
    shorter.pickIdle([]);
    const source = new Herd();
    source.restoreFrom(longer);
    source.restoreFrom(shorter.clone());
    source.setStatus(source.get('B')!, 'busy');
    expect(source.pickIdle([])?.id).toBe('C');
    const target = new Herd();
    target.restoreFrom(source);
    expect(target.idleInOrder().map((w) => w.id)).toEqual(['C']);
    expect(target.pickIdle(['C'])?.id).toBe('C');
  });

  it('keeps picking correctly after many status changes (idle FIFO compaction)', () => {
    const herd = new Herd(IDS);
    for (let round = 0; round < 2_000; round++) {
      const first = herd.pickIdle([])!;
      herd.setStatus(first, 'busy');
      herd.setStatus(first, 'idle');
    }
    expect(herd.idleInOrder().map((w) => w.id)).toEqual(IDS);
    expect(herd.pickIdle(['A', 'B'])?.id).toBe('C');
  });

  it('keeps the idle FIFO bounded however many dispatches it serves', () => {
    const herd = new Herd(IDS);
    let largest = 0;
    for (let round = 0; round < 20_000; round++) {
      // First attempts (nothing to avoid) and retries (the longest-idle worker avoided).
      const worker = herd.pickIdle(round % 3 === 0 ? [herd.idleInOrder()[0]!.id] : [])!;
      herd.setStatus(worker, 'busy');
      herd.setStatus(worker, 'idle');
      largest = Math.max(largest, herd.idleBacklog);
    }
    // Consumed entries are dropped once more than 1,024 of them make up most of the FIFO.
    expect(largest).toBeLessThanOrEqual(2 * 1024 + 2 * IDS.length);
  });
});

describe('DeadlineHeap', () => {
  it('pops exactly the deadlines before now, earliest first (ties by worker), like a sorted list', () => {
    const entry = fc.record({
      at: fc.nat(50),
      worker: fc.constantFrom(...IDS),
      request: fc.constantFrom('r1', 'r2'),
    });
    fc.assert(
      fc.property(fc.array(fc.oneof(entry, fc.nat(60)), { maxLength: 60 }), (ops) => {
        const heap = new DeadlineHeap();
        let reference: { at: number; worker: string; request: string }[] = [];
        for (const op of ops) {
          if (typeof op !== 'number') {
            heap.push(op);
            reference.push(op);
            continue;
          }
          reference.sort((a, b) => a.at - b.at || (a.worker < b.worker ? -1 : a.worker > b.worker ? 1 : 0));
          const due = reference.filter((d) => d.at < op);
          reference = reference.slice(due.length);
          const popped = [];
          for (let d = heap.popExpired(op); d !== undefined; d = heap.popExpired(op)) popped.push(d);
          expect(popped.map((d) => [d.at, d.worker])).toEqual(due.map((d) => [d.at, d.worker]));
          expect(heap.size).toBe(reference.length);
          expect(heap.clone().size).toBe(reference.length);
        }
      }),
      { numRuns: UNIT_RUNS },
    );
  });
});
