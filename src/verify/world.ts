/**
 * The herder's surroundings in a trace: the clock, message ids, what each worker was last sent,
 * and every message so far. It turns abstract scenario events into concrete AO messages at
 * delivery time, using what the herder has said (a worker answers the request it holds), so
 * shrinking keeps traces meaningful.
 */
import type { HerdConfig } from '../model/config.ts';
import { neededFee } from '../model/fees.ts';
import type { AoMessage, OutMessage } from '../model/messages.ts';
import { settingsOf, settingTagValue } from '../model/settings.ts';
import {
  CLIENTS,
  OWNER,
  STRANGER,
  type TimedEvent,
  TOKEN,
  type TraceEvent,
  WORKER_POOL,
} from './scenario.ts';

/** Who plays each part in a trace: process ids as the herder knows them. */
export interface Cast {
  readonly token: string;
  readonly owner: string;
  readonly stranger: string;
  readonly clients: readonly string[];
  /** Workers the herd starts with come first, in order; the rest may be added by the owner. */
  readonly workers: readonly string[];
  /** A worker the owner adds when the trace ends, so that everything left can drain. */
  readonly drainWorker: string;
  /**
   * Every payment names its own X-Reference, so that an untagged refund that echoes it names
   * its payment even among payments alike in payer and amount.
   */
  readonly referenceEvery?: boolean;
}

export const DEFAULT_CAST: Cast = {
  token: TOKEN,
  owner: OWNER,
  stranger: STRANGER,
  clients: CLIENTS,
  workers: WORKER_POOL,
  drainWorker: 'W-DRAIN',
};

/** An Inference a worker received, and whether the world has answered it. */
interface Received {
  /** The herder's request tag, when it sent one: the worker echoes it (our dialect). */
  readonly tag: string | undefined;
  readonly prompt: string;
  readonly order: number;
  answered: boolean;
  /** The text the worker answered it with, once it has. */
  text?: string;
}

export class World {
  clock = 1_000;
  private nextId = 0;
  private answersGiven = 0;
  private dispatches = 0;
  private readonly sent: AoMessage[] = [];
  /** Every Inference each worker received, in order. */
  private readonly inbox = new Map<string, Received[]>();
  /** Workers that reported Worker-Error and have not reported Worker-Initialized since. */
  private readonly failed = new Set<string>();
  /** Inference messages seen so far. */
  get dispatchCount(): number {
    return this.dispatches;
  }

  /** Whether any worker holds an Inference it has not answered. */
  get anyHolding(): boolean {
    return this.holding().length > 0;
  }

  /** Whether the herder tags its dispatches with `X-Request` (our dialect). */
  private tagged = false;

  constructor(
    private readonly config: HerdConfig,
    private readonly cast: Cast = DEFAULT_CAST,
  ) {}

  /** The i-th worker of the cast (indices wrap, so a scenario fits any herd size). */
  private worker(i: number): string {
    return this.cast.workers[i % this.cast.workers.length]!;
  }

  private message(from: string, tags: Record<string, string>, data?: string): AoMessage {
    const msg: AoMessage = {
      id: `m${++this.nextId}`,
      from,
      timestamp: this.clock,
      tags,
      ...(data === undefined ? {} : { data }),
    };
    this.sent.push(msg);
    return msg;
  }

  learn(_msg: AoMessage, outbox: readonly OutMessage[]): void {
    for (const out of outbox)
      if (out.tags.Action === 'Inference') {
        const received = this.inbox.get(out.target) ?? [];
        // A worker works on the latest Inference it was sent; anything before it is dropped.
        for (const r of received) r.answered = true;
        if (out.tags['X-Request'] !== undefined) this.tagged = true;
        received.push({
          tag: out.tags['X-Request'],
          prompt: out.data ?? '',
          order: ++this.dispatches,
          answered: false,
        });
        this.inbox.set(out.target, received);
      }
  }

  /** Workers that hold an unanswered Inference, the longest-held first. */
  private holding(): string[] {
    const pending: [string, number][] = [];
    for (const [worker, received] of this.inbox) {
      const last = received[received.length - 1];
      if (last && !last.answered) pending.push([worker, last.order]);
    }
    return pending.sort((a, b) => a[1] - b[1]).map(([worker]) => worker);
  }

