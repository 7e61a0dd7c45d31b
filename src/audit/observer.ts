/**
 * What an outside observer knows about a herder: only the messages delivered to it and the
 * messages it sent back. From them it keeps its own deliberately simple account of payments,
 * requests, workers and funds, and reports what it saw, in order, as {@link Observed} facts that
 * the invariant rules (rules.ts) judge.
 *
 * It needs no tag of ours. A dispatch is linked to the payment it serves by its `X-Request` tag
 * when the herder sends one, otherwise by its prompt (every scenario prompt is unique); a
 * forwarded answer is linked by its tag or by its text to the worker answer it repeats, and so to
 * the request that worker held. A worker's untagged answer is the answer to the one request it
 * holds, as in the original protocol.
 */
import { type AoMessage, type OutMessage, Reason, tag } from '../model/messages.ts';
import type { Mutable } from '../model/mutable.ts';
import { feesStated, type StatedSettings, statedByAdmin, timeoutsStated } from './settings.ts';

export interface ObservedRequest {
  /** The Credit-Notice's message id. */
  readonly id: string;
  readonly client: string;
  readonly reference: string | undefined;
  readonly prompt: string;
  readonly tokens: number;
  readonly paid: bigint;
  /** Needed fee at the fees in force when it was accepted (undefined when fees are not stated). */
  readonly needed: bigint | undefined;
  /** Order of acceptance, from 1. */
  readonly arrival: number;
  readonly acceptedAt: number;
  status: 'waiting' | 'running' | 'ended';
  outcome: 'response' | 'refund' | undefined;
  worker: string | undefined;
  deadline: number | undefined;
  /** When it last entered the queue. */
  queuedSince: number;
  attempts: number;
  /** Attempts that failed on a worker: an error, a worker failure, a passed deadline. */
  failures: number;
  overtakes: number;
  /** Step at which bounded-response was reported for it (reported once). */
  lateReported: boolean;
}

export interface ObservedWorker {
  /**
   * idle: holds nothing; busy: holds `holds`; timed-out: its deadline passed and it has not
   * answered since; failed: reported Worker-Error and not Worker-Initialized since.
   */
  status: 'idle' | 'busy' | 'timed-out' | 'failed';
  holds: string | undefined;
  /** The request it was last sent. */
  last: string | undefined;
  draining: boolean;
}

/** A paid Credit-Notice from the token, judged against the stated settings. */
export interface ObservedNotice {
  readonly id: string;
  readonly sender: string;
  readonly quantity: bigint;
  readonly prompt: string | undefined;
  readonly tokensTag: string | undefined;
  readonly reference: string | undefined;
  /** Needed fee, when fees are stated and the input is well formed. */
  readonly needed: bigint | undefined;
  /**
   * invalid: must be refunded (`why`); valid: must be served; either: valid or not depending on a
   * setting that was not stated (a limit), so refunding and serving are both correct.
   */
  readonly judgement: 'valid' | 'invalid' | 'either';
  readonly why: string | undefined;
}

/** What a delivered message and the herder's reaction showed, in order. */
export type Observed =
  | { kind: 'notice'; notice: ObservedNotice; refund: Transfer | undefined; paused: boolean }
  | {
      kind: 'dispatch';
      worker: string;
      request: ObservedRequest | undefined;
      unlinked: string;
      before: WorkerSnapshot;
      waiting: readonly ObservedRequest[];
    }
  | {
      kind: 'forward';
      target: string;
      request: ObservedRequest | undefined;
      genuine: boolean;
      source: string;
      endedBefore: boolean;
    }
  | { kind: 'dropped-answer'; request: ObservedRequest; worker: string }
  | {
      kind: 'refund';
      transfer: Transfer;
      request: ObservedRequest;
      endedBefore: boolean;
      waited: number | undefined;
    }
  | { kind: 'transfer'; transfer: Transfer; explained: boolean }
  | { kind: 'admin-done'; action: string | undefined; byOwner: boolean }
  | { kind: 'step-end' }
  | { kind: 'finish' };

export interface Transfer {
  readonly recipient: string | undefined;
  readonly quantity: bigint;
  readonly reason: string | undefined;
  readonly needed: string | undefined;
}

export interface WorkerSnapshot {
  readonly known: boolean;
  readonly status: ObservedWorker['status'] | undefined;
  readonly holds: string | undefined;
}

