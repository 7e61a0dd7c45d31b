/**
 * The local network's virtual clock: milliseconds since the epoch, and the block height they
 * fall in (a fixed block time from a start height). Nothing reads the wall clock.
 */

export interface ClockOptions {
  /** Virtual clock start (ms since epoch). Default 2025-01-01T00:00:00Z. */
  startTime?: number;
  /** Block height at `startTime`. Default 1,580,000. */
  startBlockHeight?: number;
  /** Virtual block time. Default 120,000 ms. */
  blockTimeMs?: number;
}

export class VirtualClock {
  readonly startTime: number;
  readonly startBlockHeight: number;
  readonly blockTimeMs: number;
  /** Virtual time, ms. */
  now: number;

  constructor(options: ClockOptions = {}) {
    this.startTime = options.startTime ?? Date.UTC(2025, 0, 1);
    this.startBlockHeight = options.startBlockHeight ?? 1_580_000;
    this.blockTimeMs = options.blockTimeMs ?? 120_000;
    this.now = this.startTime;
  }

  /** The height of the block that `timestamp` falls in. */
  blockHeightAt(timestamp: number): number {
    return this.startBlockHeight + Math.floor((timestamp - this.startTime) / this.blockTimeMs);
  }

  get blockHeight(): number {
    return this.blockHeightAt(this.now);
  }
}
