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

describe('the model under exhaustive checking', () => {
  it('2 workers, 3 requests: every invariant in every state, nothing stuck', () => {
    const result = expectClean({ ...DEFAULT_BOUNDS, workers: 2, requests: 3 });
    expect(result.states).toBeGreaterThan(20);
    expect(result.depth).toBeGreaterThanOrEqual(6);
  });

  it('every kind of trouble at once (2 workers, 2 requests): every invariant, every request ends', () => {
    expectClean({
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

  it('amounts beyond 2^64 with retries: every invariant, every request ends', () => {
    expectClean({
      ...DEFAULT_BOUNDS,
      workers: 1,
      requests: 3,
      levels: 2,
      huge: true,
      failures: true,
    });
  });

  it('no stuck queue: a request whose workers stay down is refunded once it waits out the queue-wait bound', () => {
    // The known stuck queue of a herder without the bound: the worker times out and stays silent
    // while time passes. Now the request waits again, and its wait ends in a refund.
    for (const recovery of [true, false]) {
      const result = expectClean({ ...DEFAULT_BOUNDS, workers: 1, requests: 1, timeouts: true, recovery });
      expect(result.states).toBeGreaterThan(4);
    }
  });

  it('without --timeouts, time passes while nothing runs: a request waiting on failed workers is refunded', () => {
    expectClean({ ...DEFAULT_BOUNDS, workers: 1, requests: 2, failures: true });
    expectClean({ ...DEFAULT_BOUNDS, workers: 2, requests: 2, failures: true, recovery: false });
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

  it('readiness: a worker removed while failed and added again joins failed, and every request still ends', () => {
    const result = expectClean({
      ...DEFAULT_BOUNDS,
      workers: 2,
      requests: 2,
      failures: true,
      ownerActions: true,
      recovery: false,
    });
    expect(result.states).toBeGreaterThan(100);
  });

  it('the counts do not depend on anything but the bounds', () => {
    const bounds = { ...DEFAULT_BOUNDS, workers: 2, requests: 2, failures: true, timeouts: true };
    const a = check(bounds);
    const b = check(bounds);
    expect([b.states, b.transitions, b.depth]).toEqual([a.states, a.transitions, a.depth]);
  });
});

describe('symmetry reduction', () => {
  it('explores each orbit of worker renamings once; without it, every state, counted as always', () => {
    const bounds = { ...DEFAULT_BOUNDS, workers: 3, requests: 2, failures: true, timeouts: true };
    const every = check(bounds, { symmetry: false });
    expect([every.states, every.transitions, every.depth]).toEqual([2_678, 23_401, 11]);
    expect(every.represented).toBe(every.states);
    const reduced = check(bounds);
    expect(reduced.symmetry).toBe(true);
    expect(reduced.states).toBe(712);
    expect(reduced.depth).toBe(every.depth);
    // Events of a worker with an earlier twin are counted, not stepped (quotient.test.ts checks
    // each leads where its twin's does); without symmetry every event is stepped.
    expect(reduced.bySymmetry).toBeGreaterThan(0);
    expect(reduced.bySymmetry).toBeLessThan(reduced.transitions);
    expect(every.bySymmetry).toBe(0);
    // With failures every renaming of a reachable state is reachable (a worker that fails and
    // recovers goes to the back of the idle order): the orbits hold exactly the states of the full run.
    expect(reduced.represented).toBe(every.states);
    expect(reduced.complete && every.complete).toBe(true);
    expect([...reduced.violations, ...every.violations]).toEqual([]);
    // Every layer packed (frontier.ts) or none: the same space.
    const packed = check(bounds, { packFrom: 0 });
    const whole = check(bounds, { packFrom: Infinity });
    for (const run of [packed, whole])
      expect([run.states, run.transitions, run.depth]).toEqual([
        reduced.states,
        reduced.transitions,
        reduced.depth,
      ]);
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

  it('reduces by symmetry unless --no-symmetry, and says what the reduction saved', async () => {
    const args = ['check', '--workers', '2', '--requests', '2', '--failures'];
    const reduced = JSON.parse((await herd(...args, '--json')).stdout);
    const every = JSON.parse((await herd(...args, '--no-symmetry', '--json')).stdout);
    expect(reduced).toMatchObject({ ok: true, symmetry: true, represented: every.states });
    expect(every).toMatchObject({ ok: true, symmetry: false, represented: every.states, bySymmetry: 0 });
    expect(reduced.states).toBeLessThan(every.states);
    expect(reduced.bytesPerState).toBeGreaterThan(0);
    expect(reduced.bySymmetry).toBeGreaterThan(0);
    const { stdout: out } = await herd(...args);
    expect(out).toContain(
      `symmetry reduction: ${reduced.states.toLocaleString('en-US')} orbits of states that differ only by a renaming of workers, standing for up to ${every.states.toLocaleString('en-US')} states; ${reduced.bySymmetry.toLocaleString('en-US')} of the transitions not stepped`,
    );
  });

  it('--json with failures: zero violations, bounded-response included', async () => {
    const { code, stdout: out } = await herd(
      ...['check', '--workers', '1', '--requests', '2', '--failures', '--json'],
    );
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ ok: true, complete: true, violations: [], stuck: null });
  });

  it('pins the absence of the stuck queue: workers that time out for good, every request still ends', async () => {
    const args = ['check', '--workers', '2', '--requests', '3', '--failures', '--timeouts', '--no-recovery'];
    const { code, stdout: out } = await herd(...args);
    expect(code).toBe(0);
    expect(out).toContain('every invariant holds in every state');
    expect(out).toContain('bounded-response');
    expect(out).toContain(
      'on every path where time advances, every accepted request ends (bounded-response)',
    );
    expect(out).not.toContain('VIOLATION');
    const report = JSON.parse((await herd(...args, '--json')).stdout);
    expect(report).toMatchObject({ ok: true, complete: true, violations: [], stuck: null });
    // The whole space, pinned (as the symmetry test pins its own).
    expect([report.states, report.transitions]).toEqual([3_868, 22_410]);
    // With recovery (the default) too.
    const recovering = JSON.parse(
      (await herd('check', '--workers', '2', '--requests', '3', '--timeouts', '--json')).stdout,
    );
    expect(recovering).toMatchObject({ ok: true, violations: [], stuck: null });
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