const DIGITS = /^[0-9]+$/;
/** Longer numeric tags are not amounts at all. */
const MAX_RAW_DIGITS = 1_000;
/** What a worker holds after a dispatch that no accepted payment backs. */
const UNPAID = '(unpaid)';
const ADMIN = new Set([
  'Add-Worker',
  'Remove-Worker',
  'Set-Fees',
  'Set-Limits',
  'Pause',
  'Resume',
  'Withdraw',
]);

/** Maximal runs of ASCII letters and digits, counted independently of the model. */
function wordCount(text: string): number {
  return text.split(/[^A-Za-z0-9]+/).filter((w) => w.length > 0).length;
}

function amountOf(raw: string | undefined): bigint | undefined {
  return raw !== undefined && DIGITS.test(raw) && raw.length <= MAX_RAW_DIGITS ? BigInt(raw) : undefined;
}

/** Where a worker answer came from and which request it answered, by its text. */
interface AnswerRecord {
  readonly from: string;
  readonly request: string | undefined;
  readonly genuine: boolean;
}

export class Observer {
  settings: Mutable<StatedSettings>;
  paused = false;
  now = 0;
  step = -1;
  /** Largest time between two consecutive messages so far (a herder acts only on messages). */
  largestGap = 0;
  arrivals = 0;
  lastDispatched: ObservedRequest | undefined;
  readonly requests = new Map<string, ObservedRequest>();
  readonly workers = new Map<string, ObservedWorker>();
  readonly books = { credited: 0n, refunded: 0n, revenue: 0n, withdrawn: 0n, unclaimed: 0n };
  /** Counts for hints: what the herder did with the payments it was sent. */
  readonly stats = {
    notices: 0,
    accepted: 0,
    dispatched: 0,
    forwarded: 0,
    refundReasons: new Map<string, number>(),
    unstatedWorkers: new Set<string>(),
  };
  private readonly seen = new Set<string>();
  private readonly byPrompt = new Map<string, ObservedRequest[]>();
  /** Prompts of notices that carried no valid, accepted payment, and why. */
  private readonly unpaidPrompts = new Map<string, string>();
  /** Processes that reported Worker-Error while outside the herd (our protocol's readiness). */
  private readonly reportedFailed = new Set<string>();
  private readonly answers = new Map<string, AnswerRecord>();
  private lastTime: number | undefined;

  constructor(
    settings: StatedSettings,
    private readonly emit: (fact: Observed) => void,
  ) {
    this.settings = { ...settings };
    for (const id of settings.workers) this.workers.set(id, freshWorker());
  }

  /** Requests accepted and not yet ended. */
  live(): ObservedRequest[] {
    return [...this.requests.values()].filter((r) => r.status !== 'ended');
  }

  waiting(): ObservedRequest[] {
    return [...this.requests.values()].filter((r) => r.status === 'waiting');
  }

  escrow(): bigint {
    let escrow = 0n;
    for (const r of this.requests.values()) if (r.status !== 'ended') escrow += r.paid;
    return escrow;
  }

  /** The longest a request accepted now may take, by the stated settings (undefined: not stated). */
  responseBound(tokens: number): number | undefined {
    const s = this.settings;
    if (!timeoutsStated(s) || s.maxAttempts === undefined || s.maxQueueWait === undefined) return undefined;
    return s.maxAttempts * (s.maxQueueWait + s.timeoutBase + s.timeoutPerToken * tokens);
  }

  /** Slack for message-driven herders: they can act only when a message arrives. */
  responseSlack(): number {
    return (this.settings.maxAttempts ?? 1) * this.largestGap;
  }

  observe(msg: AoMessage, outbox: readonly OutMessage[]): void {
    this.step++;
    if (this.lastTime !== undefined)
      this.largestGap = Math.max(this.largestGap, msg.timestamp - this.lastTime);
    this.lastTime = msg.timestamp;
    if (msg.timestamp > this.now) this.now = msg.timestamp;
    this.expireDeadlines();
    const duplicate = this.seen.has(msg.id);
    this.seen.add(msg.id);
    const incoming = duplicate ? {} : this.readIncoming(msg);
    this.readOutbox(msg, outbox, incoming);
    this.emit({ kind: 'step-end' });
  }

  finish(): void {
    this.emit({ kind: 'finish' });
  }

