/**
 * The checker's encoding is exact: two states it names alike behave alike. Over the first states
 * of small spaces, explored with every field written (no symmetry, nothing left out), every state
 * is grouped by the words the checker names it with; within a group every state must break the
 * same invariants, and its events must lead to states the checker names alike, breaking the same
 * invariants (the events themselves, with symmetry reduction, are renamed: their successors are
 * compared as a multiset). A field left out that the herder still reads shows here as two states
 * of one name with different successors.
 */
import { describe, expect, it } from 'vitest';
import { AbstractionError } from '../../src/checker/abstraction.ts';
import { type CheckBounds, DEFAULT_BOUNDS } from '../../src/checker/bounds.ts';
import { NodeEncoder } from '../../src/checker/encoding.ts';
import type { Node } from '../../src/checker/environment.ts';
import { Explorer } from '../../src/checker/explore.ts';
import { stateFindings } from '../../src/checker/predicates.ts';

/** Fine states explored per space: enough for every kind of state to occur many times. */
const STATES = 6_000;

/** How a state behaves, as the checker sees it: its findings and its successors' names and findings. */
function behaviour(explorer: Explorer, node: Node, symmetry: boolean): { text: string; successors: Node[] } {
  const successors: Node[] = [];
  const outcomes: string[] = [];
  for (const index of explorer.enabled(node)) {
    let outcome: string;
    try {
      const step = explorer.successor(node, index);
      successors.push(step.node);
      const broken = step.findings.map((f) => f.invariant).sort();
      outcome = `${explorer.key(step.node)} ${broken.join(',')}`;
    } catch (err) {
      if (!(err instanceof AbstractionError)) throw err;
      outcome = 'abstraction error';
    }
    outcomes.push(symmetry ? outcome : `${index}: ${outcome}`);
  }
  if (symmetry) outcomes.sort();
  const broken = stateFindings(node.state).map((f) => f.invariant);
  return { text: [broken.sort().join(','), ...outcomes].join('\n'), successors };
}

/** Breadth-first over every field of the state; returns the number of named groups with two states or more. */
function expectExactQuotient(bounds: CheckBounds, symmetry: boolean): number {
  const explorer = new Explorer(bounds, undefined, '', symmetry);
  const fine = new NodeEncoder(
    {
      workers: explorer.workers,
      withdrawals: bounds.ownerActions,
      levels: explorer.levels,
      symmetry: false,
      answersWhenTimedOut: true,
      relevant: false,
    },
    explorer.clock,
  );
  const seen = new Set<string>();
  const named = new Map<string, { text: string; fine: string; members: number }>();
  let frontier: Node[] = [explorer.initial()];
  seen.add(fine.key(frontier[0]!));
  while (frontier.length > 0 && seen.size < STATES) {
    const next: Node[] = [];
    for (const node of frontier) {
      const { text, successors } = behaviour(explorer, node, symmetry);
      const name = explorer.key(node);
      const group = named.get(name);
      if (group === undefined) named.set(name, { text, fine: fine.key(node), members: 1 });
      else {
        group.members++;
        if (group.text !== text)
          expect.fail(
            `states ${group.fine} and ${fine.key(node)} are named alike (${name}) but behave differently:\n${group.text}\n---\n${text}`,
          );
      }
      for (const successor of successors) {
        const key = fine.key(successor);
        if (seen.has(key) || seen.size >= STATES) continue;
        seen.add(key);
        next.push(successor);
      }
    }
    frontier = next;
  }
  return [...named.values()].filter((g) => g.members > 1).length;
}

describe('the encoding names states by their behaviour', () => {
  const failures = { ...DEFAULT_BOUNDS, failures: true, timeouts: true };
  const spaces: [string, CheckBounds][] = [
    ['3 workers, failures and timeouts', { ...failures, workers: 3, requests: 3 }],
    ['one attempt', { ...failures, workers: 2, requests: 3, attempts: 1 }],
    ['three attempts, unbounded overtaking', { ...failures, requests: 3, attempts: 3, maxOvertakes: null }],
    [
      'owner actions and duplicates',
      { ...failures, requests: 3, ownerActions: true, duplicates: true, underpaid: true },
    ],
    ['late and forged answers', { ...failures, requests: 3, lateAnswers: true, spoofs: true }],
  ];
  for (const [name, bounds] of spaces)
    it(`${name}: with and without symmetry reduction`, () => {
      // Each space must merge states for the check to say anything.
      expect(expectExactQuotient(bounds, false)).toBeGreaterThan(0);
      expect(expectExactQuotient(bounds, true)).toBeGreaterThan(0);
    });
});
