/**
 * Cost of a Credit-Notice in a Lua herder inside aos (WASM) with 10 vs 10,000 requests queued:
 * the exported herder (segment-tree queue, O(log n)) and the fixture reproducing the original
 * (sorted-list insertion by linear scan, float multipliers). Two processes per herder, one per
 * queue size, are measured alternately with identical messages; medians are compared.
 */

import { readFileSync } from 'node:fs';
import { LocalNetwork } from '../src/ao/network.ts';
import { herderLua } from '../src/lua-export/herder.ts';
import { makeConfig } from '../src/model/config.ts';
import { ORIGINAL_TOKEN } from '../test/fixtures/original.ts';

export interface QueueScalingResult {
  herder: 'exported' | 'original-fixture';
  smallQueue: number;
  largeQueue: number;
  smallMedianMs: number;
  largeMedianMs: number;
  /** largeMedianMs / smallMedianMs; the target for the exported herder is ≤ 2. */
  ratio: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

/** Lua that fills the queue with `n` paid requests through the herder's own step function. */
function preloadExported(n: number): string {
  return `for i = 1, ${n} do
  HerderStep({ Id = 'pre' .. i, From = 'TOKEN', Timestamp = 1, Tags = { Action = 'Credit-Notice',
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

export async function benchmarkQueueScaling(
  herder: 'exported' | 'original-fixture',
  options: { small?: number; large?: number; samples?: number } = {},
): Promise<QueueScalingResult> {
  const small = options.small ?? 10;
  const large = options.large ?? 10_000;
  const samples = options.samples ?? 60;
  const net = await LocalNetwork.create({ seed: `queue-${herder}` });
  const config = makeConfig({ token: 'TOKEN', owner: 'OWNER', workers: [] });
  const lua =
    herder === 'exported'
      ? herderLua(config)
      : readFileSync(new URL('../test/fixtures/original-herder.lua', import.meta.url), 'utf8');
  const preload = herder === 'exported' ? preloadExported : preloadOriginal;
  // The original-like fixture takes Credit-Notices only from the token id its source hard-codes.
  const token = herder === 'exported' ? 'TOKEN' : ORIGINAL_TOKEN;
  const pids: string[] = [];
  for (const size of [small, large]) {
    const pid = await net.spawn({ module: 'aos32', owner: 'OWNER', boot: lua });
    await net.eval(pid, preload(size));
    pids.push(pid);
  }
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < samples + 5; i++) {
    for (const [k, pid] of pids.entries()) {
      net.send({
        from: token,
        target: pid,
        tags: {
          Action: 'Credit-Notice',
          Quantity: String(1_000 + ((i * 104_729) % 5_000)),
          Sender: 'CLIENT',
          'X-Prompt': 'tell me a story',
          'X-Tokens': '16',
        },
      });
      const started = performance.now();
      await net.step();
      if (i >= 5) times[k]!.push(performance.now() - started); // the first few warm up
    }
  }
  net.close();
  const smallMedianMs = median(times[0]);
  const largeMedianMs = median(times[1]);
  return {
    herder,
    smallQueue: small,
    largeQueue: large,
    smallMedianMs,
    largeMedianMs,
    ratio: largeMedianMs / smallMedianMs,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await benchmarkQueueScaling('exported'));
  console.log(await benchmarkQueueScaling('original-fixture'));
}
