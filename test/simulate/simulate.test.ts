import { describe, expect, it } from 'vitest';
import { benchmarkSimulation } from '../../src/simulate/bench.ts';
import {
  arrivalTimes,
  type ClassResult,
  runSimulation,
  type SimulationResult,
} from '../../src/simulate/engine.ts';
import { EventKind, EventQueue } from '../../src/simulate/events.ts';
import {
  parseClass,
  rateForLoad,
  type SimulationOptions,
  simulationOptions,
  simulationProblems,
} from '../../src/simulate/options.ts';
import { estimateMean, parseIntDistribution, Random, sampleInt } from '../../src/simulate/random.ts';
import { formatResult, formatSweep } from '../../src/simulate/report.ts';
import { percentiles, Sampler, sortNumbers } from '../../src/simulate/stats.ts';
import { parseRange, runSweep } from '../../src/simulate/sweep.ts';

/** A small, loaded herd: queues form, workers fail and go silent. */
function small(overrides: Parameters<typeof simulationOptions>[0] = {}): SimulationOptions {
  const base = simulationOptions({ requests: 2_000, workers: 4, ...overrides });
  return overrides.rate === undefined ? { ...base, rate: rateForLoad(base, 0.9) } : base;
}

function withoutWallTime(result: SimulationResult): Omit<SimulationResult, 'wallMs'> {
  const { wallMs: _wall, ...rest } = result;
  return rest;
}

function expectSane(p: ClassResult['total']): void {
  expect(p.p50).toBeLessThanOrEqual(p.p95);
  expect(p.p95).toBeLessThanOrEqual(p.p99);
  expect(p.p99).toBeLessThanOrEqual(p.max);
  expect(p.mean).toBeLessThanOrEqual(p.max);
  expect(p.p50).toBeGreaterThanOrEqual(0);
}

describe('simulate: determinism', () => {
  it('gives the same result for the same seed, and a different one for another seed', () => {
    const options = small({ worker: { failRate: 0.05, timeoutRate: 0.02 } });
    const a = runSimulation(options);
    const b = runSimulation(options);
    expect(withoutWallTime(a)).toEqual(withoutWallTime(b));
    const c = runSimulation({ ...options, seed: 2 });
    expect(withoutWallTime(c)).not.toEqual(withoutWallTime(a));
  });

  it('keeps the same arrivals and requests when only the herd size changes', () => {
    const options = small();
    expect(arrivalTimes({ ...options, workers: 9 })).toEqual(arrivalTimes(options));
    const few = runSimulation(options);
    const many = runSimulation({ ...options, workers: 9 });
    expect(many.classes.map((c) => c.requests)).toEqual(few.classes.map((c) => c.requests));
    expect(many.offeredRate).toBe(few.offeredRate);
  });
});

