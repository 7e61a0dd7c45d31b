/**
 * The protocol's messages as the herder sees them: incoming AO messages, outgoing messages, the
 * Actions and tag names, and the refusal reasons (wire-visible, shared with the Lua export).
 */
import type { ProcessId } from './config.ts';

/** An incoming AO message, reduced to what the protocol reads. */
export interface AoMessage {
  /** Message id (unique per message; a replayed delivery repeats it). */
  readonly id: string;
  /** Sender process (`From`, set by the MU from the signing process). */
  readonly from: ProcessId;
  /** Scheduler time in ms (`msg.Timestamp`). */
  readonly timestamp: number;
  /** Tags as a name → value map (names may arrive Title-Cased; look them up with {@link tag}). */
  readonly tags: Readonly<Record<string, string>>;
  readonly data?: string;
}

/** A message the herder or a worker sends. Tag insertion order is the order written on the wire. */
export interface OutMessage {
  readonly target: ProcessId;
  readonly tags: Readonly<Record<string, string>>;
  readonly data?: string;
}

/**
 * Reads a tag of a message, incoming or outgoing, by name, ignoring case (aos 2.0.6 Title-Cases
 * names: `Model-ID` arrives as `Model-Id`): the exact name first, else the first name that differs
 * from it only in case. The one tag lookup of the TypeScript side.
 */
export function tag(
  msg: { readonly tags: Readonly<Record<string, string>> },
  name: string,
): string | undefined {
  const tags = msg.tags;
  const exact = tags[name];
  if (exact !== undefined) return exact;
  const wanted = name.toLowerCase();
  // Only a name of the same length can match: a missing tag (X-Reference, say) then costs no lower-casing.
  // Stryker disable next-line ConditionalExpression: equivalent, true only lower-cases more names
  for (const key in tags) if (key.length === name.length && key.toLowerCase() === wanted) return tags[key];
  return undefined;
}

export const Action = {
  Transfer: 'Transfer',
  CreditNotice: 'Credit-Notice',
  Inference: 'Inference',
  InferenceResponse: 'Inference-Response',
  InferenceError: 'Inference-Error',
  WorkerInitialized: 'Worker-Initialized',
  WorkerError: 'Worker-Error',
  Info: 'Info',
  InfoResponse: 'Info-Response',
  AddWorker: 'Add-Worker',
  RemoveWorker: 'Remove-Worker',
  SetFees: 'Set-Fees',
  SetLimits: 'Set-Limits',
  Pause: 'Pause',
  Resume: 'Resume',
  Withdraw: 'Withdraw',
  AdminDone: 'Admin-Done',
  AdminRefused: 'Admin-Refused',
} as const;

/** Owner-only administrative Actions. */
export const ADMIN_ACTIONS: readonly string[] = [
  Action.AddWorker,
  Action.RemoveWorker,
  Action.SetFees,
  Action.SetLimits,
  Action.Pause,
  Action.Resume,
  Action.Withdraw,
];

/** `X-Reason` values of refunds and refusals. */
export const Reason = {
  Paused: 'Herder paused',
  MissingPrompt: 'Missing prompt',
  EmptyPrompt: 'Empty prompt',
  PromptTooLong: 'Prompt too long',
  MissingTokens: 'Missing tokens',
  BadTokens: 'Tokens must be a decimal integer',
  TokensOutOfRange: 'Tokens out of range',
  Insufficient: 'Insufficient payment',
  QuantityTooLarge: 'Quantity too large',
  AttemptsExhausted: 'Inference failed',
  QueueWait: 'Waited too long in the queue',
  NotOwner: 'Only the owner may administer the herder',
  Withdrawal: 'Withdrawal',
} as const;

/** A `Transfer` from the herder to the token: refunds and withdrawals. */
export function transfer(
  token: ProcessId,
  recipient: ProcessId,
  quantity: bigint,
  extra: Record<string, string>,
): OutMessage {
  return {
    target: token,
    tags: { Action: Action.Transfer, Recipient: recipient, Quantity: quantity.toString(), ...extra },
  };
}
