/**
 * The machines and the step function are one behaviour: on random traces, the herder machine
 * (xstate's pure `transition`) reaches the same state and outbox as `step` after every message,
 * and the worker and request machines, fed the events of each step, are in the state matching the
 * model's status of every worker and request.
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { herderEvent, herderMachine } from '../../src/machines/herder.ts';
import { LifecycleProjection } from '../../src/machines/projection.ts';
import { initialHerderState, step } from '../../src/model/herder.ts';
import { World } from '../../src/verify/world.ts';
import { contendedEvents, type TraceSpec, traceSpec } from '../properties/arbitraries.ts';
import { RUNS } from '../properties/harness.ts';

/** Runs a trace through both; returns the first disagreement, or undefined. */
function firstDisagreement(spec: TraceSpec): string | undefined {
  const world = new World(spec.config);
  const herder = createActor(herderMachine, { input: { config: spec.config } }).start();
  let state = initialHerderState(spec.config);
  const lifecycles = new LifecycleProjection(spec.config.workers);
  let index = 0;
  for (const timed of spec.events)
    for (const msg of world.messagesFor(timed)) {
      herder.send(herderEvent(msg));
      const snapshot = herder.getSnapshot();
      const stepped = step(state, msg);
      state = stepped.state;
      world.learn(msg, stepped.outbox);
      const where = `message #${index++} ${JSON.stringify(msg.tags)} from ${msg.from}`;
      if (!isDeepStrictEqual(snapshot.context.outbox, stepped.outbox)) return `outbox differs at ${where}`;
      if (!isDeepStrictEqual(snapshot.context.herder, state)) return `state differs at ${where}`;
      const intake = state.paused ? 'paused' : 'accepting';
      const load = state.requests.size === 0 ? 'none' : state.queue.length > 0 ? 'waiting' : 'running';
      if (!snapshot.matches({ intake, load }))
        return `herder machine in ${JSON.stringify(snapshot.value)} at ${where}`;
      if (!isDeepStrictEqual(snapshot.context.events, stepped.events)) return `events differ at ${where}`;
      lifecycles.apply(snapshot.context.events);
      const problems = lifecycles.disagreements(state);
      if (problems.length > 0) return `${problems.join('; ')} at ${where}`;
    }
  return undefined;
}

describe('machines = step function', () => {
  it('the herder machine and step give the same state and outbox; worker and request machines agree with the model', () => {
    fc.assert(
      fc.property(traceSpec(), (spec) => {
        const problem = firstDisagreement(spec);
        if (problem !== undefined) throw new Error(problem);
      }),
      { numRuns: RUNS },
    );
  });

  it('also on contended traces, where requests queue, overtake and retry', () => {
    fc.assert(
      fc.property(traceSpec({ events: contendedEvents() }), (spec) => {
        const problem = firstDisagreement(spec);
        if (problem !== undefined) throw new Error(problem);
      }),
      { numRuns: Math.ceil(RUNS / 4) },
    );
  });

  it('the request machine covers every outcome, the worker machine every status', () => {
    const requestStates = new Set<string>();
    const workerStates = new Set<string>();
    for (const spec of fc.sample(traceSpec({ minEvents: 40 }), { numRuns: 200, seed: 11 })) {
      const world = new World(spec.config);
      const herder = createActor(herderMachine, { input: { config: spec.config } }).start();
      const lifecycles = new LifecycleProjection(spec.config.workers);
      for (const timed of spec.events)
        for (const msg of world.messagesFor(timed)) {
          herder.send(herderEvent(msg));
          const snapshot = herder.getSnapshot();
          world.learn(msg, snapshot.context.outbox);
          lifecycles.apply(snapshot.context.events);
          for (const id of lifecycles.requests.keys()) requestStates.add(String(lifecycles.requestState(id)));
          for (const id of lifecycles.workers.keys()) workerStates.add(lifecycles.workerState(id));
        }
    }
    expect([...requestStates].sort()).toEqual(['answered', 'dispatched', 'queued', 'refunded', 'retried']);
    expect([...workerStates].sort()).toEqual(['busy', 'failed', 'idle', 'removed', 'timedOut']);
  });
});
