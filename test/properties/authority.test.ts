/**
 * authority: credits only from the token, answers only from the worker holding the request,
 * inference only from the herder, administration only from the owner. Beyond the auditor's
 * black-box view, a message from the wrong party must leave the herder's state untouched.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cloneHerderState, type HerderState, stepInPlace } from '../../src/model/herder.ts';
import type { AoMessage } from '../../src/model/messages.ts';
import { initialWorkerState, workerStep } from '../../src/model/worker.ts';
import {
  answerEvent,
  creditEvent,
  OWNER,
  STRANGER,
  TOKEN,
  traceEvent,
  traceSpec,
  WORKER_POOL,
} from './arbitraries.ts';
import { assertInvariant, modelHerder, RUNS, runTrace } from './harness.ts';

/** Everything observable of a herder's state except the clock and the set of seen ids. */
function fingerprint(state: HerderState): string {
  return JSON.stringify(
    {
      config: state.config,
      paused: state.paused,
      ledger: state.ledger,
      requests: [...state.requests.values()].map((r) => ({ ...r })),
      waiting: state.queue.waitingInArrivalOrder().map((w) => [w.entry.id, w.overtakes]),
      workers: [...state.herd.all()].map((w) => ({ ...w, idleStamp: undefined })),
      idle: state.herd.idleInOrder().map((w) => w.id),
      last: state.lastMultiplier,
    },
    (_key, value) => (typeof value === 'bigint' ? `${value}n` : value),
  );
}

/** Rewrites a message as if sent by someone without the right to send it. */
const forged = fc.constantFrom(STRANGER, 'W-UNKNOWN', TOKEN, OWNER, ...WORKER_POOL);

describe('authority', () => {
  it('the auditor sees no forged credit, answer or administration take effect (random traces)', () => {
    assertInvariant('authority', modelHerder);
  });

  it('a message from a party without the right to send it changes nothing', () => {
    fc.assert(
      fc.property(
        traceSpec({ maxEvents: 40 }),
        fc.oneof(creditEvent, answerEvent, traceEvent),
        forged,
        (spec, _event, forger) => {
          const run = runTrace(modelHerder, spec, { drain: false });
          // Replay the trace to get the live state, then try every privileged Action as `forger`.
          const state = modelHerder.init(spec.config);
          for (const { msg } of run.log) modelHerder.step(state, msg);
          const held = [...state.herd.all()].find((w) => w.request !== undefined);
          const attempts: AoMessage[] = [];
          const at = state.now;
          if (forger !== TOKEN)
            attempts.push({
              id: 'f1',
              from: forger,
              timestamp: at,
              tags: {
                Action: 'Credit-Notice',
                Quantity: '1000000',
                Sender: 'CLIENT-A',
                'X-Prompt': 'hi',
                'X-Tokens': '1',
              },
            });
          if (forger !== OWNER) {
            attempts.push({
              id: 'f2',
              from: forger,
              timestamp: at,
              tags: { Action: 'Withdraw', Quantity: '1' },
            });
            attempts.push({
              id: 'f3',
              from: forger,
              timestamp: at,
              tags: { Action: 'Add-Worker', Worker: 'W-EVIL' },
            });
            attempts.push({
              id: 'f4',
              from: forger,
              timestamp: at,
              tags: { Action: 'Set-Fees', 'Base-Fee': '0', 'Token-Fee': '1' },
            });
            attempts.push({ id: 'f5', from: forger, timestamp: at, tags: { Action: 'Pause' } });
            if (held)
              attempts.push({
                id: 'f6',
                from: forger,
                timestamp: at,
                tags: { Action: 'Remove-Worker', Worker: held.id },
              });
          }
          // A worker that held the request before (and timed out) may answer it: that is a late answer.
          const heldBefore = state.herd.get(forger)?.lastRequest === held?.request;
          if (held && forger !== held.id && !heldBefore) {
            attempts.push({
              id: 'f7',
              from: forger,
              timestamp: at,
              tags: { Action: 'Inference-Response', 'X-Request': held.request! },
              data: 'forged',
            });
            attempts.push({
              id: 'f8',
              from: forger,
              timestamp: at,
              tags: { Action: 'Inference-Error', 'X-Request': held.request! },
            });
          }
          for (const msg of attempts) {
            const copy = cloneHerderState(state);
            const outbox = stepInPlace(copy, msg);
            expect(fingerprint(copy), `${msg.tags.Action} from ${forger}`).toBe(fingerprint(state));
            expect(outbox.filter((o) => o.target !== forger)).toEqual([]);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a worker runs inference only for its herder and accepts Init only from its owner or herder', () => {
    fc.assert(
      fc.property(forged, fc.boolean(), fc.string({ maxLength: 20 }), (sender, loaded, prompt) => {
        const backend = {
          load: () => ({ ok: true as const }),
          generate: (p: string, n: number) => ({ ok: true as const, text: p.slice(0, n), tokens: n }),
        };
        let worker = initialWorkerState(OWNER, 'HERDER');
        if (loaded)
          worker = workerStep(
            worker,
            { id: 'i', from: OWNER, timestamp: 0, tags: { Action: 'Init', 'Model-ID': 'M' } },
            backend,
          ).state;
        const inference = workerStep(
          worker,
          {
            id: 'x',
            from: sender,
            timestamp: 0,
            tags: { Action: 'Inference', Tokens: '3', 'X-Request': 'r' },
            data: prompt,
          },
          backend,
        );
        expect(inference.outbox).toEqual([]);
        expect(inference.state).toEqual(worker);
        const init = workerStep(
          worker,
          { id: 'y', from: sender, timestamp: 0, tags: { Action: 'Init', 'Model-ID': 'M2', Herder: sender } },
          backend,
        );
        if (sender !== OWNER) expect(init.outbox).toEqual([]);
        const fromHerder = workerStep(
          worker,
          {
            id: 'z',
            from: 'HERDER',
            timestamp: 0,
            tags: { Action: 'Inference', Tokens: '3', 'X-Request': 'r' },
            data: prompt,
          },
          backend,
        );
        expect(fromHerder.outbox).toHaveLength(1);
        expect(fromHerder.outbox[0]!.tags.Action).toBe(loaded ? 'Inference-Response' : 'Inference-Error');
      }),
      { numRuns: RUNS },
    );
  });
});
