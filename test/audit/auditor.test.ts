/**
 * The auditor's own bookkeeping, which `herd verify` relies on beyond the violations: which
 * invariants it can check with the settings stated (and what the others need), how it records a
 * violation, and the horizon by which a herder whose workers all fell silent must have ended every
 * live request (verify waits that long before it judges bounded-response).
 */
import { describe, expect, it } from 'vitest';
import { Auditor, checkable } from '../../src/audit/auditor.ts';
import { INVARIANT_NAMES, INVARIANT_SPECS } from '../../src/audit/invariants.ts';
import { type StatedSettings, statedFromConfig } from '../../src/audit/settings.ts';
import { makeConfig } from '../../src/model/config.ts';
import { initialHerderState, stepInPlace } from '../../src/model/herder.ts';
import type { AoMessage } from '../../src/model/messages.ts';

const config = makeConfig({
  token: 'TOKEN',
  owner: 'OWNER',
  workers: ['W1'],
  timeoutBase: 100,
  timeoutPerToken: 10,
  maxAttempts: 2,
  maxQueueWait: 1_000,
});

let n = 0;
function msg(from: string, timestamp: number, tags: Record<string, string>, data?: string): AoMessage {
  const id = `a${++n}`;
  return data === undefined ? { id, from, timestamp, tags } : { id, from, timestamp, tags, data };
}
const credit = (at: number, tokens: number, reference: string) =>
  msg('TOKEN', at, {
    Action: 'Credit-Notice',
    Sender: `CLIENT-${reference}`,
    Quantity: '100000',
    'X-Prompt': 'tell me about llamas',
    'X-Tokens': String(tokens),
    'X-Reference': reference,
  });
const tick = (at: number) => msg('OWNER', at, { Action: 'Cron' });

/** An auditor watching the model herder receive `messages`. */
function watch(stated: StatedSettings, messages: AoMessage[]): Auditor {
  const herder = initialHerderState(config);
  const auditor = new Auditor(stated);
  for (const m of messages) auditor.observe(m, stepInPlace(herder, m));
  return auditor;
}

describe('what the auditor can check', () => {
  it('every invariant when every setting is stated', () => {
    expect(checkable(statedFromConfig(config))).toEqual({ checked: [...INVARIANT_NAMES], notChecked: [] });
    expect(Auditor.forConfig(config).checked).toEqual(INVARIANT_NAMES);
  });

  it('without a setting, exactly the invariants that need it, each naming what it lacks', () => {
    const stated: StatedSettings = {
      ...statedFromConfig(config),
      maxQueueWait: undefined,
      baseFee: undefined,
    };
    const { checked, notChecked } = checkable(stated);
    for (const invariant of INVARIANT_NAMES) {
      const lacks = INVARIANT_SPECS[invariant].needs.filter((s) => s === 'maxQueueWait' || s === 'baseFee');
      if (lacks.length === 0) expect(checked).toContain(invariant);
      else expect(notChecked).toContainEqual({ invariant, needs: lacks });
    }
    expect(checked.length + notChecked.length).toBe(INVARIANT_NAMES.length);
    expect(notChecked.length).toBeGreaterThan(0);
    expect(new Auditor(stated).checked).toEqual(checked);
  });
});

