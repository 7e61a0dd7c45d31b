/**
 * No request waits forever: a request that has waited in the queue longer than `maxQueueWait`
 * since it last entered it is refunded in full to its payer, with the reason and its reference.
 * Readiness: a worker whose initialisation failed gets no work until Worker-Initialized, in
 * whatever order Init's report and Add-Worker arrive. Info names the herder and describes it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeConfig } from '../../src/model/config.ts';
import {
  DEDUP_WINDOW,
  type HerderState,
  initialHerderState,
  MAX_UNREADY,
  stepInPlace,
} from '../../src/model/herder.ts';
import { type AoMessage, type OutMessage, Reason } from '../../src/model/messages.ts';
import { isRemembered } from '../../src/model/state.ts';
import { traceSpec } from '../properties/arbitraries.ts';
import { modelHerder, RUNS, runTrace, UNIT_RUNS } from '../properties/harness.ts';

const config = makeConfig({
  token: 'TOKEN',
  owner: 'OWNER',
  workers: ['W1'],
  timeoutBase: 1_000,
  timeoutPerToken: 0,
  maxAttempts: 2,
  maxQueueWait: 5_000,
});

let n = 0;
function msg(from: string, timestamp: number, tags: Record<string, string>, data?: string): AoMessage {
  return data === undefined
    ? { id: `q${++n}`, from, timestamp, tags }
    : { id: `q${++n}`, from, timestamp, tags, data };
}
const credit = (at: number, reference: string, quantity = '1000') =>
  msg('TOKEN', at, {
    Action: 'Credit-Notice',
    Sender: `CLIENT-${reference}`,
    Quantity: quantity,
    'X-Prompt': 'tell me about llamas',
    'X-Tokens': '4',
    'X-Reference': reference,
  });
const tick = (at: number) => msg('OWNER', at, { Action: 'Cron' });
const inferences = (out: OutMessage[]) => out.filter((o) => o.tags.Action === 'Inference');

describe('the queue-wait bound', () => {
  it('a request dispatched before its wait ends is served, not refunded', () => {
    const state = initialHerderState(config);
    expect(inferences(stepInPlace(state, credit(100, 'a')))).toHaveLength(1);
    const second = credit(200, 'b');
    expect(stepInPlace(state, second)).toEqual([]);
    expect(
      stepInPlace(state, msg('W1', 1_000, { Action: 'Inference-Response', 'X-Request': 'q1' }, 'x')),
    ).toEqual([
      {
        target: 'CLIENT-a',
        tags: { Action: 'Inference-Response', 'X-Request': 'q1', 'X-Reference': 'a' },
        data: 'x',
      },
      {
        target: 'W1',
        tags: { Action: 'Inference', Tokens: '4', 'X-Request': second.id },
        data: 'tell me about llamas',
      },
    ]);
    expect(state.requests.size).toBe(1);
  });

  it('refunds at the first message after the bound, not before', () => {
    const state = initialHerderState({ ...config, workers: [] });
    const paid = credit(100, 'a');
    expect(stepInPlace(state, paid)).toEqual([]);
    expect(stepInPlace(state, tick(5_100))).toEqual([]);
    expect(state.ledger.escrow).toBe(1000n);
    expect(stepInPlace(state, tick(5_101))).toEqual([
      {
        target: 'TOKEN',
        tags: {
          Action: 'Transfer',
          Recipient: 'CLIENT-a',
          Quantity: '1000',
          'X-Reason': Reason.QueueWait,
          'X-Request': paid.id,
          'X-Reference': 'a',
        },
      },
    ]);
    expect(state.requests.size).toBe(0);
    expect(state.queue.length).toBe(0);
    expect(state.ledger).toMatchObject({ escrow: 0n, refunded: 1000n, credited: 1000n });
  });

  it('a request that waited out the bound is refunded even when a worker comes back in the same message', () => {
    const state = initialHerderState(config);
    stepInPlace(state, msg('W1', 50, { Action: 'Worker-Error', 'X-Reason': 'no model' }));
    const paid = credit(100, 'a');
    stepInPlace(state, paid);
    const out = stepInPlace(state, msg('W1', 6_000, { Action: 'Worker-Initialized' }));
    expect(out.map((o) => [o.tags.Action, o.tags['X-Reason']])).toEqual([['Transfer', Reason.QueueWait]]);
    expect(state.herd.get('W1')!.status).toBe('idle');
  });

  it('the wait starts again when a failed attempt puts the request back in the queue', () => {
    const state = initialHerderState(config);
    const paid = credit(100, 'a');
    stepInPlace(state, paid);
    // W1 misses its deadline (1,100): the request waits again from 1,200 on, W1 is timed out.
    expect(stepInPlace(state, tick(1_200))).toEqual([]);
    expect(state.queue.length).toBe(1);
    expect(stepInPlace(state, tick(6_200))).toEqual([]);
    const out = stepInPlace(state, tick(6_201));
    expect(out.map((o) => o.tags['X-Reason'])).toEqual([Reason.QueueWait]);
  });

  it('several requests past the bound are refunded in the order their waits end, ties by arrival', () => {
    const state = initialHerderState({ ...config, workers: [] });
    const ids = [credit(300, 'c'), credit(100, 'a'), credit(300, 'b')].map((c) => {
      stepInPlace(state, c);
      return c.id;
    });
    const out = stepInPlace(state, tick(20_000));
    expect(out.map((o) => o.tags['X-Request'])).toEqual([ids[0], ids[1], ids[2]]);
  });

  it('dropping the queue-wait entries of dispatched requests in bulk keeps every waiting one', () => {
    // One worker and a long queue: each answer dispatches the next request, whose entry goes stale.
    // Once stale entries outnumber the waiting ones (plus a margin), a new arrival drops them all.
    const state = initialHerderState(config);
    const paid = Array.from({ length: 100 }, (_, i) => credit(100 + i, `r${i}`));
    for (const c of paid) stepInPlace(state, c);
    for (let i = 0; i < 85; i++)
      stepInPlace(state, msg('W1', 300 + i, { Action: 'Inference-Response', 'X-Request': paid[i]!.id }, 'x'));
    const staleBefore = state.waits.size - state.queue.length;
    expect(staleBefore).toBeGreaterThan(state.queue.length + 64);
    stepInPlace(state, credit(400, 'late'));
    // Only the waiting requests' entries are left, one each.
    expect(state.waits.size).toBe(state.queue.length);
    // Each waiting request is still refunded when its wait ends, none before.
    const waiting = [...state.requests.values()].filter((r) => r.worker === undefined);
    expect(waiting.length).toBe(state.queue.length);
    const refunds = (out: OutMessage[]) =>
      out.filter((o) => o.tags.Action === 'Transfer' && o.tags['X-Reason'] === Reason.QueueWait);
    const firstEnd = Math.min(...waiting.map((r) => r.waitUntil));
    expect(refunds(stepInPlace(state, tick(firstEnd)))).toEqual([]);
    const refunded = refunds(stepInPlace(state, tick(400 + config.maxQueueWait + 1)));
    expect(refunded.map((o) => o.tags['X-Request']).sort()).toEqual(waiting.map((r) => r.id).sort());
  });

  it('a new setting applies to requests that enter the queue after it', () => {
    const state = initialHerderState({ ...config, workers: [] });
    stepInPlace(state, credit(100, 'a'));
    const set = stepInPlace(state, msg('OWNER', 200, { Action: 'Set-Limits', 'Max-Queue-Wait': '60000' }));
    expect(set[0]!.tags.Action).toBe('Admin-Done');
    stepInPlace(state, credit(300, 'b'));
    expect(stepInPlace(state, tick(10_000)).map((o) => o.tags['X-Reference'])).toEqual(['a']);
    expect(stepInPlace(state, tick(60_301)).map((o) => o.tags['X-Reference'])).toEqual(['b']);
  });

  it('every accepted request ends within maxAttempts × (maxQueueWait + deadline) whatever the workers do', () => {
    const event = fc.oneof(
      fc.record({ kind: fc.constant('credit' as const), dt: fc.nat(3_000) }),
      fc.record({ kind: fc.constant('answer' as const), dt: fc.nat(3_000) }),
      fc.record({ kind: fc.constant('error' as const), dt: fc.nat(3_000) }),
      fc.record({ kind: fc.constant('worker-error' as const), dt: fc.nat(3_000) }),
      fc.record({ kind: fc.constant('tick' as const), dt: fc.nat(3_000) }),
    );
    const settings = { ...config, workers: ['W1', 'W2'] };
    const bound = settings.maxAttempts * (settings.maxQueueWait + settings.timeoutBase);
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (events) => {
        const state = initialHerderState(settings);
        const accepted = new Map<string, number>();
        let clock = 0;
        const deliver = (m: AoMessage) => {
          for (const out of stepInPlace(state, m)) {
            const id = out.tags['X-Request'];
            if (out.tags.Action !== 'Inference' && id !== undefined) accepted.delete(id);
          }
          for (const at of accepted.values()) expect(clock - at).toBeLessThanOrEqual(bound + 1);
        };
        for (const e of events) {
          clock += e.dt;
          const w = clock % 2 === 0 ? 'W1' : 'W2';
          const held = state.herd.get(w)?.request;
          if (e.kind === 'credit') {
            const c = credit(clock, `r${clock}`);
            deliver(c);
            if (state.requests.has(c.id)) accepted.set(c.id, clock);
          } else if (e.kind === 'answer' && held !== undefined)
            deliver(msg(w, clock, { Action: 'Inference-Response', 'X-Request': held }, 'x'));
          else if (e.kind === 'error' && held !== undefined)
            deliver(msg(w, clock, { Action: 'Inference-Error', 'X-Request': held }));
          else if (e.kind === 'worker-error') deliver(msg(w, clock, { Action: 'Worker-Error' }));
          else deliver(tick(clock));
        }
        // Then time passes with nobody answering: every request ends within the bound.
        const end = clock + bound + 1_000;
        while (clock < end) {
          clock += 1_000;
          deliver(tick(clock));
        }
        expect(state.requests.size).toBe(0);
        expect(state.ledger.escrow).toBe(0n);
      }),
      { numRuns: UNIT_RUNS },
    );
  });
});

describe('readiness', () => {
  const fresh = (): HerderState => initialHerderState({ ...config, workers: [] });
  const add = (state: HerderState, at: number) =>
    stepInPlace(state, msg('OWNER', at, { Action: 'Add-Worker', Worker: 'W9' }));
  const report = (state: HerderState, at: number, action: 'Worker-Error' | 'Worker-Initialized') =>
    stepInPlace(state, msg('W9', at, { Action: action, 'X-Reason': 'no model' }));

  it('a worker that reported Worker-Error before Add-Worker joins failed and gets no work until Worker-Initialized', () => {
    const state = fresh();
    report(state, 10, 'Worker-Error');
    const done = add(state, 20);
    expect(done[0]!.tags).toMatchObject({
      Action: 'Admin-Done',
      'X-Note': expect.stringMatching(/added as failed/),
    });
    expect(state.herd.get('W9')!.status).toBe('failed');
    expect(inferences(stepInPlace(state, credit(30, 'a')))).toEqual([]);
    expect(inferences(report(state, 40, 'Worker-Initialized'))).toHaveLength(1);
  });

  it('every order of Worker-Error, Worker-Initialized and Add-Worker: work only when the last report is not an error', () => {
    const step = fc.constantFrom(
      'Worker-Error',
      'Worker-Initialized',
      'Add-Worker',
      'Remove-Worker',
      'credit',
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 12 }), (steps) => {
        const state = fresh();
        let lastReport: string | undefined;
        let at = 0;
        for (const s of steps) {
          at += 10;
          const out =
            s === 'Add-Worker'
              ? add(state, at)
              : s === 'Remove-Worker'
                ? stepInPlace(state, msg('OWNER', at, { Action: 'Remove-Worker', Worker: 'W9' }))
                : s === 'credit'
                  ? stepInPlace(state, credit(at, `r${at}`))
                  : report(state, at, s);
          if (s === 'Worker-Error' || s === 'Worker-Initialized') lastReport = s;
          if (lastReport === 'Worker-Error') expect(inferences(out)).toEqual([]);
          // A worker in the herd, known failed, is never idle.
          const w = state.herd.get('W9');
          if (w !== undefined && lastReport === 'Worker-Error') expect(w.status).toBe('failed');
        }
      }),
      { numRuns: UNIT_RUNS },
    );
  });

  it('remembers at most a bounded number of failed processes outside the herd', () => {
    const state = fresh();
    for (let i = 0; i < MAX_UNREADY + 10; i++)
      stepInPlace(state, msg(`P${i}`, i, { Action: 'Worker-Error', 'X-Reason': 'x' }));
    expect(state.unready).toHaveLength(MAX_UNREADY);
    expect(state.unready[0]).toBe('P10');
  });
});

describe('Info', () => {
  it('names the herder Llama-Herder, describes it in Data and states every limit', () => {
    const state = initialHerderState(config);
    const [reply] = stepInPlace(state, msg('ASKER', 10, { Action: 'Info' }));
    expect(reply!.tags).toMatchObject({
      Action: 'Info-Response',
      Name: 'Llama-Herder',
      'Timeout-Base': '1000',
      'Timeout-Per-Token': '0',
      'Max-Attempts': '2',
      'Max-Queue-Wait': '5000',
    });
    expect(reply!.data).toMatch(/^Llama-Herder: /);
    expect(reply!.data).toContain('TOKEN');
  });
});

/**
 * The de-duplication books: the current generation began less than a window ago, its ids were
 * remembered since it began (so their windows end within one window from now), and every id of
 * the generation before was remembered before the current one began (so dropping that
 * generation whole at the next turn forgets no open window).
 */
