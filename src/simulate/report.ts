/** Human-readable summaries of simulation results: aligned tables, seconds to three figures. */
import type { ClassResult, SimulationResult } from './engine.ts';
import type { Percentiles } from './stats.ts';
import type { SweepPoint } from './sweep.ts';

/** Seconds with three significant figures ("0.0421", "3.42", "61.4", "1250"). */
export function seconds(x: number): string {
  if (x === 0) return '0';
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  return Number(x.toPrecision(3)).toString();
}

export function count(n: number | bigint): string {
  return n.toLocaleString('en-US');
}

export function percent(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function triple(p: Percentiles): string {
  return p.count === 0 ? '-' : `${seconds(p.p50)} / ${seconds(p.p95)} / ${seconds(p.p99)}`;
}

/** Simulated duration as "1h 14m 21s". */
export function duration(totalSeconds: number): string {
  const s = Math.round(totalSeconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0 ? `${h}h ${m}m ${rest}s` : m > 0 ? `${m}m ${rest}s` : `${totalSeconds.toPrecision(3)}s`;
}

/** Lays out rows as columns; `right` marks columns aligned to the right. */
export function table(header: string[], rows: string[][], right: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (right[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function classRow(c: ClassResult): string[] {
  return [
    c.name,
    c.pays,
    percent(c.share),
    count(c.requests),
    count(c.answered),
    count(c.refunded),
    c.meanMultiplier.toFixed(2),
    triple(c.queueing),
    triple(c.total),
    String(c.maxOvertakes),
    count(c.retried),
  ];
}

const CLASS_HEADER = [
  'class',
  'pays',
  'share',
  'requests',
  'answered',
  'refunded',
  'mult',
  'queueing p50/p95/p99 s',
  'total p50/p95/p99 s',
  'overtaken',
  'retried',
];
const CLASS_RIGHT = [false, false, true, true, true, true, true, true, true, true, true];

export interface ReportOptions {
  /** Leave out wall-clock figures (for documentation that must not change between runs). */
  readonly timing?: boolean;
}

/** The human summary of one run. */
export function formatResult(r: SimulationResult, options: ReportOptions = {}): string {
  const lines: string[] = [];
  lines.push(
    `Simulated ${count(r.requests)} requests on ${count(r.workers)} workers (seed ${r.seed}): ` +
      `${duration(r.simulatedSeconds)} of herd time, ${r.offeredRate.toPrecision(3)} requests/s arriving.`,
  );
  lines.push('');
  lines.push(table(CLASS_HEADER, [...r.classes.map(classRow), classRow(r.overall)], CLASS_RIGHT));
  lines.push('');
  const bound = r.overtakeBound === null ? 'unbounded' : `bound ${r.overtakeBound}`;
  const facts: [string, string][] = [
    ['throughput', `${r.throughput.toPrecision(3)} answers/s`],
    ['utilisation', `${percent(r.utilisation)} generating, ${percent(r.unavailable)} lost to silent workers`],
    ['queue', `mean ${r.queue.meanWaiting.toPrecision(3)} waiting, max ${count(r.queue.maxWaiting)}`],
    ['overtaking', `largest count ${r.maxOvertakes} (${bound})`],
    ['revenue', `${count(r.revenue)} token units`],
    ['refunds', `${count(r.refundedAmount)} token units to ${count(r.refunded)} requests`],
  ];
  for (const [reason, n] of Object.entries(r.refundReasons).sort((a, b) => b[1] - a[1]))
    facts.push(['', `${count(n)} × ${reason}`]);
  if (r.escrowLeft !== 0n) facts.push(['escrow left', `${count(r.escrowLeft)} (should be 0)`]);
  const messages =
    options.timing === false
      ? `${count(r.messages)} handled by the herder`
      : `${count(r.messages)} handled by the herder in ${(r.wallMs / 1000).toFixed(2)} s ` +
        `(${count(Math.round(r.messages / Math.max(r.wallMs / 1000, 1e-9)))} messages/s)`;
  facts.push(['messages', messages]);
  for (const [label, text] of facts) lines.push(`${label.padEnd(12)} ${text}`);
  return lines.join('\n');
}

/** The human summary of a sweep over herd sizes. */
export function formatSweep(points: readonly SweepPoint[], options: ReportOptions = {}): string {
  const classNames = points[0]?.classes.map((c) => c.name) ?? [];
  const header = [
    'workers',
    'utilisation',
    'answers/s',
    'mean waiting',
    'total p50/p95/p99 s',
    ...classNames.map((name) => `${name} p95 s`),
    'refunded',
    ...(options.timing === false ? [] : ['wall s']),
  ];
  const rows = points.map((p) => [
    String(p.workers),
    percent(p.utilisation),
    p.throughput.toPrecision(3),
    p.meanWaiting.toPrecision(3),
    triple(p.overall.total),
    ...p.classes.map((c) => (c.total.count === 0 ? '-' : seconds(c.total.p95))),
    count(p.refunded),
    ...(options.timing === false ? [] : [(p.wallMs / 1000).toFixed(2)]),
  ]);
  return table(
    header,
    rows,
    header.map(() => true),
  );
}
