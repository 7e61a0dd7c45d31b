/**
 * bounded-response on every path: lassos in the explored graph (a path to a cycle that advances
 * time while a request stays pending), and the some-path liveness pass beside it.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BOUNDS } from '../../src/checker/bounds.ts';
import { check } from '../../src/checker/explore.ts';
import { Column } from '../../src/checker/layer.ts';
import { analyseLiveness, encodeTarget } from '../../src/checker/liveness.ts';
import { formatTrace } from '../../src/checker/trace.ts';
import { underCheck, variant } from '../defects/catalogue.ts';

/** A graph of `states` states from [from, to, advances time?] edges. */
function graph(
  states: number,
  edges: [number, number, boolean?][],
  resolved: number[],
  timeStands: number[] = [],
) {
  const edgeFrom = new Column(4);
  const edgeTo = new Column(4);
  for (const [from, to, time] of edges) {
    edgeFrom.push(from);
    edgeTo.push(encodeTarget(to, time === true));
  }
  return { states, edgeFrom, edgeTo, resolved, timeStands };
}

describe('the liveness pass', () => {
  it('a cycle that never advances time is no violation, but no state on it can end its request', () => {
    // 0 (nothing live) → 1 ⇄ 2: Info-like events forever.
    const found = analyseLiveness(
      graph(
        3,
        [
          [0, 1],
          [1, 2],
          [2, 1],
        ],
        [0],
      ),
    );
    expect(found.lasso).toBeUndefined();
    expect(found.stuck).toEqual({ count: 2, id: 1 });
  });

  it('a cycle that advances time while a request is pending is a lasso, entered as early as possible', () => {
    // 0 → 1 → 2 → 3 -time→ 1, and 3 → 4 (resolved).
    const found = analyseLiveness(
      graph(
        5,
        [
          [0, 1],
          [1, 2],
          [2, 3],
          [3, 1, true],
          [3, 4],
        ],
        [0, 4],
      ),
    );
    expect(found.lasso).toEqual({ entry: 1, cycle: { kind: 'cycle', states: [1, 2, 3, 1], timeStep: 2 } });
    expect(found.pendingForever).toBe(3);
    expect(found.stuck.count).toBe(0);
  });

  it('takes the shortest time-advancing cycle through the entry', () => {
    // 1 → 2 → 1 does not advance time; 1 -time→ 3 → 1 does; 1 → 4 → 5 -time→ 1 is longer.
    const found = analyseLiveness(
      graph(
        6,
        [
          [0, 1],
          [1, 2],
          [2, 1],
          [1, 3, true],
          [3, 1],
          [1, 4],
          [4, 5],
          [5, 1, true],
        ],
        [0],
      ),
    );
    expect(found.lasso?.cycle).toEqual({ kind: 'cycle', states: [1, 3, 1], timeStep: 0 });
  });

  it('a state where nothing runs and a request is pending is a lasso of its own: time passes, nothing happens', () => {
    const found = analyseLiveness(
      graph(
        3,
        [
          [0, 1],
          [1, 2],
          [2, 0],
        ],
        [0],
        [2],
      ),
    );
    expect(found.lasso).toEqual({ entry: 2, cycle: { kind: 'time-stands' } });
    expect(found.stuck.count).toBe(0);
  });

  it('a time-advancing self-loop with a pending request is a cycle', () => {
    const found = analyseLiveness(
      graph(
        2,
        [
          [0, 1],
          [1, 1, true],
        ],
        [0],
      ),
    );
    expect(found.lasso).toEqual({ entry: 1, cycle: { kind: 'cycle', states: [1, 1], timeStep: 0 } });
  });
});

describe('bounded-response in the checker', () => {
  it('reports an explicit cycle as the path to it, then the cycle marked as repeating forever', () => {
    // A herder that forgets how often a request was tried: it retries a request that keeps
    // timing out forever, and time advances on every round.
    const forgetful = variant('forget-attempts', {
      before: (state, msg) => {
        for (const r of state.requests.values()) r.attempts = 0;
        return msg;
      },
    });
    const bounds = { ...DEFAULT_BOUNDS, workers: 1, requests: 1, levels: 1, timeouts: true };
    const result = check(bounds, { herder: underCheck(forgetful) });
    expect(result.violations.map((v) => v.invariant)).toEqual(['bounded-response']);
    const [violation] = result.violations;
    expect(violation!.loop).toBe(1);
    expect(violation!.trace.map((s) => s.event)).toEqual([
      'a credit at level 1',
      'time passes the next deadline',
      'W1 answers',
    ]);
    // W1 answers after its deadline: the request goes back to the queue, and to W1 again.
    expect(violation!.detail).toMatch(
      /^m1 \(running on W1\) stays pending forever: on a cycle of 2 step\(s\) that advances time/,
    );
    const printed = formatTrace(violation!.trace, '  ', violation!.loop).split('\n');
    expect(printed[0]).toBe(
      '  1. a credit at level 1: TOKEN → Credit-Notice Sender=C-m1 Quantity=130 [id m1]',
    );
    // What the herder did, from its step's events, then what it sent and its state.
    expect(printed[1]).toBe(
      '       did: m1 accepted (C-m1 paid 130); m1 queued; W1 idle → busy (dispatch); m1 dispatched to W1 (attempt 1)',
    );
    expect(printed.indexOf('  then repeats forever:')).toBe(4);
    expect(printed[5]).toBe('  2. time passes the next deadline');
    expect(violation!.trace[2]!.findings.some((f) => f.startsWith('bounded-response: '))).toBe(true);
  });

  it('a deadline the herder lets pass without acting is a bounded-response violation', () => {
    const ignoresDeadlines = variant('ignore-deadlines', {
      before: (state, msg) => {
        // Every message arrives as if no time had passed for the herder's deadlines.
        for (const w of state.herd.all())
          if (w.status === 'busy') w.deadline = Math.max(w.deadline, msg.timestamp);
        return msg;
      },
    });
    const bounds = { ...DEFAULT_BOUNDS, workers: 1, requests: 1, levels: 1, timeouts: true };
    const result = check(bounds, { herder: underCheck(ignoresDeadlines), keepGoing: true });
    const violation = result.violations.find((v) => v.invariant === 'bounded-response');
    expect(violation?.detail).toMatch(/^a timer is not one the settings give/);
    expect(violation?.trace.map((s) => s.event)).toEqual([
      'a credit at level 1',
      'time passes the next deadline',
      'a Cron tick',
    ]);
  });

  it('a queue wait the herder lets pass without refunding is a bounded-response violation', () => {
    const keepsWaiting = variant('keeps-waiting', {
      after: (_before, _msg, outbox, state) => {
        state.waits.prune(() => false);
        return outbox;
      },
    });
    const bounds = { ...DEFAULT_BOUNDS, workers: 1, requests: 1, levels: 1, failures: true, recovery: false };
    const result = check(bounds, { herder: underCheck(keepsWaiting), keepGoing: true });
    const violation = result.violations.find((v) => v.invariant === 'bounded-response');
    expect(violation?.detail).toMatch(/^a timer is not one the settings give/);
    expect(violation?.trace.map((s) => s.event)).toEqual([
      'a credit at level 1',
      'W1 reports Worker-Error',
      'time passes the next deadline',
      'W1 reports Worker-Error',
    ]);
  });
});
