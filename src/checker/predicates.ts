/**
 * The protocol's invariants as the checker tests them: state predicates on every state reached,
 * and transition predicates on every (state, message, outbox, next state). Names are those of
 * src/audit/invariants.ts. bounded-response (on every path, no behaviour that lets time advance
 * keeps a request pending forever) and the liveness half of no-lost-request (from every state,
 * every request can still end) are checked over the whole graph (liveness.ts).
 */
import type { InvariantName } from '../audit/invariants.ts';
import { MAX_DIGITS } from '../model/amount.ts';
import { compareMultipliers } from '../model/fees.ts';
import type { HerderState, RequestRecord } from '../model/herder.ts';
import { holdings, ledgerViolations } from '../model/ledger.ts';
import { Action, type AoMessage, type OutMessage, Reason, tag } from '../model/messages.ts';
import { emptyList } from '../model/mutable.ts';
import type { CheckEvent } from './environment.ts';

export interface Finding {
  readonly invariant: InvariantName;
  readonly detail: string;
}

function flag(found: Finding[], invariant: InvariantName, detail: string): void {
  found.push({ invariant, detail });
}

/** Invariants the checker tests (exact-fees only with --huge, through priority-order). */
export const CHECKED_INVARIANTS: readonly InvariantName[] = [
  'no-lost-request',
  'conservation',
  'refund-to-payer',
  'priority-order',
  'fifo-ties',
  'bounded-overtaking',
  'no-double-booking',
  'work-conserving',
  'authority',
  'bad-input-safe',
  'no-wrongful-refund',
  'bounded-response',
];

/**
 * Predicates on one state. They read only what the state's abstract key covers (the running totals
 * of the books are checked step by step in {@link transitionFindings}), so checking each distinct
 * state once suffices.
 */
export function stateFindings(state: HerderState): Finding[] {
  const found: Finding[] = [];
  for (const problem of ledgerViolations(state.ledger)) flag(found, 'conservation', problem);
  let escrow = 0n;
  let waiting = 0;
  const bound = state.config.maxOvertakes;
  for (const r of state.requests.values()) {
    escrow += r.multiplier.paid;
    if (!state.queue.isWaiting(r)) continue;
    waiting++;
    const overtakes = state.queue.overtakesOf(r);
    if (bound !== null && overtakes > bound)
      flag(found, 'bounded-overtaking', `${r.id} has been overtaken ${overtakes} times (bound ${bound})`);
  }
  if (escrow !== state.ledger.escrow)
    flag(found, 'conservation', `escrow ${state.ledger.escrow} != ${escrow} paid by the live requests`);
  const holders = new Map<string, string>();
  let idle: string | undefined;
  for (const worker of state.herd.all()) {
    if (worker.status === 'idle') idle ??= worker.id;
    if ((worker.status === 'busy') !== (worker.request !== undefined))
      flag(
        found,
        'no-double-booking',
        `worker ${worker.id} is ${worker.status} holding ${worker.request ?? 'nothing'}`,
      );
    if (worker.request === undefined) continue;
    const held = state.requests.get(worker.request);
    if (held?.worker !== worker.id)
      flag(
        found,
        'no-double-booking',
        `worker ${worker.id} holds ${worker.request}, which is on ${held?.worker ?? 'no worker'}`,
      );
    const other = holders.get(worker.request);
    if (other !== undefined)
      flag(found, 'no-double-booking', `request ${worker.request} is on ${other} and ${worker.id}`);
    holders.set(worker.request, worker.id);
  }
  for (const r of state.requests.values())
    if (r.worker !== undefined && holders.get(r.id) !== r.worker)
      flag(found, 'no-double-booking', `request ${r.id} is marked on ${r.worker}, which does not hold it`);
  if (waiting > 0 && idle !== undefined)
    flag(found, 'work-conserving', `worker ${idle} is idle while ${waiting} request(s) wait`);
  return found;
}

/**
 * The outcomes (answers and refunds) one step sent, by request, in the order the step first
 * ended each: scratch reused by every transition (a map per transition was a tenth of what the
 * checker allocated), searched linearly (a step of the bounds ends at most a dozen requests).
 */
class Outcomes {
  /** Each outcome's request and message, in the order sent: `[0..count)`. */
  private readonly ids: string[] = [];
  private readonly outs: OutMessage[] = [];
  private count = 0;
  /** The distinct requests, in the order first seen: `[0..requests)`. */
  readonly requestIds: string[] = [];
  requests = 0;

  reset(): void {
    this.count = 0;
    this.requests = 0;
  }

