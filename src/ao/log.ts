/**
 * The local network's log: one entry per evaluation and per message that leaves the network, and
 * how an entry reads (its action, the tags worth showing, one timeline line).
 */
import type { Evaluation } from './cu.ts';
import type { AoMessage } from './loader.ts';
import type { PendingMessage } from './mu.ts';
import { outputText } from './results.ts';
import { type AoTag, tagValue } from './tags.ts';

export type LogKind = 'spawn' | 'message' | 'eval' | 'cron' | 'external';

/** One line of the timeline: an evaluation, or a message leaving the network (`external`). */
export interface LogEntry {
  readonly seq: number;
  readonly kind: LogKind;
  readonly id: string;
  readonly from: string;
  readonly owner: string;
  readonly to: string;
  readonly tags: readonly AoTag[];
  readonly data: string;
  readonly timestamp: number;
  readonly blockHeight: number;
  readonly nonce?: number;
  readonly cause?: string;
  /** `Output.data` of the result (ANSI colours kept; see `stripAnsi` in results.ts). */
  readonly output?: string;
  /** Handler / eval error (ANSI stripped), or why handle() rejected. */
  readonly error?: string;
  /** The message's effects were discarded (CU error semantics). */
  readonly rolledBack?: boolean;
  /** handle() rejected (trap, abort, timeout). */
  readonly thrown?: boolean;
  /** Ids of the messages this evaluation sent (none if rolled back). */
  readonly sent: readonly string[];
  /** Number of `Spawns` in the result (not executed by this network). */
  readonly spawns?: number;
  /** Evaluated at once (spawn, eval, cron()), not taken from the queue by the picker. */
  readonly direct?: boolean;
}

/** The entry of one evaluation; `sent` is filled in as its messages are relayed. */
export function evaluationEntry(
  seq: number,
  kind: LogKind,
  msg: AoMessage,
  evaluation: Evaluation,
  cause: string | undefined,
  direct: boolean,
  sent: readonly string[],
): LogEntry {
  const result = evaluation.result;
  const output = result ? outputText(result) : undefined;
  const spawns = evaluation.rolledBack ? 0 : (result?.Spawns?.length ?? 0);
  return {
    seq,
    kind,
    id: msg.Id,
    from: msg.From,
    owner: msg.Owner,
    to: msg.Target,
    tags: msg.Tags,
    data: msg.Data,
    timestamp: msg.Timestamp,
    blockHeight: msg['Block-Height'],
    ...(msg.Nonce !== undefined ? { nonce: msg.Nonce } : {}),
    ...(cause !== undefined ? { cause } : {}),
    ...(output !== undefined ? { output } : {}),
    ...(evaluation.error !== undefined ? { error: evaluation.error } : {}),
    ...(evaluation.rolledBack ? { rolledBack: true } : {}),
    ...(evaluation.thrown ? { thrown: true } : {}),
    ...(spawns > 0 ? { spawns } : {}),
    ...(direct ? { direct: true } : {}),
    sent,
  };
}

/** The entry of a message to an address outside the network, at `timestamp`. */
export function externalEntry(
  seq: number,
  pending: PendingMessage,
  timestamp: number,
  blockHeight: number,
): LogEntry {
  return {
    seq,
    kind: 'external',
    id: pending.id,
    from: pending.from,
    owner: pending.owner,
    to: pending.target,
    tags: pending.tags,
    data: pending.data,
    timestamp,
    blockHeight,
    ...(pending.cause !== undefined ? { cause: pending.cause } : {}),
    sent: [],
  };
}

/** Tags every relayed message carries, which say nothing about what it asks. */
export const PLUMBING_TAGS: ReadonlySet<string> = new Set([
  'Data-Protocol',
  'Variant',
  'Type',
  'From-Process',
  'From-Module',
  'Pushed-For',
  'Reference',
]);

/** What an entry does: `Spawn`, its `Action` tag, or its kind. */
export function entryAction(entry: LogEntry): string {
  return entry.kind === 'spawn' ? 'Spawn' : (tagValue(entry.tags, 'Action') ?? entry.kind);
}

/**
 * One line of a human-readable timeline, e.g.
 * `#12 +1.5s client → token Transfer [Quantity=5 X-Prompt=hi] → 2 sent`.
 * `names` maps addresses to short names; others are shortened to 6 characters.
 */
export function formatLogEntry(
  entry: LogEntry,
  names: Readonly<Record<string, string>> = {},
  startTime?: number,
): string {
  const name = (address: string) => names[address] ?? `${address.slice(0, 6)}…`;
  const shown = entry.tags
    .filter((t) => !PLUMBING_TAGS.has(t.name) && t.name !== 'Action')
    .map((t) => `${t.name}=${t.value.length > 24 ? `${t.value.slice(0, 23)}…` : t.value}`);
  const time = startTime === undefined ? '' : ` +${((entry.timestamp - startTime) / 1000).toFixed(1)}s`;
  const action = entryAction(entry);
  let line = `#${entry.seq}${time} ${name(entry.from)} → ${name(entry.to)} ${action}`;
  if (shown.length > 0 && entry.kind !== 'spawn') line += ` [${shown.join(' ')}]`;
  if (entry.data && entry.kind !== 'spawn' && action !== 'Eval') {
    const data = entry.data.replace(/\s+/g, ' ');
    line += ` "${data.length > 40 ? `${data.slice(0, 39)}…` : data}"`;
  }
  if (entry.error !== undefined) {
    line += ` ✗ ${entry.error.split('\n').find((l) => l.trim() !== '') ?? 'error'}${entry.rolledBack ? ' (rolled back)' : ''}`;
  }
  if (entry.kind === 'external') line += ' (leaves the network)';
  else if (entry.sent.length > 0) line += ` → ${entry.sent.length} sent`;
  return line;
}
