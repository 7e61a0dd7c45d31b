/** The checker on two threads explores the same space as on one, and finds the same shortest violations. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BOUNDS } from '../../src/checker/bounds.ts';
import { check } from '../../src/checker/explore.ts';
import { checkInParallel } from '../../src/checker/parallel.ts';

describe('parallel checker', () => {
  it('gives the same counts and depth as the single-threaded one', async () => {
    const bounds = {
      ...DEFAULT_BOUNDS,
      workers: 2,
      requests: 3,
      failures: true,
      timeouts: true,
      lateAnswers: true,
    };
    const single = check(bounds);
    const parallel = await checkInParallel(bounds, { threads: 2 });
    expect([parallel.states, parallel.transitions, parallel.depth]).toEqual([
      single.states,
      single.transitions,
      single.depth,
    ]);
    expect(parallel.complete).toBe(true);
    expect(parallel.stuck).toBeUndefined();
    // The liveness pass runs on the graph gathered from every thread: with the queue-wait bound no
    // request stays pending on any path, in either.
    expect(single.violations).toEqual([]);
    expect(parallel.violations).toEqual([]);
  });

  it('stops at the state cap like the single-threaded one', async () => {
    const result = await checkInParallel(
      { ...DEFAULT_BOUNDS, failures: true, timeouts: true },
      { threads: 2, maxStates: 500 },
    );
    expect(result.complete).toBe(false);
    expect(result.states).toBeLessThanOrEqual(500 + 64);
  });
});