  /** With stated timeouts, a running request whose deadline passed goes back to waiting. */
  private expireDeadlines(): void {
    for (const r of this.requests.values()) {
      if (r.status !== 'running' || r.deadline === undefined || r.deadline >= this.now) continue;
      const w = this.workers.get(r.worker!);
      if (w && w.holds === r.id) {
        w.holds = undefined;
        // A worker being removed leaves once it holds nothing.
        if (w.draining) this.workers.delete(r.worker!);
        else if (w.status !== 'failed') w.status = 'timed-out';
      }
      // It may count as back in the queue from its deadline on, not only from now.
      this.requeue(r, r.deadline);
    }
  }

  private requeue(r: ObservedRequest, since = this.now): void {
    r.status = 'waiting';
    r.worker = undefined;
    r.deadline = undefined;
    r.failures++;
    r.queuedSince = since;
  }

  /** What the incoming message is, before looking at what the herder did. */
  private readIncoming(msg: AoMessage): Incoming {
    const action = tag(msg, 'Action');
    const s = this.settings;
    const worker = this.workers.get(msg.from);
    if (action === 'Credit-Notice') {
      const prompt = tag(msg, 'X-Prompt');
      const quantity = amountOf(tag(msg, 'Quantity'));
      const sender = tag(msg, 'Sender');
      if (msg.from !== s.token) {
        if (prompt !== undefined)
          this.unpaidPrompts.set(
            prompt,
            `the prompt of ${msg.id}, a Credit-Notice from ${msg.from} (not the token)`,
          );
        return { forged: true };
      }
      if (quantity === undefined || quantity === 0n) {
        if (prompt !== undefined)
          this.unpaidPrompts.set(prompt, `the prompt of ${msg.id}, a Credit-Notice that moved no funds`);
        return {};
      }
      this.books.credited += quantity;
      this.stats.notices++;
      if (sender === undefined || sender === '') {
        this.books.unclaimed += quantity;
        if (prompt !== undefined)
          this.unpaidPrompts.set(
            prompt,
            `the prompt of ${msg.id}, a Credit-Notice that names no payer (no Sender)`,
          );
        return {};
      }
      return { notice: this.judge(msg, sender, quantity, prompt) };
    }
    if ((action === 'Inference-Response' || action === 'Inference-Error') && worker) {
      return this.readAnswer(msg, action, worker);
    }
    if (action === 'Inference-Response' && msg.data !== undefined) {
      this.answers.set(msg.data, { from: msg.from, request: undefined, genuine: false });
      return {};
    }
    if (action === 'Worker-Error' && !worker && s.workerReports) {
      // Our protocol remembers it: added later, it joins failed until it reports itself ready.
      this.reportedFailed.add(msg.from);
      return {};
    }
    if (action === 'Worker-Initialized' && !worker) {
      this.reportedFailed.delete(msg.from);
      return {};
    }
    if (action === 'Worker-Error' && worker) {
      // A report of our protocol that a herder may ignore: the worker is no longer counted as fit
      // for work, and the attempt it holds has failed; whether that request goes back to the
      // queue or stays with the worker is the herder's choice, seen in what it does next.
      const held = worker.holds === undefined ? undefined : this.requests.get(worker.holds);
      worker.status = 'failed';
      if (s.workerReports) {
        worker.holds = undefined;
        if (worker.draining) {
          this.workers.delete(msg.from);
          this.reportedFailed.add(msg.from);
        }
        if (held && held.status === 'running') this.requeue(held);
      } else if (held && held.status === 'running') held.failures++;
      return {};
    }
    if (action === 'Worker-Initialized' && worker) {
      this.reportedFailed.delete(msg.from);
      // Fit again, unless it still holds a request (a herder that ignored its failure still waits on it).
      // A timed-out worker, only for a herder of our protocol: others wait for its answer.
      if (
        (worker.status === 'failed' && worker.holds === undefined) ||
        (worker.status === 'timed-out' && s.workerReports)
      )
        this.release(msg.from, worker);
      return {};
    }
    if (action !== undefined && ADMIN.has(action)) {
      // With no owner stated, whoever the herder obeys is taken to be its owner.
      const byOwner = s.owner === undefined || msg.from === s.owner;
      const withdraw = action === 'Withdraw' && byOwner ? amountOf(tag(msg, 'Quantity')) : undefined;
      return { admin: { byOwner }, ...(withdraw === undefined ? {} : { withdraw }) };
    }
    return {};
  }

