/**
 * A request's and a worker's life in the herder, message by message (docs/design.md §2.5–2.9): what the
 * payer receives when a request is answered, how a worker asked to leave while busy leaves, which
 * deadline a retried request keeps, that deadlines keep firing in a long run, and that the pure
 * `step` agrees with `stepInPlace` without touching its input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type HerdConfig, makeConfig } from '../../src/model/config.ts';
import { type HerderState, initialHerderState, step, stepInPlace } from '../../src/model/herder.ts';
import type { AoMessage, OutMessage } from '../../src/model/messages.ts';
import { traceSpec } from '../properties/arbitraries.ts';
import { modelHerder, RUNS, runTrace, UNIT_RUNS } from '../properties/harness.ts';

const TOKEN = 'TOKEN';
const OWNER = 'OWNER';
const PAYER = 'PAYER';

function herder(fields: Partial<HerdConfig> = {}): HerderState {
  return initialHerderState(makeConfig({ token: TOKEN, owner: OWNER, workers: ['W1'], ...fields }));
}

let ids = 0;
function send(state: HerderState, from: string, at: number, tags: Record<string, string>, data?: string) {
  const msg: AoMessage = {
    id: `m${++ids}`,
    from,
    timestamp: at,
    tags,
    ...(data === undefined ? {} : { data }),
  };
  return stepInPlace(state, msg);
}

function pay(
  state: HerderState,
  at: number,
  reference?: string,
  tokens = 4,
): { id: string; outbox: OutMessage[] } {
  const tags: Record<string, string> = {
    Action: 'Credit-Notice',
    Sender: PAYER,
    Quantity: '10000',
    'X-Prompt': 'say hello',
    'X-Tokens': String(tokens),
  };
  if (reference !== undefined) tags['X-Reference'] = reference;
  const outbox = send(state, TOKEN, at, tags);
  return { id: `m${ids}`, outbox };
}

/** Everything a step can change, as plain data. */
function view(state: HerderState) {
  return {
    now: state.now,
    paused: state.paused,
    config: state.config,
    ledger: { ...state.ledger },
    seen: state.seen.size,
    seenBefore: state.seenBefore.size,
    generation: state.generation,
    requests: [...state.requests.values()].map((r) => ({ ...r, tried: [...r.tried] })),
    waiting: state.queue.length,
    workers: [...state.herd.all()].map((w) => ({ ...w })),
    idle: state.herd.idleInOrder().map((w) => w.id),
    lastMultiplier: state.lastMultiplier,
  };
}

const timeout = (state: HerderState, tokens = 4) =>
  state.config.timeoutBase + state.config.timeoutPerToken * tokens;