  /**
   * A worker's answer in the herder's own dialect: it echoes `X-Request` when the Inference
   * carried one and otherwise answers as the original's workers do, with the text alone. The
   * text is unique and names what it answers, so it can be traced by content.
   */
  private answer(from: string, received: Received | undefined, ok: boolean, worker = from): AoMessage {
    const n = ++this.answersGiven;
    const tag: Record<string, string> = received?.tag === undefined ? {} : { 'X-Request': received.tag };
    const about = received === undefined ? 'nothing' : JSON.stringify(received.prompt.slice(0, 24));
    // A worker asked again answers with the very text it gave before.
    const text = (from === worker ? received?.text : undefined) ?? `answer ${n} to ${about}`;
    if (received && ok && from === worker) received.text = text;
    return ok
      ? this.message(from, { Action: 'Inference-Response', ...tag }, text)
      : this.message(from, { Action: 'Inference-Error', ...tag, 'X-Reason': 'out of memory' });
  }

  tick(): AoMessage {
    return this.message(this.cast.owner, { Action: 'Cron', Cron: 'true' });
  }

  messagesFor({ dt, event }: TimedEvent): AoMessage[] {
    this.clock += dt;
    // An event with nothing to act on (an answer from a worker that holds nothing, a duplicate
    // of nothing) lets time pass instead, so every event delivers one message.
    return [this.concrete(event) ?? this.tick()];
  }

  admin(byOwner: boolean, op: Extract<TraceEvent, { kind: 'admin' }>['op']): AoMessage {
    const from = byOwner ? this.cast.owner : this.cast.stranger;
    const workerId = (i: number) => (i < 0 ? this.cast.drainWorker : this.worker(i));
    switch (op.op) {
      case 'Add-Worker':
        return this.message(from, { Action: 'Add-Worker', Worker: workerId(op.worker) });
      case 'Remove-Worker':
        return this.message(from, { Action: 'Remove-Worker', Worker: workerId(op.worker) });
      case 'Set-Fees':
      case 'Set-Limits': {
        const tags: Record<string, string> = { Action: op.op };
        for (const spec of settingsOf(op.op)) {
          const value = op.settings[spec.name];
          if (value !== undefined) tags[spec.tag] = settingTagValue(value);
        }
        return this.message(from, tags);
      }
      case 'Withdraw':
        return this.message(from, { Action: 'Withdraw', Quantity: String(op.quantity) });
      default:
        return this.message(from, { Action: op.op });
    }
  }

  /**
   * Every worker answers what it holds; on the first call, every worker the world made fail
   * reports itself initialised again.
   */
  drainAnswers(): AoMessage[] {
    const out: AoMessage[] = [];
    for (const worker of this.holding()) {
      const received = this.inbox.get(worker)!;
      const last = received[received.length - 1]!;
      last.answered = true;
      out.push(this.answer(worker, last, true));
    }
    for (const worker of this.failed) out.push(this.message(worker, { Action: 'Worker-Initialized' }));
    this.failed.clear();
    return out;
  }

  private concrete(event: TraceEvent): AoMessage | undefined {
    switch (event.kind) {
      case 'credit':
        return this.credit(event);
      case 'answer':
        return this.answerEvent(event);
      case 'worker-report': {
        const worker = this.worker(event.worker);
        if (event.error) this.failed.add(worker);
        else this.failed.delete(worker);
        return this.message(worker, { Action: event.error ? 'Worker-Error' : 'Worker-Initialized' });
      }
      case 'tick':
        return this.tick();
      case 'info':
        return this.message(event.fromOwner ? this.cast.owner : this.cast.stranger, { Action: 'Info' });
      case 'duplicate': {
        const original = this.sent[this.sent.length - event.back];
        if (original === undefined) return undefined;
        const again = { ...original, timestamp: this.clock };
        this.sent.push(again);
        return again;
      }
      case 'junk': {
        const from =
          event.from === 'token'
            ? this.cast.token
            : event.from === 'worker'
              ? this.worker(0)
              : event.from === 'owner'
                ? this.cast.owner
                : this.cast.stranger;
        // A malformed message may still report a failure; the drain revives that worker.
        if (event.from === 'worker' && Object.values(event.tags).includes('Worker-Error'))
          this.failed.add(from);
        return this.message(from, { ...event.tags }, event.data);
      }
      case 'admin':
        return this.admin(event.byOwner, event.op);
    }
  }