  private readAnswer(msg: AoMessage, action: string, worker: ObservedWorker): Incoming {
    const tagged = tag(msg, 'X-Request');
    const held = worker.holds === undefined ? undefined : this.requests.get(worker.holds);
    if (worker.status === 'busy' && worker.holds === UNPAID) {
      // The answer to a dispatch no payment backed: where it goes was judged at the dispatch.
      if (msg.data !== undefined)
        this.answers.set(msg.data, { from: msg.from, request: undefined, genuine: true });
      this.release(msg.from, worker);
      return {};
    }
    if (worker.status === 'failed' && held !== undefined && (tagged === undefined || tagged === held.id)) {
      // After a Worker-Error: a herder that ignored the report may still take this answer.
      worker.holds = undefined;
      if (action === 'Inference-Response' && msg.data !== undefined)
        this.answers.set(msg.data, { from: msg.from, request: held.id, genuine: held.status === 'running' });
      if (action === 'Inference-Response' && held.status === 'running')
        return { answer: { request: held, text: msg.data ?? '', worker: msg.from, optional: true } };
      return {};
    }
    // With a tag it must name what the worker holds; without one it answers what it holds.
    const answersHeld =
      held !== undefined && worker.status === 'busy' && (tagged === undefined || tagged === held.id);
    const record: AnswerRecord = { from: msg.from, request: held?.id ?? worker.last, genuine: answersHeld };
    if (action === 'Inference-Response' && msg.data !== undefined) this.answers.set(msg.data, record);
    if (answersHeld) {
      this.release(msg.from, worker);
      if (action === 'Inference-Response')
        return { answer: { request: held, text: msg.data ?? '', worker: msg.from } };
      if (held.status === 'running') this.requeue(held);
      return {};
    }
    // A worker that timed out is fit again once it answers, whatever it answers.
    if (worker.status === 'timed-out' && (tagged === undefined || tagged === worker.last))
      this.release(msg.from, worker);
    return {};
  }

  private release(id: string, worker: ObservedWorker): void {
    worker.holds = undefined;
    if (worker.draining) this.workers.delete(id);
    else worker.status = 'idle';
  }

  /** Judges a paid notice against the stated settings, independently of any herder. */
  private judge(
    msg: AoMessage,
    sender: string,
    quantity: bigint,
    prompt: string | undefined,
  ): ObservedNotice {
    const s = this.settings;
    const tokensTag = tag(msg, 'X-Tokens');
    const base = {
      id: msg.id,
      sender,
      quantity,
      prompt,
      tokensTag,
      reference: tag(msg, 'X-Reference'),
    };
    const invalid = (why: string): ObservedNotice => ({
      ...base,
      needed: undefined,
      judgement: 'invalid',
      why,
    });
    if (this.paused) return invalid('paused');
    if (prompt === undefined) return invalid('missing prompt');
    if (prompt === '') return invalid('empty prompt');
    if (tokensTag === undefined) return invalid('missing tokens');
    if (!DIGITS.test(tokensTag)) return invalid('tokens not a decimal integer');
    if (BigInt(tokensTag) < 1n) return invalid('tokens out of range');
    let either: string | undefined;
    const bytes = new TextEncoder().encode(prompt).length;
    if (s.maxPromptBytes === undefined) either = 'prompt length (maxPromptBytes not stated)';
    else if (bytes > s.maxPromptBytes) return invalid('prompt too long');
    if (s.maxTokens === undefined) either ??= 'tokens (maxTokens not stated)';
    else if (BigInt(tokensTag) > BigInt(s.maxTokens)) return invalid('tokens out of range');
    if (quantity.toString().length > 78) either ??= 'a quantity beyond any 256-bit balance';
    if (!feesStated(s)) return { ...base, needed: undefined, judgement: 'either', why: 'fees not stated' };
    const needed = s.baseFee + s.tokenFee * (BigInt(tokensTag) + BigInt(wordCount(prompt)));
    if (quantity < needed) return { ...base, needed, judgement: 'invalid', why: 'insufficient payment' };
    return { ...base, needed, judgement: either ? 'either' : 'valid', why: either };
  }

