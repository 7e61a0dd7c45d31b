import { describe, it } from 'vitest';
import { contendedEvents, traceSpec } from './arbitraries.ts';
import { assertInvariant, modelHerder } from './harness.ts';

describe('bounded-overtaking', () => {
  it('no request is overtaken more than maxOvertakes times (contended herd)', () => {
    assertInvariant('bounded-overtaking', modelHerder, {
      arbitrary: traceSpec({ events: contendedEvents() }),
    });
  });

  it('the same on general traces, where the owner also changes the bound', () => {
    assertInvariant('bounded-overtaking', modelHerder);
  });
});
