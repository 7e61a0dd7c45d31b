/**
 * What the model checker explores: a small herd, a handful of paid requests, and which kinds of
 * trouble the surroundings may cause (worker failures, deadlines, late answers, forged messages,
 * owner actions). Every bound is small on purpose: the checker visits every reachable state.
 */
import { type HerdConfig, makeConfig } from '../model/config.ts';
import { neededFee } from '../model/fees.ts';

export interface CheckBounds {
  /** Workers in the herd (W1, W2, …), all registered at start. */
  readonly workers: number;
  /** Credit-Notices the token delivers for paying clients, in total. */
  readonly requests: number;
  /** Distinct payment levels: level k pays k times the fee (multiplier k). */
  readonly levels: number;
  /** Workers may answer Inference-Error, report Worker-Error, and report Worker-Initialized again. */
  readonly failures: boolean;
  /**
   * Time passes while requests run: deadlines expire; timed-out workers may report
   * Worker-Initialized. Without it workers answer in time, and time passes only while no request
   * runs (queue waits expire then).
   */
  readonly timeouts: boolean;
  /** A timed-out worker may still answer the request it was last given. */
  readonly lateAnswers: boolean;
  /**
   * Failed and timed-out workers may report Worker-Initialized again (default). Without it, a
   * worker that failed or missed a deadline never comes back.
   */
  readonly recovery: boolean;
  /** Forged messages: credits not from the token, answers not from the holding worker, admin by a stranger. */
  readonly spoofs: boolean;
  /** The token delivers a Credit-Notice again (same message id) while its request is live. */
  readonly duplicates: boolean;
  /** The owner may pause, resume, remove and re-add workers, and withdraw revenue. */
  readonly ownerActions: boolean;
  /** Some credits pay one unit less than the fee (refunded on arrival). */
  readonly underpaid: boolean;
  /** Payments far beyond 2^64 whose levels differ by single units (only exact arithmetic orders them). */
  readonly huge: boolean;
  /** The herd's overtaking bound (`null`: unbounded, pure priority). */
  readonly maxOvertakes: number | null;
  /** Dispatches a request gets before it is refunded. */
  readonly attempts: number;
}

export const DEFAULT_BOUNDS: CheckBounds = {
  workers: 2,
  requests: 3,
  levels: 2,
  failures: false,
  timeouts: false,
  lateAnswers: false,
  recovery: true,
  spoofs: false,
  duplicates: false,
  ownerActions: false,
  underpaid: false,
  huge: false,
  maxOvertakes: 1,
  attempts: 2,
};

export const TOKEN = 'TOKEN';
export const OWNER = 'OWNER';
export const STRANGER = 'MALLORY';
/** Every request asks for one token on a two-word prompt: they differ only in what they pay. */
export const PROMPT = 'hello llama';
export const TOKENS = 1;
/**
 * Deadline of a dispatch, and the queue-wait bound: now + TIMEOUT. Large, so that abstract time
 * points fit between.
 */
export const TIMEOUT = 1_000_000;
const TIMEOUT_PER_TOKEN = 1_000;

/** Problems with the bounds, for the CLI to report; empty when they are usable. */
export function boundsProblems(bounds: CheckBounds): string[] {
  const problems: string[] = [];
  const within = (name: string, value: number, min: number, max: number) => {
    if (!Number.isSafeInteger(value) || value < min || value > max)
      problems.push(`${name} must be an integer in [${min}, ${max}] (got ${value})`);
  };
  within('workers', bounds.workers, 1, 8);
  within('requests', bounds.requests, 0, 12);
  within('levels', bounds.levels, 1, 8);
  within('attempts', bounds.attempts, 1, 8);
  if (bounds.maxOvertakes !== null) within('max-overtakes', bounds.maxOvertakes, 0, 12);
  if (bounds.lateAnswers && !bounds.timeouts)
    problems.push('late answers need --timeouts (a worker is late only after its deadline passed)');
  return problems;
}

export function workerIds(bounds: CheckBounds): string[] {
  return Array.from({ length: bounds.workers }, (_, i) => `W${i + 1}`);
}

/** The herd configuration the checker runs the herder with. */
export function checkerConfig(bounds: CheckBounds): HerdConfig {
  return makeConfig({
    token: TOKEN,
    owner: OWNER,
    baseFee: 100n,
    tokenFee: 10n,
    maxTokens: 16,
    maxPromptBytes: 64,
    maxOvertakes: bounds.maxOvertakes,
    timeoutBase: TIMEOUT - TIMEOUT_PER_TOKEN * TOKENS,
    timeoutPerToken: TIMEOUT_PER_TOKEN,
    maxAttempts: bounds.attempts,
    // The queue-wait bound equals the dispatch timeout: every timer the herder sets at a moment
    // then runs the same length, so the order of timers is their order of setting (abstraction.ts).
    maxQueueWait: TIMEOUT,
    workers: workerIds(bounds),
  });
}

/** What a credit of `level` pays (level 0: one unit short of the fee). */
export function payment(bounds: CheckBounds, config: HerdConfig, level: number): bigint {
  const needed = neededFee(config, TOKENS, PROMPT);
  if (level === 0) return needed - 1n;
  return bounds.huge ? needed * (1n << 70n) + BigInt(level) : needed * BigInt(level);
}
