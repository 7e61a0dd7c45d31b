/**
 * What one of the model checker's transitions costs, phase by phase: restoring the parent into
 * scratch, building the event's message, the model's step, the transition's invariants, and the
 * whole transition as the checker takes it (normalizing included). Each phase runs on top of the
 * ones before it, over every message event of 64 states picked across the first layers of the
 * 3 × 4 failures + timeouts space (or another number of workers and requests), 300 times a round.
 * `setup` runs none of them.
 *
 *   node --import tsx bench/transition-cost.ts <phase> [rounds] [workers requests]
 *
 * Wall-clock times on this machine drift by up to 2.5× over an hour; instruction counts do not.
 * For counts that repeat run by run (to ~0.01%), bundle it and run it under valgrind with V8 made
 * deterministic, then subtract the count of the phase before:
 *
 *   npx esbuild bench/transition-cost.ts --bundle --platform=node --format=esm --outfile=/tmp/tc.mjs
 *   setarch -R valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
 *     node --single-threaded --predictable --hash-seed=1 --random-seed=1 /tmp/tc.mjs step 1
 *
 * (A whole `check` run varies by ~1% that way: its limits read the clock.)
 */
import { DEFAULT_BOUNDS } from '../src/checker/bounds.ts';
import { messageFor, type Node } from '../src/checker/environment.ts';
import { Explorer } from '../src/checker/explore.ts';
import { transitionFindings } from '../src/checker/predicates.ts';
import { cloneHerderState, restoreHerderState } from '../src/model/herder.ts';

const PHASES = ['setup', 'restore', 'message', 'step', 'invariants', 'transition'] as const;
type Phase = (typeof PHASES)[number];

/** States to step from, and how many times a round. */
const STATES = 64;
const REPEATS = 300;

/** The first `wanted` distinct states (by exact name) in breadth-first order, and `count` of them spread across. */
function sampleStates(explorer: Explorer, wanted: number, count: number): Node[] {
  const named = new Set<string>();
  const found: Node[] = [];
  let layer: Node[] = [explorer.initial()];
  while (layer.length > 0 && found.length < wanted) {
    const next: Node[] = [];
    for (const node of layer)
      for (const index of explorer.enabled(node)) {
        const successor = explorer.successor(node, index).node;
        const name = explorer.exactKey(successor);
        if (named.has(name)) continue;
        named.add(name);
        next.push(successor);
        found.push(successor);
      }
    layer = next;
  }
  const every = Math.max(1, Math.floor(found.length / count));
  return found.filter((_, i) => i % every === 0).slice(0, count);
}

export function transitionCost(
  phase: Phase,
  rounds: number,
  workers = 3,
  requests = 4,
): { transitions: number; nsEach: number; checksum: number } {
  const explorer = new Explorer(
    { ...DEFAULT_BOUNDS, workers, requests, failures: true, timeouts: true },
    undefined,
    '',
    true,
  );
  const states = sampleStates(explorer, 6000, STATES);
  const scratch = cloneHerderState(states[0]!.state);
  let transitions = 0;
  let best = Number.POSITIVE_INFINITY;
  let check = 0;
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    transitions = 0;
    for (let r = 0; r < REPEATS; r++)
      for (const node of states)
        for (const index of explorer.enabled(node)) {
          const event = explorer.event(index);
          if (event.kind === 'time') continue;
          transitions++;
          if (phase === 'setup') continue;
          // The checksum (messages sent, findings) is the same for two versions doing the same work.
          if (phase === 'transition') {
            check += explorer.transition(node, index).outbox.length;
            continue;
          }
          restoreHerderState(scratch, node.state);
          if (phase === 'restore') continue;
          const msg = messageFor(node, event, explorer.bounds, explorer.config, explorer.ids)!;
          if (phase === 'message') continue;
          const outbox = explorer.herder.step(scratch, msg);
          check += outbox.length;
          if (phase === 'step') continue;
          check += transitionFindings(node.state, msg, event, outbox, scratch).length;
        }
    best = Math.min(best, performance.now() - started);
  }
  return { transitions, nsEach: (1e6 * best) / Math.max(1, transitions), checksum: check };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const phase = process.argv[2] as Phase;
  if (!PHASES.includes(phase)) {
    console.error(`transition-cost: the phase must be one of ${PHASES.join(', ')}`);
    process.exit(2);
  }
  const rounds = Number(process.argv[3] ?? 3);
  if (!Number.isInteger(rounds) || rounds < 0) {
    console.error('transition-cost: rounds must be a whole number (0 runs the setup alone)');
    process.exit(2);
  }
  const [workers, requests] = process.argv.slice(4, 6).map(Number);
  if (process.argv.length > 4 && !(Number.isInteger(workers) && Number.isInteger(requests))) {
    console.error('transition-cost: give both workers and requests, as whole numbers (default 3 4)');
    process.exit(2);
  }
  const { transitions, nsEach, checksum } = transitionCost(phase, rounds, workers, requests);
  console.log(
    `${phase}: ${transitions} transitions a round, ${nsEach.toFixed(0)} ns each (best of ${rounds}), checksum ${checksum}`,
  );
}
