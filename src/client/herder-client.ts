/**
 * HerderClient: pay a llama-herder and get the answer, from TypeScript, over the aoconnect API.
 *
 * The TypeScript twin of the Lua client package (docs/design.md §2.11), for wallets rather than
 * processes. A wallet has no inbox, so the client reads the processes' results instead:
 *
 *   client -> token   Transfer (Recipient = herder, Quantity = fee, X-Prompt, X-Tokens, X-Reference)
 *   token  -> client  Debit-Notice                       (in the token's results: paid)
 *   herder -> client  Inference-Response (X-Reference)   (in the herder's results: the answer)
 * or
 *   token  -> client  Credit-Notice (Sender = herder, X-Reason, X-Reference[, X-Needed])  refund
 *   token  -> client  Transfer-Error (Message-Id, Error)                                   refused
 *
 * `run` notes where both processes' results stand before paying, then polls both from there for
 * messages to this wallet with its X-Reference. Fees are exact bigints computed with the model's
 * formula (`neededFee`), never floats.
 */
import { randomBytes } from 'node:crypto';
import {
  type AoApi,
  type AoOutgoing,
  type AoResult,
  type AoSigner,
  describeError,
  messagesWithAction,
  messageTag,
  resultError,
} from '../ao/aoconnect.ts';
import { dataText } from '../ao/results.ts';
import { type Amount, parseDecimal } from '../model/amount.ts';
import { neededFee, parseMultiplierRatio, utf8Length } from '../model/fees.ts';

/** The herder's prices and state, from its Info-Response. */
export interface Prices {
  baseFee: Amount;
  tokenFee: Amount;
  /** Multiplier of the last dispatched request, as the herder prints it ("1", "1.5"). */
  lastMultiplier: string;
  queueLength: number;
  workers: number;
  idleWorkers: number;
  maxTokens?: number;
  maxPromptBytes?: number;
  token?: string;
  paused?: boolean;
  version?: string;
  /** Every tag of the Info-Response. */
  tags: Record<string, string>;
}

/** How much to pay: an exact `fee`, or `multiplier` × the needed fee (rounded up); default ×1. */
export interface FeeChoice {
  fee?: Amount | string;
  /** A plain decimal ≥ 1 such as "1.5" (a number is read through its decimal text). */
  multiplier?: string | number;
}

export interface RunOptions extends FeeChoice {
  /** Your X-Reference (default a fresh random one). */
  reference?: string;
  /** Give up waiting after this long (default the client's `timeoutMs`). */
  timeoutMs?: number;
}

export interface InferenceAnswer {
  /** The generated text (the Inference-Response's Data). */
  answer: string;
  reference: string;
  /** The herder's request id (X-Request: the Credit-Notice's message id). */
  request?: string;
  /** Amount paid. */
  fee: Amount;
  /** The needed fee at the prices used (absent when an explicit fee was paid without prices). */
  needed?: Amount;
  /** Id of the Transfer message. */
  transfer: string;
}

/** The herder gave the payment back: `reason` is its X-Reason. */
export class HerderRefundError extends Error {
  constructor(
    readonly reason: string,
    readonly reference: string,
    readonly quantity: Amount,
    readonly needed?: Amount,
    readonly request?: string,
  ) {
    super(`the herder refunded ${quantity}: ${reason}${needed !== undefined ? ` (needed ${needed})` : ''}`);
    this.name = 'HerderRefundError';
  }
}

/** The token refused the Transfer (e.g. insufficient balance): nothing was paid. */
export class PaymentRefusedError extends Error {
  constructor(
    readonly reason: string,
    readonly reference: string,
    readonly transfer: string,
  ) {
    super(`the token refused the payment: ${reason}`);
    this.name = 'PaymentRefusedError';
  }
}

/** No answer in time; `paid` tells whether the token had confirmed the payment. */
export class HerderTimeoutError extends Error {
  constructor(
    readonly reference: string,
    readonly transfer: string,
    readonly paid: boolean,
  ) {
    super(
      `no answer for ${reference} in time (${paid ? 'the payment went through' : 'the payment was not confirmed yet'}); the herder answers or refunds every accepted request, so check again later`,
    );
    this.name = 'HerderTimeoutError';
  }
}

export interface HerderClientOptions {
  api: AoApi;
  /** Signs the Transfer: made from the wallet by the aoconnect flavour in use. */
  signer: AoSigner;
  /** The wallet's address (where answers and refunds are sent). */
  address: string;
  herder: string;
  token: string;
  /** Pause between polls of the results (default 2000 ms). */
  pollIntervalMs?: number;
  /** Default wait for an answer (default 10 minutes). */
  timeoutMs?: number;
  /** For tests: how to wait. */
  sleep?: (ms: number) => Promise<void>;
}

const PAGE = 100;

/** A multiplier as an exact fraction ≥ 1; throws a RangeError otherwise. */
export function parseMultiplier(value: string | number): { numerator: bigint; denominator: bigint } {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  const parsed = parseMultiplierRatio(text, 'multiplier');
  if (!parsed.ok) throw new RangeError(parsed.reason);
  return { numerator: parsed.value.num, denominator: parsed.value.den };
}

