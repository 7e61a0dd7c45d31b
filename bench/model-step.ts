/**
 * Model step throughput: herder messages per second through `stepInPlace`, on a steady mixed
 * stream (credits with varied payments and prompts, worker answers, Info and Cron ticks) with a
 * herd of 64 workers and a queue that hovers around a few hundred requests.
 *
 * Only the steps are timed. The harness builds the messages in batches before each batch's clock
 * starts, and reads the dispatched requests off the outboxes after it stops: building a
 * message's id, amount and tags cost the harness about a seventh of the step's own time, which
 * is not the model's.
 */
import { makeConfig } from '../src/model/config.ts';
import { initialHerderState, stepInPlace } from '../src/model/herder.ts';
import type { AoMessage, OutMessage } from '../src/model/messages.ts';

export interface ModelStepResult {
  messages: number;
  seconds: number;
  messagesPerSecond: number;
}

/** The prompts the steady stream cycles through. */
export const PROMPTS = [
  'tell me a story',
  'what is a llama',
  'summarise the herd protocol in three words',
  'hi',
];

/** A request a worker holds, as the herder's Inference named it. */
export interface Running {
  worker: string;
  request: string;
}

/**
 * Message number `sent` of the steady stream, at `now`. Per 8 messages: 4 credits, 3 answers, 1
 * Info or Cron tick; with a `backlog` (a long queue) answers replace the credits, so that the queue
 * hovers around a few hundred requests. `oldest` is the request held longest, answered when an
 * answer is due; with none, a credit comes instead. (The behaviour-hash test runs the same stream.)
 */
export function steadyMessage(
  sent: number,
  now: number,
  backlog: boolean,
  oldest: Running | undefined,
): AoMessage {
  const kind = sent % 8;
  if ((kind < 4 && !backlog) || oldest === undefined)
    return {
      id: `c${sent}`,
      from: 'TOKEN',
      timestamp: now,
      tags: {
        Action: 'Credit-Notice',
        Quantity: String(1_000 + ((sent * 7919) % 5_000)),
        Sender: 'CLIENT',
        'X-Prompt': PROMPTS[sent % PROMPTS.length]!,
        'X-Tokens': '16',
      },
    };
  if (kind < 7 || backlog)
    return {
      id: `a${sent}`,
      from: oldest.worker,
      timestamp: now,
      tags: { Action: 'Inference-Response', 'X-Request': oldest.request },
      data: 'ok',
    };
  return {
    id: `t${sent}`,
    from: 'OWNER',
    timestamp: now,
    tags: { Action: sent % 16 === 7 ? 'Info' : 'Cron' },
  };
}

/** Messages per batch: small enough that the queue and the herd move little within one. */
const BATCH = 64;

export function benchmarkModelStep(messages = 1_000_000): ModelStepResult {
  const workers = Array.from({ length: 64 }, (_, i) => `W${i}`);
  const config = makeConfig({ token: 'TOKEN', owner: 'OWNER', workers, maxOvertakes: 16 });
  const state = initialHerderState(config);
  // Requests on workers, oldest first: a queue read from `next` (Array.shift would move every
  // entry on each answer).
  const running: Running[] = [];
  let next = 0;
  let now = 1_000;
  let sent = 0;
  let elapsed = 0;
  const batch: AoMessage[] = [];
  const outboxes: OutMessage[][] = [];
  while (sent < messages) {
    batch.length = 0;
    const backlog = state.queue.length > 256;
    for (let k = 0; k < BATCH && sent < messages; k++, sent++) {
      now += 1;
      const msg = steadyMessage(sent, now, backlog, running[next]);
      if (msg.tags.Action === 'Inference-Response') next++;
      batch.push(msg);
    }
    if (next >= 1024 && 2 * next >= running.length) {
      running.splice(0, next);
      next = 0;
    }
    outboxes.length = 0;
    const started = performance.now();
    for (const msg of batch) outboxes.push(stepInPlace(state, msg));
    elapsed += performance.now() - started;
    for (const outbox of outboxes)
      for (const out of outbox)
        if (out.tags.Action === 'Inference')
          running.push({ worker: out.target, request: out.tags['X-Request']! });
  }
  const seconds = elapsed / 1000;
  return { messages, seconds, messagesPerSecond: messages / seconds };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(benchmarkModelStep());
