/**
 * A violation's trace: the messages delivered to the herder up to the violation, each with what
 * the herder sent back. As data (for `--json`) and as text, printed whole up to a limit; a longer
 * trace keeps its start, the Credit-Notices of the requests concerned and its end, and marks
 * every elision.
 */
import type { Violation } from '../audit/invariants.ts';
import type { AoMessage, OutMessage } from '../model/messages.ts';

export interface TraceStep {
  readonly step: number;
  readonly id: string;
  readonly timestamp: number;
  readonly from: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly data?: string;
  readonly sent: readonly { target: string; tags: Readonly<Record<string, string>>; data?: string }[];
}

/** The steps that lead to `v` (all of them for an end-of-trace violation). */
export function traceSteps(
  v: Violation,
  log: readonly { msg: AoMessage; outbox: OutMessage[] }[],
): TraceStep[] {
  const upTo = v.step < 0 ? log.length : v.step + 1;
  return log.slice(0, upTo).map(({ msg, outbox }, step) => ({
    step,
    id: msg.id,
    timestamp: msg.timestamp,
    from: msg.from,
    tags: msg.tags,
    ...(msg.data === undefined || msg.data === '' ? {} : { data: msg.data }),
    sent: outbox.map((o) => ({
      target: o.target ?? '(no Target)',
      tags: o.tags,
      ...(o.data === undefined || o.data === '' ? {} : { data: o.data }),
    })),
  }));
}

const clip = (text: string, max = 40) =>
  text.length > max ? `${JSON.stringify(text.slice(0, max))}…` : JSON.stringify(text);

function line(s: TraceStep): string {
  const sent = s.sent.map((o) => {
    const extra = o.tags['X-Request'] ?? o.tags.Recipient;
    return `${o.tags.Action ?? '?'}→${o.target ?? '(no Target)'}${extra ? `(${extra})` : ''}${o.data ? ` ${clip(o.data, 24)}` : ''}`;
  });
  const data = s.data ? ` ${clip(s.data)}` : '';
  return `  #${s.step} ${s.id} t=${s.timestamp} ${s.from} ${JSON.stringify(s.tags)}${data} ⇒ [${sent.join(', ')}]`;
}

/**
 * The trace as text: whole when it has at most `limit` steps; otherwise its first and last
 * steps and those of the Credit-Notices the violation concerns, with "… N messages …" between.
 */
export function formatTrace(
  steps: readonly TraceStep[],
  concerned: readonly string[] = [],
  limit = 40,
): string {
  if (steps.length <= limit) return steps.map(line).join('\n');
  const keep = new Set<number>();
  const tail = Math.floor(limit / 2);
  for (let i = 0; i < 5; i++) keep.add(i);
  for (let i = steps.length - tail; i < steps.length; i++) keep.add(i);
  for (const s of steps) if (concerned.includes(s.id)) keep.add(s.step);
  const lines: string[] = [];
  let skipped = 0;
  for (const s of steps) {
    if (!keep.has(s.step)) {
      skipped++;
      continue;
    }
    if (skipped > 0) lines.push(`  … ${skipped} message${skipped === 1 ? '' : 's'} …`);
    skipped = 0;
    lines.push(line(s));
  }
  return lines.join('\n');
}

/** A violation and its trace as text. */
export function describeViolation(
  v: Violation,
  log: readonly { msg: AoMessage; outbox: OutMessage[] }[],
): string {
  const at = v.step < 0 ? 'the end of the trace' : `step ${v.step}`;
  return `${v.invariant} violated at ${at}: ${v.detail}\n${formatTrace(traceSteps(v, log), v.requests)}`;
}
