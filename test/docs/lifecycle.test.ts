/**
 * docs/lifecycle.md shows what the model does: each scenario runs through the model and passes the
 * black-box auditor, tells the story its title claims, and the scenarios together show every event
 * type and cause the model reports in random traces, so that an event type or cause the model gains
 * fails here until a scenario shows it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Auditor } from '../../src/audit/auditor.ts';
import { lifecyclePage, shownKinds } from '../../src/docs/lifecycle-page.ts';
import {
  type EventKind,
  eventKind,
  runScenario,
  SCENARIOS,
  type Scenario,
  type ScenarioRun,
} from '../../src/docs/scenarios.ts';
import { CAUSE_MEANINGS, EVENT_MEANINGS, type StepEvent } from '../../src/model/events.ts';
import { neededFee } from '../../src/model/fees.ts';
import { type HerderStepper, MODEL_STEPPER } from '../../src/model/herder.ts';
import { runTrace } from '../../src/verify/run.ts';
import { traceSpec } from '../properties/arbitraries.ts';

const runs = SCENARIOS.map(runScenario);
const run = (key: string): ScenarioRun => runs.find((r) => r.scenario.key === key)!;
const events = (r: ScenarioRun): StepEvent[] => r.steps.flatMap((s) => s.events);

describe('lifecycle scenarios', () => {
  it('have unique keys and titles', () => {
    expect(new Set(SCENARIOS.map((s) => s.key)).size).toBe(SCENARIOS.length);
    expect(new Set(SCENARIOS.map((s) => s.title)).size).toBe(SCENARIOS.length);
  });

  it('break no invariant (the black-box auditor watches every step)', () => {
    for (const r of runs) {
      const auditor = Auditor.forConfig(r.config);
      for (const s of r.steps) auditor.observe(s.msg, s.outbox);
      auditor.finish();
      expect(auditor.violations, r.scenario.key).toEqual([]);
    }
  });

  it('tell the stories their titles claim', () => {
    const dispatched = (r: ScenarioRun) => events(r).flatMap((e) => (e.type === 'dispatched' ? [e] : []));
    const refunds = (r: ScenarioRun) => events(r).flatMap((e) => (e.type === 'refunded' ? [e] : []));

    // Paid above the fee, and answered.
    const paid = run('paid-and-answered');
    const notice = paid.steps[0]!.msg.tags;
    const fee = neededFee(paid.config, Number(notice['X-Tokens']), notice['X-Prompt']!);
    expect(BigInt(notice.Quantity!)).toBeGreaterThan(fee);
    expect(events(paid).filter((e) => e.type === 'answered')).toHaveLength(1);

    // Outbid: the third payment (twice the fee) is served before the second (exactly the fee).
    const outbid = run('outbid');
    const [first, second, third] = events(outbid).flatMap((e) => (e.type === 'accepted' ? [e] : []));
    expect(third!.paid).toBe(2n * second!.paid);
    expect(dispatched(outbid).map((d) => d.request)).toEqual([
      first!.request,
      third!.request,
      second!.request,
    ]);

    // Underpaid: refunded whole with the fee it needed, and never queued.
    const underpaid = run('underpaid');
    const refund = underpaid.steps[0]!.outbox[0]!;
    expect(BigInt(refund.tags['X-Needed']!)).toBe(BigInt(refund.tags.Quantity!) + 1n);
    expect(events(underpaid).map((e) => e.type)).toEqual(['refused']);

    // Retried on another worker, which answers.
    const retried = dispatched(run('error-retried'));
    expect(retried.map((d) => d.attempt)).toEqual([1, 2]);
    expect(retried[1]!.worker).not.toBe(retried[0]!.worker);

    // Silent: one attempt per worker, each ended by its deadline; the late answer is not forwarded.
    const silent = run('silent-worker');
    expect(dispatched(silent).map((d) => d.worker)).toEqual(['W1', 'W2', 'W3']);
    expect(refunds(silent).map((e) => e.cause)).toEqual(['deadline']);
    expect(silent.steps.at(-1)!.outbox).toEqual([]);

    // Every attempt fails in its own way; the last failure names the refund.
    expect(
      events(run('every-attempt-fails')).flatMap((e) =>
        e.type === 'retried' || e.type === 'refunded' ? [eventKind(e)] : [],
      ),
    ).toEqual(['retried/Inference-Error', 'retried/deadline', 'refunded/Inference-Error']);

    // A flaky worker: three attempts on the one worker, each ended by Worker-Error.
    const flaky = run('flaky-worker');
    expect(dispatched(flaky).map((d) => `${d.worker}#${d.attempt}`)).toEqual(['W1#1', 'W1#2', 'W1#3']);
    expect(refunds(flaky).map((e) => e.cause)).toEqual(['Worker-Error']);

    // Initialisation failed: the failed worker gets nothing while a request waits, until it is ready.
    const init = run('initialisation-failed');
    const ready = init.steps.findIndex((s) => s.msg.tags.Action === 'Worker-Initialized');
    const toW2 = init.steps.findIndex((s) =>
      s.events.some((e) => e.type === 'dispatched' && e.worker === 'W2'),
    );
    expect(ready).toBeGreaterThan(0);
    expect(toW2).toBe(ready);
    expect(init.steps.slice(0, ready).some((s) => s.events.some((e) => e.type === 'queued'))).toBe(true);

    // Queue wait: never dispatched, refunded for waiting.
    const wait = run('queue-wait');
    expect(dispatched(wait)).toEqual([]);
    expect(refunds(wait).map((e) => e.cause)).toEqual(['queue-wait']);
  });

  it('refuse to run a script that no longer means what it says', () => {
    const base = SCENARIOS[0]!;
    const claims: Scenario = { ...base, shows: [...base.shows, 'refunded/queue-wait'] };
    expect(() => runScenario(claims)).toThrow(/no longer shows refunded\/queue-wait/);
    const unbuildable: Scenario = { ...base, script: [{ answer: 'W1', ok: true }] };
    expect(() => runScenario(unbuildable)).toThrow(/W1 holds no Inference/);
    const unfinished: Scenario = { ...base, script: base.script.slice(0, 1), shows: [] };
    expect(() => runScenario(unfinished)).toThrow(/never end/);
  });

  it('show every event type and cause the model reports in random traces', () => {
    const reported = new Set<EventKind>();
    const observed: HerderStepper = {
      name: 'model (events observed)',
      init: MODEL_STEPPER.init,
      step(state, msg) {
        const stepEvents: StepEvent[] = [];
        const outbox = MODEL_STEPPER.step(state, msg, stepEvents);
        for (const e of stepEvents) reported.add(eventKind(e));
        return outbox;
      },
    };
    fc.assert(
      fc.property(traceSpec(), (spec) => {
        runTrace(observed, spec);
      }),
      { numRuns: 200, seed: 20_261_202 },
    );
    const shown = shownKinds(runs);
    expect([...reported].filter((kind) => !shown.has(kind)).sort()).toEqual([]);
    // Every type and cause the page explains is shown by some scenario.
    const kinds = [...shown.keys()];
    for (const type of Object.keys(EVENT_MEANINGS))
      expect(kinds.some((k) => k.startsWith(`${type}/`))).toBe(true);
    for (const cause of Object.keys(CAUSE_MEANINGS))
      expect(kinds.some((k) => k.endsWith(`/${cause}`))).toBe(true);
  });

  it('render each scenario step by step with exact amounts', () => {
    const page = lifecyclePage();
    for (const r of runs) {
      expect(page).toContain(`. ${r.scenario.title}\n`);
      for (const s of r.steps) expect(page).toContain(`| ${s.msg.timestamp} | \`${s.msg.id}\``);
    }
    // Amounts are printed exactly as the model computed them.
    for (const e of runs.flatMap(events))
      if (e.type === 'accepted' || e.type === 'refused') expect(page).toContain(`\`paid=${e.paid}\``);
  });
});
