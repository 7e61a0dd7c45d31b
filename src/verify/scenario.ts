/**
 * Shared fast-check arbitraries for the herder's world: herds, clients and their payments,
 * prompts, bad tags, worker behaviour, time, spoofed senders and owner actions. A trace is a list
 * of abstract events; `harness.ts` turns each into a concrete AO message when it is delivered.
 */
import fc from 'fast-check';
import { type HerdConfig, makeConfig } from '../model/config.ts';
import type { SettingAction, SettingValues } from '../model/settings.ts';

export const TOKEN = 'TOKEN';
export const OWNER = 'OWNER';
export const STRANGER = 'MALLORY';
export const CLIENTS = ['CLIENT-A', 'CLIENT-B', 'CLIENT-C'] as const;
/** Workers that may be registered at start or added later by the owner. */
export const WORKER_POOL = ['W1', 'W2', 'W3', 'W4'] as const;

export type PaymentKind = 'underpaid' | 'exact' | 'overpaid' | 'double' | 'huge' | 'oversized';
type PromptKind = 'words' | 'empty' | 'missing' | 'unicode' | 'huge' | 'symbols';
type TokensKind = 'valid' | 'missing' | 'zero' | 'too-many' | 'not-a-number' | 'negative' | 'padded';

export type TraceEvent =
  | {
      kind: 'credit';
      client: number;
      payment: PaymentKind;
      /** Extra paid on top of the kind's base amount: small values make equal multipliers likely. */
      bump: number;
      prompt: PromptKind;
      words: number;
      tokens: TokensKind;
      count: number;
      reference: boolean;
      /** Sent by someone other than the token (a forged notice). */
      spoofed: boolean;
      noSender: boolean;
    }
  | {
      kind: 'answer';
      worker: number;
      ok: boolean;
      which: 'held' | 'stale' | 'unknown';
      from: 'worker' | 'other-worker' | 'stranger';
    }
  | { kind: 'worker-report'; worker: number; error: boolean }
  | { kind: 'tick' }
  | { kind: 'info'; fromOwner: boolean }
  | { kind: 'duplicate'; back: number }
  | {
      kind: 'junk';
      from: 'token' | 'worker' | 'stranger' | 'owner';
      tags: Record<string, string>;
      data: string;
    }
  | { kind: 'admin'; byOwner: boolean; op: AdminOp };

export type AdminOp =
  | { op: 'Add-Worker'; worker: number }
  | { op: 'Remove-Worker'; worker: number }
  /** The owner changes the settings given (the tags come from the settings table). */
  | { op: SettingAction; settings: Partial<SettingValues> }
  | { op: 'Pause' }
  | { op: 'Resume' }
  | { op: 'Withdraw'; quantity: number };

/** An event and the time that passes before it is delivered. */
export interface TimedEvent {
  readonly dt: number;
  readonly event: TraceEvent;
}

export interface TraceSpec {
  readonly config: HerdConfig;
  readonly events: readonly TimedEvent[];
  /** After the events, let time pass with every worker silent (checks bounded-response). */
  readonly silence?: boolean;
}

const credit: fc.Arbitrary<TraceEvent> = fc.record({
  kind: fc.constant('credit' as const),
  client: fc.nat(CLIENTS.length - 1),
  payment: fc.oneof(
    { weight: 1, arbitrary: fc.constant<PaymentKind>('underpaid') },
    { weight: 3, arbitrary: fc.constant<PaymentKind>('exact') },
    { weight: 3, arbitrary: fc.constant<PaymentKind>('overpaid') },
    { weight: 2, arbitrary: fc.constant<PaymentKind>('double') },
    { weight: 2, arbitrary: fc.constant<PaymentKind>('huge') },
    { weight: 1, arbitrary: fc.constant<PaymentKind>('oversized') },
  ),
  bump: fc.oneof(fc.constant(0), fc.constant(1), fc.nat(500)),
  prompt: fc.oneof(
    { weight: 8, arbitrary: fc.constant<PromptKind>('words') },
    { weight: 1, arbitrary: fc.constantFrom<PromptKind>('empty', 'missing', 'unicode', 'huge', 'symbols') },
  ),
  words: fc.integer({ min: 1, max: 6 }),
  tokens: fc.oneof(
    { weight: 10, arbitrary: fc.constant<TokensKind>('valid') },
    {
      weight: 1,
      arbitrary: fc.constantFrom<TokensKind>(
        'missing',
        'zero',
        'too-many',
        'not-a-number',
        'negative',
        'padded',
      ),
    },
  ),
  count: fc.integer({ min: 1, max: 20 }),
  reference: fc.boolean(),
  spoofed: fc.constant(false),
  noSender: fc.constant(false),
});

