/**
 * The checker's encoding is exact: two states it names alike behave alike. Over the first states
 * of small spaces, explored with every field written (no symmetry, nothing left out), and the
 * states of random walks deep into them (fixed seeds), every state is grouped by the words the
 * checker names it with; within a group every state must break the same invariants, and its
 * events must lead to states the checker names alike, breaking the same invariants and sending the
 * same messages, in any order (the events themselves, with symmetry reduction, are renamed: their
 * outcomes are compared as a multiset). A field left out that the herder still reads shows here
 * as two states of one name that behave differently.
 */
import { describe, expect, it } from 'vitest';
import { AbstractionError } from '../../src/checker/abstraction.ts';
import { messagesSent } from '../../src/checker/behaviour.ts';
import { type CheckBounds, DEFAULT_BOUNDS } from '../../src/checker/bounds.ts';
import { NodeEncoder } from '../../src/checker/encoding.ts';
import { describeEvent, type Node } from '../../src/checker/environment.ts';
import { Explorer } from '../../src/checker/explore.ts';
import { stateFindings } from '../../src/checker/predicates.ts';

/** Fine states explored breadth-first per space: every kind of shallow state, many times. */
const STATES = 2_000;
/** Random walks per space, and their length: states deep in the space, where retries pile up. */
const WALKS = 200;
const STEPS = 40;

/**
 * How a state behaves, as the checker sees it: its findings, its successors' names and findings,
 * and what each step sent. With symmetry, the checker must leave out exactly the events of workers
 * with an earlier twin (as the full encoding names twins, explore.ts), each with the outcome of its
 * twin's same event, which is kept; `leftOut` counts them.
 */
function behaviour(
  explorer: Explorer,
  node: Node,
  symmetry: boolean,
): { text: string; successors: Node[]; leftOut: number } {
  const successors: Node[] = [];
  const outcomes: string[] = [];
  const kept = new Set(explorer.expansion(node));
  // The twins as the full encoding names them (whatever shortcut the expansion took).
  explorer.encoder.encode(node);
  const twins = explorer.workers.map((_, w) => explorer.workers[explorer.encoder.twinOf(w)]!);
  const byIndex = new Map<number, string>();
  const enabled = explorer.enabled(node);
  for (const index of enabled) {
    let outcome: string;
    try {
      const step = explorer.successor(node, index);
      successors.push(step.node);
      const broken = step.findings.map((f) => f.invariant).sort();
      outcome = `${explorer.key(step.node)} ${broken.join(',')} ${messagesSent(explorer.workers, step.outbox, symmetry)}`;
    } catch (err) {
      if (!(err instanceof AbstractionError)) throw err;
      outcome = 'abstraction error';
    }
    outcomes.push(symmetry ? outcome : `${index}: ${outcome}`);
    byIndex.set(index, outcome);
  }
  if (symmetry) outcomes.sort();
  let leftOut = 0;
  for (const index of enabled) {
    const event = explorer.event(index);
    const twin =
      'worker' in event && event.kind !== 'spoof-answer'
        ? explorer.table.of({ ...event, worker: twins[explorer.workers.indexOf(event.worker)]! })
        : index;
    const what = describeEvent(event);
    expect(kept.has(index), `${what}: kept exactly when it is its own twin's`).toBe(twin === index);
    if (twin === index) continue;
    leftOut++;
    const kin = describeEvent(explorer.event(twin));
    expect(kept.has(twin), `${what} left out for ${kin}, not kept`).toBe(true);
    expect(byIndex.get(index), `${what} left out`).toBe(byIndex.get(twin));
  }
  expect(enabled.length - leftOut).toBe(kept.size);
  const broken = stateFindings(node.state).map((f) => f.invariant);
  return { text: [broken.sort().join(','), ...outcomes].join('\n'), successors, leftOut };
}

/**
 * Breadth-first over every field of the state; returns the number of named groups with two states
 * or more, and how many events the checker left out as a twin's.
 */
function expectExactQuotient(
  bounds: CheckBounds,
  symmetry: boolean,
  seed: number,
): { merged: number; leftOut: number } {
  const explorer = new Explorer(bounds, undefined, '', symmetry);
  const fine = new NodeEncoder(
    {
      workers: explorer.workers,
      ownerActions: bounds.ownerActions,
      requests: bounds.requests,
      levels: explorer.levels,
      symmetry: false,
      answersWhenTimedOut: true,
      relevant: false,
    },
    explorer.clock,
  );
  const seen = new Set<string>();
  const named = new Map<string, { text: string; fine: string; members: number }>();
  /** Groups `node` by its name, failing when its group behaves otherwise; its successors. */
  let leftOut = 0;
  const judge = (node: Node): Node[] => {
    const { text, successors, leftOut: left } = behaviour(explorer, node, symmetry);
    leftOut += left;
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
    return successors;
  };
  let frontier: Node[] = [explorer.initial()];
  seen.add(fine.key(frontier[0]!));
  while (frontier.length > 0 && seen.size < STATES) {
    const next: Node[] = [];
    for (const node of frontier) {
      const successors = judge(node);
      for (const successor of successors) {
        const key = fine.key(successor);
        if (seen.has(key) || seen.size >= STATES) continue;
        seen.add(key);
        next.push(successor);
      }
    }
    frontier = next;
  }
  let random = seed;
  for (let walk = 0; walk < WALKS; walk++) {
    let node = explorer.initial();
    for (let step = 0; step < STEPS; step++) {
      const successors = judge(node);
      if (successors.length === 0) break;
      // xorshift32: the same walks on every run.
      random ^= random << 13;
      random ^= random >>> 17;
      random ^= random << 5;
      node = successors[(random >>> 0) % successors.length]!;
    }
  }
  return { merged: [...named.values()].filter((g) => g.members > 1).length, leftOut };
}

describe('the encoding names states by their behaviour', () => {
  const failures = { ...DEFAULT_BOUNDS, failures: true, timeouts: true };
  const spaces: [string, CheckBounds][] = [
    ['3 workers, failures and timeouts', { ...failures, workers: 3, requests: 3 }],
    ['one attempt', { ...failures, workers: 2, requests: 3, attempts: 1 }],
    ['three attempts', { ...failures, requests: 4, attempts: 3 }],
    // A request that tried two of three workers, retried while the first waits idle ahead of the third.
    ['three attempts on three workers', { ...failures, workers: 3, requests: 2, attempts: 3 }],
    ['unbounded overtaking', { ...failures, requests: 3, maxOvertakes: null }],
    // A middle level: overtaken by some later arrivals, not by others.
    ['three levels, two overtakes', { ...failures, requests: 4, levels: 3, maxOvertakes: 2 }],
    [
      'owner actions and duplicates',
      { ...failures, requests: 3, ownerActions: true, duplicates: true, underpaid: true },
    ],
    ['late and forged answers', { ...failures, requests: 3, lateAnswers: true, spoofs: true }],
  ];
  for (const [i, [name, bounds]] of spaces.entries())
    it(`${name}: with and without symmetry reduction`, () => {
      // Each space must merge states, and with symmetry leave events out, for the check to say anything.
      const exact = expectExactQuotient(bounds, false, 0x9e3779b9 + i);
      expect(exact.merged).toBeGreaterThan(0);
      expect(exact.leftOut).toBe(0);
      const reduced = expectExactQuotient(bounds, true, 0x85ebca6b + i);
      expect(reduced.merged).toBeGreaterThan(0);
      expect(reduced.leftOut).toBeGreaterThan(0);
    });
});
