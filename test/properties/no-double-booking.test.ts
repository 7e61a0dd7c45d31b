import { describe, it } from 'vitest';
import { assertInvariant, modelHerder } from './harness.ts';

describe('no-double-booking', () => {
  it('a worker holds at most one request and a request is on at most one worker (model, random traces)', () => {
    assertInvariant('no-double-booking', modelHerder);
  });
});
