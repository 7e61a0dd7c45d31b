/**
 * A black-box auditor of a herder: it watches each incoming message and the messages the herder
 * sent in response, keeps its own deliberately simple account of requests, workers and funds,
 * and reports every invariant of DESIGN §3 that the observed behaviour breaks.
 *
 * It reads nothing of the herder's internals, so the same auditor checks the TS model, the
 * exported Lua in WASM, and any other herder speaking the wire protocol. It needs the settings
 * the herder started with (fees, limits, timeouts) to know what the herder should have done;
 * owner messages that the herder acknowledges with Admin-Done update them.
 */
import type { HerdConfig } from '../model/config.ts';
import type { AoMessage, OutMessage } from '../model/messages.ts';
import type { InvariantName, Violation } from './invariants.ts';

interface Paid {
  readonly paid: bigint;
  readonly needed: bigint;
}

interface AuditedRequest {
  readonly id: string;
  readonly client: string;
  readonly reference: string | undefined;
  readonly tokens: number;
  readonly multiplier: Paid;
  readonly arrival: number;
  status: 'waiting' | 'running' | 'ended';
  worker: string | undefined;
  deadline: number;
  attempts: number;
  overtakes: number;
}

type WorkerView = {
  status: 'idle' | 'busy' | 'timed-out' | 'failed';
  holds: string | undefined;
  last: string | undefined;
  draining: boolean;
};

const DIGITS = /^[0-9]+$/;
/** Digits of the largest amount a herder is expected to keep books on (any 256-bit balance). */
const MAX_BOOK_DIGITS = 78;
/** Longer numeric tags are not amounts at all. */
const MAX_RAW_DIGITS = 1_000;

function tagOf(tags: Readonly<Record<string, string>>, name: string): string | undefined {
  if (tags[name] !== undefined) return tags[name];
  const wanted = name.toLowerCase();
  for (const key in tags) if (key.toLowerCase() === wanted) return tags[key];
  return undefined;
}

/** Exact ordering of multipliers, written independently of the model. */
function cmp(a: Paid, b: Paid): number {
  const d = a.paid * b.needed - b.paid * a.needed;
  return d > 0n ? 1 : d < 0n ? -1 : 0;
}

function wordCount(text: string): number {
  return text.split(/[^A-Za-z0-9]+/).filter((w) => w.length > 0).length;
}

export class Auditor {
  readonly violations: Violation[] = [];
  private settings: HerdConfig;
  private paused = false;
  private now = 0;
  private stepIndex = -1;
  private arrivals = 0;
  private lastDispatched: Paid | undefined;
  private readonly seen = new Set<string>();
  private readonly requests = new Map<string, AuditedRequest>();
  private readonly workers = new Map<string, WorkerView>();
  private readonly books = { credited: 0n, refunded: 0n, revenue: 0n, withdrawn: 0n, unclaimed: 0n };

  constructor(config: HerdConfig) {
    this.settings = config;
    for (const id of config.workers) this.workers.set(id, this.freshWorker());
  }

  /** Funds and counts as the auditor sees them. */
  summary() {
    let escrow = 0n;
    let live = 0;
    for (const r of this.requests.values())
      if (r.status !== 'ended') {
        escrow += r.multiplier.paid;
        live++;
      }
    return { ...this.books, escrow, live, accepted: this.arrivals };
  }

  /** Requests accepted and not yet ended. */
  liveRequests(): { id: string; status: string; worker: string | undefined }[] {
    return [...this.requests.values()]
      .filter((r) => r.status !== 'ended')
      .map((r) => ({ id: r.id, status: r.status, worker: r.worker }));
  }

  /** What an Info-Response should say now, by the auditor's own account. */
  expectedInfo() {
    const statuses = [...this.workers.values()].map((w) => w.status);
    return {
      baseFee: this.settings.baseFee,
      tokenFee: this.settings.tokenFee,
      queueLength: [...this.requests.values()].filter((r) => r.status === 'waiting').length,
      workers: statuses.length,
      idle: statuses.filter((s) => s === 'idle').length,
      busy: statuses.filter((s) => s === 'busy').length,
      paused: this.paused,
      lastMultiplier: this.lastDispatched,
    };
  }

  /** What each worker holds, as the herder told it (for driving worker behaviour in traces). */
  workerView(id: string): Readonly<WorkerView> | undefined {
    return this.workers.get(id);
  }

