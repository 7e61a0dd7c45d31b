/**
 * The protocol's message catalogue (docs/design.md §2): every message the herder, its workers, its clients,
 * its owner and the token exchange, with sender, receiver, Action, tags, data and when it is sent.
 *
 * It is data, checked against the model: a test runs random traces through the herder and workers
 * and requires every message they send to match an entry here, and every Action in
 * `messages.ts` to be catalogued. docs/protocol.md is generated from it.
 *
 * Tag names are matched case-insensitively on receipt (aos may Title-Case them); they are written
 * exactly as listed.
 */
import { Action, type OutMessage, Reason } from './messages.ts';
import { type SettingAction, settingsOf } from './settings.ts';

/** The processes of the protocol. `anyone` is any process at all. */
export type Party = 'client' | 'token' | 'herder' | 'worker' | 'owner' | 'anyone';

/** Kinds of tag value, each with the exact shape it has on the wire. */
export type TagFormat =
  | 'amount'
  | 'count'
  | 'process-id'
  | 'message-id'
  | 'multiplier'
  | 'boolean'
  | 'bound'
  | 'text';

export interface FormatSpec {
  readonly description: string;
  /** What every value of this format matches. */
  readonly pattern: RegExp;
}

export const TAG_FORMATS: Readonly<Record<TagFormat, FormatSpec>> = {
  amount: {
    description:
      'token amount in the smallest unit: a decimal integer string, no sign, point or exponent; exact at any size',
    pattern: /^[0-9]+$/,
  },
  count: { description: 'a non-negative decimal integer', pattern: /^[0-9]+$/ },
  'process-id': {
    description: 'an AO process id (43-character base64url on AO)',
    pattern: /^[A-Za-z0-9_-]+$/,
  },
  'message-id': { description: 'an AO message id', pattern: /^.+$/s },
  multiplier: {
    description: 'paid / needed as a decimal, truncated to at most 6 fractional digits, no trailing zeros',
    pattern: /^[0-9]+(\.[0-9]{0,5}[1-9])?$/,
  },
  boolean: { description: '`true` or `false`', pattern: /^(true|false)$/ },
  bound: { description: 'a non-negative decimal integer, or `unbounded`', pattern: /^([0-9]+|unbounded)$/ },
  text: { description: 'free text (may be empty)', pattern: /^/ },
};

export interface TagSpec {
  readonly name: string;
  /** Always present when this message is sent (required of a sender; guaranteed by the herder). */
  readonly required: boolean;
  readonly format: TagFormat;
  readonly meaning: string;
  /** The only value it takes, when fixed. */
  readonly value?: string;
}

export interface MessageSpec {
  /** Unique name of this message in the catalogue (several messages share an Action). */
  readonly key: string;
  readonly title: string;
  readonly action: string;
  readonly from: readonly Party[];
  readonly to: readonly Party[];
  /** Tags besides `Action`. */
  readonly tags: readonly TagSpec[];
  /** What `Data` carries; undefined when the message has none (or it is ignored). */
  readonly data?: string;
  /** When it is sent. */
  readonly when: string;
  /** What its receiver does with it. */
  readonly effect: string;
  /** For messages with only optional tags: at least one of these must be present. */
  readonly atLeastOne?: readonly string[];
  /** The section of docs/design.md that states it. */
  readonly section: string;
}

/**
 * The tags of the settings `action` sets, as the settings table states them: reported by Info
 * (`required`), or given to Set-Fees / Set-Limits, where an integer's bounds are stated too.
 */
function settingTags(action: SettingAction, required: boolean): TagSpec[] {
  return settingsOf(action).map((s) => {
    const bounds = !required && s.kind === 'integer' ? ` (${s.min} to ${s.max})` : '';
    return tag(s.tag, required, s.kind === 'integer' ? 'count' : s.kind, `${s.meaning}${bounds}`);
  });
}

const tag = (name: string, required: boolean, format: TagFormat, meaning: string, value?: string): TagSpec =>
  value === undefined ? { name, required, format, meaning } : { name, required, format, meaning, value };

const REQUEST = tag(
  'X-Request',
  true,
  'message-id',
  'the request id: the message id of the Credit-Notice that paid for it',
);
/** A worker echoes the Inference's X-Request as it was (empty when the Inference had none). */
const ECHOED_REQUEST = tag('X-Request', true, 'text', 'the X-Request of the Inference being answered');
const REFERENCE = tag(
  'X-Reference',
  false,
  'text',
  "the client's own reference from its Transfer, echoed back; absent when the client gave none",
);

