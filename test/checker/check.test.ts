/** Exhaustive checks of the model itself, and the `herd check` command. */
import { describe, expect, it } from 'vitest';
import { type CheckBounds, DEFAULT_BOUNDS } from '../../src/checker/bounds.ts';
import { check } from '../../src/checker/explore.ts';
import { herd } from '../cli-harness.ts';

function expectClean(bounds: CheckBounds) {
  const result = check(bounds);
  expect(result.complete).toBe(true);
  expect(result.violations).toEqual([]);
  expect(result.stuck).toBeUndefined();
  return result;
}

/**
 * The model's known defect, pinned until the queue-wait bound lands: when workers can fail or time
 * out, they can all stay down while time advances, and a queued request then waits forever
 * (bounded-response on every path). Every safety invariant holds, and some sequence of events
 * (workers coming back) still ends every request.
 */
function expectOnlyTheKnownStuckQueue(bounds: CheckBounds) {
  const result = check(bounds);
  expect(result.complete).toBe(true);
  expect(result.violations.map((v) => v.invariant)).toEqual(['bounded-response']);
  expect(result.stuck).toBeUndefined();
  const [violation] = result.violations;
  expect(violation!.loop).toBe(violation!.trace.length - 1);
  expect(violation!.trace[violation!.loop!]!.event).toBe('time passes, then a Cron tick');
  return result;
}

describe('the model under exhaustive checking', () => {
  it('2 workers, 3 requests: every invariant in every state, nothing stuck', () => {
    const result = expectClean({ ...DEFAULT_BOUNDS, workers: 2, requests: 3 });
    expect(result.states).toBeGreaterThan(20);
    expect(result.depth).toBeGreaterThanOrEqual(6);
  });

  it('every kind of trouble at once (2 workers, 2 requests): only the known stuck queue', () => {
    expectOnlyTheKnownStuckQueue({
      ...DEFAULT_BOUNDS,
      workers: 2,
      requests: 2,
      failures: true,
      timeouts: true,
      lateAnswers: true,
      spoofs: true,
      duplicates: true,
      ownerActions: true,
      underpaid: true,
    });
  });

  it('pure priority and a zero overtaking bound', () => {
    expectClean({ ...DEFAULT_BOUNDS, workers: 1, requests: 4, levels: 3, maxOvertakes: null });
    expectClean({ ...DEFAULT_BOUNDS, workers: 1, requests: 4, levels: 3, maxOvertakes: 0 });
  });

  it('amounts beyond 2^64 with retries: only the known stuck queue', () => {
    expectOnlyTheKnownStuckQueue({
      ...DEFAULT_BOUNDS,
      workers: 1,
      requests: 3,
      levels: 2,
      huge: true,
      failures: true,
    });
  });

  it('bounded-response needs workers that come back: pins the known stuck queue until the queue-wait bound lands', () => {
    // A waiting request has no deadline of its own yet: once its worker times out, nothing but
    // a worker coming back ends it. With recovery, some path still ends it; on the path where
    // the worker stays silent while time passes, it waits forever.
    const expected = [
      'a credit at level 1',
      'time passes the next deadline',
      'a Cron tick',
      'time passes, then a Cron tick',
    ];
    const recovering = expectOnlyTheKnownStuckQueue({
      ...DEFAULT_BOUNDS,
      workers: 1,
      requests: 1,
      timeouts: true,
    });
    expect(recovering.violations[0]!.trace.map((s) => s.event)).toEqual(expected);
    expect(recovering.violations[0]!.loop).toBe(3);
    // Without recovery no sequence of events ends it at all.
    const result = check({ ...DEFAULT_BOUNDS, workers: 1, requests: 1, timeouts: true, recovery: false });
    expect(result.violations.map((v) => v.invariant)).toEqual(['bounded-response']);
    expect(result.violations[0]!.trace.map((s) => s.event)).toEqual(expected);
    expect(result.stuck?.trace.map((s) => s.event)).toEqual(expected.slice(0, 3));
  });

  it('with workers that never fail nor time out, every request ends on every path', () => {
    expectClean({
      ...DEFAULT_BOUNDS,
      workers: 2,
      requests: 3,
      levels: 2,
      spoofs: true,
      duplicates: true,
      underpaid: true,
    });
  });

  it('the counts do not depend on anything but the bounds', () => {
    const bounds = { ...DEFAULT_BOUNDS, workers: 2, requests: 2, failures: true, timeouts: true };
    const a = check(bounds);
    const b = check(bounds);
    expect([b.states, b.transitions, b.depth]).toEqual([a.states, a.transitions, a.depth]);
  });
});

