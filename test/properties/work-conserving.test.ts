import { describe, it } from 'vitest';
import { assertInvariant, modelHerder } from './harness.ts';

describe('work-conserving', () => {
  it('after every step there is never an idle worker together with a waiting request (model, random traces)', () => {
    assertInvariant('work-conserving', modelHerder);
  });
});