/** Every message of the protocol. */
export const PROTOCOL: readonly MessageSpec[] = [
  {
    key: 'payment',
    title: 'Payment',
    action: Action.Transfer,
    from: ['client'],
    to: ['token'],
    tags: [
      tag('Recipient', true, 'process-id', 'the herder'),
      tag('Quantity', true, 'amount', 'what the client pays: at least the fee; more buys priority'),
      tag('X-Prompt', true, 'text', 'the prompt, at most maxPromptBytes UTF-8 bytes, not empty'),
      tag('X-Tokens', true, 'count', 'tokens to generate, 1 to maxTokens'),
      REFERENCE,
    ],
    when: 'A client wants an inference: it pays the herder through the token.',
    effect:
      'The token moves Quantity to the herder and sends it a Credit-Notice carrying the X- tags (AO token blueprint).',
    section: '§2.1',
  },
  {
    key: 'credit-notice',
    title: 'Credit notice',
    action: Action.CreditNotice,
    from: ['token'],
    to: ['herder'],
    tags: [
      tag('Sender', true, 'process-id', 'the payer: answers and refunds go here'),
      tag('Quantity', true, 'amount', 'the amount credited to the herder'),
      tag('X-Prompt', true, 'text', 'copied from the Transfer'),
      tag('X-Tokens', true, 'count', 'copied from the Transfer'),
      REFERENCE,
    ],
    when: 'The token has credited the herder with a client’s Transfer.',
    effect:
      'Ignored unless From is the configured token and the message id is new (ids are remembered for the ' +
      '1,000 messages handled after them; a notice that paid for a request, while the request lives and for ' +
      '1,000 messages after it ends). Otherwise the request is ' +
      'validated and its fee computed; an invalid or underpaid request is refunded in full with a reason, ' +
      'a valid one is queued with priority multiplier = Quantity / needed. A notice naming no Sender ' +
      'cannot be refunded: its Quantity is kept on record as unclaimed.',
    section: '§2.2–2.4',
  },
  {
    key: 'debit-notice',
    title: 'Debit notice',
    action: 'Debit-Notice',
    from: ['token'],
    to: ['herder'],
    tags: [
      tag('Recipient', true, 'process-id', 'who was paid'),
      tag('Quantity', true, 'amount', 'the amount debited'),
    ],
    when: 'The token has carried out one of the herder’s Transfers (a refund or a withdrawal).',
    effect: 'Ignored: the herder books its transfers when it sends them.',
    section: '§2.3',
  },
  {
    key: 'inference',
    title: 'Inference',
    action: Action.Inference,
    from: ['herder'],
    to: ['worker'],
    tags: [tag('Tokens', true, 'count', 'tokens to generate (the request’s X-Tokens)'), REQUEST],
    data: 'the prompt',
    when:
      'After every message: while a worker is idle and the queue is not empty, the queue’s next request ' +
      'goes to the worker idle longest (one it has not failed on, if there is one).',
    effect:
      'The worker generates up to Tokens tokens and answers. The herder holds the request on that worker ' +
      'until it answers or its deadline (now + timeoutBase + timeoutPerToken × tokens) passes.',
    section: '§2.5, §2.10',
  },
  {
    key: 'inference-answer',
    title: 'Inference answer',
    action: Action.InferenceResponse,
    from: ['worker'],
    to: ['herder'],
    tags: [
      ECHOED_REQUEST,
      tag(
        'Tokens-Generated',
        true,
        'count',
        'tokens actually generated (fewer when the model ended the text)',
      ),
    ],
    data: 'the generated text',
    when: 'A worker has generated the answer to an Inference from its herder.',
    effect:
      'Honoured only from the worker holding that request: the answer is forwarded to the client and the fee ' +
      'becomes revenue; the worker is idle again. A late answer (request already retried or refunded) is ' +
      'dropped, but revives a timed-out worker.',
    section: '§2.6',
  },
  {
    key: 'inference-error',
    title: 'Inference error',
    action: Action.InferenceError,
    from: ['worker'],
    to: ['herder'],
    tags: [ECHOED_REQUEST, tag('X-Reason', true, 'text', 'why the worker could not answer')],
    when: 'A worker could not answer an Inference (model not loaded, bad Tokens, generation failed).',
    effect:
      'Honoured only from the worker holding that request: the request goes back to its place in the queue, ' +
      'or is refunded once it has had maxAttempts dispatches; the worker is idle again.',
    section: '§2.7',
  },
  {
    key: 'answer',
    title: 'Answer to the client',
    action: Action.InferenceResponse,
    from: ['herder'],
    to: ['client'],
    tags: [REQUEST, REFERENCE],
    data: 'the generated text, as the worker sent it',
    when: 'The worker holding a request has answered it.',
    effect:
      'The request has ended: answered. The client package calls the callback registered for X-Reference.',
    section: '§2.6',
  },
  {
    key: 'refund',
    title: 'Refund',
    action: Action.Transfer,
    from: ['herder'],
    to: ['token'],
    tags: [
      tag(
        'Recipient',
        true,
        'text',
        'the payer: the Credit-Notice’s Sender, as the token wrote it (a process id)',
      ),
      tag('Quantity', true, 'amount', 'the Credit-Notice’s whole Quantity'),
      tag('X-Reason', true, 'text', 'why (see the refund reasons)'),
      REQUEST,
      REFERENCE,
      tag('X-Needed', false, 'amount', `the fee the request needed; sent with “${Reason.Insufficient}”`),
    ],
    when:
      'A paid request is invalid, underpaid, arrives while the herder is paused, has failed maxAttempts ' +
      'times (worker errors, failed workers, passed deadlines), or has waited in the queue longer than ' +
      'maxQueueWait since it last entered it.',
    effect:
      'The token returns the amount to the payer, who receives a Credit-Notice from the token with the X- tags. ' +
      'The request has ended: refunded.',
    section: '§2.3, §2.7',
  },
  {
    key: 'withdrawal',
    title: 'Withdrawal',
    action: Action.Transfer,
    from: ['herder'],
    to: ['token'],
    tags: [
      tag('Recipient', true, 'process-id', 'the Withdraw’s Recipient, else the owner'),
      tag('Quantity', true, 'amount', 'the amount withdrawn'),
      tag('X-Reason', true, 'text', 'marks the transfer as a withdrawal', Reason.Withdrawal),
    ],
    when: 'The owner withdrew revenue (never escrow).',
    effect: 'The token pays the recipient.',
    section: '§2.9',
  },
  {
    key: 'info',
    title: 'Info',
    action: Action.Info,
    from: ['anyone'],
    to: ['herder'],
    tags: [],
    when: 'Anyone wants the prices and the state of the queue, e.g. the client package before paying.',
    effect: 'The herder answers Info-Response to the sender.',
    section: '§2.8',
  },
  {
    key: 'info-response',
    title: 'Info response',
    action: Action.InfoResponse,
    from: ['herder'],
    to: ['anyone'],
    tags: [
      tag('Name', true, 'text', 'the herder’s name, as the original sends it', 'Llama-Herder'),
      ...settingTags('Set-Fees', true),
      tag(
        'Last-Multiplier',
        true,
        'multiplier',
        'multiplier of the request dispatched last (`1` before any), truncated to 6 decimals',
      ),
      tag('Queue-Length', true, 'count', 'requests waiting (not running)'),
      tag('Workers', true, 'count', 'workers in the herd'),
      tag('Idle-Workers', true, 'count', 'workers ready for work'),
      tag('Busy-Workers', true, 'count', 'workers holding a request'),
      tag('Unavailable-Workers', true, 'count', 'workers timed out or failed'),
      ...settingTags('Set-Limits', true),
      tag('Paused', true, 'boolean', 'whether intake is paused (payments are refunded)'),
      tag('Token', true, 'process-id', 'the token the herder accepts payments in'),
      tag('Version', true, 'text', 'the protocol model’s version'),
    ],
    data: 'a description of the herder and of how to pay it, as the original sends',
    when: 'In answer to Info.',
    effect: 'A client computes its fee: needed = Base-Fee + Token-Fee × (tokens + words(prompt)).',
    section: '§2.8',
  },
  {
    key: 'add-worker',
    title: 'Add worker',
    action: Action.AddWorker,
    from: ['owner'],
    to: ['herder'],
    tags: [tag('Worker', true, 'process-id', 'the worker process to register')],
    when: 'The operator grows the herd (or cancels a pending removal).',
    effect:
      'The worker joins the herd as idle (the newest idle worker), unless its last report was Worker-Error: ' +
      'then it joins failed (Admin-Done says so in X-Note) and gets work only after Worker-Initialized.',
    section: '§2.9',
  },
  {
    key: 'remove-worker',
    title: 'Remove worker',
    action: Action.RemoveWorker,
    from: ['owner'],
    to: ['herder'],
    tags: [tag('Worker', true, 'process-id', 'the worker process to remove')],
    when: 'The operator shrinks the herd.',
    effect:
      'An idle, timed-out or failed worker leaves at once; a busy one drains: it leaves when its request ends.',
    section: '§2.9',
  },
  {
    key: 'set-fees',
    title: 'Set fees',
    action: Action.SetFees,
    from: ['owner'],
    to: ['herder'],
    tags: settingTags('Set-Fees', false),
    atLeastOne: settingsOf('Set-Fees').map((s) => s.tag),
    when: 'The operator changes prices.',
    effect:
      'All given values change at once, or none (the two fees cannot both be 0). Queued requests keep the ' +
      'multiplier they were accepted with.',
    section: '§2.9',
  },
  {
    key: 'set-limits',
    title: 'Set limits',
    action: Action.SetLimits,
    from: ['owner'],
    to: ['herder'],
    tags: settingTags('Set-Limits', false),
    atLeastOne: settingsOf('Set-Limits').map((s) => s.tag),
    when: 'The operator tunes limits and timeouts.',
    effect:
      'All given values change at once, or none; each must lie within its bound. A request already running or ' +
      'waiting keeps the deadline it was given.',
    section: '§2.9',
  },
  {
    key: 'pause',
    title: 'Pause',
    action: Action.Pause,
    from: ['owner'],
    to: ['herder'],
    tags: [],
    when: 'The operator stops intake (e.g. before maintenance).',
    effect: `New payments are refunded (“${Reason.Paused}”); queued and running requests carry on.`,
    section: '§2.9',
  },
  {
    key: 'resume',
    title: 'Resume',
    action: Action.Resume,
    from: ['owner'],
    to: ['herder'],
    tags: [],
    when: 'The operator reopens intake.',
    effect: 'Payments are accepted again.',
    section: '§2.9',
  },
  {
    key: 'withdraw',
    title: 'Withdraw',
    action: Action.Withdraw,
    from: ['owner'],
    to: ['herder'],
    tags: [
      tag('Quantity', true, 'amount', 'how much revenue to withdraw (> 0)'),
      tag(
        'Recipient',
        false,
        'process-id',
        'who receives it; the owner when absent or empty (refused unless a process id)',
      ),
    ],
    when: 'The operator takes revenue out.',
    effect:
      'A withdrawal Transfer, if Quantity is at most revenue not yet withdrawn; escrow is never touched.',
    section: '§2.9',
  },
  {
    key: 'admin-done',
    title: 'Administration done',
    action: Action.AdminDone,
    from: ['herder'],
    to: ['owner'],
    tags: [
      tag('Admin-Action', true, 'text', 'the administrative Action that was carried out'),
      tag('X-Note', false, 'text', 'a remark, e.g. “draining: leaves when its request ends”'),
    ],
    when: 'In answer to an administrative message from the owner that was carried out.',
    effect: 'None: a confirmation.',
    section: '§2.9',
  },
  {
    key: 'admin-refused',
    title: 'Administration refused',
    action: Action.AdminRefused,
    from: ['herder'],
    to: ['anyone'],
    tags: [
      tag('Admin-Action', true, 'text', 'the administrative Action that was refused'),
      tag('X-Reason', true, 'text', `why: “${Reason.NotOwner}”, or what was wrong with the owner’s values`),
    ],
    when: 'In answer to an administrative message from anyone but the owner, or with invalid values.',
    effect: 'None: nothing changed.',
    section: '§2.9',
  },
  {
    key: 'init',
    title: 'Initialise worker',
    action: 'Init',
    from: ['owner'],
    to: ['worker'],
    tags: [
      tag('Model-ID', true, 'text', 'the model to load, from /data/<Model-ID> through WeaveDrive'),
      tag('Herder', false, 'process-id', 'the herder this worker serves (honoured from the owner only)'),
    ],
    when:
      'After spawning a worker, before registering it with the herder. The worker also accepts Init from its ' +
      'herder (this herder never sends one).',
    effect:
      'The worker loads the model once; it answers Worker-Initialized or Worker-Error to the sender and, if ' +
      'different, to its herder. A failed load leaves it failed for good.',
    section: '§2.10',
  },
  {
    key: 'worker-initialized',
    title: 'Worker initialised',
    action: Action.WorkerInitialized,
    from: ['worker'],
    to: ['owner', 'herder'],
    tags: [tag('Model-ID', true, 'text', 'the model loaded')],
    when: 'The worker has its model loaded (again, in answer to a repeated Init).',
    effect:
      'The herder makes a failed or timed-out worker of its herd idle again; from a process not in the herd, ' +
      'it clears a remembered Worker-Error.',
    section: '§2.10',
  },
  {
    key: 'worker-error',
    title: 'Worker error',
    action: Action.WorkerError,
    from: ['worker'],
    to: ['owner', 'herder'],
    tags: [tag('X-Reason', true, 'text', 'why the worker cannot work')],
    when: 'Init failed: no Model-ID, the model did not load, or an earlier load failed.',
    effect:
      'The herder marks the worker failed (it gets no work); a request it held is retried or refunded; a ' +
      'draining worker leaves. From a process not in the herd it is remembered (the last 64 such processes): ' +
      'added later, it joins failed.',
    section: '§2.10',
  },
  {
    key: 'cron',
    title: 'Cron tick',
    action: 'Cron',
    from: ['anyone'],
    to: ['herder'],
    tags: [],
    when: 'AO’s cron delivers a tick at the process’s interval.',
    effect:
      'Like every message, it advances the herder’s clock to its Timestamp, so passed deadlines fire ' +
      '(the request is retried or refunded; the worker is timed out) and requests that waited in the queue ' +
      'longer than maxQueueWait are refunded. Nothing else.',
    section: '§2.7',
  },
];

