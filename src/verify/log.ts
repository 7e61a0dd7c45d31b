/**
 * `herd verify --log`: the invariants over a herder's recorded history instead of scenario
 * traces. The history is JSON lines (src/ao/message-log.ts): each message delivered to the
 * herder, followed by the messages it sent in reaction. The same black-box auditor observes each
 * delivered message with its outbox, against the settings the user states; each invariant is
 * reported held, violated (with the history up to the violation) or not checked.
 *
 * A recorded history may be cut off: requests still live at its end are reported as a note,
 * and judged (no-lost-request) only when the user says the history is complete.
 */
import type { MessageRecord } from '../ao/message-log.ts';
import { Auditor } from '../audit/auditor.ts';
import type { InvariantName, Violation } from '../audit/invariants.ts';
import type { StatedSettings } from '../audit/settings.ts';
import type { AoMessage, OutMessage } from '../model/messages.ts';
import { type InvariantResult, invariantResults, withStatus } from './results.ts';

/** A history line that cannot be read; `line` counts from 1. */
export class LogFormatError extends Error {
  override name = 'LogFormatError';
  constructor(
    readonly line: number | undefined,
    what: string,
  ) {
    super(line === undefined ? what : `line ${line}: ${what}`);
  }
}

/** Tags that aos, the MU and gateways add to every message; not part of the herder's protocol. */
const TRANSPORT_TAGS = new Set([
  'Data-Protocol',
  'Variant',
  'Type',
  'Reference',
  'From-Process',
  'From-Module',
  'Pushed-For',
]);

/** One message of a history, read and checked. */
interface HistoryLine {
  readonly line: number;
  readonly id: string;
  readonly from: string;
  readonly target: string;
  readonly timestamp: number | undefined;
  /** In wire order; a name may repeat. */
  readonly tags: readonly { name: string; value: string }[];
  readonly data: string | undefined;
}

/** A delivered message and what the herder sent in reaction: what the auditor observes. */
interface HistoryStep {
  readonly msg: AoMessage;
  readonly outbox: OutMessage[];
}

const describe = (value: unknown) =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'an array'
      : typeof value === 'object'
        ? 'an object'
        : JSON.stringify(value);

function readTags(value: unknown, line: number): { name: string; value: string }[] {
  if (Array.isArray(value)) {
    return value.map((t, i) => {
      const tag = t as { name?: unknown; value?: unknown } | null;
      if (
        tag === null ||
        typeof tag !== 'object' ||
        typeof tag.name !== 'string' ||
        typeof tag.value !== 'string'
      )
        throw new LogFormatError(line, `Tags[${i}] is not {"name": string, "value": string}`);
      return { name: tag.name, value: tag.value };
    });
  }
  if (value !== null && typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>).map(([name, v]) => {
      if (typeof v !== 'string')
        throw new LogFormatError(line, `tag ${JSON.stringify(name)} is ${describe(v)}, not a string`);
      return { name, value: v };
    });
  }
  throw new LogFormatError(
    line,
    `Tags is ${value === undefined ? 'missing' : describe(value)}: give {"name": "value", …} or [{"name": …, "value": …}, …]`,
  );
}

function readTimestamp(value: unknown, line: number): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^[0-9]{1,16}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
    throw new LogFormatError(line, `Timestamp is ${describe(value)}, not a whole number of milliseconds`);
  return n;
}

