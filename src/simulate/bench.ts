/**
 * The simulator's performance target (docs/design.md §6): 10^6 requests on 10^3 workers. The benchmark
 * harness runs this file in a fresh process per repetition (`node --import tsx bench.ts [requests
 * [workers]]` prints one {@link SimulationBenchmark} as JSON), as a `herd simulate` run would be;
 * nothing here asserts a time.
 */
import { runSimulation } from './engine.ts';
import { rateForLoad, type SimulationOptions, simulationOptions } from './options.ts';

export interface SimulationBenchmark {
  readonly requests: number;
  readonly workers: number;
  /** Wall-clock time of the simulation itself (ms), set-up and summary included. */
  readonly wallMs: number;
  /** Messages the herder handled, and how many per second of wall time. */
  readonly messages: number;
  readonly messagesPerSecond: number;
  /** Heap in use right after the run (MB): the herder's state is still reachable then. */
  readonly heapUsedMB: number;
  readonly answered: number;
  readonly refunded: number;
}

/** The benchmark workload: default clients and workers, demand at 80% of the herd's capacity. */
export function benchmarkOptions(requests = 1_000_000, workers = 1_000, seed = 1): SimulationOptions {
  const base = simulationOptions({ requests, workers, seed });
  return { ...base, rate: rateForLoad(base, 0.8) };
}

export function benchmarkSimulation(requests = 1_000_000, workers = 1_000, seed = 1): SimulationBenchmark {
  const options = benchmarkOptions(requests, workers, seed);
  const started = performance.now();
  const result = runSimulation(options);
  const wallMs = performance.now() - started;
  return {
    requests,
    workers,
    wallMs: Math.round(wallMs),
    messages: result.messages,
    messagesPerSecond: Math.round(result.messages / (wallMs / 1000)),
    heapUsedMB: Math.round(process.memoryUsage().heapUsed / 1e6),
    answered: result.answered,
    refunded: result.refunded,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [requests, workers] = process.argv.slice(2).map(Number);
  console.log(JSON.stringify(benchmarkSimulation(requests || undefined, workers || undefined)));
}