/** Meaning of each refund and refusal reason (`X-Reason`). */
export const REASONS: Readonly<Record<keyof typeof Reason, string>> = {
  Paused: 'intake is paused by the owner; the payment is returned',
  MissingPrompt: 'the payment had no X-Prompt',
  EmptyPrompt: 'X-Prompt was empty',
  PromptTooLong: 'X-Prompt is longer than maxPromptBytes UTF-8 bytes',
  MissingTokens: 'the payment had no X-Tokens',
  BadTokens: 'X-Tokens is not a plain decimal integer',
  TokensOutOfRange: 'X-Tokens is 0 or more than maxTokens',
  Insufficient: 'Quantity is below the fee; X-Needed says what was needed',
  QuantityTooLarge: 'Quantity has more than 78 digits: returned untouched, off the books',
  AttemptsExhausted:
    'the request failed maxAttempts times; the reason continues “after N attempt(s): worker …” (error, failed, timed out)',
  QueueWait:
    'the request waited in the queue longer than maxQueueWait since it last entered it (every worker busy, failed or timed out)',
  NotOwner: 'an administrative Action from anyone but the owner (Admin-Refused)',
  Withdrawal: 'not a refund: marks the owner’s withdrawal Transfer',
};

export function messageSpec(key: string): MessageSpec {
  const spec = PROTOCOL.find((m) => m.key === key);
  if (spec === undefined) throw new Error(`no message "${key}" in the protocol catalogue`);
  return spec;
}

