/**
 * Per-message cost of the local network vs a bare ao-loader call on the same messages (medians
 * of several hundred). Printed for the record; the assertion only catches gross regressions,
 * since the machine is shared (the design target is ≤ 1.2×).
 */
import { describe, expect, it } from 'vitest';
import { formatOverhead, measureNetworkOverhead } from '../../src/ao/bench.ts';

describe('local network overhead', () => {
  for (const module of ['aos32', 'aos64'] as const) {
    it(`${module}: network step vs bare ao-loader call`, async () => {
      const result = await measureNetworkOverhead({ module, messages: 400 });
      console.log(formatOverhead(result));
      expect(result.bareMedianMs).toBeGreaterThan(0);
      expect(result.ratio).toBeLessThan(1.6);
    });
  }
});