  /** Observes one delivered message and the herder's outbox for it. */
  observe(msg: AoMessage, outbox: readonly OutMessage[]): void {
    this.stepIndex++;
    if (msg.timestamp > this.now) this.now = msg.timestamp;
    const expected = this.expectEffects(msg);
    this.checkOutbox(msg, outbox, expected);
    this.afterStep();
  }

  /** End-of-trace check: nothing accepted may still be pending (call after a drain phase). */
  finish(): void {
    for (const r of this.requests.values())
      if (r.status !== 'ended')
        this.flag(
          'no-lost-request',
          -1,
          `request ${r.id} never ended (still ${r.status}${r.worker ? ` on ${r.worker}` : ''})`,
        );
  }

  private freshWorker(): WorkerView {
    return { status: 'idle', holds: undefined, last: undefined, draining: false };
  }

  private flag(invariant: InvariantName, step: number, detail: string): void {
    this.violations.push({ invariant, step, detail });
  }

  /** What the incoming message must cause, before looking at the outbox. */
  private expectEffects(msg: AoMessage) {
    const expect = {
      /** Requests that must be refunded in this step (attempts exhausted), or this notice's id. */
      refunds: new Map<string, AuditedRequest | 'notice'>(),
      /** Request whose answer must be forwarded in this step. */
      forward: undefined as AuditedRequest | undefined,
      notice: undefined as
        | {
            sender: string;
            quantity: bigint;
            mustRefund: string | undefined;
            reference: string | undefined;
            offBooks: boolean;
          }
        | undefined,
      adminFromOwner: false,
      withdraw: undefined as bigint | undefined,
    };
    // 1. deadlines that passed
    for (const r of this.requests.values()) {
      if (r.status === 'running' && r.deadline < this.now) {
        const w = this.workers.get(r.worker!)!;
        w.holds = undefined;
        if (w.draining) this.workers.delete(r.worker!);
        else w.status = 'timed-out';
        this.lose(r, expect.refunds);
      }
    }
    const duplicate = this.seen.has(msg.id);
    this.seen.add(msg.id);
    if (duplicate) return expect;
    const action = tagOf(msg.tags, 'Action');
    const worker = this.workers.get(msg.from);
    const requestId = tagOf(msg.tags, 'X-Request');
    if (action === 'Credit-Notice' && msg.from === this.settings.token) {
      const raw = tagOf(msg.tags, 'Quantity');
      if (raw !== undefined && DIGITS.test(raw) && raw.length <= MAX_RAW_DIGITS && BigInt(raw) > 0n) {
        const quantity = BigInt(raw);
        const sender = tagOf(msg.tags, 'Sender');
        // Amounts beyond any 256-bit balance must be handed back untouched, outside the books.
        const offBooks = quantity.toString().length > MAX_BOOK_DIGITS;
        if (!offBooks) this.books.credited += quantity;
        if (sender === undefined || sender === '') {
          if (!offBooks) this.books.unclaimed += quantity;
        } else
          expect.notice = {
            sender,
            quantity,
            mustRefund: offBooks ? 'quantity too large' : this.invalidReason(msg, quantity),
            reference: tagOf(msg.tags, 'X-Reference'),
            offBooks,
          };
      }
    } else if ((action === 'Inference-Response' || action === 'Inference-Error') && worker && requestId) {
      const r = this.requests.get(requestId);
      if (worker.status === 'busy' && worker.holds === requestId && r) {
        if (action === 'Inference-Response') expect.forward = r;
        else this.lose(r, expect.refunds);
        this.release(msg.from, worker);
      } else if (worker.status === 'timed-out' && worker.last === requestId) {
        this.release(msg.from, worker);
      }
    } else if (action === 'Worker-Error' && worker) {
      const held = worker.holds === undefined ? undefined : this.requests.get(worker.holds);
      worker.holds = undefined;
      if (worker.draining) this.workers.delete(msg.from);
      else worker.status = 'failed';
      if (held) this.lose(held, expect.refunds);
    } else if (action === 'Worker-Initialized' && worker) {
      if (worker.status === 'failed' || worker.status === 'timed-out') this.release(msg.from, worker);
    } else if (action !== undefined && ADMIN.has(action)) {
      expect.adminFromOwner = msg.from === this.settings.owner;
      if (action === 'Withdraw' && expect.adminFromOwner) {
        const q = tagOf(msg.tags, 'Quantity');
        if (q !== undefined && DIGITS.test(q) && q.length <= MAX_RAW_DIGITS) expect.withdraw = BigInt(q);
      }
    }
    return expect;
  }

