/**
 * Owner-only administration (docs/design.md §2.9): add/remove workers (a busy one drains first), set fees
 * and limits, pause/resume intake, withdraw revenue. Anyone else gets a refusal and nothing
 * changes; so does the owner when a value is invalid.
 */
import { parsePositiveAmount } from './amount.ts';
import { configProblems, type HerdConfig, isProcessId } from './config.ts';
import type { StepEvent } from './events.ts';
import { withdrawable } from './ledger.ts';
import { Action, ADMIN_ACTIONS, type AoMessage, type OutMessage, Reason, tag, transfer } from './messages.ts';
import { parseSettingTag, type SettingAction, settingsOf } from './settings.ts';
import { forgetUnready, type HerderState, moveWorker, rememberUnready } from './state.ts';

export function isAdminAction(action: string): boolean {
  return ADMIN_ACTIONS.includes(action);
}

type Outcome = { ok: true; note?: string } | { ok: false; reason: string };

/** Handles an administrative message; a worker that joins or leaves the herd is reported to `events`. */
export function handleAdmin(
  state: HerderState,
  msg: AoMessage,
  action: string,
  outbox: OutMessage[],
  events?: StepEvent[],
): void {
  const outcome: Outcome =
    msg.from !== state.config.owner
      ? { ok: false, reason: Reason.NotOwner }
      : apply(state, msg, action, outbox, events);
  const tags: Record<string, string> = {
    Action: outcome.ok ? Action.AdminDone : Action.AdminRefused,
    'Admin-Action': action,
  };
  if (!outcome.ok) tags['X-Reason'] = outcome.reason;
  else if (outcome.note !== undefined) tags['X-Note'] = outcome.note;
  outbox.push({ target: msg.from, tags });
}

function apply(
  state: HerderState,
  msg: AoMessage,
  action: string,
  outbox: OutMessage[],
  events: StepEvent[] | undefined,
): Outcome {
  switch (action) {
    case Action.AddWorker:
      return addWorker(state, tag(msg, 'Worker'), events);
    case Action.RemoveWorker:
      return removeWorker(state, tag(msg, 'Worker'), events);
    case Action.SetFees:
    case Action.SetLimits:
      return reconfigure(state, msg, action);
    case Action.Pause:
      state.paused = true;
      return { ok: true };
    case Action.Resume:
      state.paused = false;
      return { ok: true };
    default:
      return withdraw(state, msg, outbox);
  }
}

function addWorker(state: HerderState, id: string | undefined, events: StepEvent[] | undefined): Outcome {
  if (id === undefined || id === '') return { ok: false, reason: 'Worker tag is missing' };
  const problems = configProblems({ ...state.config, workers: [id] });
  if (problems.length > 0) return { ok: false, reason: problems.join('; ') };
  const existing = state.herd.get(id);
  if (existing === undefined) {
    const record = state.herd.add(id);
    // A process that last reported Worker-Error joins failed (readiness).
    const unready = forgetUnready(state, id);
    if (unready) state.herd.setStatus(record, 'failed');
    events?.push({ type: 'worker', worker: id, from: 'absent', to: record.status, cause: Action.AddWorker });
    return unready ? { ok: true, note: UNREADY_NOTE } : { ok: true };
  }
  if (existing.draining) {
    existing.draining = false;
    return { ok: true, note: 'removal cancelled' };
  }
  return { ok: true, note: 'already in the herd' };
}

function removeWorker(state: HerderState, id: string | undefined, events: StepEvent[] | undefined): Outcome {
  // Stryker disable next-line ConditionalExpression: equivalent, the herd has no worker under `undefined` either
  const worker = id === undefined ? undefined : state.herd.get(id);
  if (worker === undefined) return { ok: false, reason: 'no such worker in the herd' };
  if (worker.status === 'busy') {
    worker.draining = true;
    return { ok: true, note: 'draining: leaves when its request ends' };
  }
  if (worker.status === 'failed') rememberUnready(state, worker.id);
  moveWorker(state, worker, 'absent', Action.RemoveWorker, events);
  return { ok: true };
}

/** Admin-Done's note when a worker whose initialisation failed is added. */
export const UNREADY_NOTE =
  'added as failed: it reported Worker-Error; it gets work after Worker-Initialized';

/** Applies every present setting tag of `action` (Set-Fees, Set-Limits) at once, or none of them. */
function reconfigure(state: HerderState, msg: AoMessage, action: SettingAction): Outcome {
  const settings = settingsOf(action);
  const next: Record<string, unknown> = { ...state.config };
  let present = false;
  for (const setting of settings) {
    const raw = tag(msg, setting.tag);
    if (raw === undefined) continue;
    const parsed = parseSettingTag(setting, raw);
    if (!parsed.ok) return { ok: false, reason: parsed.reason };
    next[setting.name] = parsed.value;
    present = true;
  }
  if (!present) return { ok: false, reason: `expected one of ${settings.map((s) => s.tag).join(', ')}` };
  const config = next as unknown as HerdConfig;
  const problems = configProblems(config);
  if (problems.length > 0) return { ok: false, reason: problems.join('; ') };
  state.config = config;
  return { ok: true };
}

function withdraw(state: HerderState, msg: AoMessage, outbox: OutMessage[]): Outcome {
  const quantity = parsePositiveAmount(tag(msg, 'Quantity'), 'Quantity');
  if (!quantity.ok) return { ok: false, reason: quantity.reason };
  // Tokens sent to a malformed id would be lost for good.
  const recipient = tag(msg, 'Recipient') || state.config.owner;
  if (!isProcessId(recipient)) return { ok: false, reason: 'Recipient must be a process id' };
  if (quantity.value > withdrawable(state.ledger))
    return { ok: false, reason: `only ${withdrawable(state.ledger)} of revenue can be withdrawn` };
  state.ledger.withdrawn += quantity.value;
  outbox.push(transfer(state.config.token, recipient, quantity.value, { 'X-Reason': Reason.Withdrawal }));
  return { ok: true };
}
