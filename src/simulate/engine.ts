/**
 * Discrete-event simulation of one herd over the pure model: a single herder state stepped in
 * place (`stepInPlace`), simulated clients and workers around it, no WebAssembly.
 *
 * Clients' Credit-Notices arrive from a seeded arrival process; whenever the herder sends
 * Inference, the simulated worker's answer (Inference-Response or Inference-Error) is scheduled,
 * or the worker goes silent and comes back only after the herder's deadline has fired, which it
 * does on a later message or Cron tick. The herder's outbox is the only source of truth for what
 * happened to a request: the Inference-Response it forwards or the refund it sends.
 */
import { type HerdConfig, makeConfig } from '../model/config.ts';
import { formatMultiplier, type Multiplier } from '../model/fees.ts';
import { type HerderState, initialHerderState, stepInPlace } from '../model/herder.ts';
import { Action, type AoMessage, type OutMessage } from '../model/messages.ts';
import { EventKind, EventQueue } from './events.ts';
import {
  describePayment,
  paymentRatios,
  type Ratio,
  type SimulationOptions,
  simulationProblems,
} from './options.ts';
import { Random, sampleInt } from './random.ts';
import { cdfPoints, type Percentiles, percentiles, type QueueSample, round, Sampler } from './stats.ts';

export const SIM_TOKEN = 'TOKEN';
export const SIM_OWNER = 'OWNER';

export interface ClassResult {
  readonly name: string;
  /** The payment rule, e.g. "2×" or "last+5% (≤10×)". */
  readonly pays: string;
  /** Share of arrivals asked for. */
  readonly share: number;
  readonly requests: number;
  readonly answered: number;
  readonly refunded: number;
  /** Mean priority multiplier actually paid (paid / needed). */
  readonly meanMultiplier: number;
  /** Arrival → first dispatch, for every dispatched request (s). */
  readonly queueing: Percentiles;
  /** Arrival → answer forwarded, for answered requests (s). */
  readonly total: Percentiles;
  /** Requests dispatched more than once (after an error or timeout). */
  readonly retried: number;
  /** Largest number of times one of its requests was overtaken while waiting. */
  readonly maxOvertakes: number;
  /** Cumulative distribution of total latency, for charts. */
  readonly cdf: { seconds: number; fraction: number }[];
}

export interface SimulationResult {
  readonly seed: number;
  readonly requests: number;
  readonly workers: number;
  /** Steady arrival rate (req/s), and the arrival rate actually simulated (bursts included). */
  readonly rate: number;
  readonly offeredRate: number;
  /** First arrival to last outcome (s of simulated time). */
  readonly simulatedSeconds: number;
  /** Answers forwarded per simulated second. */
  readonly throughput: number;
  readonly answered: number;
  readonly refunded: number;
  /** Share of worker time spent generating (answers and failed attempts). */
  readonly utilisation: number;
  /** Share of worker time lost to silent workers (from the request they dropped until they answer again). */
  readonly unavailable: number;
  /** Largest overtaking count of any request, and the configured bound (null = unbounded). */
  readonly maxOvertakes: number;
  readonly overtakeBound: number | null;
  readonly classes: readonly ClassResult[];
  readonly overall: ClassResult;
  /** Exact amounts from the herder's ledger (token units). */
  readonly revenue: bigint;
  readonly refundedAmount: bigint;
  readonly escrowLeft: bigint;
  /** Refunds by reason (the X-Reason without its attempt count). */
  readonly refundReasons: Record<string, number>;
  readonly queue: {
    readonly maxWaiting: number;
    readonly meanWaiting: number;
    readonly samples: QueueSample[];
  };
  /** Messages the herder handled. */
  readonly messages: number;
  /** Wall-clock time of the run (ms); the only field that differs between runs of one seed. */
  readonly wallMs: number;
}

export interface SimulationHooks {
  /** Called now and then with the number of requests ended so far. */
  onProgress?(ended: number, total: number): void;
  /**
   * Called after every herder step with the message handled and what the herder sent (for
   * tests that pin a run message by message). Both may be reused once the call returns.
   */
  onStep?(msg: AoMessage, outbox: readonly OutMessage[]): void;
}

