/**
 * The simulator's results pinned over fixed seeds and workloads: every figure of the report, the
 * herder's outbox counted by kind, and a digest of every message in and out of the herder. The
 * pinned values were computed before the engine was reworked for speed; a change that alters any
 * of them changes what `herd simulate` reports, and must say why.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { benchmarkOptions } from '../../src/simulate/bench.ts';
import { runSimulation, type SimulationResult } from '../../src/simulate/engine.ts';
import {
  parseClass,
  rateForLoad,
  type SimulationOptions,
  simulationOptions,
} from '../../src/simulate/options.ts';
import { parseIntDistribution } from '../../src/simulate/random.ts';

interface Observed {
  result: SimulationResult;
  /** Outbox messages by Action (refunds are Transfers). */
  sent: Record<string, number>;
  /** sha256 of every message the herder handled and every message it sent, in order. */
  trace: string;
  /** sha256 of the result without its wall-clock time. */
  report: string;
}

function observe(options: SimulationOptions): Observed {
  const sent: Record<string, number> = {};
  const hash = createHash('sha256');
  const result = runSimulation(options, {
    onStep(msg, outbox) {
      hash.update(JSON.stringify(msg));
      for (const out of outbox) {
        const action = out.tags.Action ?? '';
        sent[action] = (sent[action] ?? 0) + 1;
        hash.update(JSON.stringify(out));
      }
      hash.update('\n');
    },
  });
  const { wallMs: _wall, ...rest } = result;
  const report = createHash('sha256')
    .update(JSON.stringify(rest, (_key, value) => (typeof value === 'bigint' ? `${value}n` : value)))
    .digest('hex');
  return { result, sent, trace: hash.digest('hex'), report };
}

/** The figures an operator reads: counts, latency percentiles per class, money, refunds. */
function figures(r: SimulationResult) {
  return {
    answered: r.answered,
    refunded: r.refunded,
    messages: r.messages,
    maxOvertakes: r.maxOvertakes,
    revenue: r.revenue,
    refundedAmount: r.refundedAmount,
    escrowLeft: r.escrowLeft,
    refundReasons: r.refundReasons,
    simulatedSeconds: r.simulatedSeconds,
    utilisation: r.utilisation,
    unavailable: r.unavailable,
    maxWaiting: r.queue.maxWaiting,
    meanWaiting: r.queue.meanWaiting,
    classes: [...r.classes, r.overall].map((c) => ({
      name: c.name,
      answered: c.answered,
      refunded: c.refunded,
      retried: c.retried,
      meanMultiplier: c.meanMultiplier,
      queueing: [c.queueing.p50, c.queueing.p95, c.queueing.p99, c.queueing.max],
      total: [c.total.p50, c.total.p95, c.total.p99, c.total.max],
    })),
  };
}

/** Workers that fail, go silent and overrun short deadlines, bursts, an overloaded herd, tight settings. */
function troubled(): SimulationOptions {
  const base = simulationOptions({
    seed: 20261202,
    requests: 12_000,
    workers: 16,
    bursts: { everySeconds: 60, size: 20, spreadMs: 3_000 },
    tokens: parseIntDistribution('uniform:1:400', 'tokens'),
    promptWords: parseIntDistribution('exp:10', 'words'),
    classes: [
      parseClass('standard:0.5:1'),
      parseClass('vip:0.2:2.5'),
      parseClass('adaptive:0.3:last+7.5%<=4'),
    ],
    worker: { failRate: 0.05, timeoutRate: 0.02, recoverMs: 20_000 },
    herd: {
      baseFee: 7n,
      tokenFee: 3n,
      maxAttempts: 2,
      maxOvertakes: 3,
      maxQueueWait: 60_000,
      timeoutBase: 3_000,
      timeoutPerToken: 52,
    },
    cronMs: 5_000,
  });
  return { ...base, rate: rateForLoad(base, 0.95) };
}

describe('simulate: results pinned over fixed seeds', () => {
  it('the benchmark workload, small: default clients and workers at 80% load', () => {
    const o = observe(benchmarkOptions(30_000, 30, 7));
    expect(figures(o.result)).toEqual(BENCHMARK_FIGURES);
    expect(o.sent).toEqual(BENCHMARK_SENT);
    expect({ trace: o.trace, report: o.report }).toEqual(BENCHMARK_DIGESTS);
  });

  it('a troubled herd: failures, silences, overruns, bursts, overload, queue-wait refunds', () => {
    const o = observe(troubled());
    expect(figures(o.result)).toEqual(TROUBLED_FIGURES);
    expect(o.sent).toEqual(TROUBLED_SENT);
    expect({ trace: o.trace, report: o.report }).toEqual(TROUBLED_DIGESTS);
  });
});

