/** The checker's fast state copy is the model's clone, field for field, private fields included. */
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BOUNDS } from '../../src/checker/bounds.ts';
import { copyState } from '../../src/checker/copy.ts';
import type { Node } from '../../src/checker/environment.ts';
import { Explorer } from '../../src/checker/explore.ts';
import { cloneHerderState, initialHerderState, stepInPlace } from '../../src/model/herder.ts';

describe('copyState', () => {
  it('equals cloneHerderState on every state of an exploration with every kind of event', () => {
    const explorer = new Explorer({
      ...DEFAULT_BOUNDS,
      workers: 2,
      requests: 2,
      failures: true,
      timeouts: true,
      lateAnswers: true,
      ownerActions: true,
      underpaid: true,
    });
    const keys = new Set<string>();
    let frontier: Node[] = [explorer.initial()];
    let compared = 0;
    while (frontier.length > 0 && keys.size < 3_000) {
      const next: Node[] = [];
      for (const node of frontier) {
        const copy = copyState(node.state);
        if (!isDeepStrictEqual(copy, cloneHerderState(node.state)))
          throw new Error(`copyState differs from cloneHerderState at ${explorer.key(node)}`);
        compared++;
        for (const index of explorer.enabled(node)) {
          const successor = explorer.successor(node, index).node;
          const key = explorer.key(successor);
          if (!keys.has(key)) {
            keys.add(key);
            next.push(successor);
          }
        }
      }
      frontier = next;
    }
    expect(compared).toBeGreaterThan(1_000);
  });

  it('equals cloneHerderState on a state with a full-size queue that has compacted', () => {
    const explorer = new Explorer({ ...DEFAULT_BOUNDS, workers: 1, requests: 40 });
    const state = initialHerderState(explorer.config);
    let node: Node = { state, clock: state.now, sent: 0 };
    for (let i = 0; i < 40; i++) {
      const credit = explorer.table.credit[1 + (i % 2)]!;
      const msg = { ...explorer.successor(node, credit).msg!, timestamp: state.now };
      stepInPlace(state, msg);
      node = { state, clock: state.now, sent: i + 1 };
      expect(isDeepStrictEqual(copyState(state), cloneHerderState(state))).toBe(true);
    }
  });
});
