import { describe, it } from 'vitest';
import { assertInvariant, modelHerder } from './harness.ts';

describe('refund-to-payer', () => {
  it("every refund goes to the notice's Sender for the full Quantity (model, random traces)", () => {
    assertInvariant('refund-to-payer', modelHerder);
  });
});