function expectDedupBooks(state: HerderState): void {
  expect(state.generation).toBeLessThanOrEqual(state.handled);
  expect(state.handled - state.generation).toBeLessThan(DEDUP_WINDOW);
  // Checked entry by entry without an expect each (a window holds hundreds of ids, and this runs
  // on every step of every trace); the first entry out of its bounds is named.
  for (const [id, until] of state.seen)
    if (until < state.generation + DEDUP_WINDOW || until > state.handled + DEDUP_WINDOW)
      expect.fail(
        `remembered id ${id} until ${until}: outside [${state.generation + DEDUP_WINDOW}, ${state.handled + DEDUP_WINDOW}]`,
      );
  for (const [id, until] of state.seenBefore)
    if (until > state.generation + DEDUP_WINDOW)
      expect.fail(`previous generation's id ${id} until ${until}, after ${state.generation + DEDUP_WINDOW}`);
}

describe('memory bounded by live work', () => {
  it('every step keeps the de-duplication books (random traces)', () => {
    fc.assert(
      fc.property(traceSpec({ maxEvents: 60 }), (spec) => {
        const { log } = runTrace(modelHerder, spec, { drain: true });
        const state = initialHerderState(spec.config);
        for (const { msg } of log) {
          stepInPlace(state, msg);
          expectDedupBooks(state);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('over a long run the herder remembers only live requests and a bounded window of ids', () => {
    const state = initialHerderState({ ...config, workers: ['W1', 'W2'], maxQueueWait: 600_000 });
    let clock = 1_000;
    const notices: AoMessage[] = [];
    for (let i = 0; i < 30_000; i++) {
      clock += 7;
      const k = i % 6;
      if (k < 2) {
        const c = credit(clock, `r${i}`);
        notices.push(c);
        stepInPlace(state, c);
      } else if (k < 4) {
        const w = k === 2 ? 'W1' : 'W2';
        const held = state.herd.get(w)!.request;
        stepInPlace(state, msg(w, clock, { Action: 'Inference-Response', 'X-Request': held ?? '' }, 'x'));
      } else if (k === 4) stepInPlace(state, msg('ASKER', clock, { Action: 'Info' }));
      else {
        // A notice delivered again: within the window (or while its request lives) it is ignored.
        const again = notices[Math.max(0, notices.length - 1 - (i % 50))]!;
        const credited = state.ledger.credited;
        expect(stepInPlace(state, { ...again, timestamp: clock })).toEqual([]);
        expect(state.ledger.credited).toBe(credited);
      }
      if (i % 997 === 0) {
        expectDedupBooks(state);
        const live = state.requests.size;
        // Two generations of at most DEDUP_WINDOW handled messages each, and a handled message
        // here remembers at most two ids (its own and that of the request it ends).
        expect(state.seen.size + state.seenBefore.size).toBeLessThanOrEqual(4 * DEDUP_WINDOW);
        expect(state.waits.size).toBeLessThanOrEqual(2 * live + 66);
        expect(state.deadlines.size).toBeLessThanOrEqual(2 * state.herd.size + 66);
      }
    }
    expect(state.ledger.revenue).toBeGreaterThan(0n);
    // After the window, a notice of an ended request is no longer remembered: memory did not grow with age.
    expect(isRemembered(state, notices[0]!.id)).toBe(false);
    expect(state.seen.size + state.seenBefore.size).toBeLessThanOrEqual(4 * DEDUP_WINDOW);
  });

  it('a live request keeps its notice id however many messages pass', () => {
    const state = initialHerderState({ ...config, workers: [], maxQueueWait: 86_400_000 });
    const paid = credit(100, 'kept');
    stepInPlace(state, paid);
    for (let i = 0; i < 3 * DEDUP_WINDOW; i++) stepInPlace(state, msg('ASKER', 200 + i, { Action: 'Info' }));
    expect(stepInPlace(state, { ...paid, timestamp: 5_000 })).toEqual([]);
    expect(state.requests.size).toBe(1);
    expect(state.ledger.credited).toBe(1000n);
  });
});
