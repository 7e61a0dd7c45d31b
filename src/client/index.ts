/** The TypeScript client of a llama-herder: prices, exact fees, paid inference, refunds as errors. */
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
} from './herder-client.ts';
