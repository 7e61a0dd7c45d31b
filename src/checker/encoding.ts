/**
 * The compact canonical encoding of an explored node, and its 64-bit fingerprint.
 *
 * A normalized node (abstraction.ts) is written as a few dozen 32-bit words that name what the
 * herder's behaviour depends on: pause, the clock's place among the timers, credits sent, the
 * withdrawable revenue (when the owner may withdraw); the requests in arrival order (renamed by
 * rank): multiplier, place (the rank of its queue-wait deadline while waiting, or the worker
 * holding it), attempts, the workers tried, overtakes; each worker's status, drain flag, request
 * and deadline rank, and, when timed out, the request a late answer must name; the idle order;
 * the workers out of the herd remembered as failed. The running totals of the books are left out:
 * nothing the herder decides reads them (their balance is checked on every transition).
 *
 * What the herder will never read again is left out too (`relevant`, the default), as the checker's
 * surroundings are (environment.ts; no event changes the settings):
 * - a request on its last attempt and running never waits again: it ends when its worker answers,
 *   fails or times out. The workers it tried and its overtakes are not written, and it is named
 *   by the worker holding it (its payment level, in that worker's words) rather than by its place
 *   in arrival order, which only the queue reads;
 * - the request a timed-out worker was last given is read only when an answer comes from that
 *   worker, and only late or forged answers do: without those it is not written;
 * - a timed-out worker and a failed one differ only there and when the owner removes them (a
 *   failed worker is remembered as unready): without late or forged answers and removals, both
 *   wait for Worker-Initialized alike (and Worker-Error leaves either failed), and a timed-out
 *   worker is written as failed;
 * - a request's overtakes are read only while a later arrival may still overtake it, which takes
 *   a higher payment ({@link NodeEncoder.markOvertakable}); otherwise they are not written;
 * - the workers a request tried change where it is dispatched only with more than two attempts
 *   ({@link NodeEncoder.triedRead}): with fewer they are not written;
 * - a timer set at `now` ties with one the herder sets next only while the clock stands at `now`:
 *   once it has moved on, such timers are written by their rank like the others;
 * - the timers the clock has passed all fire at the herder's next message, before it is handled;
 *   the order among them changes only the order of the refunds they send in that step (no
 *   invariant reads it), so they are written as passed, the others by rank among the rest; and a
 *   request whose queue wait has passed is refunded then, so only its payment is written.
 * test/checker/quotient.test.ts checks that states with equal words have successors with equal
 * words, the same findings and the same messages sent (in any order), event for event, over the
 * first states of small spaces and random walks deep into them.
 *
 * Symmetry reduction: the workers are interchangeable (they differ only in their names, which
 * the herder never compares but for equality), so states that differ only by a renaming of
 * workers behave alike, renamed. With `symmetry`, the encoding names a state's orbit under
 * renaming: every relation that involves a worker (the request it holds, its place in the idle
 * order, the requests that tried it or name it as their holder, whether it is remembered as
 * failed) is written into a signature of that worker, and the signatures are written sorted. Two
 * workers with equal signatures are interchangeable in that state (swapping them changes
 * nothing), so the order among them does not matter and the encoding is canonical; such twins
 * also have events that lead alike, of which the explorer steps only the first twin's
 * (`twinOf`, explore.ts). Clients need
 * no reduction: every credit comes from a fresh payer, and no word names a payer or a request id.
 *
 * Fingerprints are two 32-bit hashes of the words (64 bits): with n distinct states the chance
 * that two share one is about n² / 2^65 (below 10^-6 for 6 million states).
 */
import type { Multiplier } from '../model/fees.ts';
import type { WorkerRecord } from '../model/herd.ts';
import type { HerderState, RequestRecord } from '../model/herder.ts';
import { type Clockwork, eachTimer, type Node } from './environment.ts';

/** What an encoding needs to know besides the node. */
export interface EncodingContext {
  /** Every worker id that may be in the herd, in a fixed order. */
  readonly workers: readonly string[];
  /**
   * Credits the token delivers in total (a node counts those sent): while some remain, a later
   * arrival may pay any level.
   */
  readonly requests: number;
  /**
   * Whether the owner may pause, resume, add and remove workers and withdraw revenue: only then is
   * the withdrawable revenue written, and a timed-out worker told apart from a failed one.
   */
  readonly ownerActions: boolean;
  /** The payment levels the bounds allow (their index is their code in every thread). */
  readonly levels: readonly Multiplier[];
  /** Workers renamed into a canonical order (symmetry reduction). */
  readonly symmetry: boolean;
  /**
   * Whether an answer can come from a timed-out worker (late or forged answers): only then is the
   * request it was last given read.
   */
  readonly answersWhenTimedOut: boolean;
  /** Only what the herder can still read (see above); `false` writes every field (for tests). */
  readonly relevant?: boolean;
}