const ANSWERED = 1;
const REFUNDED = 2;
const STEADY_STREAM = 1;
const BURST_STREAM = 2;
const REQUEST_STREAM = 3;
const WORKER_STREAM = 4;

/** Arrival times (ms from 0), sorted: Poisson arrivals plus optional bursts. */
export function arrivalTimes(o: SimulationOptions): Float64Array {
  const steady = Random.stream(o.seed, STEADY_STREAM);
  const bursty = Random.stream(o.seed, BURST_STREAM);
  const times = new Float64Array(o.requests);
  const gap = 1000 / o.rate;
  const { everySeconds, size, spreadMs } = o.bursts;
  const bursts = everySeconds > 0 && size > 0;
  let nextSteady = steady.exponential(gap);
  let nextBurst = bursts ? bursty.exponential(everySeconds * 1000) : Number.POSITIVE_INFINITY;
  let sorted = true;
  for (let i = 0; i < times.length; ) {
    if (nextBurst < nextSteady) {
      for (let k = 0; k < size && i < times.length; k++) times[i++] = nextBurst + bursty.uniform() * spreadMs;
      nextBurst += bursty.exponential(everySeconds * 1000);
      sorted = false;
    } else {
      times[i++] = nextSteady;
      nextSteady += steady.exponential(gap);
    }
  }
  if (!sorted) times.sort();
  return times;
}

/** The herder's configuration for a simulation with `workers` generated worker ids. */
export function simulatedConfig(o: SimulationOptions): HerdConfig {
  const width = String(o.workers).length;
  const workers = Array.from({ length: o.workers }, (_, i) => `W${String(i + 1).padStart(width, '0')}`);
  return makeConfig({ ...o.herd, token: SIM_TOKEN, owner: SIM_OWNER, workers });
}

/**
 * Prompts by word count, as prefixes of one long text: building a Credit-Notice copies no text,
 * and a prompt of n words is made once, when first drawn.
 */
class PromptBook {
  private readonly text: string;
  /** End offset of the n-th word's prompt (index 0 unused). */
  private readonly ends: number[] = [0];
  private readonly made: string[] = [];

  constructor(maxPromptBytes: number) {
    const vocabulary = ['tell', 'me', 'a', 'story', 'about', 'the', 'llamas', 'of', 'high', 'andes'];
    const limit = Math.min(maxPromptBytes, 1 << 20);
    const parts: string[] = [];
    let length = -1;
    for (let n = 0; ; n++) {
      const word = vocabulary[n % vocabulary.length]!;
      if (length + 1 + word.length > limit) break;
      length += 1 + word.length;
      parts.push(word);
      this.ends.push(length);
    }
    this.text = parts.join(' ');
  }

  /** The longest prompt, in words, that fits maxPromptBytes. */
  get maxWords(): number {
    return this.ends.length - 1;
  }

  prompt(words: number): string {
    let text = this.made[words];
    if (text === undefined) {
      text = this.text.slice(0, this.ends[words]);
      this.made[words] = text;
    }
    return text;
  }
}

/**
 * The number after the one-letter prefix of a simulated id (no string allocation): the request
 * of a Credit-Notice id `c<number>`, or the worker of an id `W<number>` (counted from 1).
 */
function idNumber(id: string): number {
  let n = 0;
  for (let i = 1; i < id.length; i++) n = n * 10 + id.charCodeAt(i) - 48;
  return n;
}

/** A multiplier as decimal text ("1.333333") back to an exact ratio. */
function ratioOfDecimal(text: string): Ratio {
  const dot = text.indexOf('.');
  if (dot < 0) return { num: BigInt(text), den: 1n };
  const fraction = text.slice(dot + 1);
  return { num: BigInt(text.slice(0, dot) + fraction), den: 10n ** BigInt(fraction.length) };
}