  /**
   * held: a worker that holds an Inference answers it (any worker of the herd, however many);
   * stale: a worker answers again what it already answered; unknown: a worker that holds
   * nothing answers something. Each may come from the worker, another worker, or a stranger.
   */
  private answerEvent(event: Extract<TraceEvent, { kind: 'answer' }>): AoMessage | undefined {
    const holding = this.holding();
    let worker: string;
    let received: Received | undefined;
    if (event.which === 'held') {
      if (holding.length === 0) return undefined;
      worker = holding[event.worker % holding.length]!;
      const all = this.inbox.get(worker)!;
      received = all[all.length - 1];
      if (event.from === 'worker') received!.answered = true;
    } else if (event.which === 'stale') {
      // A worker re-sends an answer it gave earlier. In the original's dialect only one that holds
      // nothing: an untagged answer from a worker holding new work is that work's answer, by the
      // protocol's own rule, so no herder could tell a re-sent one apart.
      const answered = [...this.inbox.entries()]
        .filter(([w]) => this.tagged || !holding.includes(w))
        .flatMap(([w, all]) => all.filter((r) => r.text !== undefined).map((r) => [w, r] as const));
      if (answered.length === 0) return undefined;
      [worker, received] = answered[event.worker % answered.length]!;
    } else {
      const free = this.cast.workers.filter((w) => !holding.includes(w));
      if (free.length === 0) return undefined;
      worker = free[event.worker % free.length]!;
      // In the herder's dialect: a tag naming no request when it tags its dispatches.
      const tag = this.tagged ? 'no-such-request' : undefined;
      received = { tag, prompt: 'nothing it was sent', order: 0, answered: true };
    }
    const from =
      event.from === 'worker'
        ? worker
        : event.from === 'stranger'
          ? this.cast.stranger
          : (this.cast.workers.find((w) => w !== worker) ?? this.cast.stranger);
    // The original's workers never report an error: one that fails stays silent.
    if (!event.ok && !this.tagged) {
      if (received && event.which === 'held' && event.from === 'worker') received.answered = false;
      return undefined;
    }
    return this.answer(from, received, event.ok, worker);
  }

  private credit(event: Extract<TraceEvent, { kind: 'credit' }>): AoMessage {
    const body =
      event.prompt === 'words'
        ? Array.from(
            { length: event.words },
            (_, i) => ['tell', 'me', 'a', 'story', 'about', 'llamas'][i % 6],
          ).join(' ')
        : event.prompt === 'empty'
          ? ''
          : event.prompt === 'unicode'
            ? 'ünïcödé 草泥马 🦙 ok'
            : event.prompt === 'huge'
              ? 'llama '.repeat(60)
              : event.prompt === 'symbols'
                ? '?!... --- ;;'
                : undefined;
    // Every non-empty prompt is unique (a mark of punctuation, so no words are added): a
    // dispatch is traced back to its payment by its prompt when the herder sends no tag.
    const prompt = body ? `${body} ${uniqueMark(this.nextId + 1)}` : body;
    const tokens = {
      valid: String(event.count),
      missing: undefined,
      zero: '0',
      'too-many': '51',
      'not-a-number': 'ten',
      negative: '-3',
      padded: ` ${event.count}`,
    }[event.tokens];
    const needed = neededFee(this.config, event.count, prompt ?? '');
    const paid = {
      underpaid: needed > 1n ? needed - 1n - (BigInt(event.bump) % (needed - 1n)) : 0n,
      exact: needed,
      overpaid: needed + BigInt(event.bump),
      double: 2n * needed + BigInt(event.bump),
      // Far beyond 2^64, or just below 2^62 where a Lua herder's native fast path ends.
      huge: event.bump % 2 === 0 ? (1n << 70n) + BigInt(event.bump) : (1n << 62n) - BigInt(event.bump),
      oversized: 10n ** 80n + BigInt(event.bump),
    }[event.payment];
    const tags: Record<string, string> = {
      Action: 'Credit-Notice',
      Quantity: (paid > 0n ? paid : 1n).toString(),
    };
    if (!event.noSender) tags.Sender = this.cast.clients[event.client]!;
    if (prompt !== undefined) tags['X-Prompt'] = prompt;
    if (tokens !== undefined) tags['X-Tokens'] = tokens;
    if (event.reference || this.cast.referenceEvery) tags['X-Reference'] = `ref-${this.nextId}`;
    return this.message(event.spoofed ? this.cast.stranger : this.cast.token, tags);
  }
}

const MARKS = '!?.,;:-~';

/** A short run of punctuation, distinct for each n. */
function uniqueMark(n: number): string {
  let mark = '';
  for (let k = n; k > 0; k = Math.floor(k / MARKS.length)) mark += MARKS[k % MARKS.length];
  return `(${mark})`;
}
