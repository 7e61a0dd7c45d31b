/**
 * A black-box auditor of a herder: an {@link Observer} of the messages in and out, and the rule of
 * every invariant (rules.ts) whose settings were stated. It reads nothing of the herder's
 * internals, so the same auditor checks the TS model, the exported Lua in WASM, and any other
 * herder, in our wire dialect or the original's.
 */
import type { HerdConfig } from '../model/config.ts';
import type { AoMessage, OutMessage } from '../model/messages.ts';
import { INVARIANT_NAMES, INVARIANT_SPECS, type InvariantName, type Violation } from './invariants.ts';
import { Observer } from './observer.ts';
import { RULES } from './rules.ts';
import { type SettingName, type StatedSettings, statedFromConfig, unstated } from './settings.ts';

/** Invariants a black-box observer can check with these settings, and what the rest need. */
export function checkable(settings: StatedSettings): {
  checked: InvariantName[];
  notChecked: { invariant: InvariantName; needs: SettingName[] }[];
} {
  const checked: InvariantName[] = [];
  const notChecked: { invariant: InvariantName; needs: SettingName[] }[] = [];
  for (const invariant of INVARIANT_NAMES) {
    const needs = unstated(settings, INVARIANT_SPECS[invariant].needs);
    if (needs.length === 0) checked.push(invariant);
    else notChecked.push({ invariant, needs });
  }
  return { checked, notChecked };
}

export class Auditor {
  readonly violations: Violation[] = [];
  readonly checked: readonly InvariantName[];
  private readonly observer: Observer;

  /** The auditor of a herder run with `config`: every setting stated, worker reports included. */
  static forConfig(config: HerdConfig): Auditor {
    return new Auditor(statedFromConfig(config));
  }

  constructor(stated: StatedSettings) {
    this.checked = checkable(stated).checked;
    const rules = this.checked.map((name) => [name, RULES[name]] as const);
    this.observer = new Observer(stated, (fact) => {
      for (const [invariant, rule] of rules)
        rule(fact, this.observer, (detail, requests) =>
          this.violations.push({
            invariant,
            step: fact.kind === 'finish' ? -1 : this.observer.step,
            detail,
            ...(requests && requests.length > 0 ? { requests } : {}),
          }),
        );
    });
  }

  /** Observes one delivered message and the herder's outbox for it. */
  observe(msg: AoMessage, outbox: readonly OutMessage[]): void {
    this.observer.observe(msg, outbox);
  }

  /** End-of-trace check: nothing accepted may still be pending (call after a drain phase). */
  finish(): void {
    this.observer.finish();
  }

  /** Funds and counts as the auditor sees them. */
  summary() {
    const o = this.observer;
    return { ...o.books, escrow: o.escrow(), live: o.live().length, accepted: o.arrivals };
  }

  /** What the herder did with the payments it was sent (for hints). */
  get stats() {
    return this.observer.stats;
  }

  /** Requests accepted and not yet ended. */
  liveRequests(): { id: string; status: string; worker: string | undefined }[] {
    return this.observer.live().map((r) => ({ id: r.id, status: r.status, worker: r.worker }));
  }

  /**
   * With every worker silent, the time by which every live request must have ended (undefined
   * when the bound is not stated or nothing is live).
   */
  silenceHorizon(): number | undefined {
    const o = this.observer;
    let horizon: number | undefined;
    for (const r of o.live()) {
      const bound = o.responseBound(r.tokens);
      if (bound === undefined) return undefined;
      horizon = Math.max(horizon ?? 0, r.acceptedAt + bound + o.responseSlack() + 1);
    }
    return horizon;
  }

  /** What an Info-Response should say now, by the auditor's own account. */
  expectedInfo() {
    const o = this.observer;
    const statuses = [...o.workers.values()].map((w) => w.status);
    const last = o.lastDispatched;
    return {
      baseFee: o.settings.baseFee ?? 0n,
      tokenFee: o.settings.tokenFee ?? 0n,
      queueLength: o.waiting().length,
      workers: statuses.length,
      idle: statuses.filter((s) => s === 'idle').length,
      busy: statuses.filter((s) => s === 'busy').length,
      paused: o.paused,
      lastMultiplier: last?.needed === undefined ? undefined : { paid: last.paid, needed: last.needed },
    };
  }
}
