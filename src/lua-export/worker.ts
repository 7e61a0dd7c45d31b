/**
 * worker.lua: the AOS-Llama worker process (docs/design.md §2.10), the Lua twin of
 * `src/model/worker.ts`.
 *
 * Protocol:
 * - `Init` (from the Owner or the Herder), tag `Model-ID`: loads `/data/<Model-ID>` through
 *   WeaveDrive and answers `Worker-Initialized` (`Model-ID`) or `Worker-Error` (`X-Reason`) to the
 *   sender, and to the Herder as well when it is set and is not the sender. An Init from the
 *   Owner may carry `Herder` to (re)assign the herder. Any load failure leaves the worker
 *   `failed` for good: later Inits answer "model load failed earlier; spawn a new worker".
 * - `Inference` (only from the Herder; anything else is ignored without a reply), tags `Tokens`
 *   and `X-Request`, Data = prompt: answers `Inference-Response` (`X-Request`,
 *   `Tokens-Generated`, Data = text) or `Inference-Error` (`X-Request`, `X-Reason`).
 *
 * Missing and corrupt models. llama.cpp inside AOS-Llama reports a bad model by throwing a C++
 * exception, which the module was built without support for: the whole WebAssembly call aborts
 * (`handle()` rejects with a RuntimeError, no reply is produced, and the module can never load a
 * model again). So the worker never hands llama.cpp a file it has not checked: before `load()` it
 * opens `/data/<id>` with `io.open` (served by WeaveDrive; a missing file opens as nil), reads the
 * GGUF header and checks its structure (magic, version, metadata, tensor descriptors, tensor
 * data inside the file) and, for the `llama` architecture, the hyper-parameters, vocabulary and
 * every tensor's shape — the checks llama.cpp's loader would otherwise fail with an abort. A file
 * that passes those checks and still makes llama.cpp abort leaves the worker in state `loading`;
 * the next Init then answers Worker-Error like any other failed load.
 *
 * Prompts. AOS-Llama evaluates the whole prompt in one batch of 512 tokens and corrupts memory
 * beyond that, so prompts longer than {@link MAX_PROMPT_BYTES} bytes (an upper bound on the
 * token count for byte-fallback tokenizers, plus `<s>` and the leading space) are answered with
 * Inference-Error instead of being run.
 *
 * The Lua body is lua/worker.lua; this module prints the header, the `WORKER_CONFIG` table and
 * the prelude (prelude.ts) in front of it.
 */
import { SETTING_BOUNDS } from '../model/config.ts';
import { MODEL_VERSION } from '../model/version.ts';
import { luaBody, luaFile, luaValue } from './prelude.ts';

export { luaString } from './lua-string.ts';

/** Longest prompt (bytes) the worker runs: 512 tokens per batch, minus `<s>` and the leading `▁`. */
export const MAX_PROMPT_BYTES = SETTING_BOUNDS.maxPromptBytes.max;

export interface WorkerLuaOptions {
  /** Herder process id baked into the file (otherwise it is set by an Init from the Owner). */
  herder?: string;
}

const HEADER = [
  'llama-herder worker',
  `model version: ${MODEL_VERSION}`,
  '',
  'An AOS-Llama worker of a llama-herder herd. Load with an Eval from the process owner.',
  '',
  '  Init       from the Owner or the Herder, tag Model-ID: load /data/<Model-ID> (WeaveDrive)',
  '             -> Worker-Initialized (Model-ID) | Worker-Error (X-Reason)',
  '             The Owner may also set the herder with a Herder tag.',
  '  Inference  from the Herder only, tags Tokens and X-Request, Data = prompt',
  '             -> Inference-Response (X-Request, Tokens-Generated, Data = text)',
  '             |  Inference-Error (X-Request, X-Reason)',
  '  anything else is ignored.',
  '',
  'A model load that fails leaves the worker failed for good: llama.cpp cannot load again in',
  "this module, so spawn a new worker. To avoid that for missing and corrupt files, the model's",
  'GGUF header is checked in Lua before llama.cpp sees it.',
];

/** Generates worker.lua (deterministic: the same options give the same text). */
export function workerLua(options: WorkerLuaOptions = {}): string {
  const herder =
    options.herder === undefined
      ? 'herder: set by an Init from the Owner (tag Herder)'
      : 'herder: baked in at export';
  return luaFile({
    header: [...HEADER, herder],
    globals: [['WORKER_CONFIG', luaValue({ herder: options.herder })]],
    prelude: ['protocol', 'tag'],
    body: luaBody('worker.lua'),
  });
}
