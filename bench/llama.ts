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
  /** Pairs timed (one inference through the handler, one through the bare calls, each pair's order alternating). */
  samples: number;
  /** The fastest of each side: the figure. */
  handlerBestMs: number;
  rawBestMs: number;
  /** The medians, for how much the host's noise added. */
  handlerMedianMs: number;
  rawMedianMs: number;
  /** (handler - raw) / raw over the fastest of each; the target is ≤ 10%. */
  overhead: number;
  handlerMsPerToken: number;
}

/**
 * Inference through worker.lua vs an Eval of the bare llama calls. Both generate the same tokens
 * (generation is deterministic; checked), so each side's work is fixed and the host can only add
 * to its time: on this machine a 20 ms inference takes 20–90 ms by the moment, so the medians of a
 * few pairs swung the figure by ±20% and more, while the fastest of each side stay within a few
 * percent of each other run after run. The figure compares the fastest; the pairs alternate which
 * goes first.
 */
export async function benchmarkWorkerOverhead(samples = 40, tokens = 64): Promise<WorkerOverheadResult> {
  const model = await ensureTinyModel();
  const net = await LocalNetwork.create({ seed: 'bench-worker' });
  const pid = await spawnWorker(net, dirname(model.path), model.id, 'worker');
  const prompt = 'Tell me about llamas';
  const throughHandler = async (i: number): Promise<number> => {
    net.send({
      from: 'HERDER',
      target: pid,
      tags: { Action: 'Inference', Tokens: String(tokens), 'X-Request': `b${i}` },
      data: prompt,
    });
    const started = performance.now();
    await net.step();
    const ms = performance.now() - started;
    const answer = net.messagesTo('HERDER').at(-1);
    const generated = answer?.tags.find((t) => t.name === 'Tokens-Generated')?.value;
    if (generated !== String(tokens))
      throw new Error(
        `the worker generated ${generated ?? 'no'} tokens, not ${tokens}: the sides would differ in work`,
      );
    return ms;
  };
  const bare = async (): Promise<number> => {
    const started = performance.now();
    const generated = await net.eval(
      pid,
      `local llama = require("llama") llama.set_prompt(${JSON.stringify(prompt)}) local n = 0 for i = 1, ${tokens} do if llama.next() == nil then break end n = n + 1 end return n`,
    );
    const ms = performance.now() - started;
    if (generated.trim() !== String(tokens))
      throw new Error(
        `the bare loop generated ${generated} tokens, not ${tokens}: the sides would differ in work`,
      );
    return ms;
  };
  // One pair untimed: the first inference of an instance is the slowest.
  await throughHandler(-1);
  await bare();
  const handler: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (i % 2 === 0) {
      handler.push(await throughHandler(i));
      raw.push(await bare());
    } else {
      raw.push(await bare());
      handler.push(await throughHandler(i));
    }
  }
  net.close();
  const handlerBestMs = Math.min(...handler);
  const rawBestMs = Math.min(...raw);
  return {
    tokens,
    samples,
    handlerBestMs,
    rawBestMs,
    handlerMedianMs: median(handler),
    rawMedianMs: median(raw),
    overhead: (handlerBestMs - rawBestMs) / rawBestMs,
    handlerMsPerToken: handlerBestMs / tokens,
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
