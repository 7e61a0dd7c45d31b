/**
 * The packed frontier rebuilds the states it keeps, and those it moves to another thread, as
 * states whose every successor is the original's.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BOUNDS } from '../../src/checker/bounds.ts';
import type { Node } from '../../src/checker/environment.ts';
import { Explorer } from '../../src/checker/explore.ts';
import { PackedFrontier } from '../../src/checker/frontier.ts';

describe('the packed frontier', () => {
  it('rebuilds states, kept or moved, whose every successor is the original’s, over an exploration with every kind of event', () => {
    const explorer = new Explorer({
      ...DEFAULT_BOUNDS,
      workers: 2,
      requests: 3,
      failures: true,
      timeouts: true,
      lateAnswers: true,
      ownerActions: true,
      duplicates: true,
      underpaid: true,
    });
    const { workers, levels } = explorer;
    const blank = explorer.initial().state.queue;
    const keys = new Set<string>();
    let frontier: Node[] = [explorer.initial()];
    let compared = 0;
    let moved = 0;
    while (frontier.length > 0 && keys.size < 3_000) {
      const packed = new PackedFrontier(workers, levels, blank);
      for (const [i, node] of frontier.entries()) packed.push(i, node);
      // The second half moved, as to another thread: taken out, through structured clone, rebuilt there.
      const half = Math.floor(frontier.length / 2);
      const there = PackedFrontier.of(structuredClone(packed.take(half)), workers, levels, blank);
      expect(packed.size + there.size).toBe(frontier.length);
      const next: Node[] = [];
      frontier.forEach((node, i) => {
        const fromHere = i < packed.size;
        const at = fromHere ? i : i - packed.size;
        const rebuilt = fromHere ? packed.node(at) : there.node(at);
        expect(fromHere ? packed.id(at) : there.id(at)).toBe(i);
        if (!fromHere) moved++;
        expect(explorer.exactKey(rebuilt)).toBe(explorer.exactKey(node));
        for (const index of explorer.enabled(node)) {
          // The rebuilt state is valid until the next call: its successor is taken before the original's.
          const fromRebuilt = explorer.successor(rebuilt, index);
          const original = explorer.successor(node, index);
          expect(explorer.exactKey(fromRebuilt.node)).toBe(explorer.exactKey(original.node));
          expect(fromRebuilt.outbox.map((o) => o.tags.Action)).toEqual(
            original.outbox.map((o) => o.tags.Action),
          );
          expect(fromRebuilt.findings).toEqual(original.findings);
          const key = explorer.exactKey(original.node);
          if (!keys.has(key)) {
            keys.add(key);
            next.push(original.node);
          }
        }
        compared++;
      });
      frontier = next;
    }
    expect(compared).toBeGreaterThan(1_000);
    expect(moved).toBeGreaterThan(500);
  });
});