describe('simulate: accounting', () => {
  const options = small({
    worker: { failRate: 0.1, timeoutRate: 0.05, recoverMs: 5_000 },
    herd: { maxAttempts: 2 },
  });
  const result = runSimulation(options);

  it('ends every request exactly once: answered or refunded, per class and overall', () => {
    expect(result.answered + result.refunded).toBe(options.requests);
    for (const c of result.classes) expect(c.answered + c.refunded).toBe(c.requests);
    expect(result.classes.reduce((n, c) => n + c.requests, 0)).toBe(options.requests);
    expect(result.overall.answered).toBe(result.answered);
    expect(result.overall.refunded).toBe(result.refunded);
    expect(result.escrowLeft).toBe(0n);
  });

  it('refunds only after failed attempts or a wait out of the queue-wait bound, for the reasons the herder gave', () => {
    expect(result.refunded).toBeGreaterThan(0);
    expect(Object.values(result.refundReasons).reduce((a, b) => a + b, 0)).toBe(result.refunded);
    for (const reason of Object.keys(result.refundReasons))
      expect(reason).toMatch(/^(Inference failed: worker|Waited too long in the queue$)/);
    expect(result.refundedAmount).toBeGreaterThan(0n);
    expect(result.revenue).toBeGreaterThan(0n);
  });

  it('reports sane percentiles, shares and utilisation', () => {
    for (const c of [...result.classes, result.overall]) {
      expectSane(c.queueing);
      expectSane(c.total);
      expect(c.total.count).toBe(c.answered);
      expect(c.meanMultiplier).toBeGreaterThanOrEqual(1);
    }
    expect(result.utilisation).toBeGreaterThan(0);
    expect(result.utilisation + result.unavailable).toBeLessThanOrEqual(1);
    expect(result.throughput).toBeGreaterThan(0);
    expect(result.queue.samples.length).toBeGreaterThan(10);
    expect(result.queue.maxWaiting).toBeGreaterThanOrEqual(
      Math.max(...result.queue.samples.map((s) => s.waiting)),
    );
  });

  it('never reports more overtaking than the bound', () => {
    expect(result.maxOvertakes).toBeLessThanOrEqual(options.herd.maxOvertakes!);
    const tight = runSimulation({ ...options, herd: { ...options.herd, maxOvertakes: 2 } });
    expect(tight.maxOvertakes).toBeLessThanOrEqual(2);
  });

  it('answers everything without failures, and refunds everything when workers never answer in time', () => {
    const reliable = runSimulation(small({ worker: { failRate: 0, timeoutRate: 0 } }));
    expect(reliable.answered).toBe(2_000);
    expect(reliable.refunded).toBe(0);
    expect(reliable.unavailable).toBe(0);
    const silent = runSimulation(
      small({
        requests: 200,
        worker: { failRate: 0, timeoutRate: 1, recoverMs: 1_000 },
        herd: { maxAttempts: 2 },
      }),
    );
    expect(silent.refunded).toBe(200);
    // Each request fails on its workers or, while they are all timed out, waits out the bound.
    expect(Object.keys(silent.refundReasons).sort()).toEqual([
      'Inference failed: worker timed out',
      'Waited too long in the queue',
    ]);
    expect(Object.values(silent.refundReasons).reduce((a, b) => a + b, 0)).toBe(200);
  });

  it('honours maxQueueWait: with every worker silent, no request waits longer than the bound', () => {
    const maxQueueWait = 5_000;
    const silent = runSimulation(
      small({
        requests: 100,
        workers: 1,
        worker: { failRate: 0, timeoutRate: 1, recoverMs: 10_000_000 },
        herd: { maxAttempts: 1, maxQueueWait },
        cronMs: 1_000,
      }),
    );
    // The worker goes silent on its first request (refunded, out of attempts) and never comes back:
    // without the bound the others would wait forever and the run would never end.
    expect(silent.refunded).toBe(100);
    expect(silent.refundReasons).toEqual({
      'Inference failed: worker timed out': 1,
      'Waited too long in the queue': 99,
    });
  });

  it('takes at least the service time: no answer faster than the workers can work', () => {
    const o = small({ worker: { failRate: 0, timeoutRate: 0, jitter: 0, overheadMs: 1_000, msPerToken: 0 } });
    const r = runSimulation(o);
    // Herder time is whole milliseconds; the simulator's clock is not.
    expect(r.overall.total.p50).toBeGreaterThanOrEqual(0.999);
    expect(r.overall.queueing.p50).toBeLessThanOrEqual(r.overall.total.p50);
  });
});

describe('simulate: priorities and payments', () => {
  it('serves the class that pays more sooner when the herd is loaded', () => {
    const r = runSimulation(small({ requests: 4_000 }));
    const [standard, priority] = r.classes;
    expect(priority!.queueing.mean).toBeLessThan(standard!.queueing.mean);
    expect(priority!.meanMultiplier).toBe(2);
    expect(standard!.meanMultiplier).toBe(1);
  });

  it("lets the original client's rule pay above the fee under load, never above its cap", () => {
    const r = runSimulation(
      small({
        classes: [parseClass('standard:0.5:1'), parseClass('adaptive:0.5:last+10%<=3')],
      }),
    );
    const adaptive = r.classes[1]!;
    expect(adaptive.meanMultiplier).toBeGreaterThan(1);
    expect(adaptive.meanMultiplier).toBeLessThanOrEqual(3);
  });

  it('handles bursts: arrivals stay sorted and counted', () => {
    const o = small({ bursts: { everySeconds: 30, size: 50, spreadMs: 2_000 } });
    const times = arrivalTimes(o);
    expect(times.length).toBe(o.requests);
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
    const r = runSimulation(o);
    expect(r.answered + r.refunded).toBe(o.requests);
  });
});

describe('simulate: sweep, report, benchmark entry', () => {
  it('sweeps herd sizes at a fixed demand: more workers, less utilisation', () => {
    const points = runSweep(small({ requests: 1_000 }), parseRange('3:7:2'));
    expect(points.map((p) => p.workers)).toEqual([3, 5, 7]);
    expect(points[2]!.utilisation).toBeLessThan(points[0]!.utilisation);
    expect(formatSweep(points, { timing: false })).toContain('utilisation');
  });

  it('formats a readable summary', () => {
    const text = formatResult(runSimulation(small({ requests: 300 })), { timing: false });
    expect(text).toContain('Simulated 300 requests on 4 workers');
    expect(text).toMatch(/standard +1×/);
    expect(text).not.toMatch(/messages\/s/);
  });

  it('exposes the 10^6 × 10^3 benchmark as a function (run small here)', () => {
    const b = benchmarkSimulation(3_000, 20);
    expect(b.answered + b.refunded).toBe(3_000);
    expect(b.messages).toBeGreaterThan(6_000);
    expect(b.wallMs).toBeGreaterThanOrEqual(0);
  });
});