/** Runs one simulation to the end: every request answered or refunded. */
export function runSimulation(o: SimulationOptions, hooks: SimulationHooks = {}): SimulationResult {
  const problems = simulationProblems(o);
  if (problems.length > 0) throw new Error(`cannot simulate: ${problems.join('; ')}`);
  const started = performance.now();
  const config = simulatedConfig(o);
  const state: HerderState = initialHerderState(config);
  const N = o.requests;
  const W = o.workers;
  const requestRandom = Random.stream(o.seed, REQUEST_STREAM);
  const workerRandom = Random.stream(o.seed, WORKER_STREAM);
  const arrivals = arrivalTimes(o);
  const origin = arrivals[0]!;

  // Clients: one sender per class; shares as cumulative thresholds.
  const classCount = o.classes.length;
  const clients = o.classes.map((c) => `CLIENT-${c.name}`);
  const shareTotal = o.classes.reduce((sum, c) => sum + c.share, 0);
  const thresholds = new Float64Array(classCount);
  let cumulative = 0;
  o.classes.forEach((c, i) => {
    cumulative += c.share / shareTotal;
    thresholds[i] = cumulative;
  });
  thresholds[classCount - 1] = 2;
  const rules = o.classes.map((c) => paymentRatios(c.pays));
  // Fixed payers' multiplier for reporting (0 = computed per request); rounding up is ignored here.
  const fixedMultiplier = rules.map((r) =>
    r.multiplier ? Number(r.multiplier.num) / Number(r.multiplier.den) : 0,
  );

  // Fees by (tokens + words): `needed` and, for fixed payers, the Quantity text, computed once.
  const book = new PromptBook(config.maxPromptBytes);
  const maxWords = book.maxWords;
  if (maxWords < 1) throw new Error('maxPromptBytes is too small for a one-word prompt');
  const maxUnits = config.maxTokens + maxWords + 1;
  const neededByUnits: bigint[] = new Array(maxUnits);
  const fixedQuantity: (string | undefined)[][] = rules.map(() => new Array(maxUnits));
  const tokenText: string[] = [];

  // Per-request records (typed arrays: no object per request on the simulator's side).
  const requestClass = new Uint8Array(N);
  const requestTokens = new Int32Array(N);
  const multiplierPaid = new Float64Array(N);
  const firstDispatch = new Float64Array(N).fill(-1);
  const endedAt = new Float64Array(N);
  const outcome = new Uint8Array(N);
  const attempts = new Uint8Array(N);
  const overtakesByClass = new Int32Array(classCount);
  const refundReasons: Record<string, number> = {};

  // Workers.
  const workerRequestId: string[] = new Array(W).fill('');
  const jobStart = new Float64Array(W);
  let busyNow = 0;
  let silentNow = 0;
  let busyMs = 0;
  let silentMs = 0;

  const events = new EventQueue(Math.max(1024, 2 * W + 8));
  const cronMs = o.cronMs;
  events.push(origin + cronMs, EventKind.Cron, -1);
  const deadlineBase = config.timeoutBase;
  const deadlinePerToken = config.timeoutPerToken;
  const { msPerToken, overheadMs, jitter, failRate, timeoutRate, recoverMs } = o.worker;
  const silentBelow = failRate + timeoutRate;

  const sampler = new Sampler(origin, Math.max(1, Math.ceil((N / o.rate) * 1000) / 400));
  let maxWaiting = 0;
  let waitingArea = 0;
  let lastAreaTime = origin;

  let lastMultiplierSeen: Multiplier | undefined;
  let lastRatio: Ratio = { num: 1n, den: 1n };

  let nextArrival = 0;
  let ended = 0;
  let messages = 0;
  let answers = 0;
  let ticks = 0;
  let lastEnd = origin;
  const progressEvery = 1 << 14;
  let nextProgress = progressEvery;
  const onProgress = hooks.onProgress;
  const onStep = hooks.onStep;

  const neededFor = (units: number): bigint => {
    let needed = neededByUnits[units];
    if (needed === undefined) {
      needed = config.baseFee + config.tokenFee * BigInt(units);
      neededByUnits[units] = needed;
    }
    return needed;
  };
  const tokensText = (tokens: number): string => {
    let text = tokenText[tokens];
    if (text === undefined) {
      text = String(tokens);
      tokenText[tokens] = text;
    }
    return text;
  };

  const quantityFor = (cls: number, units: number): string => {
    const rule = rules[cls]!;
    const needed = neededFor(units);
    if (rule.multiplier !== undefined) {
      const cached = fixedQuantity[cls]![units];
      if (cached !== undefined) return cached;
      const { num, den } = rule.multiplier;
      const text = ((needed * num + den - 1n) / den).toString();
      fixedQuantity[cls]![units] = text;
      return text;
    }
    // The original client: Info's Last-Multiplier, bumped when the queue is not empty, capped.
    const last = state.lastMultiplier;
    if (last !== lastMultiplierSeen) {
      lastMultiplierSeen = last;
      lastRatio = last === undefined ? { num: 1n, den: 1n } : ratioOfDecimal(formatMultiplier(last));
    }
    let num = lastRatio.num;
    let den = lastRatio.den;
    if (state.queue.length > 0) {
      num *= rule.bump!.num;
      den *= rule.bump!.den;
    }
    const cap = rule.cap!;
    if (num * cap.den > cap.num * den) {
      num = cap.num;
      den = cap.den;
    }
    if (num < den) {
      num = 1n;
      den = 1n;
    }
    return ((needed * num + den - 1n) / den).toString();
  };

  const handleOutbox = (outbox: OutMessage[], t: number): void => {
    for (let k = 0; k < outbox.length; k++) {
      const out = outbox[k]!;
      const action = out.tags.Action;
      if (action === Action.Inference) {
        const requestId = out.tags['X-Request']!;
        const r = idNumber(requestId);
        const w = idNumber(out.target) - 1;
        if (workerRequestId[w] !== '')
          throw new Error(`worker ${out.target} was sent work while still working`);
        if (firstDispatch[r]! < 0) firstDispatch[r] = t;
        attempts[r]!++;
        const record = state.requests.get(requestId);
        if (record !== undefined && record.overtakes > overtakesByClass[requestClass[r]!]!)
          overtakesByClass[requestClass[r]!] = record.overtakes;
        workerRequestId[w] = requestId;
        jobStart[w] = t;
        const tokens = requestTokens[r]!;
        const fate = workerRandom.uniform();
        const scale = 1 + jitter * (2 * workerRandom.uniform() - 1);
        const duration = (overheadMs + tokens * msPerToken) * scale;
        if (fate < failRate) {
          busyNow++;
          events.push(t + duration * workerRandom.uniform(), EventKind.Error, w);
        } else if (fate < silentBelow) {
          silentNow++;
          events.push(
            Math.floor(t) + deadlineBase + deadlinePerToken * tokens + recoverMs,
            EventKind.LateResponse,
            w,
          );
        } else {
          busyNow++;
          events.push(t + duration, EventKind.Response, w);
        }
      } else if (action === Action.InferenceResponse) {
        const r = idNumber(out.tags['X-Request']!);
        if (outcome[r] !== 0) throw new Error(`request c${r} ended twice`);
        outcome[r] = ANSWERED;
        endedAt[r] = t;
        ended++;
        lastEnd = t;
      } else if (action === Action.Transfer) {
        const requestId = out.tags['X-Request'];
        if (requestId === undefined) continue;
        const r = idNumber(requestId);
        if (outcome[r] !== 0) throw new Error(`request ${requestId} ended twice`);
        outcome[r] = REFUNDED;
        endedAt[r] = t;
        ended++;
        lastEnd = t;
        const reason = (out.tags['X-Reason'] ?? '').replace(/ after [0-9]+ attempt\(s\)/, '');
        refundReasons[reason] = (refundReasons[reason] ?? 0) + 1;
      }
    }
  };

  while (ended < N) {
    const ta = nextArrival < N ? arrivals[nextArrival]! : Number.POSITIVE_INFINITY;
    const te = events.peekTime();
    const t = Math.min(ta, te);
    if (t === Number.POSITIVE_INFINITY)
      throw new Error('simulation stalled: requests left but nothing scheduled');

    // Queue-length samples and the time-weighted mean, before the state changes at t.
    const waiting = state.queue.length;
    waitingArea += waiting * (t - lastAreaTime);
    lastAreaTime = t;
    while (sampler.due(t)) sampler.take(waiting, busyNow, silentNow);

    let msg: AoMessage;
    const timestamp = Math.floor(t);
    if (ta <= te) {
      const r = nextArrival++;
      const u = requestRandom.uniform();
      let cls = 0;
      while (u >= thresholds[cls]!) cls++;
      const tokens = sampleInt(o.tokens, requestRandom, config.maxTokens);
      const words = sampleInt(o.promptWords, requestRandom, maxWords);
      requestClass[r] = cls;
      requestTokens[r] = tokens;
      const quantity = quantityFor(cls, tokens + words);
      multiplierPaid[r] =
        fixedMultiplier[cls]! > 0
          ? fixedMultiplier[cls]!
          : Number(quantity) / Number(neededFor(tokens + words));
      msg = {
        id: `c${r}`,
        from: SIM_TOKEN,
        timestamp,
        tags: {
          Action: Action.CreditNotice,
          Sender: clients[cls]!,
          Quantity: quantity,
          'X-Prompt': book.prompt(words),
          'X-Tokens': tokensText(tokens),
        },
      };
    } else {
      const kind = events.peekKind();
      const w = events.peekSubject();
      events.pop();
      if (kind === EventKind.Cron) {
        msg = { id: `t${++ticks}`, from: SIM_OWNER, timestamp, tags: { Action: 'Cron' } };
        events.push(t + cronMs, EventKind.Cron, -1);
      } else {
        const elapsed = t - jobStart[w]!;
        if (kind === EventKind.LateResponse) {
          silentNow--;
          silentMs += elapsed;
        } else {
          busyNow--;
          busyMs += elapsed;
        }
        const from = config.workers[w]!;
        const requestId = workerRequestId[w]!;
        workerRequestId[w] = '';
        msg =
          kind === EventKind.Error
            ? {
                id: `a${++answers}`,
                from,
                timestamp,
                tags: {
                  Action: Action.InferenceError,
                  'X-Request': requestId,
                  'X-Reason': 'simulated failure',
                },
              }
            : {
                id: `a${++answers}`,
                from,
                timestamp,
                tags: { Action: Action.InferenceResponse, 'X-Request': requestId },
                data: 'simulated answer',
              };
      }
    }
    messages++;
    const outbox = stepInPlace(state, msg);
    if (outbox.length > 0) handleOutbox(outbox, t);
    if (onStep !== undefined) onStep(msg, outbox);
    if (state.queue.length > maxWaiting) maxWaiting = state.queue.length;
    if (onProgress !== undefined && ended >= nextProgress) {
      nextProgress = ended + progressEvery;
      onProgress(ended, N);
    }
  }
  onProgress?.(ended, N);
  const span = Math.max(1, lastEnd - origin);

  return {
    seed: o.seed,
    requests: N,
    workers: W,
    rate: round(o.rate),
    // One arrival spans no time: its rate is the one asked for.
    offeredRate: N === 1 ? round(o.rate) : round(N / (Math.max(1, arrivals[N - 1]! - origin) / 1000)),
    simulatedSeconds: round(span / 1000),
    throughput: round(countOutcome(outcome, ANSWERED) / (span / 1000)),
    answered: countOutcome(outcome, ANSWERED),
    refunded: countOutcome(outcome, REFUNDED),
    utilisation: round(busyMs / (W * span)),
    unavailable: round(silentMs / (W * span)),
    maxOvertakes: Math.max(0, ...overtakesByClass),
    overtakeBound: config.maxOvertakes,
    ...classResults(o, {
      requestClass,
      arrivals,
      firstDispatch,
      endedAt,
      outcome,
      attempts,
      multiplierPaid,
      overtakesByClass,
    }),
    revenue: state.ledger.revenue,
    refundedAmount: state.ledger.refunded,
    escrowLeft: state.ledger.escrow,
    refundReasons,
    queue: {
      maxWaiting,
      meanWaiting: round(waitingArea / Math.max(1, lastAreaTime - origin)),
      samples: sampler.samples,
    },
    messages,
    wallMs: round(performance.now() - started),
  };
}

