/**
 * The process side of the worker machine against the worker step function: loading the model
 * once (uninitialised → loading → idle, or failed) on any sequence of Init messages.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import type { ModelWorkerStatus } from '../../src/machines/journal.ts';
import { WORKER_STATUS, workerMachine } from '../../src/machines/worker.ts';
import type { AoMessage } from '../../src/model/messages.ts';
import {
  type InferenceBackend,
  initialWorkerState,
  type WorkerPhase,
  workerStep,
} from '../../src/model/worker.ts';
import { RUNS } from '../properties/harness.ts';

/** The herder-side status a worker process in each phase would get once registered. */
const PHASE_STATUS: Record<WorkerPhase, ModelWorkerStatus> = {
  uninitialised: 'absent',
  ready: 'idle',
  failed: 'failed',
};

const backend: InferenceBackend = {
  load: (id) => (id === 'good' ? { ok: true } : { ok: false, reason: `cannot load ${id}` }),
  generate: () => ({ ok: false, reason: 'not used' }),
};

describe('worker machine, process side', () => {
  it('follows the worker step function through Init, whatever is sent', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            from: fc.constantFrom('OWNER', 'HERDER', 'MALLORY'),
            model: fc.constantFrom('good', 'bad', '', undefined),
          }),
          { maxLength: 8 },
        ),
        (inits) => {
          let state = initialWorkerState('OWNER', 'HERDER');
          const worker = createActor(workerMachine).start();
          for (const [i, init] of inits.entries()) {
            const tags: Record<string, string> = { Action: 'Init' };
            if (init.model !== undefined) tags['Model-ID'] = init.model;
            const msg: AoMessage = { id: `m${i}`, from: init.from, timestamp: i, tags };
            const before = state.phase;
            const { state: next, outbox } = workerStep(state, msg, backend);
            state = next;
            // A load was attempted exactly when the phase left `uninitialised`: Init, then the reply.
            if (before === 'uninitialised' && state.phase !== 'uninitialised') {
              expect(worker.getSnapshot().can({ type: 'Init' })).toBe(true);
              worker.send({ type: 'Init' });
              const reply = outbox[0]!.tags.Action as 'Worker-Initialized' | 'Worker-Error';
              expect(worker.getSnapshot().can({ type: reply })).toBe(true);
              worker.send({ type: reply });
            }
            const machine = worker.getSnapshot().value as keyof typeof WORKER_STATUS;
            expect(WORKER_STATUS[machine]).toBe(PHASE_STATUS[state.phase]);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});
