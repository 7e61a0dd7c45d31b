/**
 * The checker must catch broken herders, each with a shortest trace: the seeded defects of the
 * shared catalogue (test/defects/catalogue.ts), under small bounds (a few thousand states at most).
 */
import { describe, expect, it } from 'vitest';
import { check } from '../../src/checker/explore.ts';
import { SEEDED_DEFECTS, underCheck } from '../defects/catalogue.ts';

describe('seeded defects are found by the model checker', () => {
  for (const seeded of SEEDED_DEFECTS) {
    const { bounds, length, stuck } = seeded.checker;
    const herder = underCheck(seeded.herder);
    it(`${seeded.defect} → ${seeded.invariant}, shortest trace ${length} steps`, () => {
      const result = check(bounds, { herder });
      if (stuck) {
        expect(result.complete).toBe(true);
        expect(result.stuck, `${herder.name}: no stuck state found`).toBeDefined();
        expect(result.stuck!.trace).toHaveLength(length);
        // With deadlines the model's known stuck queue shows too (see below); nothing else may.
        expect(result.violations.filter((v) => v.invariant !== 'bounded-response')).toEqual([]);
        return;
      }
      const violation = result.violations.find((v) => v.invariant === seeded.invariant);
      expect(violation, `${herder.name} was not caught by ${seeded.invariant}`).toBeDefined();
      expect(violation!.trace).toHaveLength(length);
      // The trace replays to the violation: its last step breaks the invariant.
      const last = violation!.trace[violation!.trace.length - 1]!;
      expect(last.findings.some((f) => f.startsWith(`${seeded.invariant}: `))).toBe(true);
      // A behaviour going on forever is shown as a path to a cycle, then the cycle.
      if (seeded.invariant === 'bounded-response') expect(violation!.loop).toBeLessThan(length);
    });

    it(`the unaltered model passes the same bounds (${herder.name})`, () => {
      const result = check(bounds);
      expect(result.complete).toBe(true);
      expect(result.stuck).toBeUndefined();
      if (!bounds.timeouts) {
        expect(result.violations).toEqual([]);
        return;
      }
      // Known defect of the model, pinned until the queue-wait bound lands: with deadlines, every
      // worker can time out and stay silent while time advances, and a queued request then waits
      // forever. Nothing else is found.
      expect(result.violations.map((v) => v.invariant)).toEqual(['bounded-response']);
    });
  }
});