describe('simulate: parts', () => {
  it('orders events by time, then by insertion', () => {
    const q = new EventQueue(2);
    const random = new Random(7);
    const pushed: [number, number][] = [];
    for (let i = 0; i < 500; i++) {
      const t = Math.floor(random.uniform() * 50);
      q.push(t, EventKind.Response, i);
      pushed.push([t, i]);
    }
    pushed.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const popped: [number, number][] = [];
    while (q.size > 0) {
      popped.push([q.peekTime(), q.peekSubject()]);
      q.pop();
    }
    expect(popped).toEqual(pushed);
  });

  it('parses and samples integer distributions within bounds', () => {
    const random = new Random(3);
    for (const text of ['7', 'uniform:3:9', 'exp:20', 'lognormal:30:1']) {
      const d = parseIntDistribution(text, 'x');
      for (let i = 0; i < 1_000; i++) {
        const n = sampleInt(d, random, 50);
        expect(n).toBeGreaterThanOrEqual(1);
        expect(n).toBeLessThanOrEqual(50);
      }
    }
    expect(estimateMean(parseIntDistribution('uniform:10:20', 'x'), 100)).toBeCloseTo(15, 0);
    expect(() => parseIntDistribution('normal:3', '--tokens')).toThrow(/--tokens/);
    expect(() => parseIntDistribution('uniform:9:3', '--tokens')).toThrow(/>= 9/);
  });

  it('parses client classes and herd-size ranges, and rejects nonsense with a reason', () => {
    expect(parseClass('vip:0.1:2.5')).toEqual({
      name: 'vip',
      share: 0.1,
      pays: { kind: 'fixed', multiplier: '2.5' },
    });
    expect(parseClass('a:1:last+5%').pays).toEqual({ kind: 'last-multiplier', bumpPercent: '5', cap: '10' });
    expect(() => parseClass('cheap:1:0.5')).toThrow(/below 1/);
    expect(() => parseClass('x:1')).toThrow(/NAME:SHARE:PAYS/);
    expect(parseRange('5:20:5')).toEqual([5, 10, 15, 20]);
    expect(() => parseRange('5-20')).toThrow(/FROM:TO:STEP/);
    expect(simulationProblems(small({ herd: { baseFee: 0n, tokenFee: 0n } }))).toContainEqual(
      expect.stringMatching(/cannot both be 0/),
    );
  });

  it('computes nearest-rank percentiles in seconds', () => {
    const values = Float64Array.from({ length: 100 }, (_, i) => (i + 1) * 1000);
    expect(percentiles(values)).toMatchObject({
      count: 100,
      p50: 50,
      p95: 95,
      p99: 99,
      max: 100,
      mean: 50.5,
    });
  });

  it('sorts numbers in linear time exactly as the typed-array sort does, bit for bit', () => {
    const random = new Random(11);
    const draws: Record<string, () => number> = {
      latencies: () => random.exponential(3_000),
      'mostly zero': () => (random.uniform() < 0.9 ? 0 : random.uniform()),
      'whole numbers': () => Math.floor(random.uniform() * 1_000),
      'signs, zeros and infinities': () => {
        const u = random.uniform();
        if (u < 0.1) return -0;
        if (u < 0.2) return 0;
        if (u < 0.22) return Number.POSITIVE_INFINITY;
        if (u < 0.24) return Number.NEGATIVE_INFINITY;
        if (u < 0.5) return -random.exponential(1e9);
        return random.exponential(1e-3);
      },
    };
    for (const [name, draw] of Object.entries(draws))
      for (const n of [0, 1, 7, 16_383, 16_384, 70_000]) {
        const values = Float64Array.from({ length: n }, draw);
        const expected = new Uint8Array(values.slice().sort().buffer);
        sortNumbers(values);
        const bytes = new Uint8Array(values.buffer);
        expect(
          bytes.findIndex((b, i) => b !== expected[i]),
          `${name}, ${n} values`,
        ).toBe(-1);
      }
    // A segment of a larger array: only the segment moves.
    const whole = Float64Array.from({ length: 60_000 }, () => random.exponential(10));
    const before = whole.slice();
    sortNumbers(whole.subarray(20_000, 40_000));
    before.subarray(20_000, 40_000).sort();
    expect(whole.findIndex((x, i) => x !== before[i])).toBe(-1);
  });

  it('keeps the queue series chart-sized however long the run', () => {
    const sampler = new Sampler(0, 1, 100);
    for (let t = 0; t < 100_000; t++) while (sampler.due(t)) sampler.take(t, 0, 0);
    expect(sampler.samples.length).toBeLessThan(100);
    const gaps = new Set(
      sampler.samples.slice(1).map((s, i) => Math.round((s.t - sampler.samples[i]!.t) * 1e6)),
    );
    expect(gaps.size).toBe(1);
  });
});