/** A worker status as a number (a switch: a keyed lookup by string costs more per encoding). */
function statusCode(status: WorkerRecord['status']): number {
  switch (status) {
    case 'idle':
      return 0;
    case 'busy':
      return 1;
    case 'timed-out':
      return 2;
    case 'failed':
      return 3;
  }
}
/** Words per worker signature. */
const SIGNATURE = 8;
/** The code of a deadline set at `now` (exactly one timeout ahead), tying with every other such one. */
const TIE = -2;
/** The code of a timer the clock has passed (it fires at the herder's next message). */
const PASSED = -3;
/** Codes from here down: the request a worker holds is on its last run, at level LAST_RUN - code. */
const LAST_RUN = -16;

/**
 * Writes nodes as words and fingerprints them. One per thread: it reuses its buffers, so each
 * result is valid until the next call.
 */
export class NodeEncoder {
  /** The words of the last node encoded: `words[0..length)`. */
  words = new Int32Array(256);
  length = 0;
  /** The fingerprint of the last node fingerprinted (never zero). */
  hi = 0;
  lo = 0;
  /**
   * With symmetry: how many states the orbit of the last node encoded holds (n! over the
   * renamings that leave it unchanged); 1 without.
   */
  orbit = 1;

  private readonly times = new Float64Array(64);
  private timeCount = 0;
  /** How many of `times` the clock has passed, when they are written as {@link PASSED}. */
  private passed = 0;
  /** Timers before this the clock has passed (when they are written as passed). */
  private passedUntil = Number.NEGATIVE_INFINITY;
  /** The live requests named by rank, in arrival order: the first `rankCount`. */
  private readonly ranked: RequestRecord[] = [];
  private rankCount = 0;
  /** The live requests on their last run, named by their holders, each with its code: the first `lastRunCount`. */
  private readonly lastRunIds: string[] = [];
  private readonly lastRunCodes: number[] = [];
  private lastRunCount = 0;
  /** Per live request in arrival order: whether its overtakes are read, its level (-1: none), whether it may wait again. */
  private readonly overtakable: boolean[] = [];
  private readonly arrivalLevels: number[] = [];
  private readonly mayWait: boolean[] = [];
  /** The idle workers in their order, written by the herd (the first of them: see `idleInto`). */
  private readonly idle: WorkerRecord[] = [];
  private readonly n: number;
  private readonly signatures: Int32Array;
  private readonly order: number[];
  private readonly factorial: number[] = [1];
  private readonly relevant: boolean;
  /** Whether the request a timed-out worker was last given is written. */
  private readonly lastRequests: boolean;
  /**
   * Whether a request on its last run is named by its holder (not when a timed-out worker's last
   * request is written, which names requests by rank).
   */
  private readonly namesByHolder: boolean;
  /** Whether a timed-out worker is written as failed (nothing can tell them apart). */
  private readonly timedOutAsFailed: boolean;

  constructor(
    private readonly context: EncodingContext,
    private readonly clock: Clockwork,
  ) {
    this.n = context.workers.length;
    this.relevant = context.relevant ?? true;
    this.lastRequests = context.answersWhenTimedOut || !this.relevant;
    this.namesByHolder = this.relevant && !this.lastRequests;
    this.timedOutAsFailed = this.namesByHolder && !context.ownerActions;
    this.signatures = new Int32Array(this.n * SIGNATURE);
    this.statusCodes = new Int32Array(this.n);
    this.order = Array.from({ length: this.n }, (_, i) => i);
    for (let k = 1; k <= this.n; k++) this.factorial.push(this.factorial[k - 1]! * k);
  }

