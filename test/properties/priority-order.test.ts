import { describe, it } from 'vitest';
import { contendedEvents, traceSpec } from './arbitraries.ts';
import { assertInvariant, modelHerder } from './harness.ts';

describe('priority-order', () => {
  it('no waiting request has a strictly higher multiplier than the one dispatched, unless bounded overtaking blocks it (contended herd)', () => {
    assertInvariant('priority-order', modelHerder, { arbitrary: traceSpec({ events: contendedEvents() }) });
  });

  it('the same on general traces with failures, timeouts and owner actions', () => {
    assertInvariant('priority-order', modelHerder);
  });
});
