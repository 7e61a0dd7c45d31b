/**
 * bad-input-safe: no input makes a handler fail in a way that keeps funds without a record;
 * invalid paid requests are refunded with a reason.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialHerderState, stepInPlace } from '../../src/model/herder.ts';
import { ledgerViolations } from '../../src/model/ledger.ts';
import { herdConfig, junkEvent, traceEvent, traceSpec } from './arbitraries.ts';
import { assertInvariant, modelHerder, RUNS } from './harness.ts';

describe('bad-input-safe', () => {
  it('every invalid paid notice is refunded with a reason, and no valid one is lost (random traces)', () => {
    assertInvariant('bad-input-safe', modelHerder);
  });

  it('the same when most messages are malformed', () => {
    const mostlyJunk = fc.oneof({ weight: 3, arbitrary: junkEvent }, { weight: 1, arbitrary: traceEvent });
    assertInvariant('bad-input-safe', modelHerder, { arbitrary: traceSpec({ events: mostlyJunk }) });
  });

  it('no message, however malformed, makes the step throw or unbalance the books', () => {
    const anyTags = fc.dictionary(fc.string({ maxLength: 12 }), fc.string({ maxLength: 40 }), { maxKeys: 8 });
    const rawMessage = fc.record({
      id: fc.string({ maxLength: 10 }),
      from: fc.constantFrom('TOKEN', 'OWNER', 'W1', 'MALLORY', ''),
      timestamp: fc.oneof(fc.nat(), fc.constant(-1), fc.constant(Number.MAX_SAFE_INTEGER)),
      tags: fc.oneof(
        anyTags,
        anyTags.map((t) => ({ ...t, Action: 'Credit-Notice' })),
      ),
      data: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(herdConfig, fc.array(rawMessage, { maxLength: 30 }), (config, messages) => {
        const state = initialHerderState(config);
        for (const msg of messages) {
          expect(() => stepInPlace(state, msg)).not.toThrow();
          expect(ledgerViolations(state.ledger)).toEqual([]);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