  private readOutbox(msg: AoMessage, outbox: readonly OutMessage[], incoming: Incoming): void {
    const notice = incoming.notice;
    // A paid notice is accepted unless this step refunds it: decide first, since the same outbox
    // may already dispatch it.
    const noticeRefund =
      notice === undefined ? undefined : outbox.find((out) => this.refundsNotice(out, msg, notice));
    if (notice) {
      const refund = noticeRefund && transferOf(noticeRefund);
      this.emit({ kind: 'notice', notice, refund, paused: this.paused });
      if (refund) this.countRefund(refund);
      if (!refund && notice.judgement === 'invalid') {
        this.books.unclaimed += notice.quantity;
        if (notice.prompt !== undefined)
          this.unpaidPrompts.set(
            notice.prompt,
            `the prompt of ${notice.id}, an invalid payment (${notice.why})`,
          );
      } else if (!refund) this.accept(notice);
      else this.books.refunded += refund.quantity;
    }
    let withdraw = incoming.withdraw;
    let forwarded = false;
    for (const out of outbox) {
      const action = tag(out, 'Action');
      if (action === 'Transfer' && out.target === this.settings.token) {
        if (out === noticeRefund) continue;
        const transfer = transferOf(out);
        const request = this.refundedRequest(out, transfer);
        if (request) {
          const endedBefore = request.status === 'ended';
          const waited = request.status === 'waiting' ? this.now - request.queuedSince : undefined;
          this.emit({ kind: 'refund', transfer, request, endedBefore, waited });
          this.countRefund(transfer);
          this.end(request, 'refund');
          this.books.refunded += transfer.quantity;
        } else if (withdraw !== undefined && transfer.quantity === withdraw) {
          this.books.withdrawn += transfer.quantity;
          withdraw = undefined;
          this.emit({ kind: 'transfer', transfer, explained: true });
        } else {
          this.books.withdrawn += transfer.quantity;
          this.emit({ kind: 'transfer', transfer, explained: false });
        }
      } else if (action === 'Inference') {
        this.dispatch(out);
      } else if (action === 'Inference-Response') {
        forwarded = this.forward(out, incoming.answer) || forwarded;
      } else if (action === 'Admin-Done') {
        const byOwner = incoming.admin?.byOwner ?? false;
        this.emit({ kind: 'admin-done', action: tag(msg, 'Action'), byOwner });
        if (byOwner) this.applyAdmin(msg);
      }
    }
    const answer = incoming.answer;
    if (
      answer &&
      !forwarded &&
      answer.request.status === 'running' &&
      answer.request.worker === answer.worker
    ) {
      if (timeoutsStated(this.settings) && !answer.optional)
        this.emit({ kind: 'dropped-answer', request: answer.request, worker: answer.worker });
      this.requeue(answer.request);
    }
  }

  /**
   * Whether a Transfer back to the token is the refund of this step's notice: by its tag; an
   * untagged one, unless it returns a live request's payment, by its amount, payer or reference.
   */
  private refundsNotice(out: OutMessage, msg: AoMessage, notice: ObservedNotice): boolean {
    if (out.target !== this.settings.token || tag(out, 'Action') !== 'Transfer') return false;
    const t = transferOf(out);
    if (t.reason === Reason.Withdrawal) return false;
    const tagged = tag(out, 'X-Request');
    if (tagged !== undefined) return tagged === msg.id;
    const reference = tag(out, 'X-Reference');
    const sameReference = reference === undefined || reference === notice.reference;
    const matchesNotice = t.recipient === notice.sender && t.quantity === notice.quantity;
    // The notice's own reference names it; so does an invalid notice that must go back anyway.
    if (matchesNotice && reference !== undefined && reference === notice.reference) return true;
    if (matchesNotice && sameReference && notice.judgement === 'invalid') return true;
    // Otherwise a live request of the same payer, amount and reference (none on both counts).
    const live = this.refundedRequest(out, t);
    if (live !== undefined && live.reference === reference) return false;
    if (matchesNotice && sameReference) return true;
    if (live !== undefined) return false;
    return (
      t.quantity === notice.quantity ||
      t.recipient === notice.sender ||
      (reference !== undefined && sameReference)
    );
  }

  private countRefund(t: Transfer): void {
    const reason = t.reason ?? '(no reason)';
    this.stats.refundReasons.set(reason, (this.stats.refundReasons.get(reason) ?? 0) + 1);
  }

