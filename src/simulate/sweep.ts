/**
 * A sweep over herd sizes at a fixed demand: the same arrivals, requests and payments (same seed)
 * met by 5, 10, … workers, to read off how many workers a latency target needs.
 */
import { type ClassResult, runSimulation, type SimulationResult } from './engine.ts';
import type { SimulationOptions } from './options.ts';

/** One herd size's outcome, without the per-run series (samples, distributions). */
export interface SweepPoint {
  readonly workers: number;
  readonly utilisation: number;
  readonly throughput: number;
  readonly answered: number;
  readonly refunded: number;
  readonly maxOvertakes: number;
  readonly meanWaiting: number;
  readonly maxWaiting: number;
  readonly classes: readonly Omit<ClassResult, 'cdf'>[];
  readonly overall: Omit<ClassResult, 'cdf'>;
  readonly wallMs: number;
}

/** Parses `FROM:TO:STEP` (e.g. `5:50:5`) into herd sizes. */
export function parseRange(text: string): number[] {
  const match = /^([0-9]+):([0-9]+)(?::([0-9]+))?$/.exec(text.trim());
  if (match === null) throw new Error(`"${text}" must be FROM:TO:STEP, e.g. 5:50:5`);
  const from = Number(match[1]);
  const to = Number(match[2]);
  const step = Number(match[3] ?? 1);
  if (from < 1 || to < from || step < 1) throw new Error(`"${text}": need 1 <= FROM <= TO and STEP >= 1`);
  // Counted before listing: a huge range must not be built to be refused.
  const count = Math.floor((to - from) / step) + 1;
  if (count > 200) throw new Error(`"${text}" gives ${count} herd sizes; at most 200`);
  const sizes: number[] = [];
  for (let n = from; n <= to; n += step) sizes.push(n);
  return sizes;
}

export function sweepPoint(result: SimulationResult): SweepPoint {
  const strip = ({ cdf: _cdf, ...rest }: ClassResult) => rest;
  return {
    workers: result.workers,
    utilisation: result.utilisation,
    throughput: result.throughput,
    answered: result.answered,
    refunded: result.refunded,
    maxOvertakes: result.maxOvertakes,
    meanWaiting: result.queue.meanWaiting,
    maxWaiting: result.queue.maxWaiting,
    classes: result.classes.map(strip),
    overall: strip(result.overall),
    wallMs: result.wallMs,
  };
}

/** Runs one simulation per herd size; `onProgress` sees requests ended across the whole sweep. */
export function runSweep(
  options: SimulationOptions,
  sizes: readonly number[],
  onProgress?: (ended: number, total: number) => void,
): SweepPoint[] {
  const total = sizes.length * options.requests;
  return sizes.map((workers, i) =>
    sweepPoint(
      runSimulation(
        { ...options, workers },
        onProgress && { onProgress: (ended) => onProgress(i * options.requests + ended, total) },
      ),
    ),
  );
}