  /** A failed attempt: back to waiting, or a refund is due now. */
  private lose(r: AuditedRequest, refunds: Map<string, AuditedRequest | 'notice'>): void {
    r.worker = undefined;
    r.status = 'waiting';
    if (r.attempts >= this.settings.maxAttempts) refunds.set(r.id, r);
  }

  private release(id: string, worker: WorkerView): void {
    worker.holds = undefined;
    if (worker.draining) this.workers.delete(id);
    else worker.status = 'idle';
  }

  /** Why a paid notice must be refunded, judged independently of any herder; undefined if valid. */
  private invalidReason(msg: AoMessage, quantity: bigint): string | undefined {
    const s = this.settings;
    if (this.paused) return 'paused';
    const prompt = tagOf(msg.tags, 'X-Prompt');
    if (prompt === undefined || prompt === '') return 'missing prompt';
    if (new TextEncoder().encode(prompt).length > s.maxPromptBytes) return 'prompt too long';
    const tokens = tagOf(msg.tags, 'X-Tokens');
    if (tokens === undefined || !DIGITS.test(tokens)) return 'bad tokens';
    if (BigInt(tokens) < 1n || BigInt(tokens) > BigInt(s.maxTokens)) return 'tokens out of range';
    const needed = s.baseFee + s.tokenFee * (BigInt(tokens) + BigInt(wordCount(prompt)));
    if (quantity < needed) return 'insufficient payment';
    return undefined;
  }

  private checkOutbox(
    msg: AoMessage,
    outbox: readonly OutMessage[],
    expect: ReturnType<Auditor['expectEffects']>,
  ) {
    const step = this.stepIndex;
    let forwarded = false;
    let adminDone = false;
    // A paid notice is accepted unless this step refunds it: decide first, since the same outbox
    // may already dispatch it.
    const isNoticeRefund = (out: OutMessage) =>
      expect.notice !== undefined &&
      out.target === this.settings.token &&
      tagOf(out.tags, 'Action') === 'Transfer' &&
      tagOf(out.tags, 'X-Reason') !== 'Withdrawal' &&
      (tagOf(out.tags, 'X-Request') ?? msg.id) === msg.id;
    const noticeRefund = outbox.find(isNoticeRefund);
    if (expect.notice) {
      if (!noticeRefund && expect.notice.mustRefund)
        this.flag(
          'bad-input-safe',
          step,
          `paid notice ${msg.id} was kept though invalid (${expect.notice.mustRefund})`,
        );
      if (!noticeRefund && expect.notice.mustRefund) {
        // Kept though invalid: the funds are in the herder's hands with no request the auditor
        // can expect it to serve (dispatching it later is flagged too).
        if (expect.notice.offBooks) this.books.credited += expect.notice.quantity;
        this.books.unclaimed += expect.notice.quantity;
      } else if (!noticeRefund)
        this.accept(msg, expect.notice.sender, expect.notice.quantity, expect.notice.reference);
    }
    for (const out of outbox) {
      const action = tagOf(out.tags, 'Action');
      const requestId = tagOf(out.tags, 'X-Request');
      if (action === 'Transfer' && out.target === this.settings.token) {
        const quantity = BigInt(tagOf(out.tags, 'Quantity') ?? '0');
        const recipient = tagOf(out.tags, 'Recipient');
        if (out === noticeRefund && expect.notice) {
          if (recipient !== expect.notice.sender || quantity !== expect.notice.quantity)
            this.flag(
              'refund-to-payer',
              step,
              `refund of ${msg.id} went to ${recipient} for ${quantity}; payer ${expect.notice.sender} paid ${expect.notice.quantity}`,
            );
          if (!tagOf(out.tags, 'X-Reason'))
            this.flag('bad-input-safe', step, `refund of ${msg.id} carries no X-Reason`);
          if (!expect.notice.offBooks) this.books.refunded += quantity;
        } else if (requestId !== undefined && this.requests.has(requestId)) {
          const r = this.requests.get(requestId)!;
          if (r.status === 'ended')
            this.flag('no-lost-request', step, `request ${r.id} refunded after it had already ended`);
          else if (!expect.refunds.has(r.id))
            this.flag(
              'no-lost-request',
              step,
              `request ${r.id} refunded though it still had attempts left or was not failing`,
            );
          if (recipient !== r.client || quantity !== r.multiplier.paid)
            this.flag(
              'refund-to-payer',
              step,
              `refund of ${r.id} went to ${recipient} for ${quantity}; payer ${r.client} paid ${r.multiplier.paid}`,
            );
          expect.refunds.delete(r.id);
          r.status = 'ended';
          this.books.refunded += quantity;
        } else if (expect.withdraw !== undefined && quantity === expect.withdraw) {
          this.books.withdrawn += quantity;
          expect.withdraw = undefined;
        } else {
          this.flag('conservation', step, `unexplained transfer of ${quantity} to ${recipient}`);
          this.books.withdrawn += quantity;
        }
        this.checkHoldings(step);
      } else if (action === 'Inference') {
        this.checkDispatch(step, out, requestId);
      } else if (action === 'Inference-Response') {
        const r = requestId === undefined ? undefined : this.requests.get(requestId);
        if (!r || expect.forward !== r || forwarded) {
          this.flag(
            'authority',
            step,
            `answer for ${requestId} forwarded without an answer from the worker holding it`,
          );
          if (r && r.status === 'ended')
            this.flag('no-lost-request', step, `request ${r.id} got a second outcome`);
          continue;
        }
        forwarded = true;
        if (out.target !== r.client)
          this.flag('authority', step, `answer for ${r.id} sent to ${out.target}, not its payer ${r.client}`);
        r.status = 'ended';
        this.books.revenue += r.multiplier.paid;
      } else if (action === 'Admin-Done') {
        adminDone = true;
        if (!expect.adminFromOwner)
          this.flag(
            'authority',
            step,
            `administration by ${msg.from}, who is not the owner, was carried out`,
          );
        else this.applyAdmin(msg);
      }
    }
    if (expect.forward && !forwarded)
      this.flag('no-lost-request', step, `answer for ${expect.forward.id} from its worker was not forwarded`);
    for (const r of expect.refunds.values())
      if (r !== 'notice')
        this.flag('no-lost-request', step, `request ${r.id} ran out of attempts but was not refunded`);
    if (expect.withdraw !== undefined && adminDone)
      this.flag(
        'conservation',
        step,
        `withdrawal acknowledged but no transfer of ${expect.withdraw} was sent`,
      );
  }

