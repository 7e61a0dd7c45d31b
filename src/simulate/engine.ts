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
import { type HerderState, initialHerderState, stepInPlace } from '../model/herder.ts';
import { Action, type AoMessage, type OutMessage } from '../model/messages.ts';
import { EventKind, EventQueue } from './events.ts';
import { Inbox } from './inbox.ts';
import { describePayment, type SimulationOptions, simulationProblems } from './options.ts';
import { ANSWERED, type ClassOutcome, classOutcomes, REFUNDED, RequestLog } from './outcomes.ts';
import { Payments } from './payments.ts';
import { PromptBook } from './prompts.ts';
import { Random, sampleInt } from './random.ts';
import { type QueueSample, round, Sampler, sortNumbers } from './stats.ts';

export const SIM_TOKEN = 'TOKEN';
export const SIM_OWNER = 'OWNER';

export interface ClassResult extends ClassOutcome {
  readonly name: string;
  /** The payment rule, e.g. "2×" or "last+5% (≤10×)". */
  readonly pays: string;
  /** Share of arrivals asked for. */
  readonly share: number;
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
  if (!sorted) sortNumbers(times);
  return times;
}

/** The herder's configuration for a simulation with `workers` generated worker ids. */
export function simulatedConfig(o: SimulationOptions): HerdConfig {
  const width = String(o.workers).length;
  const workers = Array.from({ length: o.workers }, (_, i) => `W${String(i + 1).padStart(width, '0')}`);
  return makeConfig({ ...o.herd, token: SIM_TOKEN, owner: SIM_OWNER, workers });
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

  const book = new PromptBook(config.maxPromptBytes);
  const maxWords = book.maxWords;
  if (maxWords < 1) throw new Error('maxPromptBytes is too small for a one-word prompt');
  const payments = new Payments(config, o.classes, book, state);
  const tokenText: string[] = [];
  const inbox = new Inbox(SIM_TOKEN, SIM_OWNER);

  const log = new RequestLog(N, classCount);
  const { requestClass, firstDispatch, endedAt, outcome, attempts, overtakesByClass } = log;
  const requestTokens = log.tokens;
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
  const { msPerToken, overheadMs, jitter, failRate, timeoutRate, recoverMs } = o.worker;
  const silentBelow = failRate + timeoutRate;

  const sampler = new Sampler(origin, Math.max(1, Math.ceil((N / o.rate) * 1000) / 400));
  let maxWaiting = 0;
  let waitingArea = 0;
  let lastAreaTime = origin;

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

  /** The herder sent Inference: the worker's fate and its answer's time are drawn now. */
  const dispatched = (out: OutMessage, t: number): void => {
    const requestId = out.tags['X-Request']!;
    const r = idNumber(requestId);
    const w = idNumber(out.target) - 1;
    if (workerRequestId[w] !== '') throw new Error(`worker ${out.target} was sent work while still working`);
    if (firstDispatch[r]! < 0) firstDispatch[r] = t;
    attempts[r]!++;
    const cls = requestClass[r]!;
    const record = state.requests.get(requestId);
    if (record !== undefined && record.overtakes > overtakesByClass[cls]!)
      overtakesByClass[cls] = record.overtakes;
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
      // Silent until `recoverMs` after the deadline the herder has just set for this request.
      silentNow++;
      events.push(state.herd.get(out.target)!.deadline + recoverMs, EventKind.LateResponse, w);
    } else {
      busyNow++;
      events.push(t + duration, EventKind.Response, w);
    }
  };

  /** The herder answered or refunded request `r`. */
  const ends = (r: number, how: number, t: number): void => {
    if (outcome[r] !== 0) throw new Error(`request c${r} ended twice`);
    outcome[r] = how;
    endedAt[r] = t;
    ended++;
    lastEnd = t;
  };

  const handleOutbox = (outbox: readonly OutMessage[], t: number): void => {
    for (let k = 0; k < outbox.length; k++) {
      const out = outbox[k]!;
      const action = out.tags.Action;
      if (action === Action.Inference) dispatched(out, t);
      else if (action === Action.InferenceResponse) ends(idNumber(out.tags['X-Request']!), ANSWERED, t);
      else if (action === Action.Transfer) {
        const requestId = out.tags['X-Request'];
        if (requestId === undefined) continue;
        ends(idNumber(requestId), REFUNDED, t);
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
      payments.quote(cls, tokens, words);
      log.multiplierPaid[r] = payments.multiplier;
      let tokensText = tokenText[tokens];
      if (tokensText === undefined) {
        tokensText = String(tokens);
        tokenText[tokens] = tokensText;
      }
      msg = inbox.credit(
        `c${r}`,
        timestamp,
        clients[cls]!,
        payments.quantity,
        book.prompt(words),
        tokensText,
      );
    } else {
      const kind = events.peekKind();
      const w = events.peekSubject();
      events.pop();
      if (kind === EventKind.Cron) {
        msg = inbox.cron(`t${++ticks}`, timestamp);
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
            ? inbox.error(`a${++answers}`, from, timestamp, requestId)
            : inbox.answer(`a${++answers}`, from, timestamp, requestId);
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
  const answered = log.count(ANSWERED);
  const outcomes = classOutcomes(o.classes, log, arrivals);
  const classes = o.classes.map(
    (c, i): ClassResult => ({
      name: c.name,
      pays: describePayment(c.pays),
      share: round(c.share / shareTotal),
      ...outcomes.classes[i]!,
    }),
  );

  return {
    seed: o.seed,
    requests: N,
    workers: W,
    rate: round(o.rate),
    // One arrival spans no time: its rate is the one asked for.
    offeredRate: N === 1 ? round(o.rate) : round(N / (Math.max(1, arrivals[N - 1]! - origin) / 1000)),
    simulatedSeconds: round(span / 1000),
    throughput: round(answered / (span / 1000)),
    answered,
    refunded: log.count(REFUNDED),
    utilisation: round(busyMs / (W * span)),
    unavailable: round(silentMs / (W * span)),
    maxOvertakes: log.maxOvertakes,
    overtakeBound: config.maxOvertakes,
    classes,
    overall: { name: 'all', pays: 'any', share: 1, ...outcomes.overall },
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
