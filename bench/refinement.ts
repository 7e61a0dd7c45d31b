/**
 * How much exact reduction the checker's encoding leaves undone, on a small space: every orbit
 * of the space (failures and timeouts, symmetry reduction) is explored, then grouped by partition
 * refinement into the coarsest classes of orbits that behave alike: the same invariants broken in
 * the state, and per event kind the same multiset of (invariants broken, messages sent in any
 * order, class of the successor). Orbits in one class are ones the encoding could name alike; a
 * few members of the largest classes are printed, as the checker writes them, to show which
 * words still tell them apart.
 *
 *   node --import tsx bench/refinement.ts [workers=2] [requests=3] [examples=4]
 *
 * A measurement, not a proof: test/checker/quotient.test.ts checks that the encoding merges only
 * states that behave alike.
 */
import { messagesSent } from '../src/checker/behaviour.ts';
import { DEFAULT_BOUNDS } from '../src/checker/bounds.ts';
import type { Node } from '../src/checker/environment.ts';
import { Explorer } from '../src/checker/explore.ts';
import { stateFindings } from '../src/checker/predicates.ts';

export function refine(workers: number, requests: number) {
  const bounds = { ...DEFAULT_BOUNDS, workers, requests, failures: true, timeouts: true };
  const explorer = new Explorer(bounds, undefined, '', true);
  const index = new Map<string, number>();
  const nodes: Node[] = [];
  const name = (node: Node): number => {
    const key = explorer.key(node);
    let i = index.get(key);
    if (i === undefined) {
      i = nodes.length;
      index.set(key, i);
      nodes.push(node);
    }
    return i;
  };
  name(explorer.initial());
  const labels: string[] = [];
  const edges: { label: string; to: number }[][] = [];
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    labels.push(
      stateFindings(node.state)
        .map((f) => f.invariant)
        .sort()
        .join(','),
    );
    edges.push(
      explorer.enabled(node).map((event) => {
        const step = explorer.successor(node, event);
        const broken = step.findings.map((f) => f.invariant).sort();
        return {
          label: `${explorer.event(event).kind} ${broken.join(',')} ${messagesSent(explorer.workers, step.outbox, true)}`,
          to: name(step.node),
        };
      }),
    );
  }
  // Refine until stable: a class splits when its members' signatures differ.
  let classes = new Int32Array(nodes.length);
  let count = 1;
  for (;;) {
    const signatures = new Map<string, number>();
    const next = new Int32Array(nodes.length);
    for (let i = 0; i < nodes.length; i++) {
      const moves = edges[i]!.map((e) => `${e.label}>${classes[e.to]}`).sort();
      const signature = `${classes[i]}|${labels[i]}|${moves.join(';')}`;
      let c = signatures.get(signature);
      if (c === undefined) {
        c = signatures.size;
        signatures.set(signature, c);
      }
      next[i] = c;
    }
    classes = next;
    if (signatures.size === count) break;
    count = signatures.size;
  }
  const members = new Map<number, number[]>();
  classes.forEach((c, i) => {
    const group = members.get(c);
    if (group === undefined) members.set(c, [i]);
    else group.push(i);
  });
  const largest = [...members.values()].sort((a, b) => b.length - a.length);
  return { orbits: nodes.length, classes: count, largest, key: (i: number) => explorer.key(nodes[i]!) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [workers = 2, requests = 3, examples = 4] = process.argv.slice(2).map(Number);
  const result = refine(workers, requests);
  console.log(`${workers} × ${requests}: ${result.orbits} orbits in ${result.classes} classes`);
  for (const group of result.largest.slice(0, examples)) {
    if (group.length < 2) break;
    console.log(`--- ${group.length} orbits, for instance:`);
    for (const i of group.slice(0, 3)) console.log(result.key(i));
  }
}