  private accept(msg: AoMessage, sender: string, quantity: bigint, reference: string | undefined): void {
    const prompt = tagOf(msg.tags, 'X-Prompt') ?? '';
    const tokens = Number(tagOf(msg.tags, 'X-Tokens') ?? '0');
    const s = this.settings;
    const needed = s.baseFee + s.tokenFee * BigInt(tokens + wordCount(prompt));
    this.requests.set(msg.id, {
      id: msg.id,
      client: sender,
      reference,
      tokens,
      multiplier: { paid: quantity, needed: needed > 0n ? needed : 1n },
      arrival: ++this.arrivals,
      status: 'waiting',
      worker: undefined,
      deadline: 0,
      attempts: 0,
      overtakes: 0,
    });
  }

  private checkDispatch(step: number, out: OutMessage, requestId: string | undefined): void {
    const r = requestId === undefined ? undefined : this.requests.get(requestId);
    const w = this.workers.get(out.target);
    if (r === undefined) {
      this.flag(
        'bad-input-safe',
        step,
        `dispatched ${requestId} to ${out.target}, but no valid payment for it was kept`,
      );
      return;
    }
    if (r.status !== 'waiting') {
      this.flag('no-double-booking', step, `dispatched ${r.id} to ${out.target} but it was ${r.status}`);
      return;
    }
    if (w?.status !== 'idle') {
      this.flag(
        'no-double-booking',
        step,
        `dispatched ${r.id} to ${out.target}, which was ${w ? `${w.status}${w.holds ? ` holding ${w.holds}` : ''}` : 'not in the herd'}`,
      );
      if (!w) return;
    }
    const bound = this.settings.maxOvertakes;
    const waiting = [...this.requests.values()].filter((q) => q.status === 'waiting' && q !== r);
    for (const q of waiting) {
      const order = cmp(q.multiplier, r.multiplier);
      if (order === 0 && q.arrival < r.arrival)
        this.flag(
          'fifo-ties',
          step,
          `${r.id} (arrival ${r.arrival}) dispatched before ${q.id} (arrival ${q.arrival}) of equal multiplier`,
        );
      if (order > 0) {
        const blocked =
          (bound !== null && waiting.some((s) => s !== q && s.arrival < q.arrival && s.overtakes >= bound)) ||
          (bound !== null && r.arrival < q.arrival && r.overtakes >= bound);
        if (!blocked)
          this.flag(
            'priority-order',
            step,
            `${r.id} (${fmt(r.multiplier)}) dispatched while ${q.id} (${fmt(q.multiplier)}) waited`,
          );
      }
      if (q.arrival < r.arrival) {
        if (bound !== null && q.overtakes >= bound)
          this.flag(
            'bounded-overtaking',
            step,
            `${q.id} overtaken by ${r.id} a ${q.overtakes + 1}th time (bound ${bound})`,
          );
        q.overtakes++;
      }
    }
    r.status = 'running';
    this.lastDispatched = r.multiplier;
    r.worker = out.target;
    r.attempts++;
    r.deadline = this.now + this.settings.timeoutBase + this.settings.timeoutPerToken * r.tokens;
    w.status = 'busy';
    w.holds = r.id;
    w.last = r.id;
  }