  /** The live request a Transfer refunds: by its tag, else by payer, amount and reference. */
  private refundedRequest(out: OutMessage, t: Transfer): ObservedRequest | undefined {
    const tagged = tag(out, 'X-Request');
    if (tagged !== undefined) return this.requests.get(tagged);
    if (t.reason === Reason.Withdrawal) return undefined;
    const reference = tag(out, 'X-Reference');
    const payer = this.live().filter((r) => r.client === t.recipient && r.paid === t.quantity);
    // The same reference (or none on both) first; a herder that drops references still matches.
    const exact = payer.filter((r) => reference === r.reference);
    const candidates = exact.length > 0 ? exact : payer.filter((_r) => reference === undefined);
    // Among payments alike in payer and amount, the one a refund is due for now: out of attempts
    // or past the queue-wait bound; then the most failures, then the longest waiting.
    const due = (r: ObservedRequest) => (this.refundDue(r) ? 1 : 0);
    candidates.sort((a, b) => due(b) - due(a) || b.failures - a.failures || a.queuedSince - b.queuedSince);
    return candidates[0];
  }

  /**
   * An untagged refund of one of several payments alike in payer, amount and reference was
   * taken for one of them; an answer now forwarded for that one shows it was another's. Swap.
   */
  private untangle(r: ObservedRequest): void {
    if (r.outcome !== 'refund') return;
    const twin = this.live().find(
      (t) => t !== r && t.client === r.client && t.paid === r.paid && t.reference === r.reference,
    );
    if (twin === undefined) return;
    twin.status = 'ended';
    twin.outcome = 'refund';
    r.status = 'running';
    r.outcome = undefined;
  }

  /** Whether a refund of `r` now would be justified by the stated settings. */
  private refundDue(r: ObservedRequest): boolean {
    const s = this.settings;
    if (s.maxAttempts !== undefined && r.failures >= s.maxAttempts) return true;
    return (
      r.status === 'waiting' && s.maxQueueWait !== undefined && this.now - r.queuedSince >= s.maxQueueWait
    );
  }

  private accept(notice: ObservedNotice): void {
    const tokens = Number(notice.tokensTag);
    const r: ObservedRequest = {
      id: notice.id,
      client: notice.sender,
      reference: notice.reference,
      prompt: notice.prompt ?? '',
      tokens,
      paid: notice.quantity,
      needed: notice.needed !== undefined && notice.needed > 0n ? notice.needed : undefined,
      arrival: ++this.arrivals,
      acceptedAt: this.now,
      status: 'waiting',
      outcome: undefined,
      worker: undefined,
      deadline: undefined,
      queuedSince: this.now,
      attempts: 0,
      failures: 0,
      overtakes: 0,
      lateReported: false,
    };
    this.stats.accepted++;
    this.requests.set(r.id, r);
    const same = this.byPrompt.get(r.prompt);
    if (same) same.push(r);
    else this.byPrompt.set(r.prompt, [r]);
  }

  /** The request a dispatch serves: by its tag, else by its prompt (waiting ones first). */
  private dispatched(out: OutMessage): ObservedRequest | undefined {
    const tagged = tag(out, 'X-Request');
    if (tagged !== undefined && this.requests.has(tagged)) return this.requests.get(tagged);
    const same = this.byPrompt.get(out.data ?? '');
    if (!same) return undefined;
    return same.find((r) => r.status === 'waiting') ?? same.find((r) => r.status === 'running') ?? same[0];
  }

  private dispatch(out: OutMessage): void {
    this.stats.dispatched++;
    const target = out.target;
    let w = this.workers.get(target);
    const before: WorkerSnapshot = { known: w !== undefined, status: w?.status, holds: w?.holds };
    if (!w) {
      // Judged from what the herder itself does: whom it dispatches to is in its herd.
      w = freshWorker();
      this.workers.set(target, w);
      this.stats.unstatedWorkers.add(target);
    }
    const r = this.dispatched(out);
    const named = tag(out, 'X-Request');
    const unlinked =
      r !== undefined
        ? ''
        : ((out.data !== undefined ? this.unpaidPrompts.get(out.data) : undefined) ??
          (named !== undefined
            ? `request ${named}, which no accepted payment carries`
            : 'a prompt that no payment carried'));
    const waiting = this.waiting();
    this.emit({ kind: 'dispatch', worker: target, request: r, unlinked, before, waiting });
    // Each earlier arrival still waiting is overtaken once more.
    if (r?.status === 'waiting') for (const q of waiting) if (q !== r && q.arrival < r.arrival) q.overtakes++;
    // Whatever the worker held before, it now works on this.
    if (w.holds !== undefined && w.holds !== r?.id) {
      const previous = this.requests.get(w.holds);
      if (previous?.status === 'running' && previous.worker === target) this.requeue(previous);
    }
    w.status = 'busy';
    // A dispatch no payment backs still occupies the worker until it answers.
    w.holds = r?.id ?? UNPAID;
    w.last = w.holds;
    if (!r || r.status === 'ended') return;
    if (r.status === 'running' && r.worker !== target) {
      // Dispatched again while on another worker (a timeout the auditor was not told of, or the
      // same payment served twice): both workers now hold it, and whichever answer is forwarded
      // first is its outcome. A worker that reported a failure is taken to have lost it.
      const other = this.workers.get(r.worker!);
      if (other?.status === 'failed' && other.holds === r.id) other.holds = undefined;
    }
    r.status = 'running';
    r.worker = target;
    r.attempts++;
    const s = this.settings;
    r.deadline = timeoutsStated(s) ? this.now + s.timeoutBase + s.timeoutPerToken * r.tokens : undefined;
    this.lastDispatched = r;
  }

