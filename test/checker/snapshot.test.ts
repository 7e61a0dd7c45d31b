/** A state moved between the checker's threads as plain data behaves as the original. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BOUNDS } from '../../src/checker/bounds.ts';
import type { Node } from '../../src/checker/environment.ts';
import { Explorer } from '../../src/checker/explore.ts';
import { fromPlain, toPlain } from '../../src/checker/snapshot.ts';

describe('plain snapshots of states', () => {
  it('rebuild states whose every successor is the original’s, over an exploration with every kind of event', () => {
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
    const keys = new Set<string>();
    const blank = explorer.initial().state.queue;
    let frontier: Node[] = [explorer.initial()];
    let compared = 0;
    while (frontier.length > 0 && keys.size < 3_000) {
      const next: Node[] = [];
      for (const node of frontier) {
        // Through structured clone, as between threads.
        const moved: Node = {
          ...node,
          state: fromPlain(structuredClone(toPlain(node.state)), blank),
        };
        expect(explorer.exactKey(moved)).toBe(explorer.exactKey(node));
        for (const index of explorer.enabled(node)) {
          const original = explorer.successor(node, index);
          const rebuilt = explorer.successor(moved, index);
          expect(explorer.exactKey(rebuilt.node)).toBe(explorer.exactKey(original.node));
          expect(rebuilt.outbox.map((o) => o.tags.Action)).toEqual(original.outbox.map((o) => o.tags.Action));
          expect(rebuilt.findings).toEqual(original.findings);
          const key = explorer.exactKey(original.node);
          if (!keys.has(key)) {
            keys.add(key);
            next.push(original.node);
          }
        }
        compared++;
      }
      frontier = next;
    }
    expect(compared).toBeGreaterThan(1_000);
  });
});
