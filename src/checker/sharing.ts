/**
 * Work sharing within a layer of the parallel checker. Threads start a layer with frontiers of
 * about equal size (the coordinator balances them), yet finish it apart: states differ in cost,
 * and so does each thread's speed from minute to minute. A thread that has expanded its own
 * states asks one still expanding for some; that one, between two states, hands over half of
 * those it has not begun, packed (frontier.ts), and goes on. The taker expands them as its own.
 *
 * The handshake is one word per thread, changed only by compare-and-swap, and one reply word
 * per thread, in shared memory (`words`: statuses, then replies):
 * - a thread's status is `WORKING` while it may be asked (it is expanding, and will look at the
 *   word after its next state), `IDLE` once it may not (it has nothing left, or is itself
 *   asking), or `ASKED + t` while thread `t` waits for its answer;
 * - a taker marks a `WORKING` thread `ASKED + itself` (never an `IDLE` one), then waits on its own
 *   reply word; the asked thread posts the states through the port between the two (before it
 *   writes the reply, so that the taker can receive them at once), sets itself `WORKING` again and
 *   writes the reply: `NOTHING`, or `NOTHING` + the number of states it posted;
 * - a thread goes `IDLE` by compare-and-swap from `WORKING` only, answering first whoever asked.
 * A waiting taker is `IDLE`, so two takers never wait on each other, and an asked thread always
 * answers: it is `WORKING`, so it either expands a state and looks, or goes `IDLE`, which makes it
 * answer. The coordinator sets every word back to 0 (`WORKING`, no reply) before each layer.
 */
import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';

const WORKING = 0;
const IDLE = 1;
const ASKED = 2;
/** A reply: nothing given. `NOTHING + k`: `k` states posted. */
const NOTHING = 1;
/** Fewer states left than this are not worth a move (it costs about as much as expanding one or two). */
const LEAST = 2;

/** The words of the handshake for `threads` threads, in shared memory. */
export function sharingWords(threads: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(2 * threads * Int32Array.BYTES_PER_ELEMENT));
}

/** Every thread `WORKING`, no reply: the state before a layer. */
export function resetSharing(words: Int32Array): void {
  for (let i = 0; i < words.length; i++) Atomics.store(words, i, 0);
}

/** What a thread's frontier offers to sharing: how many states it has not begun, and taking some. */
export interface Shareable<Moved> {
  /** States not yet begun (the last ones of the frontier). */
  readonly left: number;
  /** Takes the last `count` states out. */
  take(count: number): Moved;
}

export class WorkSharing<Moved> {
  private readonly threads: number;

  constructor(
    private readonly words: Int32Array,
    private readonly self: number,
    /** The port to each other thread (none to itself). */
    private readonly ports: readonly (MessagePort | undefined)[],
    /** The buffers of moved states, transferred rather than copied when posted. */
    private readonly buffers: (moved: Moved) => ArrayBuffer[],
  ) {
    this.threads = words.length / 2;
  }

  /**
   * Between two states: when a thread has asked, hands it half of the states `frontier` has not
   * begun (nothing when `keep`, a run that is stopping, or too few are left).
   */
  serve(frontier: Shareable<Moved>, keep = false): void {
    const status = Atomics.load(this.words, this.self);
    if (status < ASKED) return;
    const taker = status - ASKED;
    const count = keep ? 0 : Math.floor(frontier.left / 2);
    let reply = NOTHING;
    if (count >= LEAST) {
      const moved = frontier.take(count);
      this.ports[taker]!.postMessage(moved, this.buffers(moved));
      reply = NOTHING + count;
    }
    Atomics.store(this.words, this.self, WORKING);
    Atomics.store(this.words, this.threads + taker, reply);
    Atomics.notify(this.words, this.threads + taker);
  }

  /**
   * Once `frontier` is expanded: stops being asked (answering whoever asked), then asks the other
   * threads in turn for states. Returns what one gave (this thread may be asked again while it
   * expands them), or undefined when none had any to give.
   */
  takeMore(frontier: Shareable<Moved>, keep = false): Moved | undefined {
    while (Atomics.compareExchange(this.words, this.self, WORKING, IDLE) !== WORKING)
      this.serve(frontier, keep);
    if (keep) return undefined;
    for (let k = 1; k < this.threads; k++) {
      const giver = (this.self + k) % this.threads;
      if (Atomics.compareExchange(this.words, giver, WORKING, ASKED + this.self) !== WORKING) continue;
      const replyAt = this.threads + this.self;
      Atomics.wait(this.words, replyAt, 0);
      const reply = Atomics.exchange(this.words, replyAt, 0);
      if (reply === NOTHING) continue;
      const received = receiveMessageOnPort(this.ports[giver]!);
      if (received === undefined) throw new Error(`thread ${giver} gave states that did not arrive`);
      Atomics.store(this.words, this.self, WORKING);
      return received.message as Moved;
    }
    return undefined;
  }
}
