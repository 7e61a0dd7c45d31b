/**
 * llama-herder's library API: `import { … } from 'llama-herder'`.
 *
 * - **Client**: {@link HerderClient} asks a herder its prices, computes exact fees and pays for
 *   inference through the wAR token; refunds come back as errors with the herder's reason.
 * - **Protocol model**: {@link parseConfig} validates a herd.json object into a
 *   {@link HerdConfig}; {@link neededFee} is the fee of a request; {@link initialHerderState}
 *   and {@link step} are the herder itself, as a pure function of its state and one message.
 * - **Lua**: {@link herderLua}, {@link workerLua}, {@link tokenLua} and {@link clientPackage}
 *   generate the deployable handlers, as `herd export` writes them.
 * - **Verification**: {@link verifyHerder} checks any Lua herder against the protocol's
 *   invariants, black-box, inside aos (as `herd verify` does).
 *
 * Amounts are bigints (decimal strings in JSON).
 */
export {
  type FeeChoice,
  HerderClient,
  type HerderClientOptions,
  HerderRefundError,
  HerderTimeoutError,
  type InferenceAnswer,
  PaymentRefusedError,
  type Prices,
  parseMultiplier,
  type RunOptions,
} from './client/index.ts';
export { type ClientPackageOptions, clientPackage, type PackageFile } from './lua-export/client.ts';
export { configHash, herderLua } from './lua-export/herder.ts';
export { tokenLua } from './lua-export/token.ts';
export { type WorkerLuaOptions, workerLua } from './lua-export/worker.ts';
export { type Amount, parseDecimal } from './model/amount.ts';
export {
  configProblems,
  configToJson,
  DEFAULT_CONFIG,
  type HerdConfig,
  type HerdConfigJson,
  makeConfig,
  parseConfig,
} from './model/config.ts';
export type { Cause, StepEvent } from './model/events.ts';
export { type FeeSchedule, neededFee, words } from './model/fees.ts';
export { type HerderState, initialHerderState, type StepResult, step } from './model/herder.ts';
export type { AoMessage, OutMessage } from './model/messages.ts';
export { MODEL_VERSION } from './model/version.ts';
export {
  OBSERVABLE_INVARIANTS,
  type VerifyOptions,
  type VerifyReport,
  verifyHerder,
} from './verify/verify.ts';
