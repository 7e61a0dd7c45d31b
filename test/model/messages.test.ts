/**
 * Tag lookup: aos may Title-Case tag names (`Model-ID` arrives as `Model-Id`), so names are read
 * ignoring case; when the exact name is present it wins over its case variants.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AoMessage, type OutMessage, tag } from '../../src/model/messages.ts';
import { UNIT_RUNS } from '../properties/harness.ts';

const NAMES = ['Model-ID', 'Model-Id', 'model-id', 'MODEL-ID', 'X-Request', 'x-request', 'Quantity'];

describe('tag', () => {
  it('finds a tag by its exact name first, else by any case variant, else nothing', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom(...NAMES), fc.string({ maxLength: 4 }), { maxKeys: 5 }),
        fc.constantFrom(...NAMES, 'Action'),
        (tags, name) => {
          const msg: AoMessage = { id: 'm', from: 'P', timestamp: 0, tags };
          const variants = Object.keys(tags).filter((k) => k.toLowerCase() === name.toLowerCase());
          if (name in tags) expect(tag(msg, name)).toBe(tags[name]);
          else if (variants.length > 0) expect(variants.map((k) => tags[k])).toContain(tag(msg, name));
          else expect(tag(msg, name)).toBeUndefined();
        },
      ),
      { numRuns: UNIT_RUNS },
    );
  });

  it('never returns a tag whose name only has the same length', () => {
    const msg: AoMessage = {
      id: 'm',
      from: 'P',
      timestamp: 0,
      tags: { Sender: 'ALICE', 'Model-Id': 'good' },
    };
    expect(tag(msg, 'Action')).toBeUndefined();
    expect(tag(msg, 'Quantity')).toBeUndefined();
    expect(tag(msg, 'MODEL-ID')).toBe('good');
  });

  it('reads an outgoing message as it reads an incoming one', () => {
    const out: OutMessage = { target: 'P', tags: { 'x-reason': 'late' } };
    expect(tag(out, 'X-Reason')).toBe('late');
  });
});