/** Which catalogued message an outgoing message of `sender` is, by its Action (and, for Transfer, its reason). */
export function classifyOutgoing(sender: 'herder' | 'worker', out: OutMessage): MessageSpec | undefined {
  const action = out.tags.Action;
  if (sender === 'herder' && action === Action.Transfer)
    return messageSpec(out.tags['X-Reason'] === Reason.Withdrawal ? 'withdrawal' : 'refund');
  return PROTOCOL.find((m) => m.action === action && m.from.includes(sender));
}

/** Every way `tags` breaks `spec` (unknown or missing tags, malformed values); empty when it conforms. */
export function conformance(spec: MessageSpec, tags: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  const known = new Map(spec.tags.map((t) => [t.name, t]));
  for (const [name, value] of Object.entries(tags)) {
    if (name === 'Action') {
      if (value !== spec.action) problems.push(`Action is "${value}", expected "${spec.action}"`);
      continue;
    }
    const t = known.get(name);
    if (t === undefined) {
      problems.push(`tag ${name} is not catalogued for ${spec.key}`);
      continue;
    }
    if (!TAG_FORMATS[t.format].pattern.test(value)) problems.push(`${name}="${value}" is not ${t.format}`);
    if (t.value !== undefined && value !== t.value)
      problems.push(`${name}="${value}", expected "${t.value}"`);
  }
  for (const t of spec.tags)
    if (t.required && !(t.name in tags)) problems.push(`${spec.key} lacks ${t.name}`);
  if (spec.atLeastOne !== undefined && !spec.atLeastOne.some((name) => name in tags))
    problems.push(`${spec.key} needs one of ${spec.atLeastOne.join(', ')}`);
  return problems;
}