/** Parses one line of a history (`n` counts from 1). */
function parseLine(text: string, n: number): HistoryLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new LogFormatError(n, `not JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new LogFormatError(n, `${describe(value)} is not a message object {"Id", "From", "Target", …}`);
  const o = value as Record<string, unknown>;
  for (const field of ['Id', 'From', 'Target'] as const) {
    const v = o[field];
    if (typeof v !== 'string' || v === '')
      throw new LogFormatError(
        n,
        `${field} is ${v === undefined ? 'missing' : describe(v)}: a non-empty string is needed`,
      );
  }
  if (o.Data !== undefined && o.Data !== null && typeof o.Data !== 'string')
    throw new LogFormatError(n, `Data is ${describe(o.Data)}, not a string`);
  return {
    line: n,
    id: o.Id as string,
    from: o.From as string,
    target: o.Target as string,
    timestamp: readTimestamp(o.Timestamp, n),
    tags: readTags(o.Tags, n),
    data: typeof o.Data === 'string' ? o.Data : undefined,
  };
}

/** Parses a whole history; blank lines are skipped. */
export function parseHistory(text: string): HistoryLine[] {
  const lines: HistoryLine[] = [];
  text.split('\n').forEach((raw, i) => {
    if (raw.trim() !== '') lines.push(parseLine(raw, i + 1));
  });
  if (lines.length === 0)
    throw new LogFormatError(undefined, 'the log has no messages (JSON lines expected)');
  return lines;
}

/**
 * The herder of a history: the process that every message is from or to; when several are, the
 * one that most messages are sent to. Throws when that does not single one out.
 */
export function inferHerder(lines: readonly HistoryLine[]): string {
  let candidates: Set<string> | undefined;
  for (const l of lines) {
    const both = new Set([l.from, l.target]);
    candidates = candidates === undefined ? both : new Set([...candidates].filter((c) => both.has(c)));
    if (candidates.size === 0)
      throw new LogFormatError(
        undefined,
        `cannot tell the herder: no process is in every message (line ${l.line} is from ${l.from} to ${l.target}); give --herder <process id>`,
      );
  }
  const ranked = [...candidates!]
    .map((id) => ({ id, to: lines.filter((l) => l.target === id).length }))
    .sort((a, b) => b.to - a.to);
  if (ranked.length > 1 && ranked[0]!.to === ranked[1]!.to)
    throw new LogFormatError(
      undefined,
      `cannot tell the herder: ${ranked[0]!.id} and ${ranked[1]!.id} are each the Target of ${ranked[0]!.to} messages; give --herder <process id>`,
    );
  return ranked[0]!.id;
}

function tagRecord(tags: readonly { name: string; value: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const { name, value } of tags) if (!TRANSPORT_TAGS.has(name) && !(name in out)) out[name] = value;
  return out;
}

/**
 * The history as the auditor observes it: each message to the herder with the messages from the
 * herder that follow it. A message from the herder to itself is in its outbox the first time its
 * id appears and a delivery the second.
 */
function historySteps(lines: readonly HistoryLine[], herder: string): HistoryStep[] {
  const steps: HistoryStep[] = [];
  const sentIds = new Set<string>();
  for (const l of lines) {
    const out = l.from === herder && !(l.target === herder && sentIds.has(l.id));
    if (out) {
      const current = steps[steps.length - 1];
      if (current === undefined)
        throw new LogFormatError(
          l.line,
          `message ${l.id} is from the herder, but no message to the herder comes before it: a history starts with a message delivered to the herder`,
        );
      sentIds.add(l.id);
      current.outbox.push({ target: l.target, tags: tagRecord(l.tags), ...(l.data ? { data: l.data } : {}) });
      continue;
    }
    if (l.target !== herder)
      throw new LogFormatError(
        l.line,
        `message ${l.id} is from ${l.from} to ${l.target}, neither to nor from the herder ${herder}`,
      );
    if (l.timestamp === undefined)
      throw new LogFormatError(l.line, `message ${l.id} to the herder has no Timestamp`);
    steps.push({
      msg: {
        id: l.id,
        from: l.from,
        timestamp: l.timestamp,
        tags: tagRecord(l.tags),
        ...(l.data ? { data: l.data } : {}),
      },
      outbox: [],
    });
  }
  return steps;
}

/** Reads a history: its lines, its herder (given, or inferred) and the steps the auditor observes. */
export function readHistory(
  text: string,
  herder?: string,
): { herder: string; lines: HistoryLine[]; steps: HistoryStep[] } {
  const lines = parseHistory(text);
  if (herder !== undefined && !lines.some((l) => l.from === herder || l.target === herder))
    throw new LogFormatError(undefined, `no message of the log is from or to --herder ${herder}`);
  const id = herder ?? inferHerder(lines);
  return { herder: id, lines, steps: historySteps(lines, id) };
}

export interface LogReport {
  /** The history's file. */
  readonly log: string;
  readonly herder: string;
  /** Messages delivered to the herder, and messages it sent. */
  readonly delivered: number;
  readonly sent: number;
  /** Whether the history was stated complete (requests live at its end then break no-lost-request). */
  readonly complete: boolean;
  readonly durationMs: number;
  readonly results: InvariantResult[];
  readonly violated: InvariantName[];
  readonly notChecked: InvariantName[];
  /** Requests accepted and not ended when the history ends. */
  readonly live: { id: string; status: string; worker?: string }[];
  /** What is probably wrong with the stated settings, when the history suggests it. */
  readonly hints: string[];
}

interface CheckHistoryOptions {
  stated: StatedSettings;
  /** The history is the herder's whole life so far: check that nothing accepted is left. */
  complete?: boolean;
  /** Name of the history (its file), for the report. */
  log?: string;
}

/** Audits a recorded history against the stated settings. */
export function checkHistory(
  history: { herder: string; steps: readonly HistoryStep[] },
  options: CheckHistoryOptions,
): LogReport {
  const started = performance.now();
  const { stated } = options;
  const complete = options.complete ?? false;
  const auditor = new Auditor(stated);
  const steps = history.steps;
  for (const { msg, outbox } of steps) auditor.observe(msg, outbox);
  const live = auditor.liveRequests();
  if (complete) auditor.finish();
  const first = new Map<InvariantName, Violation>();
  for (const v of auditor.violations) if (!first.has(v.invariant)) first.set(v.invariant, v);
  const results = invariantResults(stated, (invariant) => {
    const violation = first.get(invariant);
    return violation && { violation, log: steps };
  });
  return {
    log: options.log ?? '(history)',
    herder: history.herder,
    delivered: steps.length,
    sent: steps.reduce((n, s) => n + s.outbox.length, 0),
    complete,
    durationMs: Math.round(performance.now() - started),
    results,
    violated: withStatus(results, 'violated'),
    notChecked: withStatus(results, 'not-checked'),
    live: live.map((r) => ({ id: r.id, status: r.status, ...(r.worker ? { worker: r.worker } : {}) })),
    hints: historyHints(stated, auditor.stats, steps),
  };
}

function historyHints(
  stated: StatedSettings,
  stats: Auditor['stats'],
  steps: readonly HistoryStep[],
): string[] {
  const out: string[] = [];
  const delivered = steps.length;
  if (stated.owner === undefined && steps.some((s) => s.outbox.some((o) => o.tags.Action === 'Admin-Done')))
    out.push(
      'The herder carried out administration (Admin-Done) and no owner was stated: state the wallet allowed to administer it with --owner.',
    );
  const refunds = [...stats.refundReasons.values()].reduce((a, b) => a + b, 0);
  if (delivered > 0 && stats.notices === 0)
    out.push(
      `No paid Credit-Notice from ${stated.token} is in the history: if the herder takes payments from another token, state its id with --token.`,
    );
  else if (stats.accepted > 0 && stats.dispatched === 0)
    out.push(
      `No request was dispatched, though ${stats.accepted} payments were kept: the history may be cut off, or the herder has no worker.`,
    );
  if (stats.accepted === 0 && refunds > 0 && stats.refundReasons.size === 1) {
    const [reason] = [...stats.refundReasons.keys()];
    out.push(
      `Every payment was refunded, all as "${reason}": if that is about the fee, state the fees the herder charges with --base-fee and --token-fee.`,
    );
  }
  if (stats.unstatedWorkers.size > 0)
    out.push(
      `The herder dispatched to ${[...stats.unstatedWorkers].slice(0, 4).join(', ')}${stats.unstatedWorkers.size > 4 ? ', …' : ''}, which --workers did not list and no Add-Worker in the history added; they were treated as workers of its herd.`,
    );
  return out;
}

export type { MessageRecord };
