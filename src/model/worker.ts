/**
 * The worker's step function (docs/design.md §2.10), with the llama backend injected so the model runs
 * without WebAssembly. worker.lua implements the same protocol inside AOS-Llama.
 */
import type { ProcessId } from './config.ts';
import { Action, type AoMessage, type OutMessage, Reason, tag } from './messages.ts';

/** Who may talk to the worker: its owner, and its herder once named. */
interface WorkerParties {
  readonly owner: ProcessId;
  readonly herder: ProcessId | undefined;
}

/** Before its model is loaded, with its model loaded (only then it has one), or after a failed load. */
export type WorkerState = WorkerParties &
  (
    | { readonly phase: 'uninitialised' }
    | { readonly phase: 'ready'; readonly model: string }
    | { readonly phase: 'failed' }
  );

export type WorkerPhase = WorkerState['phase'];

/** What a worker needs from llama.cpp. */
export interface InferenceBackend {
  load(modelId: string): { ok: true } | { ok: false; reason: string };
  /** Up to `tokens` tokens, fewer only when the model ends the sequence. */
  generate(
    prompt: string,
    tokens: number,
  ): { ok: true; text: string; tokens: number } | { ok: false; reason: string };
}

export function initialWorkerState(owner: ProcessId, herder?: ProcessId): WorkerState {
  return { owner, herder, phase: 'uninitialised' };
}

const DECIMAL = /^[0-9]+$/;

export function workerStep(
  state: WorkerState,
  msg: AoMessage,
  backend: InferenceBackend,
): { state: WorkerState; outbox: OutMessage[] } {
  const action = tag(msg, 'Action');
  if (action === 'Init' && (msg.from === state.owner || msg.from === state.herder))
    return init(state, msg, backend);
  if (action === Action.Inference && msg.from === state.herder)
    return { state, outbox: [infer(state, msg, backend)] };
  return { state, outbox: [] };
}

function init(state: WorkerState, msg: AoMessage, backend: InferenceBackend) {
  const herderTag = tag(msg, 'Herder');
  const herder = msg.from === state.owner && herderTag ? herderTag : state.herder;
  const modelId = tag(msg, 'Model-ID');
  let next: WorkerState = { ...state, herder };
  let reply: Record<string, string>;
  if (state.phase === 'ready') reply = { Action: Action.WorkerInitialized, 'Model-ID': state.model };
  else if (state.phase === 'failed')
    reply = { Action: Action.WorkerError, 'X-Reason': 'model load failed earlier; spawn a new worker' };
  else if (modelId === undefined || modelId === '')
    reply = { Action: Action.WorkerError, 'X-Reason': 'Model-ID is missing' };
  else {
    const loaded = backend.load(modelId);
    if (loaded.ok) {
      next = { owner: state.owner, herder, phase: 'ready', model: modelId };
      reply = { Action: Action.WorkerInitialized, 'Model-ID': modelId };
    } else {
      next = { owner: state.owner, herder, phase: 'failed' };
      reply = { Action: Action.WorkerError, 'X-Reason': loaded.reason };
    }
  }
  const outbox: OutMessage[] = [{ target: msg.from, tags: reply }];
  if (herder !== undefined && herder !== msg.from) outbox.push({ target: herder, tags: reply });
  return { state: next, outbox };
}

function infer(state: WorkerState, msg: AoMessage, backend: InferenceBackend): OutMessage {
  const request = tag(msg, 'X-Request') ?? '';
  const fail = (reason: string): OutMessage => ({
    target: msg.from,
    tags: { Action: Action.InferenceError, 'X-Request': request, 'X-Reason': reason },
  });
  if (state.phase !== 'ready') return fail('model not loaded');
  const rawTokens = tag(msg, 'Tokens');
  if (rawTokens === undefined || !DECIMAL.test(rawTokens) || Number(rawTokens) < 1)
    return fail(`${Reason.BadTokens} >= 1`);
  const result = backend.generate(msg.data ?? '', Number(rawTokens));
  if (!result.ok) return fail(result.reason);
  return {
    target: msg.from,
    tags: {
      Action: Action.InferenceResponse,
      'X-Request': request,
      'Tokens-Generated': String(result.tokens),
    },
    data: result.text,
  };
}
