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

  it('every kind of trouble at once (2 workers, 2 requests)', () => {
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

  it('amounts beyond 2^64 with retries', () => {
    expectClean({ ...DEFAULT_BOUNDS, workers: 1, requests: 3, levels: 2, huge: true, failures: true });
  });

  it('liveness needs workers that come back: with none, a queued request waits forever', () => {
    // The protocol gives a waiting request no deadline of its own (DESIGN §2.7): if every worker
    // fails or times out for good, nothing ever refunds it.
    const result = check({ ...DEFAULT_BOUNDS, workers: 1, requests: 1, timeouts: true, recovery: false });
    expect(result.violations).toEqual([]);
    expect(result.stuck?.trace.map((s) => s.event)).toEqual([
      'a credit at level 1',
      'time passes the next deadline',
      'a Cron tick',
    ]);
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
    const { code, stdout: out } = await herd(
      ...['check', '--workers', '1', '--requests', '2', '--failures', '--json'],
    );
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report).toMatchObject({ ok: true, complete: true, violations: [], stuck: null });
    expect(report.states).toBeGreaterThan(0);
    expect(report.bounds).toMatchObject({ workers: 1, requests: 2, failures: true });
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
