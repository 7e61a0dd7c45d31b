import { describe, it } from 'vitest';
import { assertInvariant, modelHerder } from './harness.ts';

describe('no-lost-request', () => {
  it('every accepted Credit-Notice ends exactly once: one answer or one refund, after the herd drains (model, random traces)', () => {
    assertInvariant('no-lost-request', modelHerder);
  });
});
