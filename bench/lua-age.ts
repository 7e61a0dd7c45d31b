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

import { type AoEnv, AoInstance, type AoMessage, type AoTag } from '../src/ao/loader.ts';
import { LocalNetwork } from '../src/ao/network.ts';
import { herderLua } from '../src/lua-export/herder.ts';
import { makeConfig } from '../src/model/config.ts';

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

/** aos's colour codes around printed values. */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

/**
 * One herder process driven by direct handle() calls on its module instance: no scheduler, log or
 * checkpoints around it (they would cost more than the message itself), the message shapes of
 * the local network.
 */
class DirectProcess {
  private nonce = 0;
  private ids = 0;
  constructor(
    private readonly instance: AoInstance,
    private readonly env: AoEnv,
    private readonly name: string,
  ) {}

  /** Handles one message; returns its id, the module's time for it (ms) and its output. */
  async send(
    from: string,
    tags: Record<string, string>,
    data = '',
  ): Promise<{ id: string; ms: number; output: string }> {
    this.ids += 1;
    const id = `${this.name}-${this.ids}`.padEnd(43, '_');
    const tagArray: AoTag[] = [
      ...Object.entries(tags).map(([name, value]) => ({ name, value })),
      { name: 'Data-Protocol', value: 'ao' },
      { name: 'Variant', value: 'ao.TN.1' },
      { name: 'Type', value: 'Message' },
    ];
    const msg: AoMessage = {
      Id: id,
      Target: this.env.Process.Id,
      Owner: from,
      From: from,
      Tags: tagArray,
      Data: data,
      Timestamp: 1_735_689_600_000,
      'Block-Height': 1_580_000,
      Cron: false,
      Nonce: this.nonce++,
      Epoch: 0,
    };
    const outcome = await this.instance.call(msg, this.env);
    if (!outcome.ok) throw new Error(`lua-age: handle() failed: ${outcome.error.message}`);
    if (outcome.result.Error !== undefined && outcome.result.Error !== null)
      throw new Error(`lua-age: the herder failed: ${JSON.stringify(outcome.result.Error)}`);
    const out = outcome.result.Output as { data?: unknown } | string | undefined;
    const output = typeof out === 'object' && out !== null ? String(out.data ?? '') : String(out ?? '');
    return { id, ms: outcome.ms, output };
  }

  /** One round of traffic (3 messages): a paid request, its answer, an Info. Returns their costs. */
  async round(i: number): Promise<number[]> {
    const paid = await this.send(TOKEN, {
      Action: 'Credit-Notice',
      Quantity: String(300 + (i % 7) * 50),
      Sender: CLIENT,
      'X-Prompt': 'tell me a story',
      'X-Tokens': '16',
      'X-Reference': `ref-${i}`,
    });
    const answer = await this.send(
      WORKER,
      { Action: 'Inference-Response', 'X-Request': paid.id, 'Tokens-Generated': '16' },
      'once upon a time',
    );
    const info = await this.send(CLIENT, { Action: 'Info' });
    return [paid.ms, answer.ms, info.ms];
  }

  async heapKiB(): Promise<number> {
    const { output } = await this.send(OWNER, { Action: 'Eval' }, "return tostring(collectgarbage('count'))");
    return Number(output.replace(ANSI_COLOUR, ''));
  }

  /** Whether the herder served every request (none queued, none held). */
  async idle(): Promise<boolean> {
    const { output } = await this.send(
      OWNER,
      { Action: 'Eval' },
      'local s = HerderSummary() return tostring(s.queueLength == 0 and next(s.requests) == nil)',
    );
    return output.includes('true');
  }
}

/** Two copies of a freshly booted exported herder (one idle worker) in aos32. */
async function bootTwo(): Promise<[DirectProcess, DirectProcess]> {
  const envs = new Map<string, AoEnv>();
  const net = await LocalNetwork.create({ seed: 'lua-age', onCall: (pid, _msg, env) => envs.set(pid, env) });
  try {
    const lua = herderLua(makeConfig({ token: TOKEN, owner: OWNER, workers: [WORKER] }));
    const pid = await net.spawn({ module: 'aos32', owner: OWNER, boot: lua });
    const { memory } = await net.snapshot(pid);
    const env = envs.get(pid)!;
    return [
      new DirectProcess(await AoInstance.create('aos32', { memory }), env, 'aged'),
      new DirectProcess(await AoInstance.create('aos32', { memory }), env, 'fresh'),
    ];
  } finally {
    net.close();
  }
}

export async function benchmarkAge(options: { messages?: number; window?: number } = {}): Promise<AgeResult> {
  const messages = options.messages ?? 100_000;
  const windowRounds = Math.ceil((options.window ?? 600) / 3);
  const [aged, fresh] = await bootTwo();
  const started = performance.now();
  const rounds = Math.ceil(messages / 3);
  for (let i = 0; i < rounds; i++) await aged.round(i);
  const ageingSeconds = (performance.now() - started) / 1000;
  if (!(await aged.idle())) throw new Error('lua-age: the aged herder left requests unserved');
  const agedTimes: number[] = [];
  const freshTimes: number[] = [];
  for (let i = 0; i < windowRounds + 2; i++) {
    const a = await aged.round(i);
    const f = await fresh.round(i);
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
    freshHeapKiB: await fresh.heapKiB(),
    agedHeapKiB: await aged.heapKiB(),
    ageingSeconds,
    ageingMessagesPerSecond: (rounds * 3) / ageingSeconds,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const messages = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  console.log(await benchmarkAge(messages === undefined ? {} : { messages }));
}
