/**
 * One rule per invariant (invariants.ts), each judging the facts an {@link Observer} reports.
 * A rule reads the stated settings and nothing of the herder's insides; it never restates the
 * model's operating rules beyond what those settings imply.
 */
import { Reason } from '../model/messages.ts';
import type { InvariantName } from './invariants.ts';
import type { Observed, ObservedNotice, ObservedRequest, Observer } from './observer.ts';
import { feesStated, timeoutsStated } from './settings.ts';

export type Flag = (detail: string, requests?: readonly string[]) => void;
export type Rule = (fact: Observed, o: Observer, flag: Flag) => void;

/** Exact ordering of paid/needed, by cross-multiplication. */
function compare(a: ObservedRequest, b: ObservedRequest): number | undefined {
  if (a.needed === undefined || b.needed === undefined) return undefined;
  const d = a.paid * b.needed - b.paid * a.needed;
  return d > 0n ? 1 : d < 0n ? -1 : 0;
}

const fmt = (r: ObservedRequest) => `${r.id} (${r.paid}/${r.needed ?? '?'})`;

/** A payment beyond what a double-precision float represents exactly. */
const BEYOND_FLOAT = 1n << 53n;

/**
 * For a dispatch: each waiting request that should have gone first (priority, or arrival among
 * equals), unless the bounded-overtaking rule protected the dispatched one.
 */
function passedOver(fact: Extract<Observed, { kind: 'dispatch' }>, o: Observer) {
  const r = fact.request;
  const bound = o.settings.maxOvertakes;
  const found: { q: ObservedRequest; tie: boolean }[] = [];
  if (r?.status !== 'waiting') return found;
  const others = fact.waiting.filter((q) => q !== r);
  for (const q of others) {
    const order = compare(q, r);
    if (order === undefined) continue;
    if (order === 0 && q.arrival < r.arrival) found.push({ q, tie: true });
    if (order > 0) {
      const protectedByBound =
        bound !== null &&
        bound !== undefined &&
        ((r.arrival < q.arrival && r.overtakes >= bound) ||
          others.some((s) => s !== q && s.arrival < q.arrival && s.overtakes >= bound));
      if (!protectedByBound) found.push({ q, tie: false });
    }
  }
  return found;
}

function isEarlyRefund(r: ObservedRequest, waited: number | undefined, o: Observer): string | undefined {
  const s = o.settings;
  const queueWaitOver =
    waited !== undefined && (s.maxQueueWait === undefined ? waited > 0 : waited >= s.maxQueueWait);
  const failedOut = s.maxAttempts === undefined ? r.failures >= 1 : r.failures >= s.maxAttempts;
  if (queueWaitOver || failedOut) return undefined;
  // On a worker, with no stated timeouts: the herder may have judged the attempt failed.
  if (r.status === 'running' && !timeoutsStated(s)) return undefined;
  const attempts = `after ${r.failures} failed attempt(s)${s.maxAttempts === undefined ? '' : ` of ${s.maxAttempts}`}`;
  const wait =
    waited === undefined
      ? `while on ${r.worker}`
      : `having waited ${waited} ms${s.maxQueueWait === undefined ? '' : ` of ${s.maxQueueWait}`}`;
  return `${attempts}, ${wait}`;
}

/** Whether an input reason of ours describes this notice truly (unknown reasons are not judged). */
function reasonIsTrue(reason: string, n: ObservedNotice, o: Observer): boolean {
  const tokens = n.tokensTag;
  switch (reason) {
    case Reason.MissingPrompt:
      return n.prompt === undefined;
    case Reason.EmptyPrompt:
      return n.prompt === '';
    case Reason.PromptTooLong:
      return (
        n.prompt !== undefined &&
        (o.settings.maxPromptBytes === undefined ||
          new TextEncoder().encode(n.prompt).length > o.settings.maxPromptBytes)
      );
    case Reason.MissingTokens:
      return tokens === undefined;
    case Reason.BadTokens:
      return tokens !== undefined && !/^[0-9]+$/.test(tokens);
    case Reason.TokensOutOfRange:
      return (
        tokens !== undefined &&
        /^[0-9]+$/.test(tokens) &&
        (BigInt(tokens) < 1n ||
          o.settings.maxTokens === undefined ||
          BigInt(tokens) > BigInt(o.settings.maxTokens))
      );
    case Reason.Paused:
      return o.paused;
    default:
      return true;
  }
}