  /** Returns whether this forward is the genuine answer of this step. */
  private forward(out: OutMessage, answer: Incoming['answer']): boolean {
    this.stats.forwarded++;
    const tagged = tag(out, 'X-Request');
    const record = out.data !== undefined ? this.answers.get(out.data) : undefined;
    const request =
      (tagged !== undefined ? this.requests.get(tagged) : undefined) ??
      (record?.request !== undefined ? this.requests.get(record.request) : undefined);
    if (tagged === undefined && request !== undefined && answer?.request === request) this.untangle(request);
    const genuine =
      answer !== undefined &&
      request === answer.request &&
      (out.data ?? '') === answer.text &&
      request.status !== 'ended';
    if (record?.genuine && record.request === undefined) return false;
    const source =
      record === undefined
        ? 'text no worker sent'
        : record.genuine
          ? `the answer of ${record.from}`
          : `an answer from ${record.from}, which did not hold ${request?.id ?? 'any paid request'}`;
    const endedBefore = request?.status === 'ended';
    this.emit({
      kind: 'forward',
      target: out.target ?? '(no Target)',
      request,
      genuine,
      source,
      endedBefore,
    });
    if (genuine) {
      this.books.revenue += request.paid;
      this.end(request, 'response');
    }
    return genuine;
  }

  private end(r: ObservedRequest, outcome: 'response' | 'refund'): void {
    if (r.status === 'ended') return;
    // The worker that answered was released when it answered; any other worker holding it (or a
    // refunded request's worker) still owes an answer and stays busy until it gives one.
    r.status = 'ended';
    r.outcome = outcome;
  }

  private applyAdmin(msg: AoMessage): void {
    const t = (name: string) => tag(msg, name);
    const s = this.settings;
    switch (t('Action')) {
      case 'Add-Worker': {
        const id = t('Worker');
        if (id === undefined) break;
        const w = this.workers.get(id);
        if (!w)
          this.workers.set(
            id,
            this.reportedFailed.has(id) ? { ...freshWorker(), status: 'failed' } : freshWorker(),
          );
        else w.draining = false;
        break;
      }
      case 'Remove-Worker': {
        const id = t('Worker');
        const w = id === undefined ? undefined : this.workers.get(id);
        if (w?.status === 'busy') w.draining = true;
        else if (id !== undefined) {
          if (w?.status === 'failed' && s.workerReports) this.reportedFailed.add(id);
          this.workers.delete(id);
        }
        break;
      }
      case 'Set-Fees':
        Object.assign(s, statedByAdmin('Set-Fees', t));
        break;
      case 'Set-Limits':
        Object.assign(s, statedByAdmin('Set-Limits', t));
        break;
      case 'Pause':
        this.paused = true;
        break;
      case 'Resume':
        this.paused = false;
        break;
    }
  }
}

interface Incoming {
  notice?: ObservedNotice;
  forged?: boolean;
  /** An answer from the worker holding the request; optional: the herder may drop it (after a Worker-Error). */
  answer?: { request: ObservedRequest; text: string; worker: string; optional?: boolean };
  admin?: { byOwner: boolean };
  withdraw?: bigint;
}

function freshWorker(): ObservedWorker {
  return { status: 'idle', holds: undefined, last: undefined, draining: false };
}

function transferOf(out: OutMessage): Transfer {
  return {
    recipient: tag(out, 'Recipient'),
    quantity: amountOf(tag(out, 'Quantity')) ?? 0n,
    reason: tag(out, 'X-Reason'),
    needed: tag(out, 'X-Needed'),
  };
}