/** Credits: mostly genuine, some forged (not from the token) and rare ones naming no Sender. */
export const creditEvent: fc.Arbitrary<TraceEvent> = fc
  .tuple(credit, fc.nat(19), fc.nat(49))
  .map(([event, spoofRoll, senderRoll]) => ({
    ...(event as Extract<TraceEvent, { kind: 'credit' }>),
    // The rare case is the largest roll, so that shrinking leads back to a genuine notice.
    spoofed: spoofRoll === 19,
    noSender: senderRoll === 49,
  }));

export const answerEvent: fc.Arbitrary<TraceEvent> = fc.record({
  kind: fc.constant('answer' as const),
  // Which of the workers concerned answers: taken modulo their number, so any herd size is covered.
  worker: fc.nat(63),
  ok: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  which: fc.oneof(
    { weight: 8, arbitrary: fc.constant<'held'>('held') },
    { weight: 1, arbitrary: fc.constantFrom<'stale' | 'unknown'>('stale', 'unknown') },
  ),
  from: fc.oneof(
    { weight: 10, arbitrary: fc.constant<'worker'>('worker') },
    { weight: 1, arbitrary: fc.constantFrom<'other-worker' | 'stranger'>('other-worker', 'stranger') },
  ),
});

const adminOp: fc.Arbitrary<AdminOp> = fc.oneof(
  fc.record({ op: fc.constant('Add-Worker' as const), worker: fc.nat(WORKER_POOL.length - 1) }),
  fc.record({ op: fc.constant('Remove-Worker' as const), worker: fc.nat(WORKER_POOL.length - 1) }),
  fc.record({
    op: fc.constant('Set-Fees' as const),
    settings: fc.record({
      baseFee: fc.nat(300).map(BigInt),
      tokenFee: fc.integer({ min: 1, max: 30 }).map(BigInt),
    }),
  }),
  fc.record({
    op: fc.constant('Set-Limits' as const),
    settings: fc.record({
      maxOvertakes: fc.option(fc.nat(3), { nil: null }),
      maxAttempts: fc.integer({ min: 1, max: 3 }),
    }),
  }),
  fc.constant({ op: 'Pause' as const }),
  fc.constant({ op: 'Resume' as const }),
  fc.record({ op: fc.constant('Withdraw' as const), quantity: fc.integer({ min: 1, max: 5000 }) }),
);

/** Messages with odd, missing or huge tags, from anyone. */
export const junkEvent: fc.Arbitrary<TraceEvent> = fc.record({
  kind: fc.constant('junk' as const),
  from: fc.constantFrom<'token' | 'worker' | 'stranger' | 'owner'>('token', 'worker', 'stranger', 'owner'),
  tags: fc.dictionary(
    fc.constantFrom(
      'Action',
      'Quantity',
      'Sender',
      'X-Prompt',
      'X-Tokens',
      'X-Request',
      'Worker',
      'Base-Fee',
      'Max-Attempts',
      'Recipient',
      'action',
    ),
    fc.oneof(
      fc.constantFrom(
        'Credit-Notice',
        'Inference-Response',
        'Inference-Error',
        'Worker-Error',
        'Add-Worker',
        'Withdraw',
        'Set-Fees',
        'Set-Limits',
        'Info',
        'Cron',
      ),
      fc.string({ maxLength: 8 }),
      fc.constantFrom(
        '',
        '-1',
        '0',
        '1e9',
        '99999999999999999999999999999999999',
        ' 5',
        '0x10',
        '1.5',
        'NaN',
      ),
      fc.bigInt({ min: 0n, max: 1n << 300n }).map(String),
    ),
    { maxKeys: 6 },
  ),
  data: fc.string({ maxLength: 16 }),
});