  add(request: string, out: OutMessage): void {
    if (!this.has(request)) this.requestIds[this.requests++] = request;
    this.ids[this.count] = request;
    this.outs[this.count++] = out;
  }

  has(request: string): boolean {
    for (let i = 0; i < this.requests; i++) if (this.requestIds[i] === request) return true;
    return false;
  }

  /** The outcomes of `request`, in the order sent, into `into` (emptied first). */
  of(request: string, into: OutMessage[]): OutMessage[] {
    emptyList(into);
    for (let i = 0; i < this.count; i++) if (this.ids[i] === request) into.push(this.outs[i]!);
    return into;
  }
}

const outcomes = new Outcomes();
/** Scratch of {@link transitionFindings}: what it finds, before it is copied out. */
const transitionFound: Finding[] = [];
/** What {@link transitionFindings} returns when it finds nothing: shared, never written. */
export const NOTHING_FOUND: Finding[] = [];
/** One request's outcomes, as {@link Outcomes.of} writes them. */
const requestOutcomes: OutMessage[] = [];

/** Quantity texts already read (an explored space holds a handful of amounts), bounded. */
const quantities = new Map<string, bigint>();

/** A message's Quantity as an amount (a missing one as 0), each text parsed once. */
function quantityOf(text: string | undefined): bigint {
  const key = text ?? '0';
  let value = quantities.get(key);
  if (value === undefined) {
    value = BigInt(key);
    if (quantities.size >= 1_024) quantities.clear();
    quantities.set(key, value);
  }
  return value;
}

