/**
 * The SU's part of the local network: which pending message is delivered next (a {@link Picker}:
 * FIFO, a fixed list of choices, a fast-check scheduler, or a recorded order), what it is stamped
 * with on delivery (Timestamp, Block-Height, Nonce), and the cron ticks of processes spawned with
 * a `Cron-Interval`.
 *
 * `Nonce` is the process's slot number (spawn = 0); cron ticks come from the owner with
 * `Cron = true` and no Nonce, as a CU generates them. Time never goes backwards for a process.
 */
import type { VirtualClock } from './clock.ts';
import type { AoMessage } from './loader.ts';
import type { LogEntry } from './log.ts';
import type { PendingMessage } from './mu.ts';
import { type AoTag, MESSAGE_TAGS, tagValue, withDefaults } from './tags.ts';

// ---------------------------------------------------------------------------------------------
// Delivery order

/** Chooses which pending message is delivered next (an index into `pending`). */
export type Picker = (pending: readonly PendingMessage[]) => number | Promise<number>;

/** The part of `fc.Scheduler` used by {@link pickWithScheduler}. */
export interface SchedulerLike {
  schedule<T>(task: Promise<T>, label?: string): Promise<T>;
}

/** FIFO. */
export const fifo: Picker = () => 0;

/**
 * Delivery n picks `choices[n] % pending.length` (e.g. an `fc.array(fc.nat())`), FIFO once the
 * choices run out.
 */
export function pickByChoices(choices: readonly number[]): Picker {
  let n = 0;
  return (pending) => {
    const choice = choices[n];
    n += 1;
    return choice === undefined ? 0 : Math.abs(Math.trunc(choice)) % pending.length;
  };
}

/**
 * Lets a fast-check scheduler (`fc.scheduler()`) choose: every pending message becomes a
 * scheduled task and the first one the scheduler releases is delivered. Drive it with
 * `await s.waitFor(net.deliverAll({ pick: pickWithScheduler(s) }))`.
 */
export function pickWithScheduler(scheduler: SchedulerLike): Picker {
  return (pending) =>
    Promise.race(
      pending.map((m, i) =>
        scheduler.schedule(
          Promise.resolve(i),
          `${m.from.slice(0, 6)}→${m.target.slice(0, 6)} ${tagValue(m.tags, 'Action') ?? ''}`,
        ),
      ),
    );
}

/**
 * Replays a recorded delivery order: each step picks the pending message with the id of the next
 * queued delivery in `log` (the same seed and the same calls give the same ids). Throws if that
 * message is not pending, i.e. the run has diverged from the recording.
 */
export function pickInLogOrder(log: readonly LogEntry[]): Picker {
  const order = log.filter((e) => (e.kind === 'message' || e.kind === 'cron') && !e.direct).map((e) => e.id);
  let next = 0;
  return (pending) => {
    const id = order[next];
    if (id === undefined) throw new Error('pickInLogOrder: the recorded trace has no more deliveries');
    const index = pending.findIndex((p) => p.id === id);
    if (index < 0) throw new Error(`pickInLogOrder: diverged, ${id} is not pending at delivery ${next}`);
    next += 1;
    return index;
  };
}

/** Removes and returns the message `pick` chooses from a non-empty queue. */
export async function takeNext(queue: PendingMessage[], pick: Picker): Promise<PendingMessage> {
  const chosen = await pick(queue);
  if (!Number.isInteger(chosen) || chosen < 0 || chosen >= queue.length) {
    throw new Error(`picker returned ${chosen} for ${queue.length} pending messages`);
  }
  return queue.splice(chosen, 1)[0]!;
}

// ---------------------------------------------------------------------------------------------
// Stamping a delivery

/** What the scheduler remembers of a process between deliveries. */
export interface Slot {
  /** Next Nonce (slot) the scheduler assigns. */
  nonce: number;
  lastTimestamp: number;
  lastBlockHeight: number;
}

/**
 * The message a CU evaluates for a delivery: stamped with the clock's time (a cron tick: its
 * boundary time), never earlier than what the process last saw, and the next Nonce unless it is
 * a cron tick. Advances the process's slot.
 */