  /** Encodes `node` and computes its fingerprint into `hi` and `lo`. */
  fingerprint(node: Node): this {
    this.encode(node);
    const { words, length } = this;
    let a = 0x9747b28c;
    let b = 0x85ebca6b ^ length;
    for (let i = 0; i < length; i++) {
      let k = Math.imul(words[i]!, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, 0x1b873593);
      a ^= k;
      a = (a << 13) | (a >>> 19);
      a = (Math.imul(a, 5) + 0xe6546b64) | 0;
      b = Math.imul(b ^ words[i]!, 0x01000193) + i;
      b ^= b >>> 15;
      b = Math.imul(b, 0x2c1b3c6d);
    }
    this.hi = finalMix(a ^ length) | 1;
    this.lo = finalMix(b) | 1;
    return this;
  }

  /** The words of `node` as a string: equal for two nodes exactly when their encodings are. */
  key(node: Node): string {
    this.encode(node);
    return this.words.subarray(0, this.length).join(',');
  }

  /** Writes `node` into `words[0..length)`. */
  encode(node: Node): void {
    const { state } = node;
    const { workers, symmetry } = this.context;
    this.length = 0;
    this.orbit = 1;
    this.collectTimes(state);
    const tie = state.now + this.clock.timeout;
    this.push(state.paused ? 1 : 0);
    this.push(this.clockCode(node, tie));
    // Once the clock has moved on, a timer set from then on is later than every live one: which
    // of them were set at `now` is read no more, and they are written by rank.
    const tieCode = this.relevant && node.clock !== state.now ? Number.NaN : tie;
    this.push(node.sent);
    this.push(state.requests.size);
    this.push(state.herd.size);
    this.push(state.unready.length > 0 ? 1 : 0);
    if (this.context.ownerActions) this.pushAmount(state.ledger.revenue - state.ledger.withdrawn);

    const bounded = state.config.maxOvertakes !== null;
    this.readLevels(state);
    if (bounded) this.markOvertakable(node);
    const triedRead = this.triedRead(state);
    this.rankCount = 0;
    this.lastRunCount = 0;
    let arrival = -1;
    for (const r of state.requests.values()) {
      arrival++;
      if (this.namesByHolder && onLastRun(state, r)) {
        this.lastRunIds[this.lastRunCount] = r.id;
        this.lastRunCodes[this.lastRunCount++] = LAST_RUN - this.arrivalLevels[arrival]!;
        continue;
      }
      this.ranked[this.rankCount++] = r;
      this.pushMultiplier(r.multiplier, this.arrivalLevels[arrival]!);
      if (state.queue.isWaiting(r)) {
        this.push(0);
        this.push(this.timeCode(r.waitUntil, tieCode));
        // Refunded at the next message, before it is handled: only its payment is read again.
        if (this.waitPassed(state, r)) continue;
      } else if (r.worker === undefined) {
        this.push(2);
        this.push(0);
      } else {
        this.push(1);
        const w = workers.indexOf(r.worker);
        // Renamed: which worker holds it is written in that worker's signature.
        this.push(symmetry ? (w < 0 ? -1 : 0) : w);
      }
      this.push(r.attempts);
      const again = this.mayRunAgain(state, r);
      if (!symmetry && again && triedRead) {
        let tried = 0;
        for (const w of r.tried) tried |= 1 << workers.indexOf(w);
        this.push(tried);
      }
      if (bounded && (again || state.queue.isWaiting(r)) && this.overtakable[arrival])
        this.push(state.queue.overtakesOf(r));
    }
    if (symmetry) this.pushSignatures(state, tieCode, triedRead);
    else this.pushWorkers(state, tieCode);
  }

  /** Workers in their fixed order, then the idle order and the remembered failures by index. */
  private pushWorkers(state: HerderState, tie: number): void {
    const { workers } = this.context;
    for (const id of workers) {
      const worker = state.herd.get(id);
      if (worker === undefined) {
        this.push(-1);
        this.push(0);
        this.push(0);
        this.push(0);
        continue;
      }
      this.push(this.status(worker));
      if (worker.status === 'busy') {
        this.push(this.heldCode(worker.request));
        this.push(this.timeCode(worker.deadline, tie));
      } else {
        this.push(0);
        this.push(0);
      }
      this.push(worker.status === 'timed-out' && this.lastRequests ? this.rank(worker.lastRequest) : 0);
    }
    const idle = state.herd.idleInto(this.idle);
    this.push(idle);
    for (let i = 0; i < idle; i++) this.push(workers.indexOf(this.idle[i]!.id));
    let unready = 0;
    for (const id of state.unready) if (workers.includes(id)) unready |= 1 << workers.indexOf(id);
    this.push(unready);
  }