  private checkHoldings(step: number): void {
    const b = this.books;
    if (b.credited - b.refunded - b.withdrawn < 0n)
      this.flag(
        'conservation',
        step,
        `transferred more than held: credited ${b.credited}, refunded ${b.refunded}, withdrawn ${b.withdrawn}`,
      );
    if (b.withdrawn > b.revenue)
      this.flag('conservation', step, `withdrew ${b.withdrawn} > revenue ${b.revenue}`);
  }

  private afterStep(): void {
    const step = this.stepIndex;
    const sum = this.summary();
    const accounted = sum.refunded + sum.revenue + sum.escrow + sum.unclaimed;
    if (sum.credited !== accounted)
      this.flag(
        'conservation',
        step,
        `credited ${sum.credited} != refunded ${sum.refunded} + revenue ${sum.revenue} + escrow ${sum.escrow} + unclaimed ${sum.unclaimed}`,
      );
    const holders = new Map<string, string>();
    for (const r of this.requests.values()) {
      if (r.status !== 'running') continue;
      const prior = holders.get(r.worker!);
      if (prior) this.flag('no-double-booking', step, `worker ${r.worker} holds ${prior} and ${r.id}`);
      holders.set(r.worker!, r.id);
    }
    const waiting = [...this.requests.values()].some((r) => r.status === 'waiting');
    const idle = [...this.workers.entries()].find(([, w]) => w.status === 'idle');
    if (waiting && idle) this.flag('work-conserving', step, `worker ${idle[0]} idle while requests wait`);
  }

  private applyAdmin(msg: AoMessage): void {
    const action = tagOf(msg.tags, 'Action');
    const t = (name: string) => tagOf(msg.tags, name);
    const s = this.settings as { -readonly [K in keyof HerdConfig]: HerdConfig[K] };
    const next = { ...s };
    switch (action) {
      case 'Add-Worker': {
        const id = t('Worker')!;
        const w = this.workers.get(id);
        if (!w) this.workers.set(id, this.freshWorker());
        else w.draining = false;
        break;
      }
      case 'Remove-Worker': {
        const id = t('Worker')!;
        const w = this.workers.get(id);
        if (w?.status === 'busy') w.draining = true;
        else this.workers.delete(id);
        break;
      }
      case 'Set-Fees':
        if (t('Base-Fee') !== undefined) next.baseFee = BigInt(t('Base-Fee')!);
        if (t('Token-Fee') !== undefined) next.tokenFee = BigInt(t('Token-Fee')!);
        break;
      case 'Set-Limits': {
        const n = (
          name: string,
          key: 'maxTokens' | 'maxPromptBytes' | 'timeoutBase' | 'timeoutPerToken' | 'maxAttempts',
        ) => {
          const v = t(name);
          if (v !== undefined) next[key] = Number(v);
        };
        n('Max-Tokens', 'maxTokens');
        n('Max-Prompt-Bytes', 'maxPromptBytes');
        n('Timeout-Base', 'timeoutBase');
        n('Timeout-Per-Token', 'timeoutPerToken');
        n('Max-Attempts', 'maxAttempts');
        const m = t('Max-Overtakes');
        if (m !== undefined) next.maxOvertakes = m.toLowerCase() === 'unbounded' ? null : Number(m);
        break;
      }
      case 'Pause':
        this.paused = true;
        break;
      case 'Resume':
        this.paused = false;
        break;
    }
    this.settings = next;
  }
}

const ADMIN = new Set([
  'Add-Worker',
  'Remove-Worker',
  'Set-Fees',
  'Set-Limits',
  'Pause',
  'Resume',
  'Withdraw',
]);

function fmt(m: Paid): string {
  return `${m.paid}/${m.needed}`;
}
