/**
 * The herder's surroundings in a trace: the clock, message ids, what each worker was last sent,
 * and every message so far. It turns abstract scenario events into concrete AO messages at
 * delivery time, using what the herder has said (a worker answers the request it holds), so
 * shrinking keeps traces meaningful.
 */
import type { HerdConfig } from '../model/config.ts';
import { neededFee } from '../model/fees.ts';
import type { AoMessage, OutMessage } from '../model/messages.ts';
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
}

export const DEFAULT_CAST: Cast = {
  token: TOKEN,
  owner: OWNER,
  stranger: STRANGER,
  clients: CLIENTS,
  workers: WORKER_POOL,
  drainWorker: 'W-DRAIN',
};

export class World {
  clock = 1_000;
  private nextId = 0;
  private readonly sent: AoMessage[] = [];
  /** Last Inference each worker received, and whether the world has answered it. */
  private readonly inbox = new Map<string, { request: string; answered: boolean }>();
  private readonly everRegistered = new Set<string>();

  constructor(
    private readonly config: HerdConfig,
    private readonly cast: Cast = DEFAULT_CAST,
  ) {
    this.everRegistered.add(cast.drainWorker);
    for (const w of config.workers) this.everRegistered.add(w);
  }

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
      if (out.tags.Action === 'Inference')
        this.inbox.set(out.target, { request: out.tags['X-Request']!, answered: false });
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
        if (byOwner) this.everRegistered.add(workerId(op.worker));
        return this.message(from, { Action: 'Add-Worker', Worker: workerId(op.worker) });
      case 'Remove-Worker':
        return this.message(from, { Action: 'Remove-Worker', Worker: workerId(op.worker) });
      case 'Set-Fees':
        return this.message(from, {
          Action: 'Set-Fees',
          'Base-Fee': String(op.baseFee),
          'Token-Fee': String(op.tokenFee),
        });
      case 'Set-Limits':
        return this.message(from, {
          Action: 'Set-Limits',
          'Max-Overtakes': op.maxOvertakes === null ? 'unbounded' : String(op.maxOvertakes),
          'Max-Attempts': String(op.maxAttempts),
        });
      case 'Withdraw':
        return this.message(from, { Action: 'Withdraw', Quantity: String(op.quantity) });
      default:
        return this.message(from, { Action: op.op });
    }
  }

  /** Every worker answers what it holds and reports itself initialised. */
  drainAnswers(): AoMessage[] {
    const out: AoMessage[] = [];
    for (const [worker, last] of this.inbox) {
      if (last.answered) continue;
      last.answered = true;
      out.push(this.message(worker, { Action: 'Inference-Response', 'X-Request': last.request }, 'drained'));
    }
    for (const worker of this.everRegistered)
      out.push(this.message(worker, { Action: 'Worker-Initialized' }));
    return out;
  }

  private concrete(event: TraceEvent): AoMessage | undefined {
    switch (event.kind) {
      case 'credit':
        return this.credit(event);
      case 'answer': {
        const worker = this.worker(event.worker);
        const last = this.inbox.get(worker);
        const request =
          event.which === 'held'
            ? last?.request
            : event.which === 'stale'
              ? this.sent[0]?.id
              : 'no-such-request';
        if (request === undefined) return undefined;
        if (event.which === 'held' && event.from === 'worker' && last) last.answered = true;
        const from =
          event.from === 'worker'
            ? worker
            : event.from === 'stranger'
              ? this.cast.stranger
              : this.worker(event.worker + 1);
        return event.ok
          ? this.message(from, { Action: 'Inference-Response', 'X-Request': request }, `answer to ${request}`)
          : this.message(from, {
              Action: 'Inference-Error',
              'X-Request': request,
              'X-Reason': 'out of memory',
            });
      }
      case 'worker-report':
        return this.message(this.worker(event.worker), {
          Action: event.error ? 'Worker-Error' : 'Worker-Initialized',
        });
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
        return this.message(from, { ...event.tags }, event.data);
      }
      case 'admin':
        return this.admin(event.byOwner, event.op);
    }
  }

  private credit(event: Extract<TraceEvent, { kind: 'credit' }>): AoMessage {
    const prompt =
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
    if (event.reference) tags['X-Reference'] = `ref-${this.nextId}`;
    return this.message(event.spoofed ? this.cast.stranger : this.cast.token, tags);
  }
}
