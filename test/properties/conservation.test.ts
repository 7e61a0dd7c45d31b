import { describe, it } from 'vitest';
import { assertInvariant, modelHerder } from './harness.ts';

describe('conservation', () => {
  it('credited = refunded + revenue + escrow + unclaimed after every step; no transfer beyond holdings; withdrawals <= revenue (model, random traces)', () => {
    assertInvariant('conservation', modelHerder);
  });
});