describe('the silence horizon', () => {
  it('is undefined while nothing is live', () => {
    expect(watch(statedFromConfig(config), [tick(10)]).silenceHorizon()).toBeUndefined();
  });

  it('is undefined when the bounds on a response are not stated', () => {
    const stated = { ...statedFromConfig(config), maxQueueWait: undefined };
    expect(watch(stated, [credit(5_000, 7, 'r')]).silenceHorizon()).toBeUndefined();
  });

  it('lets every attempt wait its queue bound and run to its deadline, plus a message gap per attempt', () => {
    // Accepted at 5,000 with 7 tokens: each of 2 attempts may wait 1,000 and run 100 + 10 × 7;
    // the largest gap between messages was 300, and a herder acts only when a message arrives.
    const auditor = watch(statedFromConfig(config), [tick(4_700), credit(5_000, 7, 'r')]);
    expect(auditor.silenceHorizon()).toBe(5_000 + 2 * (1_000 + 100 + 70) + 2 * 300 + 1);
  });

  it('is the latest of the live requests’ horizons', () => {
    const auditor = watch(statedFromConfig(config), [credit(5_000, 50, 'big'), credit(5_010, 1, 'small')]);
    expect(auditor.liveRequests().map((r) => r.id)).toHaveLength(2);
    expect(auditor.silenceHorizon()).toBe(5_000 + 2 * (1_000 + 100 + 500) + 2 * 10 + 1);
  });
});

describe('a violation as recorded', () => {
  it('names the step it happened at (from 0), the requests it concerns, and -1 for the end of the trace', () => {
    // A herder that takes a payment with an idle worker and does nothing with it: work-conserving
    // at that step, then no-lost-request at the end-of-trace check.
    const auditor = Auditor.forConfig(config);
    const payment = credit(100, 1, 'held');
    auditor.observe(tick(50), []);
    auditor.observe(payment, []);
    expect(auditor.violations).toEqual([
      { invariant: 'work-conserving', step: 1, detail: expect.any(String), requests: [payment.id] },
    ]);
    auditor.finish();
    const atEnd = auditor.violations.slice(1);
    expect(atEnd.map((v) => v.invariant)).toContain('no-lost-request');
    for (const v of atEnd) expect(v.step).toBe(-1);

    // A violation about no request in particular (paying out what it never took) lists none.
    const stranger = Auditor.forConfig(config);
    stranger.observe(msg('SOMEONE', 10, { Action: 'Cron' }), [
      { target: 'TOKEN', tags: { Action: 'Transfer', Recipient: 'SOMEONE', Quantity: '5' } },
    ]);
    expect(stranger.violations.length).toBeGreaterThan(0);
    for (const v of stranger.violations) {
      expect(v.step).toBe(0);
      expect('requests' in v).toBe(false);
    }
  });

  it('counts what the herder accepted and holds in escrow', () => {
    const auditor = watch(statedFromConfig(config), [credit(100, 1, 'a'), credit(200, 1, 'b')]);
    expect(auditor.summary()).toMatchObject({ accepted: 2, live: 2, escrow: 200_000n });
    expect(auditor.liveRequests()).toEqual([
      { id: expect.any(String), status: 'running', worker: 'W1' },
      { id: expect.any(String), status: 'waiting', worker: undefined },
    ]);
  });

  it('counts, for hints, what the herder did with the payments it was sent', () => {
    // Two notices: one accepted and dispatched to W1, which answers; one too poor, refunded.
    const paid = credit(100, 1, 'a');
    const poor = msg('TOKEN', 150, {
      Action: 'Credit-Notice',
      Sender: 'CLIENT-p',
      Quantity: '1',
      'X-Prompt': 'hi',
      'X-Tokens': '1',
    });
    const herder = initialHerderState(config);
    const auditor = Auditor.forConfig(config);
    const deliver = (m: AoMessage) => {
      const out = stepInPlace(herder, m);
      auditor.observe(m, out);
      return out;
    };
    const inference = deliver(paid).find((o) => o.tags.Action === 'Inference')!;
    deliver(poor);
    deliver(
      msg('W1', 180, { Action: 'Inference-Response', 'X-Request': inference.tags['X-Request']! }, 'ok'),
    );
    const { refundReasons, unstatedWorkers, ...counts } = auditor.stats;
    expect(counts).toEqual({ notices: 2, accepted: 1, dispatched: 1, forwarded: 1 });
    expect([...refundReasons.values()]).toEqual([1]);
    expect(unstatedWorkers.size).toBe(0);
  });
});