describe('request and worker lifecycle', () => {
  it('an answer reaches the payer with X-Request and X-Reference and exactly the worker’s text', () => {
    fc.assert(
      fc.property(
        fc.option(fc.stringMatching(/^[A-Za-z0-9-]{1,12}$/), { nil: undefined }),
        fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
        (reference, text) => {
          const state = herder();
          const { id } = pay(state, 1, reference);
          const outbox = send(state, 'W1', 2, { Action: 'Inference-Response', 'X-Request': id }, text);
          const tags: Record<string, string> = { Action: 'Inference-Response', 'X-Request': id };
          if (reference !== undefined) tags['X-Reference'] = reference;
          expect(outbox).toStrictEqual([{ target: PAYER, tags, data: text ?? '' }]);
          expect(state.ledger).toMatchObject({ revenue: 10_000n, escrow: 0n });
        },
      ),
      { numRuns: UNIT_RUNS },
    );
  });

  it('a worker asked to leave while busy leaves once its request ends, however it ends, and gets no more work', () => {
    fc.assert(
      fc.property(fc.constantFrom('answer', 'error', 'worker-error', 'timeout'), (ending) => {
        const state = herder({ workers: ['W1', 'W2'], maxAttempts: 2 });
        const { id, outbox } = pay(state, 1);
        const worker = outbox[0]!.target;
        send(state, OWNER, 2, { Action: 'Remove-Worker', Worker: worker });
        expect(state.herd.get(worker)).toMatchObject({ status: 'busy', draining: true });
        const late = 3 + timeout(state);
        if (ending === 'answer')
          send(state, worker, 3, { Action: 'Inference-Response', 'X-Request': id }, 'hi');
        if (ending === 'error') send(state, worker, 3, { Action: 'Inference-Error', 'X-Request': id });
        if (ending === 'worker-error') send(state, worker, 3, { Action: 'Worker-Error', 'X-Reason': 'oom' });
        if (ending === 'timeout') send(state, OWNER, late, { Action: 'Cron' });
        expect(state.herd.get(worker)).toBeUndefined();
        expect(state.herd.size).toBe(1);
        // Its old deadline passing later changes nothing; new work goes to the worker that stayed.
        send(state, OWNER, late + timeout(state) + 1, { Action: 'Cron' });
        const next = pay(state, late + timeout(state) + 2);
        const targets = next.outbox.filter((m) => m.tags.Action === 'Inference').map((m) => m.target);
        expect(targets).not.toContain(worker);
      }),
      { numRuns: Math.min(UNIT_RUNS, 100) },
    );
  });

  it('a request retried on the same worker times out on its current deadline, never an earlier one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5_000 }), fc.nat(3), (gap, sameTime) => {
        const state = herder({ maxAttempts: 3 });
        const { id } = pay(state, 1);
        const first = 1 + timeout(state);
        // The only worker fails the first attempt `gap` ms later (or at once), and gets it again.
        const retryAt = sameTime === 0 ? 1 : 1 + gap;
        const retried = send(state, 'W1', retryAt, { Action: 'Inference-Error', 'X-Request': id });
        expect(retried.map((m) => m.tags.Action)).toEqual(['Inference']);
        const second = retryAt + timeout(state);
        if (second > first + 1) {
          expect(send(state, OWNER, first + 1, { Action: 'Cron' })).toEqual([]);
          expect(state.herd.get('W1')?.status).toBe('busy');
        }
        expect(send(state, OWNER, second, { Action: 'Cron' })).toEqual([]);
        const expired = send(state, OWNER, second + 1, { Action: 'Cron' });
        expect(state.herd.get('W1')?.status).toBe('timed-out');
        expect(expired).toEqual([]); // back in the queue: its third attempt waits for a worker
        expect(state.queue.length).toBe(1);
      }),
      { numRuns: UNIT_RUNS },
    );
  });

  it('deadlines still fire after thousands of answered requests', () => {
    const state = herder({ workers: ['W1', 'W2', 'W3'] });
    // W1 takes a request and goes silent; W2 answers one and is removed; W3 answers thousands.
    const silent = pay(state, 1);
    expect(silent.outbox[0]!.target).toBe('W1');
    const leaving = pay(state, 2);
    expect(leaving.outbox[0]!.target).toBe('W2');
    send(state, 'W2', 3, { Action: 'Inference-Response', 'X-Request': leaving.id }, 'ok');
    send(state, OWNER, 4, { Action: 'Remove-Worker', Worker: 'W2' });
    let t = 5;
    for (let i = 0; i < 3_000; i++) {
      const { id, outbox } = pay(state, t++);
      expect(outbox[0]!.target).toBe('W3');
      send(state, 'W3', t++, { Action: 'Inference-Response', 'X-Request': id }, 'ok');
    }
    expect(t).toBeLessThan(1 + timeout(state));
    send(state, OWNER, 1 + timeout(state), { Action: 'Cron' });
    expect(state.herd.get('W1')?.status).toBe('busy');
    send(state, OWNER, 2 + timeout(state), { Action: 'Cron' });
    expect(state.herd.get('W1')?.status).toBe('timed-out');
    // Only the deadlines of running requests are kept, give or take the stale ones not yet dropped.
    expect(state.deadlines.size).toBeLessThanOrEqual(2 * state.herd.size + 64);
  });

  it('step leaves its input untouched and agrees with stepInPlace; time never goes back', () => {
    fc.assert(
      fc.property(
        traceSpec({ maxEvents: 40 }),
        fc.array(fc.integer({ min: -50_000, max: 50_000 })),
        (spec, jitter) => {
          const { log } = runTrace(modelHerder, spec, { drain: false });
          let pure = initialHerderState(spec.config);
          const inPlace = initialHerderState(spec.config);
          let latest = 0;
          for (const [i, { msg }] of log.entries()) {
            // Timestamps as delivered, some moved back: the herder's clock keeps the latest.
            const timestamp = Math.max(0, msg.timestamp + (jitter[i] ?? 0));
            const moved = { ...msg, timestamp };
            const before = view(pure);
            const result = step(pure, moved);
            expect(view(pure)).toStrictEqual(before);
            expect(stepInPlace(inPlace, moved)).toStrictEqual(result.outbox);
            pure = result.state;
            expect(view(pure)).toStrictEqual(view(inPlace));
            latest = Math.max(latest, timestamp);
            expect(pure.now).toBe(latest);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});
