/**
 * Named scenarios of a request's life, run through the model herder for docs/lifecycle.md: each is
 * a fixed script of payments, worker messages, owner actions and Cron ticks, turned into AO messages
 * by the trace world of `herd verify` (src/verify/world.ts) and stepped by the model's `step`, whose
 * events say what happened (docs/design.md §1.3). Settings are the defaults; only the herd differs.
 */
import { type HerdConfig, makeConfig } from '../model/config.ts';
import type { Cause, StepEvent, StepEventType } from '../model/events.ts';
import { type HerderState, initialHerderState, step } from '../model/herder.ts';
import { Action, type AoMessage, type OutMessage, Reason } from '../model/messages.ts';
import {
  type AdminOp,
  CLIENTS,
  OWNER,
  type PaymentKind,
  TOKEN,
  type TraceEvent,
} from '../verify/scenario.ts';
import { DEFAULT_CAST, World } from '../verify/world.ts';

type Client = (typeof CLIENTS)[number];

/** One line of a script: what the herder's surroundings do next. */
export type ScriptStep =
  /**
   * A client pays through the token for `tokens` tokens on a prompt of `words` words: the fee
   * (`exact`), the fee plus `extra` (`overpaid`), twice the fee (`double`) or less (`underpaid`).
   */
  | {
      readonly pay: Client;
      readonly amount: Exclude<PaymentKind, 'huge' | 'oversized'>;
      readonly extra?: number;
      readonly words: number;
      readonly tokens: number;
      readonly reference?: boolean;
    }
  /** The worker answers (or reports an Inference-Error for) the last Inference it was sent. */
  | { readonly answer: string; readonly ok: boolean }
  /** The worker reports Worker-Error (`error`) or Worker-Initialized. */
  | { readonly report: string; readonly error: boolean }
  | { readonly owner: typeof Action.AddWorker | typeof Action.RemoveWorker; readonly worker: string }
  /**
   * Nobody says anything until the earliest running deadline, or the earliest queue-wait bound,
   * has passed; AO's Cron tick then reaches the herder.
   */
  | { readonly wait: 'deadline' | 'queue-wait' };

/** An event type with its cause, e.g. `retried/deadline`. */
export type EventKind = `${StepEventType}/${Cause}`;

export interface Scenario {
  readonly key: string;
  readonly title: string;
  /** What it shows, in a sentence. */
  readonly summary: string;
  /** The herd at start (the settings are the defaults). */
  readonly workers: readonly string[];
  readonly script: readonly ScriptStep[];
  /** Events it exists to show: running it fails when the model no longer reports one of them. */
  readonly shows: readonly EventKind[];
}

/** The event that ends an accepted request: its answer or its refund. */
export function isEnd(event: StepEvent): event is Extract<StepEvent, { type: 'answered' | 'refunded' }> {
  return event.type === 'answered' || event.type === 'refunded';
}

export function eventKind(event: StepEvent): EventKind {
  return `${event.type}/${event.cause}`;
}

const [A, B, C] = CLIENTS;