/** Predicates on one transition: `pre` handled `msg` (sent for `event`), sent `outbox`, became `post`. */
export function transitionFindings(
  pre: HerderState,
  msg: AoMessage,
  event: CheckEvent,
  outbox: readonly OutMessage[],
  post: HerderState,
): Finding[] {
  const found = transitionFound;
  emptyList(found);
  const { config } = pre;
  const isCredit = msg.tags.Action === Action.CreditNotice;
  outcomes.reset();
  let transferred = 0n;
  let inferences: OutMessage[] | undefined;
  for (const out of outbox) {
    const action = out.tags.Action;
    const request = out.tags['X-Request'];
    if (action === Action.Transfer) {
      transferred += quantityOf(out.tags.Quantity);
      if (request === undefined) {
        if (msg.from !== config.owner || msg.tags.Action !== Action.Withdraw)
          flag(
            found,
            'authority',
            `transfer of ${out.tags.Quantity} to ${out.tags.Recipient} without a request or an owner's Withdraw`,
          );
        continue;
      }
    } else if (action === Action.Inference) {
      if (inferences === undefined) inferences = [];
      inferences.push(out);
      continue;
    } else if (action === Action.AdminDone) {
      if (msg.from !== config.owner)
        flag(found, 'authority', `${msg.from}, not the owner, had ${msg.tags.Action} carried out`);
      continue;
    }
    if ((action === Action.Transfer || action === Action.InferenceResponse) && request !== undefined)
      outcomes.add(request, out);
  }

  // conservation: the books stay balanced (each step moves amounts between buckets or brings new
  // credit in), totals never shrink, every unit sent out is booked, and nothing beyond holdings leaves.
  const a = pre.ledger;
  const b = post.ledger;
  const unchanged =
    a.credited === b.credited &&
    a.refunded === b.refunded &&
    a.revenue === b.revenue &&
    a.escrow === b.escrow &&
    a.unclaimed === b.unclaimed &&
    a.withdrawn === b.withdrawn;
  if (unchanged) {
    if (transferred !== 0n) flag(found, 'conservation', `transferred ${transferred} without booking it`);
  } else {
    const dCredited = b.credited - a.credited;
    const dRefunded = b.refunded - a.refunded;
    const dWithdrawn = b.withdrawn - a.withdrawn;
    if (
      dCredited !==
      dRefunded + (b.revenue - a.revenue) + (b.escrow - a.escrow) + (b.unclaimed - a.unclaimed)
    )
      flag(
        found,
        'conservation',
        `credited changed by ${dCredited}, refunds + revenue + escrow + unclaimed did not match`,
      );
    if (
      dCredited < 0n ||
      dRefunded < 0n ||
      b.revenue < a.revenue ||
      b.unclaimed < a.unclaimed ||
      dWithdrawn < 0n
    )
      flag(found, 'conservation', 'a running total of the books went down');
    if (transferred !== dRefunded + dWithdrawn)
      flag(
        found,
        'conservation',
        `transferred ${transferred} but booked ${dRefunded + dWithdrawn} as refunded or withdrawn`,
      );
    if (transferred > 0n && holdings(post.ledger) < 0n)
      flag(found, 'conservation', `transferred more than held (holdings ${holdings(post.ledger)})`);
  }

  // no-lost-request and refund-to-payer: one outcome per ending request, to its payer, in full.
  for (let k = 0; k < outcomes.requests; k++) {
    const id = outcomes.requestIds[k]!;
    const outs = outcomes.of(id, requestOutcomes);
    if (outs.length > 1) flag(found, 'no-lost-request', `${id} got ${outs.length} outcomes in one step`);
    const record = pre.requests.get(id);
    const isNotice = isCredit && id === msg.id && record === undefined;
    if (record === undefined && !isNotice) {
      flag(found, 'no-lost-request', `${id} got an outcome (${outs[0]!.tags.Action}) after it had ended`);
      continue;
    }
    if (post.requests.has(id))
      flag(found, 'no-lost-request', `${id} got an outcome (${outs[0]!.tags.Action}) but is still live`);
    for (const out of outs) {
      if (out.tags.Action === Action.InferenceResponse) {
        if (record === undefined) {
          flag(found, 'authority', `an answer for ${id} was forwarded though no worker ever held it`);
          continue;
        }
        if (out.target !== record.client)
          flag(
            found,
            'authority',
            `the answer for ${id} went to ${out.target}, not its payer ${record.client}`,
          );
        const holder = pre.herd.get(msg.from);
        const heldThen =
          msg.tags.Action === Action.InferenceResponse &&
          msg.tags['X-Request'] === id &&
          holder?.status === 'busy' &&
          holder.request === id &&
          holder.deadline >= msg.timestamp;
        if (!heldThen)
          flag(
            found,
            'authority',
            `the answer for ${id} was forwarded without an answer from the worker holding it`,
          );
        continue;
      }
      const payer = record === undefined ? msg.tags.Sender : record.client;
      const paid = record === undefined ? quantityOf(msg.tags.Quantity) : record.multiplier.paid;
      if (out.tags.Recipient !== payer || quantityOf(out.tags.Quantity) !== paid)
        flag(
          found,
          'refund-to-payer',
          `refund of ${id} went to ${out.tags.Recipient} for ${out.tags.Quantity}; ${payer} paid ${paid}`,
        );
      if (!out.tags['X-Reason']) flag(found, 'bad-input-safe', `refund of ${id} carries no X-Reason`);
      else if (isNotice) noticeRefundFindings(pre, msg, out, found);
      else if (record !== undefined) requestRefundFindings(pre, msg, record, out, found);
    }
  }
  for (const id of pre.requests.keys())
    if (!post.requests.has(id) && !outcomes.has(id))
      flag(found, 'no-lost-request', `${id} disappeared without an answer or a refund`);

  // authority: a credit counts only from the token.
  if (isCredit && msg.from !== config.token) {
    if (post.ledger.credited !== pre.ledger.credited || post.requests.has(msg.id))
      flag(found, 'authority', `a Credit-Notice from ${msg.from}, not the token, was credited`);
  }

  // no-lost-request: a notice delivered again is not credited again (its request may still end in
  // this step, from a deadline that passed before it arrived).
  if (event.kind === 'duplicate' && b.credited !== a.credited)
    flag(found, 'no-lost-request', `notice ${msg.id}, delivered again, was handled a second time`);

  // bad-input-safe: a paid notice from the token is accepted or refunded with a reason, never kept silently;
  // an underpaid one, or any while paused, is refunded.
  if (event.kind === 'credit') {
    const accepted = post.requests.has(msg.id);
    const refunded = outcomes.has(msg.id);
    if (accepted === refunded)
      flag(
        found,
        'bad-input-safe',
        `paid notice ${msg.id} was ${accepted ? 'both accepted and refunded' : 'neither accepted nor refunded'}`,
      );
    if ((event.level === 0 || pre.paused) && accepted)
      flag(
        found,
        'bad-input-safe',
        `notice ${msg.id} was accepted though ${pre.paused ? 'the herder is paused' : 'it pays less than the fee'}`,
      );
  }

  if (inferences !== undefined) dispatchFindings(inferences, post, found);
  // A list of its own only when something was found: most transitions break nothing.
  return found.length === 0 ? NOTHING_FOUND : found.slice();
}

/**
 * no-wrongful-refund, for a notice refunded as it arrives: the reasons that are true of it,
 * recomputed from the notice and the settings in force before it (the pre-state), and, when the
 * payment falls short, the fee it needed. Each reason is judged on its own, whatever order the
 * herder checks them in.
 */
