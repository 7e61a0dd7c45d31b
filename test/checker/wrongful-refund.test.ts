/** no-wrongful-refund in the checker: a refund's reason is recomputed from the notice and the settings in force. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BOUNDS } from '../../src/checker/bounds.ts';
import { check } from '../../src/checker/explore.ts';
import type { HerdConfig } from '../../src/model/config.ts';
import { underCheck, variant } from '../defects/catalogue.ts';

/** The model with its settings altered for the length of each step only (the books see the real ones). */
function withSettingsDuringStep(name: string, alter: (config: HerdConfig) => HerdConfig) {
  return underCheck(
    variant(name, {
      before: (state, msg) => {
        state.config = alter(state.config);
        return msg;
      },
      after: (before, _msg, outbox, state) => {
        state.config = before.config;
        return outbox;
      },
    }),
  );
}

describe('no-wrongful-refund', () => {
  it('"Insufficient payment" for a notice that pays the fee in force', () => {
    const herder = withSettingsDuringStep('fee-doubled', (c) => ({ ...c, baseFee: c.baseFee * 2n }));
    const result = check({ ...DEFAULT_BOUNDS, workers: 1, requests: 1, levels: 1 }, { herder });
    expect(result.violations.map((v) => [v.invariant, v.trace.length])).toEqual([['no-wrongful-refund', 1]]);
    expect(result.violations[0]!.detail).toBe(
      'notice m1 was refunded as "Insufficient payment", which is false: the notice is valid and pays 130 of the 130 needed, and the herder accepts requests',
    );
  });

  it('a request refunded after its first failed attempt when it has more', () => {
    const herder = withSettingsDuringStep('one-attempt', (c) => ({ ...c, maxAttempts: 1 }));
    const bounds = { ...DEFAULT_BOUNDS, workers: 2, requests: 1, levels: 1, failures: true };
    const result = check(bounds, { herder });
    expect(result.violations.map((v) => [v.invariant, v.trace.length])).toEqual([['no-wrongful-refund', 2]]);
    expect(result.violations[0]!.detail).toMatch(/^m1 was refunded after 1 of 2 attempts$/);
  });

  it('the model refunds only for true reasons: underpaid, paused, attempts exhausted', () => {
    const bounds = {
      ...DEFAULT_BOUNDS,
      workers: 1,
      requests: 2,
      levels: 1,
      underpaid: true,
      failures: true,
      ownerActions: true,
    };
    const result = check(bounds);
    expect(result.complete).toBe(true);
    // Waited-too-long refunds included: a failed worker may stay down until the request waits out the bound.
    expect(result.violations).toEqual([]);
  });
});
