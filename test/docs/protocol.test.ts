/**
 * The protocol catalogue (src/model/protocol.ts) matches the model: every message the herder and
 * the worker send in random traces is catalogued, with exactly the catalogued tags in the
 * catalogued formats, and every Action the model knows is documented.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Action, ADMIN_ACTIONS, type AoMessage, Reason } from '../../src/model/messages.ts';
import {
  classifyOutgoing,
  conformance,
  type MessageSpec,
  PROTOCOL,
  REASONS,
  TAG_FORMATS,
} from '../../src/model/protocol.ts';
import { type InferenceBackend, initialWorkerState, workerStep } from '../../src/model/worker.ts';
import { traceSpec } from '../properties/arbitraries.ts';
import { modelHerder, runTrace } from '../properties/harness.ts';

/** Which catalogued (message, tag) pairs the model was seen to send. */
const seen = new Set<string>();

function check(sender: 'herder' | 'worker', out: { tags: Record<string, string> }): void {
  const spec = classifyOutgoing(sender, out as never);
  if (spec === undefined)
    throw new Error(`${sender} sent an uncatalogued message: ${JSON.stringify(out.tags)}`);
  const problems = conformance(spec, out.tags);
  if (problems.length > 0)
    throw new Error(`${spec.key}: ${problems.join('; ')} in ${JSON.stringify(out.tags)}`);
  seen.add(spec.key);
  for (const name of Object.keys(out.tags)) seen.add(`${spec.key}/${name}`);
}

describe('protocol catalogue', () => {
  it('covers every message the herder sends in random traces, tags and formats included', () => {
    fc.assert(
      fc.property(traceSpec(), (spec) => {
        for (const { outbox } of runTrace(modelHerder, spec).log)
          for (const out of outbox) check('herder', out);
      }),
      { numRuns: 400, seed: 20_240_601 },
    );
    // …and the catalogue lists nothing the herder never sends.
    const herderSent = PROTOCOL.filter((m) => m.from.includes('herder'));
    const missing: string[] = [];
    for (const m of herderSent) {
      if (!seen.has(m.key)) missing.push(m.key);
      for (const t of m.tags) if (!seen.has(`${m.key}/${t.name}`)) missing.push(`${m.key}/${t.name}`);
    }
    expect(missing).toEqual([]);
  });

  it('covers every message a worker sends', () => {
    const backend = (loads: boolean, generates: boolean): InferenceBackend => ({
      load: () => (loads ? { ok: true } : { ok: false, reason: 'no such model' }),
      generate: (_prompt, tokens) =>
        generates
          ? { ok: true, text: 'hello', tokens: Math.min(tokens, 3) }
          : { ok: false, reason: 'out of memory' },
    });
    let id = 0;
    const msg = (from: string, tags: Record<string, string>, data?: string): AoMessage => ({
      id: `m${++id}`,
      from,
      timestamp: id,
      tags,
      ...(data === undefined ? {} : { data }),
    });
    for (const loads of [true, false])
      for (const generates of [true, false]) {
        let state = initialWorkerState('OWNER');
        const steps: AoMessage[] = [
          msg('HERDER', { Action: 'Inference', Tokens: '4', 'X-Request': 'r0' }, 'hi'),
          msg('OWNER', { Action: 'Init', Herder: 'HERDER' }),
          msg('OWNER', { Action: 'Init', Herder: 'HERDER', 'Model-ID': 'tiny' }),
          msg('OWNER', { Action: 'Init', 'Model-ID': 'tiny' }),
          msg('HERDER', { Action: 'Init', 'Model-ID': 'tiny' }),
          msg('HERDER', { Action: 'Inference', Tokens: '4', 'X-Request': 'r1' }, 'tell me'),
          msg('HERDER', { Action: 'Inference', Tokens: 'four', 'X-Request': 'r2' }, 'tell me'),
          msg('HERDER', { Action: 'Inference', Tokens: '2' }, 'tell me'),
          msg('STRANGER', { Action: 'Inference', Tokens: '2', 'X-Request': 'r3' }, 'tell me'),
        ];
        for (const m of steps) {
          const result = workerStep(state, m, backend(loads, generates));
          state = result.state;
          for (const out of result.outbox) check('worker', out);
        }
      }
    const workerSent = PROTOCOL.filter((m) => m.from.includes('worker')).map((m) => m.key);
    expect(workerSent.filter((key) => !seen.has(key))).toEqual([]);
  });

  it('documents every Action of the model, and every message the herder handles', () => {
    const catalogued = new Set(PROTOCOL.map((m) => m.action));
    expect(Object.values(Action).filter((a) => !catalogued.has(a))).toEqual([]);
    const toHerder = new Set(PROTOCOL.filter((m) => m.to.includes('herder')).map((m) => m.action));
    const handled = [
      Action.CreditNotice,
      Action.InferenceResponse,
      Action.InferenceError,
      Action.WorkerError,
      Action.WorkerInitialized,
      Action.Info,
      ...ADMIN_ACTIONS,
    ];
    expect(handled.filter((a) => !toHerder.has(a))).toEqual([]);
  });

  it('is well formed: unique keys, known formats, a meaning for every tag and reason', () => {
    const keys = PROTOCOL.map((m) => m.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const m of PROTOCOL as MessageSpec[]) {
      expect(m.when.length).toBeGreaterThan(10);
      expect(m.effect.length).toBeGreaterThan(3);
      const names = m.tags.map((t) => t.name);
      expect(new Set(names).size).toBe(names.length);
      for (const t of m.tags) {
        expect(TAG_FORMATS[t.format]).toBeDefined();
        expect(t.meaning.length).toBeGreaterThan(3);
      }
      for (const name of m.atLeastOne ?? []) expect(names).toContain(name);
    }
    expect(Object.keys(REASONS).sort()).toEqual(Object.keys(Reason).sort());
  });
});
