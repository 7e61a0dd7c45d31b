/**
 * Charts of simulation results as vega-lite specs, rendered headless to SVG (no canvas, no
 * browser). The specs are plain data so that a caller may also write them out for an editor.
 */
import type { SimulationResult } from './engine.ts';
import type { SweepPoint } from './sweep.ts';

/** A vega-lite specification (kept loose: vega-lite validates it when compiling). */
export type ChartSpec = Record<string, unknown>;

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const PERCENTILES = ['p50', 'p95', 'p99'] as const;

function classLabel(name: string, pays: string): string {
  return `${name} (${pays})`;
}

/** Queueing and total latency percentiles for each client class, side by side. */
export function latencyByClassChart(result: SimulationResult): ChartSpec {
  const values: Record<string, unknown>[] = [];
  for (const c of [...result.classes, result.overall])
    for (const measure of ['queueing', 'total'] as const)
      for (const p of PERCENTILES)
        values.push({
          class: classLabel(c.name, c.pays),
          measure: measure === 'queueing' ? 'queueing (arrival → dispatch)' : 'total (arrival → answer)',
          percentile: p,
          seconds: c[measure][p],
        });
  return {
    $schema: SCHEMA,
    title: `Latency by client class: ${result.requests} requests, ${result.workers} workers`,
    data: { values },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      column: { field: 'measure', type: 'nominal', title: null, sort: 'ascending' },
      x: {
        field: 'class',
        type: 'nominal',
        title: null,
        axis: { labelAngle: -30, labelLimit: 240 },
        sort: null,
      },
      xOffset: { field: 'percentile', type: 'nominal', sort: [...PERCENTILES] },
      y: { field: 'seconds', type: 'quantitative', title: 'seconds' },
      color: { field: 'percentile', type: 'nominal', sort: [...PERCENTILES], scale: { scheme: 'blues' } },
    },
    width: 80 * (result.classes.length + 1),
    height: 260,
  };
}

/** Waiting requests, and busy and silent workers, over simulated time. */
export function queueOverTimeChart(result: SimulationResult): ChartSpec {
  const minutes = result.simulatedSeconds > 600;
  const scale = minutes ? 60 : 1;
  const unit = minutes ? 'minutes' : 'seconds';
  const queue: Record<string, unknown>[] = [];
  const herd: Record<string, unknown>[] = [];
  for (const s of result.queue.samples) {
    const t = s.t / scale;
    queue.push({ t, series: 'waiting requests', count: s.waiting });
    herd.push({ t, series: 'busy workers', count: s.busy });
    herd.push({ t, series: 'silent workers', count: s.unavailable });
  }
  const panel = (values: Record<string, unknown>[], title: string) => ({
    data: { values },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1 },
    encoding: {
      x: { field: 't', type: 'quantitative', title: `simulated time (${unit})` },
      y: { field: 'count', type: 'quantitative', title },
      color: { field: 'series', type: 'nominal', title: null },
    },
    width: 560,
    height: 160,
  });
  return {
    $schema: SCHEMA,
    title: `Queue and herd over time (${result.workers} workers, ${result.rate.toPrecision(3)} requests/s)`,
    vconcat: [panel(queue, 'requests'), panel(herd, 'workers')],
    resolve: { scale: { color: 'independent' } },
  };
}

/** Cumulative distribution of total latency per class, up to the 99th percentile. */
export function latencyCdfChart(result: SimulationResult): ChartSpec {
  const values: Record<string, unknown>[] = [];
  for (const c of result.classes)
    for (const point of c.cdf)
      if (point.fraction <= 0.99) values.push({ class: classLabel(c.name, c.pays), ...point });
  return {
    $schema: SCHEMA,
    title: 'Total latency, cumulative, by client class (to p99)',
    data: { values },
    mark: { type: 'line', interpolate: 'step-after' },
    encoding: {
      x: { field: 'seconds', type: 'quantitative', title: 'seconds from payment to answer' },
      y: {
        field: 'fraction',
        type: 'quantitative',
        title: 'share of answered requests',
        axis: { format: '%' },
      },
      color: { field: 'class', type: 'nominal', title: null, sort: null, legend: { labelLimit: 300 } },
    },
    width: 560,
    height: 260,
  };
}

/** Total latency percentiles per class, and utilisation, against herd size. */
export function sweepChart(points: readonly SweepPoint[]): ChartSpec {
  const latency: Record<string, unknown>[] = [];
  const load: Record<string, unknown>[] = [];
  for (const point of points) {
    for (const c of [...point.classes, point.overall])
      for (const p of PERCENTILES)
        latency.push({
          workers: point.workers,
          class: classLabel(c.name, c.pays),
          percentile: p,
          // A log scale cannot show 0; sub-millisecond values are drawn at 1 ms.
          seconds: Math.max(0.001, c.total[p]),
        });
    load.push({ workers: point.workers, utilisation: point.utilisation });
  }
  return {
    $schema: SCHEMA,
    title: 'Latency against herd size',
    vconcat: [
      {
        data: { values: latency },
        facet: { column: { field: 'percentile', type: 'nominal', title: null, sort: [...PERCENTILES] } },
        spec: {
          mark: { type: 'line', point: true },
          encoding: {
            x: {
              field: 'workers',
              type: 'quantitative',
              title: 'workers',
              axis: { format: 'd', tickMinStep: 1 },
            },
            y: {
              field: 'seconds',
              type: 'quantitative',
              title: 'total latency (s, log scale)',
              scale: { type: 'log' },
            },
            color: {
              field: 'class',
              type: 'nominal',
              title: 'class',
              sort: null,
              legend: { labelLimit: 300 },
            },
          },
          width: 220,
          height: 260,
        },
      },
      {
        data: { values: load },
        mark: { type: 'line', point: true },
        encoding: {
          x: {
            field: 'workers',
            type: 'quantitative',
            title: 'workers',
            axis: { format: 'd', tickMinStep: 1 },
          },
          y: {
            field: 'utilisation',
            type: 'quantitative',
            title: 'utilisation',
            axis: { format: '%' },
            scale: { domain: [0, 1] },
          },
        },
        width: 720,
        height: 120,
      },
    ],
  };
}

/** Renders a vega-lite spec to an SVG document, headless. */
export async function renderSvg(spec: ChartSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vegaLite.compile(spec as unknown as Parameters<typeof vegaLite.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The charts of one run, by file name. */
export function runCharts(result: SimulationResult): Record<string, ChartSpec> {
  return {
    'latency-by-class.svg': latencyByClassChart(result),
    'queue-over-time.svg': queueOverTimeChart(result),
    'latency-cdf.svg': latencyCdfChart(result),
  };
}
