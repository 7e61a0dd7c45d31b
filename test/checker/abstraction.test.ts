/**
 * The state abstraction is exact: stepping the canonical representative of a state and stepping
 * the state as it really is (absolute times with arbitrary gaps, a fresh id on every message,
 * a full-size queue, no normalization) always lead to states with the same key.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalize } from '../../src/checker/abstraction.ts';
import { DEFAULT_BOUNDS } from '../../src/checker/bounds.ts';
import { deadlineGroups, messageFor, type Node } from '../../src/checker/environment.ts';
import { Explorer } from '../../src/checker/explore.ts';
import { cloneHerderState, initialHerderState, stepInPlace } from '../../src/model/herder.ts';
import { RUNS } from '../properties/harness.ts';

const BOUNDS = {
  ...DEFAULT_BOUNDS,
  workers: 2,
  requests: 3,
  failures: true,
  timeouts: true,
  lateAnswers: true,
  ownerActions: true,
};

/**
 * The key of a raw node: the key of a normalized copy, its clock placed among its timers as the
 * raw clock is among the raw ones (at `now`, a little later, or just past the k-th timer).
 */
function rawKey(explorer: Explorer, raw: Node): string {
  const copy = cloneHerderState(raw.state);
  normalize(copy, explorer.clock);
  const passed = deadlineGroups(raw.state).filter((at) => at < raw.clock).length;
  const clock =
    raw.clock === raw.state.now
      ? copy.now
      : passed === 0
        ? copy.now + 1
        : deadlineGroups(copy)[passed - 1]! + 1;
  return explorer.key({ state: copy, clock, sent: raw.sent });
}

describe('state abstraction', () => {
  it('keys of the canonical walk equal keys of the same walk on raw states', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.nat(), fc.integer({ min: 2, max: 5_000 }), fc.double({ min: 0, max: 1, noNaN: true })),
          {
            maxLength: 40,
          },
        ),
        fc.integer({ min: 0, max: 10 ** 9 }),
        (walk, start) => {
          const explorer = new Explorer(BOUNDS);
          let node = explorer.initial();
          // The raw walk starts at another time, with the model's own full-size queue.
          const initial = initialHerderState(explorer.config);
          initial.now = start;
          let raw: Node = { state: initial, clock: start, sent: 0 };
          for (const [choice, gap, fraction] of walk) {
            const enabled = explorer.enabled(node);
            if (enabled.length === 0) break;
            const index = enabled[choice % enabled.length]!;
            const event = explorer.event(index);
            node = explorer.successor(node, index).node;
            if (event.kind === 'time') {
              const groups = deadlineGroups(raw.state).filter((at) => at >= raw.clock);
              let clock: number;
              // Later, but not past the next timer (a timer passes once the clock is beyond it).
              if (event.to === 'later')
                clock = Math.min(raw.clock + gap, groups[0] ?? Number.POSITIVE_INFINITY);
              else {
                // Just past the next deadline, anywhere before the one after it.
                const room = (groups[1] ?? groups[0]! + 5_000) - groups[0]! - 1;
                clock = groups[0]! + 1 + Math.floor(fraction * room);
              }
              raw = { ...raw, clock };
            } else {
              const msg = messageFor(raw, event, explorer.bounds, explorer.config, explorer.ids)!;
              const state = cloneHerderState(raw.state);
              stepInPlace(state, msg);
              raw = { state, clock: state.now, sent: raw.sent + (event.kind === 'credit' ? 1 : 0) };
            }
            expect(rawKey(explorer, raw)).toBe(explorer.key(node));
          }
        },
      ),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });
});
