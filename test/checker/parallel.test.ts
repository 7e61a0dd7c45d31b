/** The checker on two threads explores the same space as on one, and finds the same shortest violations. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BOUNDS } from '../../src/checker/bounds.ts';
import { type CheckResult, check } from '../../src/checker/explore.ts';
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
    const counts = (r: CheckResult) => [r.states, r.transitions, r.bySymmetry, r.depth];
    const single = check(bounds);
    // Three threads on two cores too: more than two share the work of a layer (sharing.ts).
    const three = await checkInParallel(bounds, { threads: 3 });
    expect(counts(three)).toEqual(counts(single));
    const parallel = await checkInParallel(bounds, { threads: 2 });
    expect(counts(parallel)).toEqual(counts(single));
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

  it('stops at the memory limit, measured by the coordinator, with the reason', async () => {
    const result = await checkInParallel(
      { ...DEFAULT_BOUNDS, failures: true, timeouts: true },
      { threads: 2, maxMemory: 1 },
    );
    expect(result.complete).toBe(false);
    expect(result.stoppedBy?.limit).toBe('memory');
    expect(result.stoppedBy?.reason).toMatch(/^resident memory reached /);
  });

  it('stops at the time limit with the reason', async () => {
    const bounds = { ...DEFAULT_BOUNDS, requests: 4, failures: true, timeouts: true };
    const result = await checkInParallel(bounds, { threads: 2, maxSeconds: 1, symmetry: false });
    expect(result.stoppedBy).toEqual({ limit: 'time', reason: 'the time limit (1 s) was reached' });
    expect(result.complete).toBe(false);
  });
});
