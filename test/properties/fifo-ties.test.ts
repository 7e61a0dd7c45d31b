import { describe, it } from 'vitest';
import { contendedEvents, tiedCredit, traceSpec } from './arbitraries.ts';
import { assertInvariant, modelHerder } from './harness.ts';

describe('fifo-ties', () => {
  it('among equal multipliers, dispatch order = arrival order (payments that tie often)', () => {
    assertInvariant('fifo-ties', modelHerder, {
      arbitrary: traceSpec({ events: contendedEvents(tiedCredit) }),
    });
  });

  it('among equal multipliers, dispatch order = arrival order (general traces)', () => {
    assertInvariant('fifo-ties', modelHerder);
  });
});
