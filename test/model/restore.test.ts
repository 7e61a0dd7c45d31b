/**
 * Restoring a state over another (what the model checker does before every transition instead of
 * copying the parent) leaves a state that is the source's, behaves as a copy of it would, and
 * shares nothing with it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cloneHerderState,
  type HerderState,
  initialHerderState,
  restoreHerderState,
  stepInPlace,
} from '../../src/model/herder.ts';
import type { AoMessage } from '../../src/model/messages.ts';
import type { TraceSpec } from '../../src/verify/scenario.ts';
import { traceSpec } from '../properties/arbitraries.ts';
import { modelHerder, RUNS, runTrace } from '../properties/harness.ts';
import { toPlain } from './plain-state.ts';

/** The messages a trace delivers to the model, in order. */
function messagesOf(spec: TraceSpec): AoMessage[] {
  return runTrace(modelHerder, spec, { drain: false }).log.map((entry) => entry.msg);
}

function stateAfter(spec: TraceSpec, messages: readonly AoMessage[]): HerderState {
  const state = initialHerderState(spec.config);
  for (const msg of messages) stepInPlace(state, msg);
  return state;
}

describe('restoreHerderState', () => {
  it('makes any state the source, which then steps as a copy of the source does, the source untouched', () => {
    fc.assert(
      fc.property(traceSpec(), traceSpec(), fc.nat(), (a, b, at) => {
        const fromA = messagesOf(a);
        const split = at % (fromA.length + 1);
        const source = stateAfter(a, fromA.slice(0, split));
        const target = stateAfter(b, messagesOf(b));
        const before = structuredClone(toPlain(source));

        restoreHerderState(target, source);
        expect(toPlain(target)).toEqual(toPlain(source));
        const copy = cloneHerderState(source);
        for (const msg of fromA.slice(split)) {
          expect(stepInPlace(target, msg)).toEqual(stepInPlace(copy, msg));
          expect(toPlain(target)).toEqual(toPlain(copy));
        }
        expect(toPlain(source)).toEqual(before);
      }),
      { numRuns: Math.min(RUNS, 300) },
    );
  });
});