export const RULES: Readonly<Record<InvariantName, Rule>> = {
  'no-lost-request'(fact, o, flag) {
    if (fact.kind === 'finish')
      for (const r of o.live())
        flag(`request ${r.id} never ended (still ${r.status}${r.worker ? ` on ${r.worker}` : ''})`, [r.id]);
    if (fact.kind === 'forward' && fact.request && fact.endedBefore)
      flag(`request ${fact.request.id} got a second outcome (an answer after its ${fact.request.outcome})`, [
        fact.request.id,
      ]);
    if (fact.kind === 'refund' && fact.endedBefore)
      flag(`request ${fact.request.id} refunded after its ${fact.request.outcome}`, [fact.request.id]);
    if (fact.kind === 'dropped-answer')
      flag(`the answer for ${fact.request.id} from ${fact.worker}, which held it, was not forwarded`, [
        fact.request.id,
      ]);
  },

  conservation(fact, o, flag) {
    const b = o.books;
    if (fact.kind === 'transfer' && !fact.explained)
      flag(`unexplained transfer of ${fact.transfer.quantity} to ${fact.transfer.recipient ?? 'no one'}`);
    if (fact.kind !== 'step-end') return;
    const escrow = o.escrow();
    const accounted = b.refunded + b.revenue + escrow + b.unclaimed;
    if (b.credited - b.refunded - b.withdrawn < 0n)
      flag(
        `transferred more than held: credited ${b.credited}, refunded ${b.refunded}, withdrawn ${b.withdrawn}`,
      );
    else if (b.credited !== accounted)
      flag(
        `credited ${b.credited} != refunded ${b.refunded} + revenue ${b.revenue} + escrow ${escrow} + unclaimed ${b.unclaimed}`,
      );
    if (b.withdrawn > b.revenue) flag(`withdrew ${b.withdrawn} > revenue ${b.revenue}`);
  },

  'refund-to-payer'(fact, _o, flag) {
    if (fact.kind === 'notice' && fact.refund) {
      const { refund, notice } = fact;
      if (refund.recipient !== notice.sender || refund.quantity !== notice.quantity)
        flag(
          `refund of ${notice.id} went to ${refund.recipient ?? 'no one'} for ${refund.quantity}; payer ${notice.sender} paid ${notice.quantity}`,
          [notice.id],
        );
    }
    if (fact.kind === 'refund') {
      const { transfer, request } = fact;
      if (transfer.recipient !== request.client || transfer.quantity !== request.paid)
        flag(
          `refund of ${request.id} went to ${transfer.recipient ?? 'no one'} for ${transfer.quantity}; payer ${request.client} paid ${request.paid}`,
          [request.id],
        );
    }
  },

  'priority-order'(fact, o, flag) {
    if (fact.kind !== 'dispatch' || !fact.request) return;
    for (const { q, tie } of passedOver(fact, o))
      if (!tie) flag(`${fmt(fact.request)} dispatched while ${fmt(q)} waited`, [fact.request.id, q.id]);
  },

  'fifo-ties'(fact, o, flag) {
    if (fact.kind !== 'dispatch' || !fact.request) return;
    for (const { q, tie } of passedOver(fact, o))
      if (tie)
        flag(
          `${fact.request.id} (arrival ${fact.request.arrival}) dispatched before ${q.id} (arrival ${q.arrival}) of equal multiplier`,
          [fact.request.id, q.id],
        );
  },

  'bounded-overtaking'(fact, o, flag) {
    if (fact.kind !== 'dispatch' || !fact.request || fact.request.status !== 'waiting') return;
    const r = fact.request;
    const bound = o.settings.maxOvertakes;
    for (const q of fact.waiting) {
      if (q === r || q.arrival >= r.arrival) continue;
      if (bound !== null && bound !== undefined && q.overtakes >= bound)
        flag(`${q.id} overtaken by ${r.id} a ${q.overtakes + 1}th time (bound ${bound})`, [q.id, r.id]);
    }
  },

  'no-double-booking'(fact, o, flag) {
    if (fact.kind !== 'dispatch') return;
    const { before, request, worker } = fact;
    if (before.status === 'busy' && before.holds !== request?.id)
      flag(
        `dispatched ${request?.id ?? 'a request'} to ${worker}, which still held ${before.holds ?? 'a request'}`,
        [...(request ? [request.id] : []), ...(before.holds ? [before.holds] : [])],
      );
    else if (before.status === 'timed-out')
      flag(
        `dispatched ${request?.id ?? 'a request'} to ${worker}, which timed out and has not answered since`,
        [...(request ? [request.id] : [])],
      );
    if (
      request?.status === 'running' &&
      request.worker !== worker &&
      timeoutsStated(o.settings) &&
      o.workers.get(request.worker!)?.status !== 'failed'
    )
      flag(`dispatched ${request.id} to ${worker} while it was on ${request.worker} before its deadline`, [
        request.id,
      ]);
  },

  'work-conserving'(fact, o, flag) {
    if (fact.kind !== 'step-end') return;
    const waiting = o.waiting();
    if (waiting.length === 0) return;
    for (const [id, w] of o.workers)
      if (w.status === 'idle' && !w.draining) {
        flag(
          `worker ${id} idle while ${waiting.length} request(s) wait`,
          waiting.slice(0, 1).map((r) => r.id),
        );
        return;
      }
  },

  'exact-fees'(fact, o, flag) {
    if (fact.kind === 'notice' && fact.refund?.needed !== undefined && fact.notice.needed !== undefined) {
      if (fact.refund.needed !== fact.notice.needed.toString())
        flag(`X-Needed ${fact.refund.needed} for ${fact.notice.id}; exactly ${fact.notice.needed}`, [
          fact.notice.id,
        ]);
    }
    if (fact.kind !== 'dispatch' || !fact.request) return;
    for (const { q, tie } of passedOver(fact, o)) {
      const r = fact.request;
      if (!tie && (r.paid >= BEYOND_FLOAT || q.paid >= BEYOND_FLOAT))
        flag(`${fmt(r)} went before ${fmt(q)}: only exact arithmetic orders payments this large`, [
          r.id,
          q.id,
        ]);
    }
  },

  authority(fact, _o, flag) {
    if (fact.kind === 'forward') {
      if (!fact.request) flag(`forwarded ${fact.source} to ${fact.target}: it answers no paid request`);
      else if (!fact.genuine && !fact.endedBefore)
        flag(`forwarded ${fact.source} as the answer for ${fact.request.id}`, [fact.request.id]);
      else if (fact.endedBefore)
        // Once a request has ended no worker holds it: an answer forwarded then is no one's.
        flag(
          `forwarded ${fact.source} for ${fact.request.id} after it had ended (${fact.request.outcome}), to ${fact.target}`,
          [fact.request.id],
        );
      else if (fact.genuine && fact.target !== fact.request.client)
        flag(`answer for ${fact.request.id} sent to ${fact.target}, not its payer ${fact.request.client}`, [
          fact.request.id,
        ]);
    }
    if (fact.kind === 'admin-done' && !fact.byOwner)
      flag(`${fact.action ?? 'administration'} by someone other than the owner was carried out`);
    if (fact.kind === 'dispatch' && !fact.request && fact.unlinked.includes('not the token'))
      flag(`dispatched to ${fact.worker} the prompt of ${fact.unlinked}`);
  },

  'bad-input-safe'(fact, _o, flag) {
    if (fact.kind === 'notice') {
      const { notice, refund } = fact;
      if (!refund && notice.judgement === 'invalid')
        flag(`paid notice ${notice.id} was kept though invalid (${notice.why})`, [notice.id]);
      if (refund && !refund.reason) flag(`refund of ${notice.id} carries no X-Reason`, [notice.id]);
    }
    if (fact.kind === 'refund' && !fact.transfer.reason)
      flag(`refund of ${fact.request.id} carries no X-Reason`, [fact.request.id]);
    if (fact.kind === 'dispatch' && !fact.request && !fact.unlinked.includes('not the token'))
      flag(`dispatched to ${fact.worker} ${fact.unlinked}: no valid payment for it was kept`);
  },

  'no-wrongful-refund'(fact, o, flag) {
    if (!feesStated(o.settings)) return;
    if (fact.kind === 'notice' && fact.refund) {
      const { notice, refund } = fact;
      if (
        refund.reason === Reason.Insufficient &&
        notice.needed !== undefined &&
        notice.quantity >= notice.needed
      )
        flag(
          `${notice.id} refunded as "${Reason.Insufficient}" though it paid ${notice.quantity} >= ${notice.needed}`,
          [notice.id],
        );
      else if (notice.judgement === 'valid')
        flag(
          `${notice.id}, valid and paid ${notice.quantity} >= ${notice.needed}, was refunded at once ("${refund.reason ?? 'no reason'}")`,
          [notice.id],
        );
      else if (
        refund.reason !== undefined &&
        notice.judgement === 'invalid' &&
        !reasonIsTrue(refund.reason, notice, o)
      )
        flag(
          `${notice.id} refunded as "${refund.reason}", which is not what is wrong with it (${notice.why})`,
          [notice.id],
        );
    }
    if (fact.kind === 'refund' && !fact.endedBefore) {
      const early = isEarlyRefund(fact.request, fact.waited, o);
      if (early)
        flag(`${fact.request.id} refunded ("${fact.transfer.reason ?? 'no reason'}") ${early}`, [
          fact.request.id,
        ]);
    }
  },

  'bounded-response'(fact, o, flag) {
    if (fact.kind !== 'step-end') return;
    for (const r of o.live()) {
      const bound = o.responseBound(r.tokens);
      if (bound === undefined || r.lateReported) continue;
      const late = o.now - r.acceptedAt - bound - o.responseSlack();
      if (late > 0) {
        r.lateReported = true;
        flag(
          `${r.id} still ${r.status} ${o.now - r.acceptedAt} ms after it was accepted (bound ${bound} ms)`,
          [r.id],
        );
      }
    }
  },
};