export function trueNoticeReasons(pre: HerderState, msg: AoMessage): { reasons: string[]; needed?: bigint } {
  const { config } = pre;
  const reasons: string[] = [];
  const quantity = tag(msg, 'Quantity');
  if (quantity !== undefined && /^[0-9]+$/.test(quantity) && quantity.replace(/^0+/, '').length > MAX_DIGITS)
    reasons.push(Reason.QuantityTooLarge);
  if (pre.paused) reasons.push(Reason.Paused);
  const prompt = tag(msg, 'X-Prompt');
  if (prompt === undefined) reasons.push(Reason.MissingPrompt);
  else if (prompt === '') reasons.push(Reason.EmptyPrompt);
  else if (Buffer.byteLength(prompt, 'utf8') > config.maxPromptBytes) reasons.push(Reason.PromptTooLong);
  const rawTokens = tag(msg, 'X-Tokens');
  let tokens: bigint | undefined;
  if (rawTokens === undefined) reasons.push(Reason.MissingTokens);
  else if (!/^[0-9]+$/.test(rawTokens)) reasons.push(Reason.BadTokens);
  else if (BigInt(rawTokens) < 1n || BigInt(rawTokens) > BigInt(config.maxTokens))
    reasons.push(Reason.TokensOutOfRange);
  else tokens = BigInt(rawTokens);
  let needed: bigint | undefined;
  if (tokens !== undefined && prompt !== undefined && prompt !== '' && quantity !== undefined) {
    // The fee: base + per token × (tokens asked + words of the prompt, runs of ASCII letters and digits).
    const words = BigInt(prompt.match(/[A-Za-z0-9]+/g)?.length ?? 0);
    needed = config.baseFee + config.tokenFee * (tokens + words);
    if (/^[0-9]+$/.test(quantity) && BigInt(quantity) < needed) reasons.push(Reason.Insufficient);
  }
  return needed === undefined ? { reasons } : { reasons, needed };
}

function noticeRefundFindings(pre: HerderState, msg: AoMessage, out: OutMessage, found: Finding[]): void {
  const reason = out.tags['X-Reason']!;
  const truth = trueNoticeReasons(pre, msg);
  if (!truth.reasons.includes(reason)) {
    const why =
      truth.reasons.length === 0
        ? `the notice is valid and pays ${tag(msg, 'Quantity')} of the ${truth.needed} needed, and the herder accepts requests`
        : `what is true of it: ${truth.reasons.join('; ')}`;
    flag(found, 'no-wrongful-refund', `notice ${msg.id} was refunded as "${reason}", which is false: ${why}`);
    return;
  }
  const stated = out.tags['X-Needed'];
  if (reason === Reason.Insufficient && stated !== undefined && stated !== String(truth.needed))
    flag(
      found,
      'no-wrongful-refund',
      `notice ${msg.id} was refunded as underpaid with X-Needed=${stated}; the fee in force is ${truth.needed}`,
    );
}

/**
 * Whether the attempt of `record` on the worker holding it fails in this step: that worker
 * answers Inference-Error for it or reports Worker-Error, or its deadline has passed by the time
 * of the message.
 */
function attemptFails(pre: HerderState, msg: AoMessage, record: RequestRecord): boolean {
  if (record.worker === undefined) return false;
  const holder = pre.herd.get(record.worker);
  if (holder?.status !== 'busy' || holder.request !== record.id) return false;
  if (holder.deadline < Math.max(pre.now, msg.timestamp)) return true;
  if (msg.from !== holder.id) return false;
  const action = tag(msg, 'Action');
  if (action === Action.WorkerError) return true;
  const named = tag(msg, 'X-Request');
  return action === Action.InferenceError && (named === undefined || named === record.id);
}

/**
 * The queue-wait bound: a request waiting in the queue whose queue-wait deadline (set when it last
 * entered the queue, maxQueueWait later) has passed by the time of the message is rightly
 * refunded, with that reason.
 */
function waitedOutQueueBound(pre: HerderState, msg: AoMessage, record: RequestRecord): boolean {
  return (
    record.worker === undefined &&
    pre.queue.isWaiting(record) &&
    record.waitUntil < Math.max(pre.now, msg.timestamp)
  );
}

/**
 * no-wrongful-refund, for an accepted request: refunded only once its last attempt failed (the
 * attempts are exhausted), with that reason, or when it waited out the queue-wait bound.
 */