export const SCENARIOS: readonly Scenario[] = [
  {
    key: 'paid-and-answered',
    title: 'Paid and answered',
    summary:
      'A payment above the fee is accepted, goes straight to the idle worker, and its answer is forwarded to the payer.',
    workers: ['W1'],
    script: [
      { pay: A, amount: 'overpaid', extra: 30, words: 4, tokens: 8, reference: true },
      { answer: 'W1', ok: true },
    ],
    shows: [
      'accepted/Credit-Notice',
      'queued/Credit-Notice',
      'dispatched/dispatch',
      'answered/Inference-Response',
    ],
  },
  {
    key: 'outbid',
    title: 'Outbid: a higher payer overtakes',
    summary:
      'While the only worker is busy, a payment of twice the fee arrives after one of exactly the fee: ' +
      'it is served first, the earlier one next.',
    workers: ['W1'],
    script: [
      { pay: A, amount: 'exact', words: 3, tokens: 4 },
      { pay: B, amount: 'exact', words: 3, tokens: 4 },
      { pay: C, amount: 'double', words: 3, tokens: 4 },
      { answer: 'W1', ok: true },
      { answer: 'W1', ok: true },
      { answer: 'W1', ok: true },
    ],
    shows: ['queued/Credit-Notice', 'dispatched/dispatch', 'answered/Inference-Response'],
  },
  {
    key: 'underpaid',
    title: 'Underpaid: refused on arrival',
    summary:
      'A payment one unit below the fee is returned whole at once, with the fee it needed; it never enters the queue.',
    workers: ['W1'],
    script: [{ pay: A, amount: 'underpaid', words: 4, tokens: 8, reference: true }],
    shows: ['refused/Credit-Notice'],
  },
  {
    key: 'error-retried',
    title: 'Worker error, retried on another worker, answered',
    summary:
      'The first worker reports an Inference-Error: the request waits again at its arrival place and goes ' +
      'to a worker it has not failed on, which answers.',
    workers: ['W1', 'W2'],
    script: [
      { pay: A, amount: 'exact', words: 4, tokens: 8 },
      { answer: 'W1', ok: false },
      { answer: 'W2', ok: true },
    ],
    shows: ['retried/Inference-Error', 'dispatched/dispatch', 'answered/Inference-Response'],
  },
  {
    key: 'silent-worker',
    title: 'Worker silent past its deadline: retried, then refunded after the last attempt',
    summary:
      'Every worker stays silent: each missed deadline times its worker out and retries the request, ' +
      'until the last attempt ends in a refund. The first worker’s late answer is then dropped, and ' +
      'that worker is idle again.',
    workers: ['W1', 'W2', 'W3'],
    script: [
      { pay: A, amount: 'exact', words: 4, tokens: 8, reference: true },
      { wait: 'deadline' },
      { wait: 'deadline' },
      { wait: 'deadline' },
      { answer: 'W1', ok: true },
    ],
    shows: ['worker/deadline', 'retried/deadline', 'refunded/deadline', 'worker/Inference-Response'],
  },
  {
    key: 'every-attempt-fails',
    title: 'Every attempt fails, whatever the way: refunded',
    summary:
      'An error, a missed deadline and another error each count as one attempt; after the last one the ' +
      'payment is returned whole, with the last failure as the reason.',
    workers: ['W1', 'W2', 'W3'],
    script: [
      { pay: A, amount: 'exact', words: 4, tokens: 8 },
      { answer: 'W1', ok: false },
      { wait: 'deadline' },
      { answer: 'W3', ok: false },
    ],
    shows: ['retried/Inference-Error', 'retried/deadline', 'refunded/Inference-Error'],
  },
  {
    key: 'flaky-worker',
    title: 'A worker that keeps failing: refunded, then removed by the owner',
    summary:
      'The only worker reports Worker-Error while it holds the request, twice recovers with ' +
      'Worker-Initialized and gets the request again, fails a third time, and the request is refunded; ' +
      'the owner then removes the worker.',
    workers: ['W1'],
    script: [
      { pay: A, amount: 'exact', words: 4, tokens: 8 },
      { report: 'W1', error: true },
      { report: 'W1', error: false },
      { report: 'W1', error: true },
      { report: 'W1', error: false },
      { report: 'W1', error: true },
      { owner: Action.RemoveWorker, worker: 'W1' },
    ],
    shows: [
      'worker/Worker-Error',
      'retried/Worker-Error',
      'worker/Worker-Initialized',
      'refunded/Worker-Error',
      'worker/Remove-Worker',
    ],
  },
  {
    key: 'initialisation-failed',
    title: 'Worker initialisation failed: no work until Worker-Initialized',
    summary:
      'A worker whose model did not load reports Worker-Error before the owner adds it: it joins failed, ' +
      'and a request waits rather than go to it, until it reports Worker-Initialized.',
    workers: ['W1'],
    script: [
      { report: 'W2', error: true },
      { owner: Action.AddWorker, worker: 'W2' },
      { pay: A, amount: 'exact', words: 4, tokens: 8 },
      { pay: B, amount: 'exact', words: 4, tokens: 8 },
      { report: 'W2', error: false },
      { answer: 'W1', ok: true },
      { answer: 'W2', ok: true },
    ],
    shows: ['worker/Add-Worker', 'worker/Worker-Initialized', 'dispatched/dispatch'],
  },
  {
    key: 'queue-wait',
    title: `${Reason.QueueWait}: refunded`,
    summary:
      'The only worker has failed, so the request is never dispatched; once it has waited longer than ' +
      'maxQueueWait, the next message (a Cron tick) refunds it.',
    workers: ['W1'],
    script: [
      { report: 'W1', error: true },
      { pay: A, amount: 'exact', words: 4, tokens: 8, reference: true },
      { wait: 'queue-wait' },
    ],
    shows: ['worker/Worker-Error', 'queued/Credit-Notice', 'refunded/queue-wait'],
  },
];

/** Time between two scripted messages when nothing is awaited (ms). */
export const STEP_INTERVAL = 1_000;

export interface ScenarioStep {
  readonly msg: AoMessage;
  readonly events: readonly StepEvent[];
  readonly outbox: readonly OutMessage[];
}

export interface ScenarioRun {
  readonly scenario: Scenario;
  readonly config: HerdConfig;
  readonly steps: readonly ScenarioStep[];
}