function countOutcome(outcome: Uint8Array, which: number): number {
  let n = 0;
  for (let i = 0; i < outcome.length; i++) if (outcome[i] === which) n++;
  return n;
}

interface RequestColumns {
  requestClass: Uint8Array;
  arrivals: Float64Array;
  firstDispatch: Float64Array;
  endedAt: Float64Array;
  outcome: Uint8Array;
  attempts: Uint8Array;
  multiplierPaid: Float64Array;
  overtakesByClass: Int32Array;
}

function classResults(
  o: SimulationOptions,
  columns: RequestColumns,
): { classes: ClassResult[]; overall: ClassResult } {
  const shareTotal = o.classes.reduce((sum, c) => sum + c.share, 0);
  const tallies = o.classes.map((_, i) => tally(columns, i));
  const classes = o.classes.map((c, i) =>
    summary(
      c.name,
      describePayment(c.pays),
      round(c.share / shareTotal),
      tallies[i]!,
      columns.overtakesByClass[i]!,
    ),
  );
  const overall: Tally = {
    requests: 0,
    answered: 0,
    refunded: 0,
    retried: 0,
    multiplierSum: 0,
    queueing: mergeSorted(tallies.map((t) => t.queueing)),
    total: mergeSorted(tallies.map((t) => t.total)),
  };
  for (const t of tallies) {
    overall.requests += t.requests;
    overall.answered += t.answered;
    overall.refunded += t.refunded;
    overall.retried += t.retried;
    overall.multiplierSum += t.multiplierSum;
  }
  return { classes, overall: summary('all', 'any', 1, overall, Math.max(0, ...columns.overtakesByClass)) };
}

