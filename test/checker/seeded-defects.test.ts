/**
 * The checker must catch broken herders, each with a shortest trace: the seeded defects of the
 * shared catalogue (test/defects/catalogue.ts), under small bounds (a few thousand states at most),
 * with symmetry reduction (the default) and without: the same shortest trace either way.
 */
import { describe, expect, it } from 'vitest';
import { type CheckResult, check } from '../../src/checker/explore.ts';
import { SEEDED_DEFECTS, underCheck } from '../defects/catalogue.ts';

describe('seeded defects are found by the model checker', () => {
  for (const seeded of SEEDED_DEFECTS) {
    const { bounds, length, stuck } = seeded.checker;
    const herder = underCheck(seeded.herder);
    it(`${seeded.defect} → ${seeded.invariant}, shortest trace ${length} steps, with and without symmetry reduction`, () => {
      // Reduced with every layer packed (frontier.ts), and unreduced with whole states.
      expectCaught(check(bounds, { herder, symmetry: true, packFrom: 0 }));
      expectCaught(check(bounds, { herder, symmetry: false, packFrom: Infinity }));
    });

    function expectCaught(result: CheckResult): void {
      if (stuck) {
        expect(result.complete).toBe(true);
        expect(result.stuck, `${herder.name}: no stuck state found`).toBeDefined();
        expect(result.stuck!.trace).toHaveLength(length);
        expect(result.violations).toEqual([]);
        return;
      }
      const violation = result.violations.find((v) => v.invariant === seeded.invariant);
      expect(violation, `${herder.name} was not caught by ${seeded.invariant}`).toBeDefined();
      expect(violation!.trace).toHaveLength(length);
      // The trace replays to the violation: its last step breaks the invariant.
      const last = violation!.trace[violation!.trace.length - 1]!;
      expect(last.findings.some((f) => f.startsWith(`${seeded.invariant}: `))).toBe(true);
      // A behaviour going on forever is shown as a path to a cycle, then the cycle; a timer the
      // herder lets pass is shown as the path to the step that should have acted on it.
      if (seeded.invariant === 'bounded-response' && !violation!.detail.startsWith('a timer is not'))
        expect(violation!.loop).toBeLessThan(length);
    }

    it(`the unaltered model passes the same bounds (${herder.name})`, () => {
      const result = check(bounds);
      expect(result.complete).toBe(true);
      expect(result.stuck).toBeUndefined();
      // With deadlines too: a request whose workers stay down waits out the queue-wait bound.
      expect(result.violations).toEqual([]);
    });
  }
});
