/**
 * What a trace's messages say about payments, read directly and simply, for properties that
 * state an invariant over the message log without the auditor: each Credit-Notice the token
 * sent (first delivery only), and each outcome the herder sent for it (a forwarded answer or a
 * Transfer back, both naming the notice by `X-Request`).
 */
import { type AoMessage, type OutMessage, tag } from '../../src/model/messages.ts';
import { TOKEN } from './arbitraries.ts';

export interface Payment {
  readonly id: string;
  readonly step: number;
  readonly sender: string | undefined;
  readonly quantity: bigint;
}

export interface Outcome {
  readonly step: number;
  readonly kind: 'answer' | 'refund';
  readonly out: OutMessage;
}

/** Credit-Notices from the token that moved funds (a positive decimal Quantity), first delivery only. */
export function payments(log: readonly { msg: AoMessage }[]): Payment[] {
  const seen = new Set<string>();
  const found: Payment[] = [];
  log.forEach(({ msg }, step) => {
    // Tag names are read ignoring case, as AO delivers them (a lower-case `action` still names one).
    if (msg.from !== TOKEN || tag(msg, 'Action') !== 'Credit-Notice' || seen.has(msg.id)) return;
    seen.add(msg.id);
    const raw = tag(msg, 'Quantity');
    if (raw === undefined || !/^[0-9]{1,1000}$/.test(raw) || BigInt(raw) === 0n) return;
    found.push({ id: msg.id, step, sender: tag(msg, 'Sender'), quantity: BigInt(raw) });
  });
  return found;
}

/** Outcomes by the notice id they name. */
export function outcomes(log: readonly { outbox: readonly OutMessage[] }[]): Map<string, Outcome[]> {
  const byId = new Map<string, Outcome[]>();
  log.forEach(({ outbox }, step) => {
    for (const out of outbox) {
      const id = out.tags['X-Request'];
      if (id === undefined) continue;
      const kind =
        out.tags.Action === 'Inference-Response'
          ? 'answer'
          : out.tags.Action === 'Transfer' && out.target === TOKEN
            ? 'refund'
            : undefined;
      if (kind === undefined) continue;
      byId.set(id, [...(byId.get(id) ?? []), { step, kind, out }]);
    }
  });
  return byId;
}

/** Every Transfer the herder sent to the token, with the step it was sent in. */
export function transfers(
  log: readonly { outbox: readonly OutMessage[] }[],
): { step: number; out: OutMessage }[] {
  return log.flatMap(({ outbox }, step) =>
    outbox.filter((o) => o.target === TOKEN && o.tags.Action === 'Transfer').map((out) => ({ step, out })),
  );
}