function toAmount(value: Amount | string, what: string): Amount {
  if (typeof value === 'bigint') {
    if (value < 0n) throw new RangeError(`${what} must not be negative`);
    return value;
  }
  const parsed = parseDecimal(value, what);
  if (!parsed.ok) throw new RangeError(parsed.reason);
  return parsed.value;
}

function count(tags: Record<string, string>, name: string): number | undefined {
  const raw = tags[name];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

export class HerderClient {
  readonly herder: string;
  readonly token: string;
  readonly address: string;
  /** The prices from the last getPrices(). */
  prices: Prices | undefined;
  private readonly api: AoApi;
  private readonly signer: AoSigner;
  private readonly pollIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: HerderClientOptions) {
    this.api = options.api;
    this.signer = options.signer;
    this.address = options.address;
    this.herder = options.herder;
    this.token = options.token;
    this.pollIntervalMs = options.pollIntervalMs ?? 2_000;
    this.timeoutMs = options.timeoutMs ?? 600_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((done) => setTimeout(done, ms)));
  }

  /** Reads the herder's prices with an Info dry run (nothing is sent or paid). */
  async getPrices(): Promise<Prices> {
    const result = await this.api.dryrun({ process: this.herder, tags: [{ name: 'Action', value: 'Info' }] });
    const response = messagesWithAction(result, 'Info-Response')[0];
    if (!response)
      throw new Error(
        `the herder ${this.herder} gave no Info-Response${resultError(result) ? `: ${resultError(result)}` : ''}`,
      );
    const tags: Record<string, string> = {};
    for (const tag of response.Tags ?? []) tags[tag.name] = tag.value;
    const amount = (name: string) => {
      const parsed = parseDecimal(messageTag(response, name), name);
      if (!parsed.ok) throw new Error(`the herder's Info-Response is malformed: ${parsed.reason}`);
      return parsed.value;
    };
    const prices: Prices = {
      baseFee: amount('Base-Fee'),
      tokenFee: amount('Token-Fee'),
      lastMultiplier: tags['Last-Multiplier'] ?? '1',
      queueLength: count(tags, 'Queue-Length') ?? 0,
      workers: count(tags, 'Workers') ?? 0,
      idleWorkers: count(tags, 'Idle-Workers') ?? 0,
      tags,
    };
    const maxTokens = count(tags, 'Max-Tokens');
    const maxPromptBytes = count(tags, 'Max-Prompt-Bytes');
    if (maxTokens !== undefined) prices.maxTokens = maxTokens;
    if (maxPromptBytes !== undefined) prices.maxPromptBytes = maxPromptBytes;
    if (tags.Token !== undefined) prices.token = tags.Token;
    if (tags.Paused !== undefined) prices.paused = tags.Paused === 'true';
    if (tags.Version !== undefined) prices.version = tags.Version;
    this.prices = prices;
    return prices;
  }

  /** The fee `tokens` tokens on `prompt` need: baseFee + tokenFee × (tokens + words(prompt)), exact. */
  calculateFee(prompt: string, tokens: number, prices: Prices | undefined = this.prices): Amount {
    checkRequest(prompt, tokens);
    if (!prices) throw new Error('prices are unknown: call getPrices() first');
    return neededFee(prices, tokens, prompt);
  }

  /** What `run` would pay: an explicit fee, or the needed fee × multiplier rounded up. */
  feeFor(prompt: string, tokens: number, choice: FeeChoice = {}): { fee: Amount; needed?: Amount } {
    if (choice.fee !== undefined && choice.multiplier !== undefined)
      throw new RangeError('give either fee or multiplier, not both');
    if (choice.fee !== undefined) {
      const fee = toAmount(choice.fee, 'fee');
      if (fee === 0n) throw new RangeError('fee must be greater than 0: the token cannot transfer nothing');
      return this.prices ? { fee, needed: this.calculateFee(prompt, tokens) } : { fee };
    }
    const needed = this.calculateFee(prompt, tokens);
    let fee = needed;
    if (choice.multiplier !== undefined) {
      const m = parseMultiplier(choice.multiplier);
      fee = (needed * m.numerator + m.denominator - 1n) / m.denominator;
    }
    if (fee === 0n) throw new RangeError('the fee is 0: the token cannot transfer nothing');
    return { fee, needed };
  }

  /** The token balance of `account` (default this wallet), read with a dry run. */
  async balance(account: string = this.address): Promise<Amount> {
    const result = await this.api.dryrun({
      process: this.token,
      tags: [
        { name: 'Action', value: 'Balance' },
        { name: 'Recipient', value: account },
      ],
    });
    const reply = (result?.Messages ?? []).find((m) => messageTag(m, 'Balance') !== undefined);
    const raw = reply ? messageTag(reply, 'Balance') : undefined;
    const parsed = parseDecimal(raw, 'Balance');
    if (!parsed.ok) throw new Error(`the token gave no balance for ${account}`);
    return parsed.value;
  }

  /**
   * Pays for `tokens` tokens of inference on `prompt` and waits for the answer. Throws
   * HerderRefundError (with the herder's X-Reason) when the payment comes back,
   * PaymentRefusedError when the token refuses it, HerderTimeoutError when nothing arrives in time.
   */
  async run(prompt: string, tokens: number, options: RunOptions = {}): Promise<InferenceAnswer> {
    checkRequest(prompt, tokens);
    if (!this.prices && options.fee === undefined) await this.getPrices();
    const prices = this.prices;
    if (prices?.maxTokens !== undefined && tokens > prices.maxTokens)
      throw new RangeError(`tokens must be at most ${prices.maxTokens} on this herder`);
    if (prices?.maxPromptBytes !== undefined && utf8Length(prompt) > prices.maxPromptBytes)
      throw new RangeError(`the prompt must be at most ${prices.maxPromptBytes} bytes on this herder`);
    const { fee, needed } = this.feeFor(prompt, tokens, options);
    const reference = options.reference ?? `herd-${randomBytes(9).toString('base64url')}`;
    if (reference === '' || Buffer.byteLength(reference) > 128)
      throw new RangeError('the reference must be 1 to 128 bytes');

    const herderCursor = await this.latestCursor(this.herder);
    const tokenCursor = await this.latestCursor(this.token);
    const transfer = await this.api.message({
      process: this.token,
      signer: this.signer,
      tags: [
        { name: 'Action', value: 'Transfer' },
        { name: 'Recipient', value: this.herder },
        { name: 'Quantity', value: fee.toString() },
        { name: 'X-Prompt', value: prompt },
        { name: 'X-Tokens', value: String(tokens) },
        { name: 'X-Reference', value: reference },
      ],
    });
    if (typeof transfer !== 'string' || transfer === '') throw new Error('the MU returned no message id');

    const watchHerder = this.watch(this.herder, herderCursor);
    const watchToken = this.watch(this.token, tokenCursor);
    const deadline = Date.now() + (options.timeoutMs ?? this.timeoutMs);
    let paid = false;
    for (;;) {
      for (const message of await watchHerder()) {
        if (messageTag(message, 'Action') !== 'Inference-Response') continue;
        if (messageTag(message, 'X-Reference') !== reference) continue;
        const request = messageTag(message, 'X-Request');
        return {
          answer: dataText(message.Data),
          reference,
          ...(request === undefined ? {} : { request }),
          fee,
          ...(needed === undefined ? {} : { needed }),
          transfer,
        };
      }
      for (const message of await watchToken()) {
        const action = messageTag(message, 'Action');
        const ours = messageTag(message, 'X-Reference') === reference;
        if (action === 'Transfer-Error' && (ours || messageTag(message, 'Message-Id') === transfer))
          throw new PaymentRefusedError(
            messageTag(message, 'Error') ?? dataText(message.Data) ?? 'unknown',
            reference,
            transfer,
          );
        if (!ours) continue;
        if (action === 'Debit-Notice') paid = true;
        if (action === 'Credit-Notice' && messageTag(message, 'Sender') === this.herder) {
          const reason = messageTag(message, 'X-Reason') ?? 'refunded without a reason';
          const quantity = parseDecimal(messageTag(message, 'Quantity'), 'Quantity');
          const neededTag = parseDecimal(messageTag(message, 'X-Needed'), 'X-Needed');
          throw new HerderRefundError(
            reason,
            reference,
            quantity.ok ? quantity.value : fee,
            neededTag.ok ? neededTag.value : undefined,
            messageTag(message, 'X-Request'),
          );
        }
      }
      if (Date.now() >= deadline) throw new HerderTimeoutError(reference, transfer, paid);
      await this.sleep(this.pollIntervalMs);
    }
  }

  /** Cursor of a process's newest result (undefined when it has none). */
  private async latestCursor(process: string): Promise<string | undefined> {
    let page: Awaited<ReturnType<AoApi['results']>>;
    try {
      page = await this.api.results({ process, sort: 'DESC', limit: 1 });
    } catch (err) {
      throw new Error(`cannot read the results of ${process}: ${describeError(err)}`);
    }
    return page?.edges[0]?.cursor;
  }

  /** A reader of the messages to this wallet in results newer than `cursor`. */
  private watch(process: string, cursor: string | undefined): () => Promise<AoOutgoing[]> {
    let from = cursor;
    return async () => {
      const found: AoOutgoing[] = [];
      for (;;) {
        const page = await this.api.results({
          process,
          ...(from === undefined ? {} : { from }),
          sort: 'ASC',
          limit: PAGE,
        });
        const edges = page?.edges ?? [];
        for (const edge of edges) {
          from = edge.cursor;
          found.push(...toMe(edge.node, this.address));
        }
        if (edges.length < PAGE) return found;
      }
    };
  }
}

function toMe(result: AoResult | null | undefined, address: string): AoOutgoing[] {
  return (result?.Messages ?? []).filter((m) => m.Target === address);
}

function checkRequest(prompt: string, tokens: number): void {
  if (typeof prompt !== 'string' || prompt === '')
    throw new RangeError('the prompt must be a non-empty string');
  if (!Number.isSafeInteger(tokens) || tokens < 1) throw new RangeError('tokens must be an integer >= 1');
}