  /** One signature per worker (every relation it is part of), sorted; the orbit's size. */
  private pushSignatures(state: HerderState, tie: number, triedRead: boolean): void {
    const { workers } = this.context;
    const { n, signatures: sig, order } = this;
    for (let i = 0; i < sig.length; i++) sig[i] = 0;
    for (let w = 0; w < n; w++) {
      const at = w * SIGNATURE;
      const worker = state.herd.get(workers[w]!);
      sig[at + 4] = -1;
      if (worker === undefined) {
        sig[at] = -1;
        continue;
      }
      sig[at] = this.status(worker);
      if (worker.status === 'busy') {
        sig[at + 1] = this.heldCode(worker.request);
        sig[at + 2] = this.timeCode(worker.deadline, tie);
      }
      if (worker.status === 'timed-out' && this.lastRequests) sig[at + 3] = this.rank(worker.lastRequest);
    }
    const idle = state.herd.idleInto(this.idle);
    for (let position = 0; position < idle; position++)
      sig[workers.indexOf(this.idle[position]!.id) * SIGNATURE + 4] = position;
    for (let rank = 0; rank < this.rankCount; rank++) {
      const r = this.ranked[rank]!;
      if (triedRead && this.mayRunAgain(state, r) && !this.waitPassed(state, r))
        for (const id of r.tried) {
          const w = workers.indexOf(id);
          if (w >= 0) sig[w * SIGNATURE + 5]! |= 1 << rank;
        }
      if (r.worker !== undefined && !state.queue.isWaiting(r)) {
        const w = workers.indexOf(r.worker);
        if (w >= 0) sig[w * SIGNATURE + 6]! |= 1 << rank;
      }
    }
    for (const id of state.unready) {
      const w = workers.indexOf(id);
      if (w >= 0) sig[w * SIGNATURE + 7] = 1;
    }
    // Insertion sort of at most 8 signatures.
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = 1; i < n; i++) {
      const moving = order[i]!;
      let j = i - 1;
      while (j >= 0 && compareSignatures(sig, order[j]!, moving) > 0) {
        order[j + 1] = order[j]!;
        j--;
      }
      order[j + 1] = moving;
    }
    let orbit = this.factorial[n]!;
    let run = 1;
    this.reserve(n * SIGNATURE);
    const words = this.words;
    for (let i = 0; i < n; i++) {
      const at = order[i]! * SIGNATURE;
      for (let k = 0; k < SIGNATURE; k++) words[this.length++] = sig[at + k]!;
      if (i > 0 && compareSignatures(sig, order[i - 1]!, order[i]!) === 0) run++;
      else run = 1;
      orbit /= run;
    }
    this.orbit = orbit;
  }

  /**
   * After a node was encoded with symmetry, the first worker (by place in `workers`) whose
   * signature equals worker `w`'s: `w` itself when none before it has. Swapping two workers of
   * equal signatures leaves the state's name as it is, so an event of `w` leads to the orbit the
   * same event of its twin leads to. Without symmetry every worker is its own.
   */
  twinOf(w: number): number {
    if (!this.context.symmetry) return w;
    for (let v = 0; v < w; v++) if (compareSignatures(this.signatures, v, w) === 0) return v;
    return w;
  }

  /**
   * Whether `state` may have two workers that are twins, read without encoding it: twins share
   * their status word, and some workers have none: an idle one (its place in the idle order is its
   * own), and a busy one but when the request it holds is named by its holder (else the request's
   * rank, its own, is in the signature).
   */
  mayHaveTwins(state: HerderState): boolean {
    if (!this.context.symmetry) return false;
    const { workers } = this.context;
    const codes = this.statusCodes;
    for (let w = 0; w < this.n; w++) {
      const worker = state.herd.get(workers[w]!);
      const alone =
        worker !== undefined &&
        (worker.status === 'idle' || (worker.status === 'busy' && !this.namedByHolder(state, worker)));
      const code = worker === undefined ? -1 : alone ? -2 - w : this.status(worker);
      for (let v = 0; v < w; v++) if (codes[v] === code) return true;
      codes[w] = code;
    }
    return false;
  }

  private readonly statusCodes: Int32Array;

  /** Whether the request busy `worker` holds is named by its holder (see `encode`). */
  private namedByHolder(state: HerderState, worker: WorkerRecord): boolean {
    const held = worker.request === undefined ? undefined : state.requests.get(worker.request);
    return this.namesByHolder && held !== undefined && onLastRun(state, held);
  }

  /** A worker's status and drain flag as one word. */
  private status(worker: WorkerRecord): number {
    const status = worker.status === 'timed-out' && this.timedOutAsFailed ? 'failed' : worker.status;
    return statusCode(status) + (worker.draining ? 4 : 0);
  }

  /** Distinct times at which a timer fires, ascending, into `times[0..timeCount)`. */
  private collectTimes(state: HerderState): void {
    this.timeCount = 0;
    eachTimer(state, this.addTime);
  }

  private readonly addTime = (at: number): void => {
    const times = this.times;
    let i = this.timeCount;
    while (i > 0 && times[i - 1]! > at) i--;
    if (i > 0 && times[i - 1] === at) return;
    // A handful of times: shifted by hand (copyWithin is a call into the runtime).
    for (let j = this.timeCount; j > i; j--) times[j] = times[j - 1]!;
    times[i] = at;
    this.timeCount++;
  };

  /**
   * A timer by its rank among the live ones the clock has not passed, {@link PASSED} when it has,
   * or {@link TIE} when it was set at `now`.
   */
  private timeCode(at: number, tie: number): number {
    if (at === tie) return TIE;
    for (let i = 0; i < this.timeCount; i++)
      if (this.times[i] === at) return i < this.passed ? PASSED : i - this.passed;
    return -1;
  }

  /**
   * The clock's place: at the herder's `now` (0), a little later (1), or past one timer or more
   * (2; the timers' codes say which). Sets `passed`. Writing every field, past the k-th (1 + k).
   */
  private clockCode(node: Node, tie: number): number {
    this.passed = 0;
    this.passedUntil = Number.NEGATIVE_INFINITY;
    if (node.clock === node.state.now) return 0;
    let passed = 0;
    let ties = false;
    for (let i = 0; i < this.timeCount; i++) {
      const at = this.times[i]!;
      if (at < node.clock) passed++;
      if (at === tie) ties = true;
    }
    if (passed === 0) return ties ? 1 : 0;
    if (!this.relevant) return 1 + passed;
    this.passed = passed;
    this.passedUntil = node.clock;
    return 2;
  }

  /**
   * Which live requests (by place in arrival order) a later arrival may still overtake, into
   * `overtakable`: only for those is the count of overtakes read. A request is overtaken when
   * one that arrived after it is dispatched while it waits, which takes a strictly higher
   * multiplier (among equals the earlier goes first, and a saturated request holds back only
   * later arrivals, which it beats anyway). So the later arrivals that count are the live ones
   * that may wait again and every credit still to come, at any level.
   */
  private markOvertakable(node: Node): void {
    const { state } = node;
    const { levels } = this.context;
    const { overtakable, arrivalLevels, mayWait } = this;
    let n = 0;
    for (const r of state.requests.values())
      mayWait[n++] = state.queue.isWaiting(r)
        ? !this.waitPassed(state, r)
        : r.attempts < state.config.maxAttempts;
    // The best level a later arrival may have: every level while credits remain to come.
    let best = node.sent < this.context.requests ? levels.length - 1 : -1;
    for (let i = n - 1; i >= 0; i--) {
      const level = arrivalLevels[i]!;
      // A multiplier at no level of the bounds: compared by no rule here, so always read.
      overtakable[i] = !this.relevant || level < 0 || best > level;
      if (mayWait[i]) best = Math.max(best, level < 0 ? Number.POSITIVE_INFINITY : level);
    }
  }

  /** The payment level of every live request, in arrival order, into `arrivalLevels` (-1: none). */
  private readLevels(state: HerderState): void {
    let n = 0;
    for (const r of state.requests.values()) {
      // A request keeps its multiplier object as states are restored and rebuilt, so its level is
      // found by that object after the first time (comparing amounts takes bigint comparisons).
      let level = this.levelsMet.get(r.multiplier);
      if (level === undefined) {
        level = levelOf(this.context.levels, r.multiplier);
        if (this.levelsMet.size >= 4096) this.levelsMet.clear();
        this.levelsMet.set(r.multiplier, level);
      }
      this.arrivalLevels[n++] = level;
    }
  }

  /** Levels of the multipliers met so far, by object (see `readLevels`). */
  private readonly levelsMet = new Map<Multiplier, number>();

  /** Whether `r` waits and the clock has passed its queue-wait deadline (written as passed). */
  private waitPassed(state: HerderState, r: RequestRecord): boolean {
    return r.waitUntil < this.passedUntil && state.queue.isWaiting(r);
  }

  /**
   * Whether `r` may wait and be dispatched again: only then are the workers it tried (which a
   * dispatch avoids) and, while it runs, its overtakes read.
   */
  private mayRunAgain(state: HerderState, r: RequestRecord): boolean {
    return r.attempts < state.config.maxAttempts || !this.relevant;
  }

  /**
   * Whether the workers a request tried can change where it goes. A dispatch avoids them only by
   * taking a later idle worker instead of an earlier one. A request waits only while no worker is
   * idle, and a step frees or adds at most one worker (at the back of the idle order), so a
   * request that waited has one idle worker to go to. With at most two attempts, the one worker a
   * request tried before its retry is the one it ran on, idle then only when freed in that step,
   * at the back. A dispatch then always takes the first idle worker.
   */
  private triedRead(state: HerderState): boolean {
    return !this.relevant || state.config.maxAttempts > 2;
  }

  /** The request a busy worker holds: its rank, or the code of one on its last run. */
  private heldCode(id: string | undefined): number {
    for (let i = 0; i < this.lastRunCount; i++) if (this.lastRunIds[i] === id) return this.lastRunCodes[i]!;
    return this.rank(id);
  }

  /** Rank of a live request by id (-1: none, or one that has ended). */
  private rank(id: string | undefined): number {
    if (id === undefined) return -1;
    for (let i = 0; i < this.rankCount; i++) if (this.ranked[i]!.id === id) return i;
    return -1;
  }

  /** A multiplier by its `level` (read by {@link levelOf}), or as its exact fraction when at none. */
  private pushMultiplier(m: Multiplier, level: number): void {
    if (level >= 0) {
      this.push(level);
      return;
    }
    // Not a level of the bounds: the exact fraction, character by character.
    const exact = `${m.paid}/${m.needed}`;
    this.push(-1 - exact.length);
    for (let i = 0; i < exact.length; i++) this.push(exact.charCodeAt(i));
  }

  /** An exact amount: small ones as one word, others as their decimal digits. */
  private pushAmount(amount: bigint): void {
    if (amount >= 0n && amount < 0x7fffffffn) {
      this.push(Number(amount));
      return;
    }
    const digits = amount.toString();
    this.push(-1 - digits.length);
    for (let i = 0; i < digits.length; i++) this.push(digits.charCodeAt(i));
  }

  private push(word: number): void {
    if (this.length === this.words.length) this.reserve(1);
    this.words[this.length++] = word;
  }

  /** Makes room for `count` more words. */
  private reserve(count: number): void {
    if (this.length + count <= this.words.length) return;
    const grown = new Int32Array(Math.max(2 * this.words.length, this.length + count));
    grown.set(this.words);
    this.words = grown;
  }
}

/**
 * The payment level whose multiplier `m` is (-1: none): the level's own object (a rebuilt
 * request shares it) or an equal fraction.
 */
export function levelOf(levels: readonly Multiplier[], m: Multiplier): number {
  for (let i = 0; i < levels.length; i++) if (levels[i] === m) return i;
  for (let i = 0; i < levels.length; i++)
    if (levels[i]!.paid === m.paid && levels[i]!.needed === m.needed) return i;
  return -1;
}

/**
 * Whether `r` is on its last attempt and running on the worker that holds it: it never waits
 * again, and is named by that worker.
 */
function onLastRun(state: HerderState, r: RequestRecord): boolean {
  if (r.attempts < state.config.maxAttempts || r.worker === undefined || state.queue.isWaiting(r))
    return false;
  const holder = state.herd.get(r.worker);
  return holder?.status === 'busy' && holder.request === r.id;
}

function compareSignatures(sig: Int32Array, a: number, b: number): number {
  const x = a * SIGNATURE;
  const y = b * SIGNATURE;
  for (let k = 0; k < SIGNATURE; k++) {
    const d = sig[x + k]! - sig[y + k]!;
    if (d !== 0) return d;
  }
  return 0;
}

function finalMix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
