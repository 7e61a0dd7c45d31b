import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Deadline, DeadlineHeap } from '../../src/model/deadlines.ts';
import { UNIT_RUNS } from '../properties/harness.ts';

const WORKERS = ['A', 'B', 'C', 'D'];
const REQUESTS = ['r1', 'r2', 'r3'];

type Op =
  | { kind: 'push'; deadline: Deadline }
  | { kind: 'prune'; keep: string[] }
  | { kind: 'pop'; now: number }
  | { kind: 'clone' }
  | { kind: 'drop-pushed'; deadline: Deadline; miss: 'none' | 'time' | 'request' }
  | { kind: 'retime' }
  | { kind: 'restore' };

// Long runs of mostly pushes, and pops that take only the early part, so that the heap grows deep.
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 10,
    // With an arrival (a waiting request's queue-wait bound, worker '') or without (a running
    // request's deadline): entries that share a time are ordered by worker, then by arrival.
    arbitrary: fc
      .record({
        at: fc.nat(50),
        worker: fc.constantFrom('', ...WORKERS),
        request: fc.constantFrom(...REQUESTS),
        arrival: fc.option(fc.nat(20), { nil: undefined }),
      })
      .map(({ arrival, ...rest }) => ({
        kind: 'push' as const,
        deadline: arrival === undefined ? rest : { ...rest, arrival },
      })),
  },
  { weight: 1, arbitrary: fc.subarray(REQUESTS).map((keep) => ({ kind: 'prune' as const, keep })) },
  { weight: 2, arbitrary: fc.nat(25).map((now) => ({ kind: 'pop' as const, now })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clone' as const }) },
  {
    weight: 2,
    // A push taken back at once (a request dispatched in the step it was queued), or a take-back
    // that names another time or request and must leave the heap as it is.
    arbitrary: fc
      .record({
        at: fc.nat(50),
        request: fc.constantFrom(...REQUESTS),
        arrival: fc.nat(20),
        miss: fc.constantFrom('none' as const, 'none' as const, 'time' as const, 'request' as const),
      })
      .map(({ miss, ...rest }) => ({
        kind: 'drop-pushed' as const,
        deadline: { ...rest, worker: '' },
        miss,
      })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'retime' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restore' as const }) },
);

/** An entry as `each` gives its fields (no arrival: NaN). */
const entryOf = (at: number, worker: string, request: string, arrival: number): Deadline => ({
  at,
  worker,
  request,
  arrival: Number.isNaN(arrival) ? undefined : arrival,
});

/** A strictly increasing change of time scale (the model checker's kind). */
const later = (at: number) => at + 1;

const byTime = (a: Deadline, b: Deadline) =>
  a.at - b.at ||
  (a.worker < b.worker ? -1 : a.worker > b.worker ? 1 : 0) ||
  (a.arrival ?? 0) - (b.arrival ?? 0);
const order = (d: Deadline) => [d.at, d.worker, d.arrival ?? 0];
const full = (d: Deadline) => `${d.at}/${d.worker}/${d.request}/${d.arrival}`;

describe('DeadlineHeap', () => {
  it('pushes, prunes and pops like a sorted list (earliest first, ties by worker, then by arrival)', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 100, size: 'max' }), (ops) => {
        let heap = new DeadlineHeap();
        /** A second heap to restore into: it holds whatever it held before (more or fewer entries). */
        let spare = new DeadlineHeap();
        let reference: Deadline[] = [];
        for (const o of ops) {
          switch (o.kind) {
            case 'push':
              heap.push(o.deadline);
              reference.push(o.deadline);
              break;
            case 'prune': {
              const live = (d: Deadline) => o.keep.includes(d.request);
              heap.prune(live);
              reference = reference.filter(live);
              break;
            }
            case 'pop': {
              reference.sort(byTime);
              const due = reference.filter((d) => d.at < o.now);
              reference = reference.slice(due.length);
              const popped: Deadline[] = [];
              for (let d = heap.popExpired(o.now); d !== undefined; d = heap.popExpired(o.now))
                popped.push(d);
              // The order is total on (at, worker, arrival); entries that tie on all three may come in
              // any order.
              expect(popped.map(order)).toEqual(due.map(order));
              expect(popped.map(full).sort()).toEqual(due.map(full).sort());
              break;
            }
            case 'clone': {
              // The copy carries on alone; the original, drained, leaves it untouched.
              const twin = heap.clone();
              while (heap.popExpired(Number.POSITIVE_INFINITY) !== undefined);
              expect(heap.size).toBe(0);
              heap = twin;
              break;
            }
            case 'drop-pushed': {
              // dropLast takes out the entry in the last slot (a leaf) when it has the time and
              // request named: the one just pushed, unless it moved up past an equal one.
              const d = o.deadline;
              heap.push(d);
              reference.push(d);
              let last: Deadline | undefined;
              heap.each((...fields) => {
                last = entryOf(...fields);
              });
              const at = o.miss === 'time' ? d.at + 1 : d.at;
              const request = o.miss === 'request' ? `${d.request}x` : d.request;
              heap.dropLast(at, request);
              if (last !== undefined && last.at === at && last.request === request)
                reference.splice(reference.map(full).indexOf(full(last)), 1);
              break;
            }
            case 'retime':
              heap.retime(later);
              reference = reference.map((d) => ({ ...d, at: later(d.at) }));
              break;
            case 'restore':
              spare.restoreFrom(heap);
              [heap, spare] = [spare, heap];
              break;
          }
          expect(heap.size).toBe(reference.length);
          const held: string[] = [];
          heap.each((...fields) => held.push(full(entryOf(...fields))));
          expect(held.sort()).toEqual(reference.map(full).sort());
        }
      }),
      { numRuns: UNIT_RUNS },
    );
  });
});
