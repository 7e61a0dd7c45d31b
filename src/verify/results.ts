/**
 * One invariant's verdict in a `herd verify` report, for scenario runs and recorded logs alike:
 * not checked (naming the flags that would state what it needs), held, or violated with its
 * trace.
 */
import { checkable } from '../audit/auditor.ts';
import { INVARIANT_NAMES, INVARIANTS, type InvariantName, type Violation } from '../audit/invariants.ts';
import { SETTING_FLAGS, type StatedSettings } from '../audit/settings.ts';
import type { AoMessage, OutMessage } from '../model/messages.ts';
import { formatTrace, type TraceStep, traceSteps } from './trace.ts';

export interface InvariantResult {
  readonly invariant: InvariantName;
  readonly description: string;
  readonly status: 'held' | 'violated' | 'not-checked';
  /** For a violated invariant. */
  readonly violated: boolean;
  /** Flags that would let it be checked (when not checked). */
  readonly needs?: readonly string[];
  /** For a violation: what broke, the shrunk trace, and how to replay it. */
  readonly detail?: string;
  readonly trace?: readonly TraceStep[];
  /** The trace as text, elisions marked. */
  readonly traceText?: string;
  readonly traceLength?: number;
  readonly replay?: { seed: number; path: string };
}

/** The first violation found of an invariant, with the steps it happened in. */
export interface Found {
  readonly violation: Violation;
  readonly log: readonly { msg: AoMessage; outbox: OutMessage[] }[];
  readonly replay?: { seed: number; path: string };
}

/** Every invariant's verdict, in the spec's order. */
export function invariantResults(
  stated: StatedSettings,
  found: (invariant: InvariantName) => Found | undefined,
): InvariantResult[] {
  const { notChecked } = checkable(stated);
  return INVARIANT_NAMES.map((invariant): InvariantResult => {
    const description = INVARIANTS[invariant];
    const missing = notChecked.find((n) => n.invariant === invariant);
    if (missing)
      return {
        invariant,
        description,
        status: 'not-checked',
        violated: false,
        needs: missing.needs.map((name) => SETTING_FLAGS[name]),
      };
    const hit = found(invariant);
    if (!hit) return { invariant, description, status: 'held', violated: false };
    const trace = traceSteps(hit.violation, hit.log);
    return {
      invariant,
      description,
      status: 'violated',
      violated: true,
      detail: hit.violation.detail,
      trace,
      traceText: formatTrace(trace, hit.violation.requests),
      traceLength: trace.length,
      ...(hit.replay ? { replay: hit.replay } : {}),
    };
  });
}

/** The names of the invariants with a given status. */
export function withStatus(
  results: readonly InvariantResult[],
  status: InvariantResult['status'],
): InvariantName[] {
  return results.filter((r) => r.status === status).map((r) => r.invariant);
}