export function stamp(pending: PendingMessage, slot: Slot, clock: VirtualClock): AoMessage {
  const cron = pending.kind === 'cron';
  const timestamp = Math.max(cron && pending.at !== undefined ? pending.at : clock.now, slot.lastTimestamp);
  const blockHeight = Math.max(clock.blockHeightAt(timestamp), slot.lastBlockHeight);
  const msg: AoMessage = {
    Id: pending.id,
    Target: pending.target,
    Owner: pending.owner,
    From: pending.from,
    Tags: pending.tags as AoTag[],
    Data: pending.data,
    Timestamp: timestamp,
    'Block-Height': blockHeight,
    Cron: cron,
  };
  if (pending.anchor !== undefined) msg.Anchor = pending.anchor;
  if (!cron) {
    msg.Nonce = slot.nonce;
    msg.Epoch = 0;
    slot.nonce += 1;
  }
  slot.lastTimestamp = timestamp;
  slot.lastBlockHeight = blockHeight;
  return msg;
}

// ---------------------------------------------------------------------------------------------
// Cron

const UNITS: Record<string, number> = {
  millisecond: 1,
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 604_800_000,
};

/** Parses a `Cron-Interval` value such as `1-minute`, `10-seconds`, `2-blocks`. */
function parseCronInterval(value: string, blockTimeMs: number): number | undefined {
  const match = /^\s*(\d+)\s*-\s*([a-z]+?)s?\s*$/i.exec(value);
  if (!match) return undefined;
  const count = Number(match[1]);
  const unit = match[2]!.toLowerCase();
  const ms = unit === 'block' ? blockTimeMs : UNITS[unit];
  if (!ms || count <= 0) return undefined;
  return count * ms;
}

/** A process's cron: the tags of its ticks and, with a `Cron-Interval`, when the next is due. */
export interface CronSchedule {
  /** `Cron-Tag-<Name>` spawn tags as `<Name>` (default `Action=Cron`). */
  readonly tags: readonly AoTag[];
  readonly intervalMs?: number;
  nextAt?: number;
}

/** The cron of a process spawned at `now` with these tags; throws on an unreadable interval. */
export function cronSchedule(spawnTags: readonly AoTag[], now: number, blockTimeMs: number): CronSchedule {
  const tags: AoTag[] = [];
  for (const t of spawnTags) {
    if (t.name.toLowerCase().startsWith('cron-tag-')) {
      tags.push({ name: t.name.slice('cron-tag-'.length), value: t.value });
    }
  }
  const intervalTag = tagValue(spawnTags, 'Cron-Interval');
  const intervalMs = intervalTag === undefined ? undefined : parseCronInterval(intervalTag, blockTimeMs);
  if (intervalTag !== undefined && intervalMs === undefined) {
    throw new Error(`spawn: cannot parse Cron-Interval '${intervalTag}'`);
  }
  return {
    tags: tags.length > 0 ? tags : [{ name: 'Action', value: 'Cron' }],
    ...(intervalMs !== undefined ? { intervalMs, nextAt: now + intervalMs } : {}),
  };
}

/** The boundary times of the ticks due by `now`, oldest first; moves `nextAt` past them. */
export function dueTicks(cron: CronSchedule, now: number, pid: string): number[] {
  if (cron.intervalMs === undefined || cron.nextAt === undefined) return [];
  const ticks = Math.floor((now - cron.nextAt) / cron.intervalMs) + 1;
  if (ticks > 10_000) {
    throw new Error(`advanceTime: ${ticks} cron ticks for ${pid}; advance in smaller steps`);
  }
  const due: number[] = [];
  while (cron.nextAt <= now) {
    due.push(cron.nextAt);
    cron.nextAt += cron.intervalMs;
  }
  return due;
}

/** A cron tick for `pid` (From = Owner = the process owner), due `at` or, without it, now. */
export function cronTick(
  id: string,
  pid: string,
  owner: string,
  cron: CronSchedule,
  at?: number,
): PendingMessage {
  return {
    id,
    kind: 'cron',
    from: owner,
    owner,
    target: pid,
    tags: withDefaults(cron.tags, MESSAGE_TAGS),
    data: '',
    ...(at !== undefined ? { at } : {}),
  };
}