function requestRefundFindings(
  pre: HerderState,
  msg: AoMessage,
  record: RequestRecord,
  out: OutMessage,
  found: Finding[],
): void {
  const reason = out.tags['X-Reason']!;
  const { maxAttempts } = pre.config;
  if (waitedOutQueueBound(pre, msg, record)) {
    if (reason !== Reason.QueueWait)
      flag(
        found,
        'no-wrongful-refund',
        `${record.id} was refunded as "${reason}" when it had waited out the queue ("${Reason.QueueWait}")`,
      );
    return;
  }
  if (reason === Reason.QueueWait) {
    flag(found, 'no-wrongful-refund', `${record.id} was refunded as "${reason}" before its queue wait ended`);
    return;
  }
  if (record.worker === undefined) {
    flag(found, 'no-wrongful-refund', `${record.id} was refunded while waiting, not after a failed attempt`);
    return;
  }
  if (!attemptFails(pre, msg, record)) {
    flag(
      found,
      'no-wrongful-refund',
      `${record.id} was refunded while running on ${record.worker}, which had not failed`,
    );
    return;
  }
  if (record.attempts < maxAttempts) {
    flag(
      found,
      'no-wrongful-refund',
      `${record.id} was refunded after ${record.attempts} of ${maxAttempts} attempts`,
    );
    return;
  }
  if (!reason.startsWith(Reason.AttemptsExhausted))
    flag(
      found,
      'no-wrongful-refund',
      `${record.id} was refunded as "${reason}" when its attempts were exhausted ("${Reason.AttemptsExhausted}")`,
    );
}

/**
 * priority-order, fifo-ties, bounded-overtaking: replays this step's dispatches in order against the
 * requests that were waiting when dispatch began, with their overtake counts at that moment.
 */
function dispatchFindings(inferences: readonly OutMessage[], post: HerderState, found: Finding[]): void {
  const bound = post.config.maxOvertakes;
  const dispatched = dispatchedScratch;
  emptyList(dispatched);
  for (const out of inferences) {
    const record = post.requests.get(out.tags['X-Request'] ?? '');
    if (record === undefined)
      flag(found, 'no-double-booking', `dispatched ${out.tags['X-Request']}, which is not live`);
    else if (dispatched.includes(record))
      flag(found, 'no-double-booking', `dispatched ${record.id} twice in one step`);
    else dispatched.push(record);
  }
  // The requests waiting when dispatch began, each with its overtake count then: the final count,
  // less the overtakes made by this step's earlier dispatches of later arrivals. A dispatched one
  // stops waiting (`gone`) once its turn has come.
  const { waiting, counts, gone } = waitingScratch;
  emptyList(waiting);
  for (const r of post.requests.values())
    if (post.queue.isWaiting(r) || dispatched.includes(r)) {
      const at = dispatched.indexOf(r);
      const until = at >= 0 ? at : dispatched.length;
      let count = post.queue.overtakesOf(r);
      for (let i = 0; i < until; i++) if (dispatched[i]!.arrival > r.arrival) count--;
      counts[waiting.length] = count;
      gone[waiting.length] = false;
      waiting.push(r);
    }
  for (const r of dispatched) {
    for (let k = 0; k < waiting.length; k++) {
      const q = waiting[k]!;
      if (q === r || gone[k]) continue;
      const order = compareMultipliers(q.multiplier, r.multiplier);
      if (order === 0 && q.arrival < r.arrival)
        flag(
          found,
          'fifo-ties',
          `${r.id} (arrival ${r.arrival}) was dispatched before ${q.id} (arrival ${q.arrival}) of equal multiplier`,
        );
      if (order > 0) {
        let protectedEarlier = false;
        for (let j = 0; j < waiting.length && bound !== null; j++)
          if (j !== k && !gone[j] && waiting[j]!.arrival < q.arrival && counts[j]! >= bound)
            protectedEarlier = true;
        if (!protectedEarlier)
          flag(
            found,
            'priority-order',
            `${r.id} (${r.multiplier.paid}/${r.multiplier.needed}) was dispatched while ${q.id} (${q.multiplier.paid}/${q.multiplier.needed}) waited`,
          );
      }
      if (q.arrival < r.arrival) {
        if (bound !== null && counts[k]! >= bound)
          flag(
            found,
            'bounded-overtaking',
            `${q.id} was overtaken by ${r.id} once more than the bound ${bound}`,
          );
        counts[k]!++;
      }
    }
    gone[waiting.indexOf(r)] = true;
  }
}

/** Scratch of {@link dispatchFindings} (reused: a transition is judged at a time per thread). */
const dispatchedScratch: RequestRecord[] = [];
const waitingScratch = { waiting: [] as RequestRecord[], counts: [] as number[], gone: [] as boolean[] };
