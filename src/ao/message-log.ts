/**
 * A herder's recorded history as JSON lines: one message into or out of the herder per line,
 *
 *   {"Id": …, "From": …, "Target": …, "Timestamp": …, "Tags": {name: value} | [{name, value}], "Data": …}
 *
 * A message whose Target is the herder was delivered to it; the messages whose From is the herder
 * that follow it (in file order, up to the next message to the herder) are what the herder sent
 * in reaction to it, its outbox. `herd verify --log` reads this format (src/verify/log.ts); this
 * module writes it, from a local network's log and from a trace's `{msg, outbox}` list.
 */
import type { AoMessage, OutMessage } from '../model/messages.ts';
import type { LogEntry } from './log.ts';
import type { PendingMessage } from './mu.ts';

/** One line of a recorded history (tags as a map when written here; arrays are read too). */
export interface MessageRecord {
  readonly Id: string;
  readonly From: string;
  readonly Target: string;
  /** Scheduler time in ms: of the delivery, or for a message the herder sent, of the message it reacted to. */
  readonly Timestamp: number;
  readonly Tags: Readonly<Record<string, string>> | readonly { name: string; value: string }[];
  readonly Data?: string;
}

/** The records as JSON lines (each ends with a newline). */
export function toJsonLines(records: readonly MessageRecord[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}

/** Tags as a name → value map; a name given twice keeps its first value (as aos reads it). */
function tagMap(tags: readonly { name: string; value: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { name, value } of tags) if (!(name in out)) out[name] = value;
  return out;
}

/**
 * Every message into or out of `herder` in a local network's log, in the format above: each
 * evaluation of the herder (spawn, Eval, message, cron tick; one that was rolled back sent
 * nothing) followed by the messages it sent, whether they were delivered since, left the network,
 * or are still `pending`.
 */
export function herderHistory(
  log: readonly LogEntry[],
  herder: string,
  pending: readonly PendingMessage[] = [],
): MessageRecord[] {
  // A sent message is known by its id and the message that caused it (ids may be reused).
  const key = (id: string, cause: string | undefined) => `${cause ?? ''}\u0000${id}`;
  const sent = new Map<
    string,
    { to: string; tags: readonly { name: string; value: string }[]; data: string }
  >();
  for (const e of log)
    if (e.from === herder && (e.kind === 'message' || e.kind === 'external') && !sent.has(key(e.id, e.cause)))
      sent.set(key(e.id, e.cause), { to: e.to, tags: e.tags, data: e.data });
  for (const p of pending)
    if (p.from === herder && !sent.has(key(p.id, p.cause)))
      sent.set(key(p.id, p.cause), { to: p.target, tags: p.tags, data: p.data });
  const records: MessageRecord[] = [];
  for (const e of log) {
    if (e.kind === 'external' || e.to !== herder) continue;
    records.push(record(e.id, e.from, herder, e.timestamp, tagMap(e.tags), e.data));
    for (const id of e.sent) {
      const out = sent.get(key(id, e.id));
      if (out === undefined)
        throw new Error(`herderHistory: message ${id} sent by ${herder} is not in the log`);
      records.push(record(id, herder, out.to, e.timestamp, tagMap(out.tags), out.data));
    }
  }
  return records;
}

/**
 * A trace's history (`TraceRun.log`: each delivered message with the herder's outbox) in the
 * format above. A message the herder sent has no id of its own there: it gets `<cause>:out:<n>`.
 */
export function traceHistory(
  steps: readonly { msg: AoMessage; outbox: readonly OutMessage[] }[],
  herder: string,
): MessageRecord[] {
  const records: MessageRecord[] = [];
  for (const { msg, outbox } of steps) {
    records.push(record(msg.id, msg.from, herder, msg.timestamp, msg.tags, msg.data ?? ''));
    outbox.forEach((out, n) => {
      records.push(record(`${msg.id}:out:${n}`, herder, out.target, msg.timestamp, out.tags, out.data ?? ''));
    });
  }
  return records;
}

function record(
  id: string,
  from: string,
  target: string,
  timestamp: number,
  tags: Readonly<Record<string, string>>,
  data: string,
): MessageRecord {
  return {
    Id: id,
    From: from,
    Target: target,
    Timestamp: timestamp,
    Tags: tags,
    ...(data === '' ? {} : { Data: data }),
  };
}