function workerIndex(worker: string): number {
  const index = DEFAULT_CAST.workers.indexOf(worker);
  if (index < 0) throw new Error(`${worker} is not one of the trace world's workers`);
  return index;
}

/**
 * When the awaited deadline or queue-wait bound has passed: the herder expires a deadline or a
 * wait once its clock is past it. Read from the model's state, which holds the one computation of
 * each (docs/design.md §2.5, §2.7).
 */
function awaited(state: HerderState, what: 'deadline' | 'queue-wait'): number {
  const times: number[] = [];
  if (what === 'deadline') {
    for (const worker of state.herd.all()) if (worker.status === 'busy') times.push(worker.deadline);
  } else
    for (const record of state.requests.values())
      if (record.worker === undefined) times.push(record.waitUntil);
  if (times.length === 0) throw new Error(`nothing awaits a ${what}`);
  return Math.min(...times) + 1;
}

/** The trace event of a script step, and who must send its message with which Action. */
function traceEvent(
  line: ScriptStep,
  holding: readonly string[],
): { event: TraceEvent; from: string; action: string } {
  if ('pay' in line) {
    const event: TraceEvent = {
      kind: 'credit',
      client: CLIENTS.indexOf(line.pay),
      payment: line.amount,
      bump: line.extra ?? 0,
      prompt: 'words',
      words: line.words,
      tokens: 'valid',
      count: line.tokens,
      reference: line.reference ?? false,
      spoofed: false,
      noSender: false,
    };
    return { event, from: TOKEN, action: Action.CreditNotice };
  }
  if ('answer' in line) {
    // The world picks among the workers that hold an Inference, the longest-held first.
    const index = holding.indexOf(line.answer);
    if (index < 0) throw new Error(`${line.answer} holds no Inference to answer`);
    return {
      event: { kind: 'answer', worker: index, ok: line.ok, which: 'held', from: 'worker' },
      from: line.answer,
      action: line.ok ? Action.InferenceResponse : Action.InferenceError,
    };
  }
  if ('report' in line)
    return {
      event: { kind: 'worker-report', worker: workerIndex(line.report), error: line.error },
      from: line.report,
      action: line.error ? Action.WorkerError : Action.WorkerInitialized,
    };
  if ('owner' in line) {
    const worker = workerIndex(line.worker);
    const op: AdminOp =
      line.owner === Action.AddWorker
        ? { op: Action.AddWorker, worker }
        : { op: Action.RemoveWorker, worker };
    return { event: { kind: 'admin', byOwner: true, op }, from: OWNER, action: line.owner };
  }
  return { event: { kind: 'tick' }, from: OWNER, action: 'Cron' };
}

/**
 * Runs a scenario through the model. Throws when the script no longer means what it says (a
 * message the world could not build as written), when an accepted request is left without an
 * end, or when an event the scenario exists to show is missing.
 */
export function runScenario(scenario: Scenario): ScenarioRun {
  const config = makeConfig({ token: TOKEN, owner: OWNER, workers: [...scenario.workers] });
  const world = new World(config, DEFAULT_CAST);
  let state = initialHerderState(config);
  /** Workers holding an unanswered Inference, the longest-held first (what the world answers from). */
  let holding: string[] = [];
  const steps: ScenarioStep[] = [];
  for (const [n, line] of scenario.script.entries()) {
    const at = 'wait' in line ? awaited(state, line.wait) : world.clock + STEP_INTERVAL;
    const { event, from, action } = traceEvent(line, holding);
    const [msg, ...more] = world.messagesFor({ dt: at - world.clock, event });
    if (msg === undefined || more.length > 0 || msg.from !== from || msg.tags.Action !== action)
      throw new Error(`${scenario.key}, step ${n + 1}: expected ${action} from ${from}`);
    const result = step(state, msg);
    state = result.state;
    world.learn(msg, result.outbox);
    if ('answer' in line) holding = holding.filter((w) => w !== line.answer);
    for (const out of result.outbox)
      if (out.tags.Action === Action.Inference)
        holding = [...holding.filter((w) => w !== out.target), out.target];
    steps.push({ msg, events: result.events, outbox: result.outbox });
  }
  const events = steps.flatMap((s) => s.events);
  const open = events.flatMap((e) =>
    e.type === 'accepted' && !events.some((end) => isEnd(end) && end.request === e.request)
      ? [e.request]
      : [],
  );
  if (open.length > 0) throw new Error(`${scenario.key}: requests ${open.join(', ')} never end`);
  const seen = new Set(events.map(eventKind));
  const missing = scenario.shows.filter((kind) => !seen.has(kind));
  if (missing.length > 0) throw new Error(`${scenario.key} no longer shows ${missing.join(', ')}`);
  return { scenario, config, steps };
}
