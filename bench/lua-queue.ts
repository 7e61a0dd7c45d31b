/**
 * Cost of a Credit-Notice in a Lua herder inside aos (WASM) with 10 vs 10,000 requests queued:
 * the exported herder (segment-tree queue, O(log n)) and the fixture reproducing the original
 * (sorted-list insertion by linear scan, float multipliers). Two processes per herder, one per
 * queue size, and a fifth (the exported herder with a no-op handler, the floor under its figure),
 * all driven by direct handle() calls (lua-direct.ts) in turn with identical messages; medians of
 * the module's time are compared, within a herder (10^4 vs 10) and across them (exported vs
 * fixture at 10).
 */

import { readFileSync } from 'node:fs';
import { herderLua } from '../src/lua-export/herder.ts';
import { makeConfig } from '../src/model/config.ts';
import { ORIGINAL_TOKEN } from '../test/fixtures/original.ts';
import { bootDirect, type DirectProcess, median, quantile, TIMESTAMP } from './lua-direct.ts';

export interface QueueScalingResult {
  herder: 'exported' | 'original-fixture';
  smallQueue: number;
  largeQueue: number;
  smallMedianMs: number;
  largeMedianMs: number;
  /** largeMedianMs / smallMedianMs; the target for the exported herder is ≤ 2. */
  ratio: number;
  /** 10th percentiles: less moved than medians by a machine shared with other work. */
  smallP10Ms: number;
  largeP10Ms: number;
}

/**
 * Lua that fills the queue with `n` paid requests through the herder's own step function, at the
 * time the measured messages carry (earlier, they would all wait out maxQueueWait at the first).
 */
function preloadExported(n: number): string {
  return `for i = 1, ${n} do
  HerderStep({ Id = 'pre' .. i, From = '${ORIGINAL_TOKEN}', Timestamp = ${TIMESTAMP}, Tags = { Action = 'Credit-Notice',
    Quantity = tostring(1000 + (i * 7919) % 5000), Sender = 'CLIENT', ['X-Prompt'] = 'tell me a story', ['X-Tokens'] = '16' } })
end
return HerderState.queue.waiting`;
}

/** Lua that fills the fixture's list, kept in its order (highest multiplier first). */
function preloadOriginal(n: number): string {
  return `for i = 1, ${n} do
  local request = { id = 'pre' .. i, client = 'CLIENT', prompt = 'tell me a story', tokens = 16, multiplier = (1000 + (i * 7919) % 5000) / 300 }
  local position = #Queue + 1
  for j, queued in ipairs(Queue) do
    if queued.multiplier < request.multiplier then position = j break end
  end
  table.insert(Queue, position, request)
end
IdleWorkers = {}
return #Queue`;
}

/** `items` in an order fixed by `seed` (Fisher-Yates driven by a linear congruential generator). */
function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = (seed * 2_654_435_761 + 1) >>> 0;
  for (let k = out.length - 1; k > 0; k--) {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    const j = (state >>> 16) % (k + 1);
    [out[k], out[j]] = [out[j]!, out[k]!];
  }
  return out;
}

/**
 * What a message costs a process when the herder's handler does not run (an owner's Eval of
 * `return 1`), at `small` queued: aos collects all garbage after every message, so this is the
 * price of the herder's live heap (its code and state) alone. `dropped` is the exported herder
 * with its handler and globals removed after loading: its heap is an empty aos's again.
 */
export interface LiveHeapCost {
  exportedMs: number;
  originalMs: number;
  droppedMs: number;
  /** Lua heap after a full collection, KiB. */
  exportedHeapKiB: number;
  originalHeapKiB: number;
  droppedHeapKiB: number;
  /** exportedMs / originalMs and droppedMs / originalMs. */
  ratio: number;
  droppedRatio: number;
}

/**
 * The floor under the exported herder's figure at `small`: the same process with its handler
 * replaced by one that does nothing, taking the same notices in the same rounds. What it costs
 * over the fixture is the price of the herder's code and state alone (aos collects all garbage
 * after every message), which no work saved in the handler can take back.
 */
export interface NoopHandlerCost {
  ms: number;
  /** ms / the fixture's at `small`. */
  ratio: number;
}

/** Both herders measured in one run, interleaved, and the exported vs the fixture at `small`. */
export interface QueueComparison {
  exported: QueueScalingResult;
  original: QueueScalingResult;
  /** exported.smallMedianMs / original.smallMedianMs; the target is ≤ 1. */
  smallRatio: number;
  liveHeap: LiveHeapCost;
  /** The same herder with a no-op handler: the floor under `smallRatio`. */
  noop: NoopHandlerCost;
}

/** Lua that keeps the exported herder loaded but makes its handler do nothing. */
const NOOP_HANDLER = `Handlers.add('llama-herder', function(msg) return msg.Action ~= 'Eval' end, function() end)
return 'no-op'`;

