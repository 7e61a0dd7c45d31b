import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialHerderState, stepInPlace } from '../../src/model/herder.ts';
import { contendedEvents, traceSpec } from './arbitraries.ts';
import { assertInvariant, modelHerder, RUNS, runTrace } from './harness.ts';

describe('work-conserving', () => {
  it("after every step, never an idle worker while a request waits (the model's own state, busy herds)", () => {
    fc.assert(
      fc.property(traceSpec({ events: contendedEvents() }), (spec) => {
        const { log } = runTrace(modelHerder, spec);
        const state = initialHerderState(spec.config);
        for (const { msg } of log) {
          stepInPlace(state, msg);
          const idle = [...state.herd.all()].filter((w) => w.status === 'idle' && !w.draining);
          expect(
            idle.length > 0 && state.queue.length > 0,
            `idle ${idle.map((w) => w.id)}, ${state.queue.length} waiting`,
          ).toBe(false);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('the black-box auditor never sees an idle worker while a payment waits (model, random traces)', () => {
    assertInvariant('work-conserving', modelHerder);
  });
});
