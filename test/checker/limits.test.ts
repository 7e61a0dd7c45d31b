/** When an exploration stops short: time, resident memory and the heap, measured at most every 250 ms. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BOUNDS } from '../../src/checker/bounds.ts';
import { check } from '../../src/checker/explore.ts';
import { describeLimit, type MemoryReading, RunLimits } from '../../src/checker/limits.ts';

const GIB = 2 ** 30;

function reader(readings: MemoryReading[]) {
  let calls = 0;
  return {
    read: () => readings[Math.min(calls++, readings.length - 1)]!,
    calls: () => calls,
  };
}

describe('run limits', () => {
  it('stops at the resident memory limit, reading memory at most every 250 ms', () => {
    const memory = reader([
      { resident: 1 * GIB, heapUsed: 0, heapLimit: 4 * GIB },
      { resident: 2 * GIB, heapUsed: 0, heapLimit: 4 * GIB },
    ]);
    const limits = new RunLimits({ maxMemory: 2 * GIB }, 0, memory.read);
    expect(limits.exceeded(0)).toBe(false);
    expect(limits.exceeded(249)).toBe(false);
    expect(memory.calls()).toBe(1);
    expect(limits.exceeded(250)).toBe(true);
    expect(limits.reached).toBe('memory');
    expect(limits.exceeded(251)).toBe(true);
    expect(memory.calls()).toBe(2);
    expect(describeLimit('memory', limits.memory, { maxMemory: 2 * GIB })).toBe(
      'resident memory reached 2.00 GiB, the memory limit (2.00 GiB)',
    );
  });

  it('stops when the heap passes 90% of its limit, with or without a memory limit', () => {
    const below = new RunLimits({}, 0, () => ({ resident: 0, heapUsed: 0.89 * GIB, heapLimit: GIB }));
    expect(below.exceeded(0)).toBe(false);
    const above = new RunLimits({}, 0, () => ({ resident: 0, heapUsed: 0.9 * GIB, heapLimit: GIB }));
    expect(above.exceeded(0)).toBe(true);
    expect(above.reached).toBe('heap');
  });

  it('stops after the time limit', () => {
    const limits = new RunLimits({ maxSeconds: 2 }, 1000, () => ({
      resident: 0,
      heapUsed: 0,
      heapLimit: GIB,
    }));
    expect(limits.exceeded(3000)).toBe(false);
    expect(limits.exceeded(3001)).toBe(true);
    expect(limits.reached).toBe('time');
  });

  it('gives a capped single-threaded run its reason; a complete one has none', () => {
    const bounds = { ...DEFAULT_BOUNDS, failures: true, timeouts: true };
    const capped = check(bounds, { maxStates: 100 });
    expect(capped.stoppedBy).toEqual({ limit: 'states', reason: 'the state cap (100) was reached' });
    const byMemory = check(bounds, { maxMemory: 1 });
    expect(byMemory.stoppedBy?.limit).toBe('memory');
    expect(byMemory.complete).toBe(false);
    expect(check(bounds).stoppedBy).toBeUndefined();
  });
});
