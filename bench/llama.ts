/**
 * AOS-Llama workers on the local network: the worker handler's overhead over the raw token loop
 * (the same llama calls made by an Eval), and the resident memory of a herd of 8 workers with
 * the tiny model loaded.
 */
import { dirname } from 'node:path';
import { LocalNetwork } from '../src/ao/network.ts';
import { ensureTinyModel } from '../src/gguf/index.ts';
import { workerLua } from '../src/lua-export/worker.ts';
import { createWeaveDrive } from '../src/weavedrive/index.ts';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function spawnWorker(
  net: LocalNetwork,
  modelsDir: string,
  modelId: string,
  name: string,
): Promise<string> {
  const pid = await net.spawn({
    module: 'llama',
    owner: 'OWNER',
    name,
    boot: workerLua({ herder: 'HERDER' }),
    weaveDrive: createWeaveDrive({ modelsDir }),
  });
  net.send({ from: 'OWNER', target: pid, tags: { Action: 'Init', 'Model-ID': modelId } });
  const entry = await net.step();
  if (entry?.error) throw new Error(`worker ${name} failed to load the model: ${entry.error}`);
  return pid;
}

export interface WorkerOverheadResult {
  tokens: number;
  handlerMedianMs: number;
  rawMedianMs: number;
  /** (handler - raw) / raw; the target is ≤ 10%. */
  overhead: number;
  handlerMsPerToken: number;
}

/** Inference through worker.lua vs an Eval of the bare llama calls, interleaved, medians. */
export async function benchmarkWorkerOverhead(samples = 9, tokens = 64): Promise<WorkerOverheadResult> {
  const model = await ensureTinyModel();
  const net = await LocalNetwork.create({ seed: 'bench-worker' });
  const pid = await spawnWorker(net, dirname(model.path), model.id, 'worker');
  const prompt = 'Tell me about llamas';
  const handler: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < samples + 1; i++) {
    net.send({
      from: 'HERDER',
      target: pid,
      tags: { Action: 'Inference', Tokens: String(tokens), 'X-Request': `b${i}` },
      data: prompt,
    });
    let started = performance.now();
    await net.step();
    const h = performance.now() - started;
    started = performance.now();
    await net.eval(
      pid,
      `local llama = require("llama") llama.set_prompt(${JSON.stringify(prompt)}) local n = 0 for i = 1, ${tokens} do if llama.next() == nil then break end n = n + 1 end return n`,
    );
    const r = performance.now() - started;
    if (i > 0) {
      handler.push(h);
      raw.push(r);
    }
  }
  net.close();
  const handlerMedianMs = median(handler);
  const rawMedianMs = median(raw);
  return {
    tokens,
    handlerMedianMs,
    rawMedianMs,
    overhead: (handlerMedianMs - rawMedianMs) / rawMedianMs,
    handlerMsPerToken: handlerMedianMs / tokens,
  };
}

export interface HerdMemoryResult {
  workers: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  perWorkerMiB: number;
}

/** Resident memory of the process before and after spawning `workers` loaded AOS-Llama workers. */
export async function benchmarkHerdMemory(workers = 8): Promise<HerdMemoryResult> {
  const model = await ensureTinyModel();
  const mib = () => process.memoryUsage().rss / 2 ** 20;
  const rssBeforeMiB = mib();
  const net = await LocalNetwork.create({ seed: 'bench-herd' });
  for (let i = 0; i < workers; i++) await spawnWorker(net, dirname(model.path), model.id, `worker-${i + 1}`);
  // Each loaded worker answers once, so every instance has touched its working memory.
  for (const pid of net.processes)
    net.send({
      from: 'HERDER',
      target: pid,
      tags: { Action: 'Inference', Tokens: '8', 'X-Request': 'warm' },
      data: 'hello',
    });
  await net.deliverAll();
  const rssAfterMiB = mib();
  net.close();
  return { workers, rssBeforeMiB, rssAfterMiB, perWorkerMiB: (rssAfterMiB - rssBeforeMiB) / workers };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // `memory` runs alone in a fresh process (what bench/run.ts does) so that RSS is not skewed.
  if (process.argv[2] === 'memory') console.log(JSON.stringify(await benchmarkHerdMemory()));
  else console.log(await benchmarkWorkerOverhead());
}