/** Lua that removes the exported herder from a process: its handler and its globals. */
const DROP_HERDER = `Handlers.remove('llama-herder')
HerderState, HerderStep, HerderSummary, HerderBint = nil, nil, nil, nil
collectgarbage()
return 'dropped'`;

/**
 * A Credit-Notice's cost in each herder with `small` and `large` requests queued: four processes
 * (each herder at each size) take identical messages in turn, and each figure is the median of
 * the module's own handle() time, so that every process sees the same load.
 */
export async function benchmarkQueues(
  options: {
    small?: number;
    large?: number;
    samples?: number;
    /** The exported herder's Lua, to compare another version (default: this one's export). */
    lua?: string;
  } = {},
): Promise<QueueComparison> {
  const small = options.small ?? 10;
  const large = options.large ?? 10_000;
  const samples = options.samples ?? 60;
  // Both herders take their notices from the same token id (a real-length one: the fixture
  // hard-codes it), so that aos decodes the same bytes for each.
  const config = makeConfig({ token: ORIGINAL_TOKEN, owner: 'OWNER', workers: [] });
  const herders = [
    {
      herder: 'exported' as const,
      lua: options.lua ?? herderLua(config),
      preload: preloadExported,
    },
    {
      herder: 'original-fixture' as const,
      lua: readFileSync(new URL('../test/fixtures/original-herder.lua', import.meta.url), 'utf8'),
      preload: preloadOriginal,
    },
  ];
  const processes: { process: DirectProcess; times: number[]; evals: number[] }[] = [];
  let dropped: DirectProcess | undefined;
  let noopProcess: { process: DirectProcess; times: number[]; evals: number[] } | undefined;
  for (const h of herders) {
    const copies = await bootDirect({ boot: h.lua, owner: 'OWNER', name: `queue-${h.herder}`, copies: 4 });
    for (const [k, size] of [small, large].entries()) {
      await copies[k]!.eval(h.preload(size));
      processes.push({ process: copies[k]!, times: [], evals: [] });
    }
    if (h.herder === 'exported') {
      dropped = copies[2]!;
      await dropped.eval(DROP_HERDER);
      await copies[3]!.eval(h.preload(small));
      await copies[3]!.eval(NOOP_HANDLER);
      noopProcess = { process: copies[3]!, times: [], evals: [] };
    }
  }
  const floor = { process: dropped!, evals: [] as number[] };
  for (let i = 0; i < samples + 5; i++) {
    // Each round in its own order, so that each process follows every other about equally
    // often: in a fixed order, a process that always runs right after one with a large heap
    // always finds the caches cold.
    for (const p of shuffled([...processes, noopProcess!], i)) {
      const { ms } = await p.process.send(ORIGINAL_TOKEN, {
        Action: 'Credit-Notice',
        Quantity: String(1_000 + ((i * 104_729) % 5_000)),
        Sender: 'CLIENT',
        'X-Prompt': 'tell me a story',
        'X-Tokens': '16',
      });
      if (i >= 5) p.times.push(ms); // the first few warm up
    }
  }
  // Then, in rounds of their own (so as not to change what the queue figures measure), the live
  // heap's price: an Eval to each small-queue process and to the dropped one.
  for (let i = 0; i < samples + 5; i++) {
    for (const p of shuffled([processes[0]!, processes[2]!, floor], i)) {
      const { ms } = await p.process.send('OWNER', { Action: 'Eval' }, 'return 1');
      if (i >= 5) p.evals.push(ms);
    }
  }
  const result = (k: number): QueueScalingResult => {
    const smallMedianMs = median(processes[2 * k]!.times);
    const largeMedianMs = median(processes[2 * k + 1]!.times);
    return {
      herder: herders[k]!.herder,
      smallQueue: small,
      largeQueue: large,
      smallMedianMs,
      largeMedianMs,
      ratio: largeMedianMs / smallMedianMs,
      smallP10Ms: quantile(processes[2 * k]!.times, 0.1),
      largeP10Ms: quantile(processes[2 * k + 1]!.times, 0.1),
    };
  };
  const exported = result(0);
  const original = result(1);
  const originalMs = median(processes[2]!.evals);
  const liveHeap: LiveHeapCost = {
    exportedMs: median(processes[0]!.evals),
    originalMs,
    droppedMs: median(floor.evals),
    exportedHeapKiB: await processes[0]!.process.heapKiB(),
    originalHeapKiB: await processes[2]!.process.heapKiB(),
    droppedHeapKiB: await dropped!.heapKiB(),
    ratio: median(processes[0]!.evals) / originalMs,
    droppedRatio: median(floor.evals) / originalMs,
  };
  const noopMs = median(noopProcess!.times);
  return {
    exported,
    original,
    smallRatio: exported.smallMedianMs / original.smallMedianMs,
    liveHeap,
    noop: { ms: noopMs, ratio: noopMs / original.smallMedianMs },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await benchmarkQueues());
}
