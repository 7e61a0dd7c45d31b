/**
 * The worker protocol (docs/design.md §2.10) on the model's worker step, with a scripted llama backend:
 * Init only from the owner or herder, one load ever, Inference only from the herder, answers
 * carry the request id, generation never exceeds the asked token count.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AoMessage } from '../../src/model/messages.ts';
import { type InferenceBackend, initialWorkerState, workerStep } from '../../src/model/worker.ts';
import { UNIT_RUNS } from '../properties/harness.ts';

const SENDERS = ['OWNER', 'HERDER', 'MALLORY'] as const;

const message = fc.record({
  from: fc.constantFrom(...SENDERS),
  action: fc.constantFrom('Init', 'Inference', 'Eval', undefined),
  model: fc.constantFrom('good', 'bad', '', undefined),
  tokens: fc.constantFrom('1', '5', '12', '05', '0', '00', 'x', '1x', 'x1', '', undefined),
  request: fc.constantFrom('r1', 'r2', undefined),
  herderTag: fc.constantFrom('HERDER', 'MALLORY', undefined),
  prompt: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
});

type ScriptedMessage = typeof message extends fc.Arbitrary<infer M> ? M : never;

/** An Init by the owner with a loadable model for the herder: makes the worker ready. */
const READY = fc.constant<ScriptedMessage>({
  from: 'OWNER',
  action: 'Init',
  model: 'good',
  tokens: undefined,
  request: 'r1',
  herderTag: 'HERDER',
  prompt: undefined,
});

describe('worker step', () => {
  it('follows the worker protocol for any message sequence', () => {
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 30 }),
        fc.boolean(),
        fc.boolean(),
        fc.option(READY, { nil: undefined }),
        (rest, bakedHerder, generationFails, ready) => {
          const messages = ready === undefined ? rest : [ready, ...rest];
          let loads = 0;
          const backend: InferenceBackend = {
            load: (id) => {
              loads++;
              return id === 'good' ? { ok: true } : { ok: false, reason: `cannot load ${id}` };
            },
            generate: (prompt, tokens) =>
              generationFails
                ? { ok: false, reason: 'decode failed' }
                : { ok: true, text: prompt.slice(0, tokens), tokens: Math.min(tokens, prompt.length) },
          };
          let state = initialWorkerState('OWNER', bakedHerder ? 'HERDER' : undefined);
          for (const [i, m] of messages.entries()) {
            const tags: Record<string, string> = {};
            if (m.action) tags.Action = m.action;
            if (m.model !== undefined) tags['Model-Id'] = m.model; // Title-Cased, as aos 2.0.6 delivers it
            if (m.tokens !== undefined) tags.Tokens = m.tokens;
            if (m.herderTag !== undefined) tags.Herder = m.herderTag;
            if (m.request !== undefined) tags['X-Request'] = m.request;
            const msg: AoMessage = { id: `m${i}`, from: m.from, timestamp: i, tags };
            if (m.prompt !== undefined) Object.assign(msg, { data: m.prompt });
            const before = state;
            const loadsBefore = loads;
            const result = workerStep(state, msg, backend);
            state = result.state;
            const authorisedInit = m.action === 'Init' && (m.from === 'OWNER' || m.from === before.herder);
            const authorisedInference =
              m.action === 'Inference' && before.herder !== undefined && m.from === before.herder;
            if (!authorisedInit && !authorisedInference) {
              expect(result.outbox).toEqual([]);
              expect(state).toEqual(before);
              continue;
            }
            if (authorisedInit) {
              // A load happens at most once in a worker's life, and only with a model id.
              expect(loads - loadsBefore).toBe(before.phase === 'uninitialised' && m.model ? 1 : 0);
              if (before.phase !== 'uninitialised') expect(state.phase).toBe(before.phase);
              const reply = result.outbox[0]!;
              expect(reply.target).toBe(m.from);
              expect(reply.tags.Action).toBe(state.phase === 'ready' ? 'Worker-Initialized' : 'Worker-Error');
              if (state.phase === 'ready') expect(reply.tags['Model-ID']).toBe(state.model);
              else expect(reply.tags['X-Reason']).toBeTruthy();
              // The herder hears about it too when someone else initialised the worker.
              expect(result.outbox.map((o) => o.target)).toEqual(
                state.herder !== undefined && state.herder !== m.from ? [m.from, state.herder] : [m.from],
              );
              if (m.from === 'OWNER' && m.herderTag) expect(state.herder).toBe(m.herderTag);
              else expect(state.herder).toBe(before.herder);
            } else {
              expect(result.outbox).toHaveLength(1);
              const reply = result.outbox[0]!;
              expect(reply.target).toBe(m.from);
              expect(reply.tags['X-Request']).toBe(m.request ?? '');
              // Tokens: a decimal integer of at least 1 (leading zeros allowed).
              const valid = m.tokens !== undefined && /^[0-9]+$/.test(m.tokens) && Number(m.tokens) >= 1;
              if (before.phase === 'ready' && valid && !generationFails) {
                expect(reply.tags.Action).toBe('Inference-Response');
                expect(Number(reply.tags['Tokens-Generated'])).toBeLessThanOrEqual(Number(m.tokens));
                expect(reply.data).toBe((m.prompt ?? '').slice(0, Number(m.tokens)));
              } else {
                expect(reply.tags.Action).toBe('Inference-Error');
                expect(reply.tags['X-Reason']).toBeTruthy();
              }
              expect(state).toEqual(before);
            }
          }
        },
      ),
      { numRuns: UNIT_RUNS },
    );
  });
});