// Computed before the engine's rework, by the engine as it was then.
const BENCHMARK_FIGURES = {
  answered: 30000,
  refunded: 0,
  messages: 60428,
  maxOvertakes: 16,
  revenue: 31331417n,
  refundedAmount: 0n,
  escrowLeft: 0n,
  refundReasons: {},
  simulatedSeconds: 4459.65,
  utilisation: 0.804608,
  unavailable: 0.034599,
  maxWaiting: 25,
  meanWaiting: 1.00178,
  classes: [
    {
      name: 'standard',
      answered: 21124,
      refunded: 0,
      retried: 253,
      meanMultiplier: 1,
      queueing: [0, 1.20895, 2.29376, 5.17184],
      total: [3.12379, 8.54164, 13.8206, 231.531],
    },
    {
      name: 'priority',
      answered: 5897,
      refunded: 0,
      retried: 69,
      meanMultiplier: 2,
      queueing: [0, 0.240436, 0.45584, 1.14673],
      total: [2.91285, 8.3669, 13.833, 183.179],
    },
    {
      name: 'adaptive',
      answered: 2979,
      refunded: 0,
      retried: 27,
      meanMultiplier: 1.22511,
      queueing: [0, 0.25716, 0.521294, 1.79954],
      total: [2.88961, 8.43758, 13.319, 249.776],
    },
    {
      name: 'all',
      answered: 30000,
      refunded: 0,
      retried: 349,
      meanMultiplier: 1.21892,
      queueing: [0, 0.984711, 2.00541, 5.17184],
      total: [3.05982, 8.50428, 13.764, 249.776],
    },
  ],
};
const BENCHMARK_SENT = { Inference: 30354, 'Inference-Response': 30000 };
const BENCHMARK_DIGESTS = {
  trace: '8ff3b58ef4833bb56699d53dde14b22032ae13b5e09112d970a530b0598160c1',
  report: 'd02f9a3915724e9fb9c1e64f086d283880cf4e779ef0912bbc9e63d12fbe000c',
};
const TROUBLED_FIGURES = {
  answered: 11657,
  refunded: 343,
  messages: 26462,
  maxOvertakes: 3,
  revenue: 11123168n,
  refundedAmount: 345586n,
  escrowLeft: 0n,
  refundReasons: {
    'Inference failed: worker error: simulated failure': 56,
    'Inference failed: worker timed out': 33,
    'Waited too long in the queue': 254,
  },
  simulatedSeconds: 8808.88,
  utilisation: 0.914125,
  unavailable: 0.0601767,
  maxWaiting: 128,
  meanWaiting: 34.9752,
  classes: [
    {
      name: 'standard',
      answered: 5734,
      refunded: 163,
      retried: 449,
      meanMultiplier: 1,
      queueing: [25.6648, 56.2015, 59.438, 59.9993],
      total: [37.2545, 68.6577, 77.4009, 100.293],
    },
    {
      name: 'vip',
      answered: 2363,
      refunded: 64,
      retried: 198,
      meanMultiplier: 2.5,
      queueing: [22.2992, 56.5202, 59.46, 59.9846],
      total: [34.2645, 69.4378, 77.265, 102.831],
    },
    {
      name: 'adaptive',
      answered: 3560,
      refunded: 116,
      retried: 308,
      meanMultiplier: 1.61918,
      queueing: [20.3205, 54.9858, 59.0061, 59.9894],
      total: [31.6334, 68.0318, 78.2508, 101.338],
    },
    {
      name: 'all',
      answered: 11657,
      refunded: 343,
      retried: 955,
      meanMultiplier: 1.49305,
      queueing: [23.6847, 55.9771, 59.3201, 59.9993],
      total: [35.0999, 68.6222, 77.6927, 102.831],
    },
  ],
};
const TROUBLED_SENT = { Inference: 12701, 'Inference-Response': 11657, Transfer: 343 };
const TROUBLED_DIGESTS = {
  trace: '0b5eaddf3a7623a2dfede01f7e00b00716bc48e679837a644bdef841489dda95',
  report: 'f465fa7c67e17a442dbf44087c0ba2ce76111f61a760131694420ddea79eb0ae',
};