describe('herd check', () => {
  it('reports the full space of 2 workers × 3 requests with zero violations', async () => {
    const { code, stdout: out } = await herd(...['check', '--workers', '2', '--requests', '3']);
    expect(code).toBe(0);
    expect(out).toMatch(/explored [\d,]+ states, [\d,]+ transitions, depth \d+/);
    expect(out).toContain('every invariant holds in every state');
  });

  it('--json prints one document', async () => {
    const { code, stdout: out } = await herd(...['check', '--workers', '1', '--requests', '2', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report).toMatchObject({ ok: true, complete: true, violations: [], stuck: null });
    expect(report.states).toBeGreaterThan(0);
    expect(report.bounds).toMatchObject({ workers: 1, requests: 2, failures: false });
  });

  it('--json with failures: the known stuck queue, as a path then a cycle (until the queue-wait bound lands)', async () => {
    const { code, stdout: out } = await herd(
      ...['check', '--workers', '1', '--requests', '2', '--failures', '--json'],
    );
    expect(code).toBe(1);
    const report = JSON.parse(out);
    expect(report).toMatchObject({ ok: false, complete: true, stuck: null });
    expect(report.violations).toHaveLength(1);
    expect(report.violations[0]).toMatchObject({ invariant: 'bounded-response', length: 3, loop: 2 });
    expect(report.violations[0].trace.map((s: { event: string }) => s.event)).toEqual([
      'a credit at level 1',
      'W1 reports Worker-Error',
      'time passes, then a Cron tick',
    ]);
  });

  it('pins the known stuck queue (workers time out for good) until the queue-wait bound lands', async () => {
    const args = ['check', '--workers', '2', '--requests', '3', '--timeouts', '--no-recovery'];
    const { code, stdout: out } = await herd(...args);
    expect(code).toBe(1);
    expect(out).toContain(
      'VIOLATION of bounded-response: m1 (queued), m2 (queued), m3 (queued) stay pending forever',
    );
    expect(out).toContain('shortest trace (4 steps, then 1 repeating forever):');
    expect(out).toMatch(
      / {4}4\. a credit at level 1.*\n(.*\n){1} {4}then repeats forever:\n {4}5\. time passes, then a Cron tick/,
    );
    const report = JSON.parse((await herd(...args, '--json')).stdout);
    const violation = report.violations.find(
      (v: { invariant: string }) => v.invariant === 'bounded-response',
    );
    expect(violation).toMatchObject({ length: 5, loop: 4 });
    expect(violation.trace.map((s: { event: string }) => s.event)).toEqual([
      'a credit at level 1',
      'a credit at level 1',
      'time passes the next deadline',
      'a credit at level 1',
      'time passes, then a Cron tick',
    ]);
    // With recovery (the default) the same path is the shortest: a worker that timed out may stay
    // silent forever while time passes.
    const recovering = JSON.parse(
      (await herd('check', '--workers', '2', '--requests', '3', '--timeouts', '--json')).stdout,
    );
    expect(recovering.stuck).toBeNull();
    expect(
      recovering.violations.map((v: { invariant: string; length: number }) => [v.invariant, v.length]),
    ).toEqual([['bounded-response', 5]]);
  });

  it('refuses bounds it cannot explore, with a reason', async () => {
    const { code, stderr: err } = await herd(...['check', '--late-answers']);
    expect(code).toBe(2);
    expect(err).toContain('late answers need --timeouts');
  });

  it('exits non-zero when the state cap stops it', async () => {
    const { code, stdout: out } = await herd(...['check', '--requests', '3', '--max-states', '10']);
    expect(code).toBe(1);
    expect(out).toContain('INCOMPLETE');
  });
});