export const traceEvent: fc.Arbitrary<TraceEvent> = fc.oneof(
  { weight: 10, arbitrary: creditEvent },
  { weight: 10, arbitrary: answerEvent },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('worker-report' as const),
      worker: fc.nat(63),
      error: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'tick' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('info' as const), fromOwner: fc.boolean() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('duplicate' as const), back: fc.integer({ min: 1, max: 10 }) }),
  },
  { weight: 1, arbitrary: junkEvent },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('admin' as const),
      byOwner: fc.nat(3).map((n) => n > 0),
      op: adminOp,
    }),
  },
);

/** Time between deliveries: mostly short, sometimes past every deadline. */
const delay: fc.Arbitrary<number> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(0) },
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 500 }) },
  { weight: 1, arbitrary: fc.integer({ min: 2_000, max: 20_000 }) },
);

/** A herd configuration small enough that timeouts, retries and overtaking limits are exercised. */
export const herdConfig: fc.Arbitrary<HerdConfig> = fc
  .record({
    workers: fc.integer({ min: 0, max: 3 }),
    maxOvertakes: fc.option(fc.nat(3), { nil: null }),
    maxAttempts: fc.integer({ min: 1, max: 3 }),
    baseFee: fc.integer({ min: 0, max: 200 }),
    tokenFee: fc.integer({ min: 1, max: 20 }),
  })
  .map((c) =>
    makeConfig({
      token: TOKEN,
      owner: OWNER,
      baseFee: BigInt(c.baseFee),
      tokenFee: BigInt(c.tokenFee),
      maxTokens: 50,
      maxPromptBytes: 200,
      maxOvertakes: c.maxOvertakes,
      timeoutBase: 3_000,
      timeoutPerToken: 100,
      maxAttempts: c.maxAttempts,
      workers: WORKER_POOL.slice(0, c.workers),
    }),
  );

interface TraceOptions {
  minEvents?: number;
  maxEvents?: number;
  /** Events to draw from instead of the general mix. */
  events?: fc.Arbitrary<TraceEvent>;
  config?: fc.Arbitrary<HerdConfig>;
}

export function traceSpec(options: TraceOptions = {}): fc.Arbitrary<TraceSpec> {
  return fc.record({
    config: options.config ?? herdConfig,
    events: fc.array(fc.record({ dt: delay, event: options.events ?? traceEvent }), {
      minLength: options.minEvents ?? 1,
      maxLength: options.maxEvents ?? 80,
      size: 'medium',
    }),
    silence: fc.oneof(
      { weight: 3, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: fc.constant(true) },
    ),
  });
}

/** Genuine credits whose payments tie often: exact or double the fee, nothing on top. */
export const tiedCredit: fc.Arbitrary<TraceEvent> = creditEvent.map((e) => ({
  ...(e as Extract<TraceEvent, { kind: 'credit' }>),
  payment: (e as Extract<TraceEvent, { kind: 'credit' }>).bump % 2 === 0 ? 'exact' : 'double',
  bump: 0,
  spoofed: false,
}));

/** A busy herd: requests arrive faster than workers answer, so queues form and overtaking happens. */
export function contendedEvents(
  credit: fc.Arbitrary<TraceEvent> = creditEvent,
  answerWeight = 5,
): fc.Arbitrary<TraceEvent> {
  return fc.oneof(
    { weight: 12, arbitrary: credit },
    { weight: answerWeight, arbitrary: answerEvent },
    { weight: 1, arbitrary: fc.constant({ kind: 'tick' as const }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('admin' as const),
        byOwner: fc.constant(true),
        op: fc.record({ op: fc.constant('Add-Worker' as const), worker: fc.nat(WORKER_POOL.length - 1) }),
      }),
    },
  );
}

/** Payments far beyond 2^64 that differ by a few units: only exact arithmetic orders them. */
export const hugeCredit: fc.Arbitrary<TraceEvent> = creditEvent.map((e) => {
  const credit = e as Extract<TraceEvent, { kind: 'credit' }>;
  // Few distinct fees, so that payments a few units apart often share one and only their exact
  // comparison orders them.
  return {
    ...credit,
    payment: 'huge',
    prompt: 'words',
    words: 1 + (credit.words % 2),
    tokens: 'valid',
    count: 1 + (credit.count % 2),
    // Look-alike payments carry their own reference, so a refund that echoes it names its payment.
    reference: true,
    spoofed: false,
  };
});
