/**
 * A worker thread of `herd verify` (pool.ts): boots its own herder, then runs the traces it is
 * sent, one at a time, each from the booted state, and sends back each outcome.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { TraceSpec } from './scenario.ts';
import { HerderSession, type SessionSetup, type TraceOutcome } from './session.ts';

export type ToVerifyThread = { readonly type: 'run'; readonly id: number; readonly spec: TraceSpec };

/** An error as it crosses the thread boundary (an AoEvalError keeps what the CLI reports). */
export interface ThreadError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly pid?: string;
  readonly luaError?: string;
}

export type FromVerifyThread =
  | { readonly type: 'ready' }
  | { readonly type: 'boot-failed'; readonly error: ThreadError }
  | { readonly type: 'done'; readonly id: number; readonly outcome: TraceOutcome }
  | { readonly type: 'failed'; readonly id: number; readonly error: ThreadError };

function threadError(err: unknown): ThreadError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const extra = err as Error & { pid?: unknown; luaError?: unknown };
  return {
    name: err.name,
    message: err.message,
    ...(err.stack !== undefined ? { stack: err.stack } : {}),
    ...(typeof extra.pid === 'string' ? { pid: extra.pid } : {}),
    ...(typeof extra.luaError === 'string' ? { luaError: extra.luaError } : {}),
  };
}

async function serve(port: MessagePort, setup: SessionSetup): Promise<void> {
  const post = (message: FromVerifyThread) => port.postMessage(message);
  let session: HerderSession;
  try {
    session = await HerderSession.boot(setup);
  } catch (err) {
    post({ type: 'boot-failed', error: threadError(err) });
    return;
  }
  // One trace at a time, in the order sent (the pool sends the next before this one is done).
  let tail: Promise<void> = Promise.resolve();
  port.on('message', (message: ToVerifyThread) => {
    tail = tail.then(() =>
      session.run(message.spec).then(
        (outcome) => post({ type: 'done', id: message.id, outcome }),
        (err: unknown) => post({ type: 'failed', id: message.id, error: threadError(err) }),
      ),
    );
  });
  post({ type: 'ready' });
}

const data = workerData as { verifyThread?: boolean; setup: SessionSetup } | undefined;
if (parentPort && data?.verifyThread) void serve(parentPort, data.setup);
