/** Traces of the checker, step by step, in words a reader of the protocol recognises. */
import type { StepEvent } from '../model/events.ts';
import type { HerderState } from '../model/herder.ts';
import type { AoMessage, OutMessage } from '../model/messages.ts';
import { type CheckEvent, describeEvent, type Node } from './environment.ts';
import type { Finding } from './predicates.ts';

export interface TraceStep {
  /** What the surroundings did. */
  readonly event: string;
  /** The message delivered to the herder, if any: sender, Action and the tags that matter. */
  readonly message: string | undefined;
  /** What the herder did, as its step reported it (its events), in order. */
  readonly did: string[];
  /** What the herder sent, one line each. */
  readonly outbox: string[];
  /** The herder's state afterwards, in one line. */
  readonly state: string;
  /** Invariants this step broke. */
  readonly findings: string[];
}

const SHOWN_TAGS = ['Sender', 'Quantity', 'X-Request', 'Worker', 'Recipient', 'X-Reason'];

export function describeMessage(msg: AoMessage): string {
  const tags = SHOWN_TAGS.filter((name) => msg.tags[name] !== undefined).map(
    (name) => `${name}=${msg.tags[name]}`,
  );
  return `${msg.from} → ${msg.tags.Action ?? '(no Action)'}${tags.length > 0 ? ` ${tags.join(' ')}` : ''} [id ${msg.id}]`;
}

export function describeOut(out: OutMessage): string {
  const tags = SHOWN_TAGS.filter((name) => out.tags[name] !== undefined).map(
    (name) => `${name}=${out.tags[name]}`,
  );
  return `${out.tags.Action ?? '(no Action)'} → ${out.target}${tags.length > 0 ? ` ${tags.join(' ')}` : ''}`;
}

export function describeState(state: HerderState, clock: number): string {
  const parts: string[] = [];
  const waiting = state.queue.waitingInArrivalOrder();
  parts.push(
    `queue [${waiting
      .map(({ entry, overtakes }) => {
        const r = state.requests.get(entry.id)!;
        return `${r.id} ×${formatLevel(r.multiplier.paid, r.multiplier.needed)}${r.attempts > 0 ? ` tried ${r.attempts}` : ''}${overtakes > 0 ? ` overtaken ${overtakes}` : ''}`;
      })
      .join(', ')}]`,
  );
  const workers = [...state.herd.all()].map((w) => {
    let text = `${w.id} ${w.status}`;
    if (w.status === 'busy') {
      const r = state.requests.get(w.request ?? '');
      text += ` ${w.request}${r ? ` ×${formatLevel(r.multiplier.paid, r.multiplier.needed)}` : ''}`;
      text += w.deadline < clock ? ' (deadline passed)' : '';
    }
    if (w.draining) text += ' draining';
    return text;
  });
  parts.push(workers.length > 0 ? workers.join(', ') : 'no workers');
  if (state.paused) parts.push('paused');
  const { credited, refunded, revenue, escrow, withdrawn } = state.ledger;
  parts.push(
    `books: credited ${credited}, refunded ${refunded}, revenue ${revenue}, escrow ${escrow}, withdrawn ${withdrawn}`,
  );
  return parts.join('; ');
}

/** One event of a step, in words. */
export function describeStepEvent(e: StepEvent): string {
  switch (e.type) {
    case 'accepted':
      return `${e.request} accepted (${e.client} paid ${e.paid})`;
    case 'refused':
      return `${e.request} refused, ${e.paid} back to ${e.client}: ${e.reason}`;
    case 'queued':
      return `${e.request} queued`;
    case 'dispatched':
      return `${e.request} dispatched to ${e.worker} (attempt ${e.attempt})`;
    case 'retried':
      return `${e.request} to be retried after ${e.worker} failed (${e.cause})`;
    case 'answered':
      return `${e.request} answered by ${e.worker}`;
    case 'refunded':
      return `${e.request} refunded (${e.cause}): ${e.reason}`;
    case 'worker':
      return `${e.worker} ${e.from} → ${e.to} (${e.cause})`;
  }
}

function formatLevel(paid: bigint, needed: bigint): string {
  if (paid % needed === 0n) return (paid / needed).toString();
  return `${paid}/${needed}`;
}

export function describeStep(
  event: CheckEvent,
  msg: AoMessage | undefined,
  events: readonly StepEvent[],
  outbox: readonly OutMessage[],
  node: Node,
  findings: readonly Finding[],
): TraceStep {
  return {
    event: describeEvent(event),
    message: msg === undefined ? undefined : describeMessage(msg),
    did: events.map(describeStepEvent),
    outbox: outbox.map(describeOut),
    state: describeState(node.state, node.clock),
    findings: findings.map((f) => `${f.invariant}: ${f.detail}`),
  };
}

/**
 * A trace as numbered lines. With `loop`, the steps from that index on are a cycle: they are
 * printed under "then repeats forever:".
 */
export function formatTrace(trace: readonly TraceStep[], indent = '  ', loop?: number): string {
  const lines: string[] = [];
  trace.forEach((step, i) => {
    if (i === loop) lines.push(`${indent}then repeats forever:`);
    lines.push(`${indent}${i + 1}. ${step.event}${step.message ? `: ${step.message}` : ''}`);
    if (step.did.length > 0) lines.push(`${indent}     did: ${step.did.join('; ')}`);
    for (const out of step.outbox) lines.push(`${indent}     ⇒ ${out}`);
    lines.push(`${indent}     ${step.state}`);
    for (const finding of step.findings) lines.push(`${indent}     ✗ ${finding}`);
  });
  return lines.join('\n');
}

/** "N steps", or for a behaviour that goes on forever "N steps, then M repeating forever". */
export function traceLength(trace: readonly TraceStep[], loop?: number): string {
  if (loop === undefined) return `${trace.length} steps`;
  return `${loop} steps, then ${trace.length - loop} repeating forever`;
}
