/**
 * The herder's books. Every unit credited by the token is in exactly one bucket:
 * `credited = refunded + revenue + escrow + unclaimed`, and `withdrawn ≤ revenue`.
 */
import type { Amount } from './amount.ts';

export interface Ledger {
  /** Sum of Quantity over accepted-from-the-token Credit-Notices (each notice once). */
  credited: Amount;
  /** Sent back to payers. */
  refunded: Amount;
  /** Fees of answered requests. */
  revenue: Amount;
  /** Held for requests that are queued or running. */
  escrow: Amount;
  /** Received on notices that name no payer; kept on record, never spent. */
  unclaimed: Amount;
  /** Revenue transferred out by the owner. */
  withdrawn: Amount;
}

export function emptyLedger(): Ledger {
  return { credited: 0n, refunded: 0n, revenue: 0n, escrow: 0n, unclaimed: 0n, withdrawn: 0n };
}

/** A copy of `source`, made as new books are (a spread copy has a layout of its own in V8, see herd.ts `newWorker`). */
export function cloneLedger(source: Ledger): Ledger {
  const copy = emptyLedger();
  copyLedger(copy, source);
  return copy;
}

/** Writes `source`'s books over `target`'s (field by field: the model checker does it before every transition). */
export function copyLedger(target: Ledger, source: Ledger): void {
  target.credited = source.credited;
  target.refunded = source.refunded;
  target.revenue = source.revenue;
  target.escrow = source.escrow;
  target.unclaimed = source.unclaimed;
  target.withdrawn = source.withdrawn;
}

/**
 * The books' fields, in their order (the model checker reads the books on every transition, and
 * `Object.entries` allocated an array a field).
 */
const BUCKETS = Object.keys(emptyLedger()) as (keyof Ledger)[];

/** Revenue the owner may still withdraw: never the escrow of queued or running requests. */
export function withdrawable(ledger: Ledger): Amount {
  return ledger.revenue - ledger.withdrawn;
}

/** What the herder holds at the token, by its own books. */
export function holdings(ledger: Ledger): Amount {
  return ledger.credited - ledger.refunded - ledger.withdrawn;
}

/** The conservation law, as a list of broken equations (empty when the books balance). */
export function ledgerViolations(ledger: Ledger): string[] {
  const problems: string[] = [];
  const accounted = ledger.refunded + ledger.revenue + ledger.escrow + ledger.unclaimed;
  if (ledger.credited !== accounted)
    problems.push(`credited ${ledger.credited} != refunded + revenue + escrow + unclaimed = ${accounted}`);
  if (ledger.withdrawn > ledger.revenue)
    problems.push(`withdrawn ${ledger.withdrawn} > revenue ${ledger.revenue}`);
  for (const name of BUCKETS) {
    const value = ledger[name];
    if (value < 0n) problems.push(`${name} is negative (${value})`);
  }
  return problems;
}