/** What one class's requests came to; latencies (ms) sorted ascending. */
interface Tally {
  requests: number;
  answered: number;
  refunded: number;
  retried: number;
  multiplierSum: number;
  queueing: Float64Array;
  total: Float64Array;
}

function tally(columns: RequestColumns, cls: number): Tally {
  const { requestClass, arrivals, firstDispatch, endedAt, outcome, attempts, multiplierPaid } = columns;
  const t: Tally = {
    requests: 0,
    answered: 0,
    refunded: 0,
    retried: 0,
    multiplierSum: 0,
    queueing: new Float64Array(0),
    total: new Float64Array(0),
  };
  let dispatched = 0;
  for (let r = 0; r < requestClass.length; r++) {
    if (requestClass[r] !== cls) continue;
    t.requests++;
    t.multiplierSum += multiplierPaid[r]!;
    if (outcome[r] === ANSWERED) t.answered++;
    else if (outcome[r] === REFUNDED) t.refunded++;
    if (firstDispatch[r]! >= 0) dispatched++;
    if (attempts[r]! > 1) t.retried++;
  }
  t.queueing = new Float64Array(dispatched);
  t.total = new Float64Array(t.answered);
  let q = 0;
  let a = 0;
  for (let r = 0; r < requestClass.length; r++) {
    if (requestClass[r] !== cls) continue;
    if (firstDispatch[r]! >= 0) t.queueing[q++] = firstDispatch[r]! - arrivals[r]!;
    if (outcome[r] === ANSWERED) t.total[a++] = endedAt[r]! - arrivals[r]!;
  }
  t.queueing.sort();
  t.total.sort();
  return t;
}

function summary(name: string, pays: string, share: number, t: Tally, maxOvertakes: number): ClassResult {
  return {
    name,
    pays,
    share,
    requests: t.requests,
    answered: t.answered,
    refunded: t.refunded,
    meanMultiplier: round(t.requests === 0 ? 0 : t.multiplierSum / t.requests),
    queueing: percentiles(t.queueing),
    total: percentiles(t.total),
    retried: t.retried,
    maxOvertakes,
    cdf: cdfPoints(t.total),
  };
}

/** Merges ascending arrays into one ascending array. */
function mergeSorted(parts: Float64Array[]): Float64Array {
  let merged = new Float64Array(0);
  for (const part of parts) {
    const next = new Float64Array(merged.length + part.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < merged.length && j < part.length)
      next[k++] = merged[i]! <= part[j]! ? merged[i++]! : part[j++]!;
    while (i < merged.length) next[k++] = merged[i++]!;
    while (j < part.length) next[k++] = part[j++]!;
    merged = next;
  }
  return merged;
}
