/**
 * Per-message cost of the exported herder inside aos (WASM) after 10^5 processed messages, against
 * a fresh herder in the same run (docs/design.md §6: ≤ 1.2×). aos collects all garbage after every
 * message, so anything the herder keeps for good (such as every message id it has seen) makes each
 * message cost more the longer it lives.
 *
 * Traffic leaves the queue empty: a paid Credit-Notice (dispatched at once to the one idle
 * worker), the worker's Inference-Response (forwarded to the payer), an Info. The aged process
 * (both booted from one memory snapshot, then driven by direct handle() calls) first handles
 * `messages` such messages; then the aged and a fresh process handle the same
 * window of messages alternately, and the medians of the module's own handle() time are compared.
 */

import { herderLua } from '../src/lua-export/herder.ts';
import { makeConfig } from '../src/model/config.ts';
import { bootDirect, type DirectProcess, median } from './lua-direct.ts';

export interface AgeResult {
  /** Messages the aged herder handled before the window. */
  messages: number;
  /** Messages per herder in the measured window. */
  window: number;
  freshMedianMs: number;
  agedMedianMs: number;
  /** agedMedianMs / freshMedianMs; target ≤ 1.2. */
  ratio: number;
  /** Lua heap (collectgarbage('count')) after the window, KiB. */
  freshHeapKiB: number;
  agedHeapKiB: number;
  /** Wall time of the ageing, s, and its rate. */
  ageingSeconds: number;
  ageingMessagesPerSecond: number;
}

const TOKEN = 'TOKEN';
const WORKER = 'WORKER';
const CLIENT = 'CLIENT';
const OWNER = 'OWNER';

/** One round of traffic (3 messages): a paid request, its answer, an Info. Returns their costs. */
async function round(p: DirectProcess, i: number): Promise<number[]> {
  const paid = await p.send(TOKEN, {
    Action: 'Credit-Notice',
    Quantity: String(300 + (i % 7) * 50),
    Sender: CLIENT,
    'X-Prompt': 'tell me a story',
    'X-Tokens': '16',
    'X-Reference': `ref-${i}`,
  });
  const answer = await p.send(
    WORKER,
    { Action: 'Inference-Response', 'X-Request': paid.id, 'Tokens-Generated': '16' },
    'once upon a time',
  );
  const info = await p.send(CLIENT, { Action: 'Info' });
  if (paid.sent !== 1 || answer.sent !== 1 || info.sent !== 1)
    throw new Error('lua-age: a request was not dispatched, answered or an Info not answered');
  return [paid.ms, answer.ms, info.ms];
}

/** Whether the herder holds no request (none queued, none running). */
async function idle(p: DirectProcess): Promise<boolean> {
  const out = await p.eval(
    'local s = HerderSummary() return tostring(s.queueLength == 0 and next(s.requests) == nil)',
  );
  return out.includes('true');
}

export async function benchmarkAge(
  options: {
    messages?: number;
    window?: number;
    /** The herder's Lua, to age another version (default: this one's export). */
    lua?: string;
  } = {},
): Promise<AgeResult> {
  const messages = options.messages ?? 100_000;
  const windowRounds = Math.ceil((options.window ?? 600) / 3);
  const [aged, fresh] = await bootDirect({
    boot: options.lua ?? herderLua(makeConfig({ token: TOKEN, owner: OWNER, workers: [WORKER] })),
    owner: OWNER,
    name: 'lua-age',
    copies: 2,
  });
  const started = performance.now();
  const rounds = Math.ceil(messages / 3);
  for (let i = 0; i < rounds; i++) await round(aged!, i);
  const ageingSeconds = (performance.now() - started) / 1000;
  if (!(await idle(aged!))) throw new Error('lua-age: the aged herder left requests unserved');
  const agedTimes: number[] = [];
  const freshTimes: number[] = [];
  for (let i = 0; i < windowRounds + 2; i++) {
    const a = await round(aged!, i);
    const f = await round(fresh!, i);
    if (i < 2) continue; // warm-up
    agedTimes.push(...a);
    freshTimes.push(...f);
  }
  const freshMedianMs = median(freshTimes);
  const agedMedianMs = median(agedTimes);
  return {
    messages: rounds * 3,
    window: freshTimes.length,
    freshMedianMs,
    agedMedianMs,
    ratio: agedMedianMs / freshMedianMs,
    freshHeapKiB: await fresh!.heapKiB(),
    agedHeapKiB: await aged!.heapKiB(),
    ageingSeconds,
    ageingMessagesPerSecond: (rounds * 3) / ageingSeconds,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const messages = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  console.log(await benchmarkAge(messages === undefined ? {} : { messages }));
}
