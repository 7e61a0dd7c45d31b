/**
 * The checker must catch broken herders, each with a shortest trace: the seeded defects of
 * defects.ts, under small bounds (a few thousand states at most).
 */
import { describe, expect, it } from 'vitest';
import { check } from '../../src/checker/explore.ts';
import { SEEDED_DEFECTS } from './defects.ts';

describe('seeded defects are found by the model checker', () => {
  for (const seeded of SEEDED_DEFECTS) {
    it(`${seeded.defect} → ${seeded.invariant}, shortest trace ${seeded.length} steps`, () => {
      const result = check(seeded.bounds, { herder: seeded.herder });
      if (seeded.stuck) {
        expect(result.violations).toEqual([]);
        expect(result.complete).toBe(true);
        expect(result.stuck, `${seeded.herder.name}: no stuck state found`).toBeDefined();
        expect(result.stuck!.trace).toHaveLength(seeded.length);
        return;
      }
      const violation = result.violations.find((v) => v.invariant === seeded.invariant);
      expect(violation, `${seeded.herder.name} was not caught by ${seeded.invariant}`).toBeDefined();
      expect(violation!.trace).toHaveLength(seeded.length);
      // The trace replays to the violation: its last step breaks the invariant.
      const last = violation!.trace[violation!.trace.length - 1]!;
      expect(last.findings.some((f) => f.startsWith(`${seeded.invariant}: `))).toBe(true);
    });

    it(`the unaltered model passes the same bounds (${seeded.herder.name})`, () => {
      const result = check(seeded.bounds);
      expect(result.complete).toBe(true);
      expect(result.violations).toEqual([]);
      expect(result.stuck).toBeUndefined();
    });
  }
});
