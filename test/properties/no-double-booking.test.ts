import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { initialHerderState, stepInPlace } from '../../src/model/herder.ts';
import { traceSpec } from './arbitraries.ts';
import { assertInvariant, modelHerder, RUNS, runTrace } from './harness.ts';

describe('no-double-booking', () => {
  it("after every step, each busy worker holds exactly one request, that request is on that worker, and no request is on two workers (the model's own state)", () => {
    fc.assert(
      fc.property(traceSpec(), (spec) => {
        const { log } = runTrace(modelHerder, spec);
        const state = initialHerderState(spec.config);
        for (const { msg } of log) {
          stepInPlace(state, msg);
          const holder = new Map<string, string>();
          for (const worker of state.herd.all()) {
            expect(worker.status === 'busy', worker.id).toBe(worker.request !== undefined);
            if (worker.request === undefined) continue;
            expect(holder.has(worker.request), `${worker.request} on two workers`).toBe(false);
            holder.set(worker.request, worker.id);
            expect(state.requests.get(worker.request)?.worker).toBe(worker.id);
          }
          for (const r of state.requests.values())
            if (r.worker !== undefined) expect(holder.get(r.id)).toBe(r.worker);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('the black-box auditor never sees work sent to a worker that still holds some (model, random traces)', () => {
    assertInvariant('no-double-booking', modelHerder);
  });
});
