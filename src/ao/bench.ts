/**
 * Per-message cost of the local network vs a bare ao-loader call on the same simple message.
 *
 * The network side spawns a process with a `Ping` handler (counts, replies to the sender) and
 * times `net.send(...)` + `net.step()` for wallet → process `Action=Ping` messages (id
 * generation, relay, guards, journal, checkpoints, log). After each step, a bare ao-loader
 * instance (one persistent instance, `handle(null, msg, env)`, no guard at all) handles exactly
 * the same messages and env, captured with the `onCall` hook, and is timed too.
 *
 * Run: `npx tsx src/ao/bench.ts [aos32|aos64|llama] [messages]`
 * (wasm64 modules: `node --experimental-wasm-memory64 --import tsx src/ao/bench.ts aos64`).
 */
import { pathToFileURL } from 'node:url';
import AoLoader from '@permaweb/ao-loader';
import { type AoEnv, type AoMessage, type AoResult, monotonicMs } from './loader.ts';
import {
  compiledModule,
  isModuleKey,
  type ModuleKey,
  moduleSpec,
  type WasmImports,
  type WasmInstance,
  type WasmModule,
  wasm,
} from './modules.ts';
import { LocalNetwork } from './network.ts';

export interface OverheadResult {
  module: ModuleKey;
  messages: number;
  bareMedianMs: number;
  networkMedianMs: number;
  /** networkMedianMs / bareMedianMs */
  ratio: number;
  bareMeanMs: number;
  networkMeanMs: number;
  meanRatio: number;
  /** Checkpoints the network took during the measured messages. */
  checkpoints: number;
}

const PING_HANDLER = `Handlers.add('bench.ping', function(m) return m.Tags.Action == 'Ping' end, function(m)
  Pings = (Pings or 0) + 1
  ao.send({ Target = m.From, Action = 'Pong', Data = tostring(Pings) })
end)`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

type BareHandle = (buffer: null, msg: AoMessage, env: AoEnv) => Promise<AoResult>;

/** A bare ao-loader instance of the module: no guard, no wrapper. */
async function bareInstance(module: ModuleKey): Promise<BareHandle> {
  const spec = moduleSpec(module);
  const compiled = await compiledModule(module);
  const saved = { now: Date.now, random: Math.random, log: console.log };
  try {
    return await AoLoader(
      (imports: WasmImports, receive: (i: WasmInstance, m: WasmModule) => void) => {
        wasm.instantiate(compiled, imports).then((instance) => receive(instance, compiled));
        return {};
      },
      {
        format: spec.format,
        memoryLimit: spec.memoryLimit,
        computeLimit: spec.computeLimit,
        extensions: [],
        UNSAFE_MEMORY: true,
      },
    );
  } finally {
    Date.now = saved.now;
    Math.random = saved.random;
    console.log = saved.log;
  }
}

/**
 * Interleaved: after each network step, the bare instance handles the very messages (and env)
 * the network gave the module in that step (captured with `onCall`), so both sides see the same
 * inputs and the same state of V8's tiering of the shared compiled module.
 */
async function measure(
  module: ModuleKey,
  warmup: number,
  messages: number,
): Promise<{ network: number[]; bare: number[]; checkpoints: number }> {
  const bare = await bareInstance(module);
  const captured: { msg: AoMessage; env: AoEnv }[] = [];
  const net = await LocalNetwork.create({
    seed: 'bench',
    onCall: (_pid, msg, env) => captured.push({ msg, env }),
  });
  const saved = { now: Date.now, random: Math.random, log: console.log };
  const replayBare = async (): Promise<number> => {
    let total = 0;
    try {
      for (const { msg, env } of captured.splice(0)) {
        const t0 = monotonicMs();
        const result = await bare(null, msg, env);
        total += monotonicMs() - t0;
        if (result.Error) throw new Error(`bare call failed: ${String(result.Error)}`);
      }
    } finally {
      Date.now = saved.now;
      Math.random = saved.random;
      console.log = saved.log;
    }
    return total;
  };
  try {
    const owner = net.wallet('owner');
    const wallet = net.wallet('client');
    const pid = await net.spawn({ module, owner, name: 'bench', boot: PING_HANDLER });
    await replayBare();
    const networkTimes: number[] = [];
    const bareTimes: number[] = [];
    let checkpointsBefore = 0;
    for (let i = 0; i < warmup + messages; i++) {
      if (i === warmup) checkpointsBefore = net.stats.checkpoints;
      const t0 = monotonicMs();
      net.send({ from: wallet, target: pid, tags: { Action: 'Ping' } });
      const entry = await net.step();
      const ms = monotonicMs() - t0;
      if (!entry || entry.error !== undefined || entry.sent.length !== 1) {
        throw new Error('network ping failed');
      }
      const bareMs = await replayBare();
      if (i >= warmup) {
        networkTimes.push(ms);
        bareTimes.push(bareMs);
      }
    }
    return { network: networkTimes, bare: bareTimes, checkpoints: net.stats.checkpoints - checkpointsBefore };
  } finally {
    net.close();
  }
}

/** Measures both sides (each after a warm-up) and compares medians and means. */
export async function measureNetworkOverhead(
  options: { module?: ModuleKey; messages?: number; warmup?: number } = {},
): Promise<OverheadResult> {
  const module = options.module ?? 'aos32';
  const messages = options.messages ?? 400;
  const warmup = options.warmup ?? 50;
  const { network, bare, checkpoints } = await measure(module, warmup, messages);
  const bareMedianMs = median(bare);
  const networkMedianMs = median(network);
  const bareMeanMs = mean(bare);
  const networkMeanMs = mean(network);
  return {
    module,
    messages,
    bareMedianMs,
    networkMedianMs,
    ratio: networkMedianMs / bareMedianMs,
    bareMeanMs,
    networkMeanMs,
    meanRatio: networkMeanMs / bareMeanMs,
    checkpoints,
  };
}

export function formatOverhead(r: OverheadResult): string {
  return (
    `local network vs bare ao-loader (${r.module}, ${r.messages} messages): ` +
    `median ${r.networkMedianMs.toFixed(3)} ms vs ${r.bareMedianMs.toFixed(3)} ms (×${r.ratio.toFixed(2)}), ` +
    `mean ${r.networkMeanMs.toFixed(3)} ms vs ${r.bareMeanMs.toFixed(3)} ms (×${r.meanRatio.toFixed(2)}), ` +
    `${r.checkpoints} checkpoints`
  );
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const arg = process.argv[2] ?? 'aos32';
  if (!isModuleKey(arg)) throw new Error(`unknown module ${arg}`);
  const result = await measureNetworkOverhead({ module: arg, messages: Number(process.argv[3] ?? 400) });
  console.log(formatOverhead(result));
  console.log(JSON.stringify(result));
}
