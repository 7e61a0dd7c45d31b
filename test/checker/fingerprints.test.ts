/** The shared table of visited states holds as many states as it says, each with its parent and event. */
import { describe, expect, it } from 'vitest';
import {
  allocateFingerprints,
  SharedVisited,
  sharedCapacity,
  slotsFor,
} from '../../src/checker/fingerprints.ts';

describe('shared fingerprint table', () => {
  it('sizes a table for the states asked, at most three quarters full', () => {
    expect(slotsFor(1)).toBe(1 << 16);
    for (const states of [49_152, 49_153, 1_000_000, 12_345_678]) {
      const slots = slotsFor(states);
      expect(sharedCapacity(slots)).toBeGreaterThanOrEqual(states);
      expect(sharedCapacity(slots / 2)).toBeLessThan(states);
      expect(sharedCapacity(slots)).toBeLessThanOrEqual(0.75 * slots);
    }
  });

  it('keeps every state up to its capacity, with its parent and event, and through growth', () => {
    const slots = 1 << 16;
    let visited = new SharedVisited(allocateFingerprints(slots));
    const capacity = sharedCapacity(slots);
    const print = (i: number) =>
      [Math.imul(i + 1, 0x9e3779b1) | 1, Math.imul(i + 7, 0x85ebca6b) | 1] as const;
    // Counted, not asserted one by one: 49,152 states.
    let wrong = 0;
    for (let i = 0; i < capacity; i++) {
      const [hi, lo] = print(i);
      if (visited.visit(hi, lo, i - 1, i % 97) !== i || !visited.fresh) wrong++;
    }
    expect(wrong).toBe(0);
    const check = (table: SharedVisited) => {
      let wrong = 0;
      for (let i = 0; i < capacity; i++) {
        const [hi, lo] = print(i);
        if (table.visit(hi, lo, -5, -5) !== i || table.fresh) wrong++;
        if (table.parent[i] !== i - 1 || table.via[i] !== i % 97) wrong++;
      }
      expect(wrong).toBe(0);
    };
    check(visited);
    visited = new SharedVisited(visited.grow(slotsFor(2 * capacity)));
    check(visited);
  });
});
