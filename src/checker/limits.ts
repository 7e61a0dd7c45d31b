/**
 * When an exploration must stop short: the state cap, the time limit, and memory measured while
 * it runs (the process's resident set, which holds every thread's tables and frontiers, and the
 * JavaScript heap, which V8 would otherwise end with a fatal error and the whole run lost). The
 * result is then incomplete and says which limit stopped it.
 */
import { getHeapStatistics } from 'node:v8';

export type Limit = 'states' | 'time' | 'memory' | 'heap';

/** Share of V8's heap limit past which a run stops rather than risk dying for want of heap. */
const HEAP_SHARE = 0.9;
/** Memory is measured at most this often (reading it costs a system call). */
const SAMPLE_MS = 250;

export interface LimitOptions {
  /** Stop after about this many seconds. */
  readonly maxSeconds?: number;
  /** Stop once the process's resident memory reaches this many bytes. */
  readonly maxMemory?: number;
}

/** What memory looked like when a limit was reached. */
export interface MemoryReading {
  readonly resident: number;
  readonly heapUsed: number;
  readonly heapLimit: number;
}

export class RunLimits {
  /** The limit reached, once one is. */
  reached: Limit | undefined;
  /** Memory at the last reading. */
  memory: MemoryReading = { resident: 0, heapUsed: 0, heapLimit: 0 };
  private readonly stopAt: number;
  private nextSample = -Infinity;

  constructor(
    private readonly options: LimitOptions,
    started: number,
    private readonly readMemory: () => MemoryReading = currentMemory,
  ) {
    this.stopAt = options.maxSeconds === undefined ? Infinity : started + options.maxSeconds * 1000;
  }

  /** Whether a time or memory limit has been reached by `now` (performance.now()). */
  exceeded(now: number): boolean {
    if (this.reached !== undefined) return true;
    if (now > this.stopAt) this.reached = 'time';
    else if (now >= this.nextSample) {
      this.nextSample = now + SAMPLE_MS;
      const memory = this.readMemory();
      this.memory = memory;
      if (this.options.maxMemory !== undefined && memory.resident >= this.options.maxMemory)
        this.reached = 'memory';
      else if (memory.heapUsed >= HEAP_SHARE * memory.heapLimit) this.reached = 'heap';
    }
    return this.reached !== undefined;
  }
}

export function currentMemory(): MemoryReading {
  const heap = getHeapStatistics();
  return {
    resident: process.memoryUsage.rss(),
    heapUsed: heap.used_heap_size,
    heapLimit: heap.heap_size_limit,
  };
}

/** Why an incomplete run stopped, in words (`limit` undefined: a violation stopped it). */
export function describeLimit(
  limit: Limit,
  memory: MemoryReading,
  options: LimitOptions & { readonly maxStates?: number },
  heap = 'the JavaScript heap',
): string {
  const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  switch (limit) {
    case 'states':
      return `the state cap (${(options.maxStates ?? 0).toLocaleString('en-US')}) was reached`;
    case 'time':
      return `the time limit (${options.maxSeconds} s) was reached`;
    case 'memory':
      return `resident memory reached ${gib(memory.resident)}, the memory limit (${gib(options.maxMemory ?? 0)})`;
    case 'heap':
      return `${heap} reached ${gib(memory.heapUsed)} of its ${gib(memory.heapLimit)} limit`;
  }
}
