/**
 * `herd demo`: one paid prompt through a whole herd on the local AO network, with nothing to
 * configure. Boots the token, the herder, two AOS-Llama workers on the generated tiny model and
 * a client with the client package; mints wAR for the client; the client pays with
 * `Llama.run(...)`; the herder dispatches; a worker generates inside llama.wasm; the answer comes
 * back to the client's callback. Reports the answer, the fees, the balances and the timeline.
 */
import { writeFileSync } from 'node:fs';
import { herderHistory, toJsonLines } from '../ao/message-log.ts';
import type { LogEntry } from '../ao/network.ts';
import { tagValue } from '../ao/network.ts';
import { statedFromConfig } from '../audit/settings.ts';
import type { ModelFile } from '../gguf/index.ts';
import { luaString as lua } from '../lua-export/token.ts';
import { MAX_PROMPT_BYTES } from '../lua-export/worker.ts';
import { configToJson, DEFAULT_CONFIG, type HerdConfig, type HerdConfigJson } from '../model/config.ts';
import { formatMultiplier, neededFee, utf8Length, words } from '../model/fees.ts';
import { MODEL_VERSION } from '../model/version.ts';
import { type AosModule, bootLocalHerd } from './herd.ts';
import { baselineWasmOnly } from './wasm-tiering.ts';

export const DEFAULT_PROMPT = 'Tell me about llamas';
export const DEFAULT_TOKENS = 16;

export interface DemoOptions {
  prompt?: string;
  tokens?: number;
  /** Pay needed × multiplier (a plain decimal ≥ 1, e.g. "1.5"). */
  multiplier?: string;
  /** Pay exactly this amount (below the needed fee: the herder refunds it). */
  fee?: string;
  herderModule?: AosModule;
  seed?: string;
  /** Include the boot messages in the timeline. */
  fullTimeline?: boolean;
  onStep?: (step: string, index: number, total: number) => void;
  /** A GGUF model of one's own for the workers (default: the generated tiny model). */
  model?: ModelFile;
  /**
   * Write the herder's whole history (every message into or out of it, from its spawn on) to this
   * file, as JSON lines that `herd verify --log` checks.
   */
  log?: string;
}

/** One line of the timeline, structured. */
export interface TimelineEntry {
  seq: number;
  /** Virtual ms since the network started. */
  at: number;
  kind: LogEntry['kind'];
  from: string;
  to: string;
  action: string;
  tags: Record<string, string>;
  data?: string;
  error?: string;
  /** Leaves the network (sent to a wallet). */
  external?: boolean;
  /** Wall time of the evaluation (request messages only). */
  ms?: number;
}

export interface DemoResult {
  version: string;
  seed: string;
  processes: {
    token: string;
    herder: string;
    herderModule: AosModule;
    workers: string[];
    client: string;
    operator: string;
  };
  /** `synthetic`: the generated tiny model, whose text is not meaningful. */
  model: { id: string; bytes: number; synthetic: boolean };
  request: {
    prompt: string;
    tokens: number;
    words: number;
    reference: string;
    /** The herder's request id (the Credit-Notice's message id). */
    request?: string;
  };
  fees: {
    baseFee: string;
    tokenFee: string;
    needed: string;
    paid: string;
    /** paid / needed, as the herder formats it (truncated to 6 decimals). */
    multiplier: string;
  };
  outcome: {
    status: 'answered' | 'refunded' | 'payment-failed' | 'unfinished';
    ok: boolean;
    answer?: string;
    reason?: string;
    refunded?: string;
    worker?: string;
    tokensGenerated?: number;
  };
  balances: {
    before: { client: string; herder: string };
    after: { client: string; herder: string };
  };
  timeline: TimelineEntry[];
  timing: {
    wallMs: number;
    bootMs: number;
    requestMs: number;
    /** Time of the worker's Inference call in llama.wasm (prompt evaluation + generation). */
    workerMs?: number;
    msPerToken?: number;
    messages: number;
    /** V8's WebAssembly tiers in this process (see wasm-tiering.ts). */
    wasmTiers: 'liftoff-only' | 'default';
  };
  rssMiB: number;
  names: Record<string, string>;
  /** The herder's settings, as a herd config (what `herd verify` is told it implements). */
  config: HerdConfigJson;
  /** With `log`: where the herder's history went, and the command that checks it. */
  log?: { path: string; messages: number; verify: string };
}

/** Quoted for a POSIX shell when it needs to be. */
function shellWord(arg: string): string {
  return /^[A-Za-z0-9_./:,=@+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * The `herd verify --log` command that checks a herder's history against the settings of its
 * config, every one stated by flag. The history is complete: the demo delivers every message.
 */
export function verifyLogCommand(path: string, herder: string, config: HerdConfig): string {
  const s = statedFromConfig(config);
  const flags: [string, string | number | bigint | null | undefined][] = [
    ['--token', s.token],
    ['--owner', s.owner],
    ['--workers', s.workers.length > 0 ? s.workers.join(',') : undefined],
    ['--base-fee', s.baseFee],
    ['--token-fee', s.tokenFee],
    ['--max-tokens', s.maxTokens],
    ['--max-prompt-bytes', s.maxPromptBytes],
    ['--max-overtakes', s.maxOvertakes === null ? 'unbounded' : s.maxOvertakes],
    ['--timeout-base', s.timeoutBase],
    ['--timeout-per-token', s.timeoutPerToken],
    ['--max-attempts', s.maxAttempts],
    ['--max-queue-wait', s.maxQueueWait],
  ];
  const words = ['herd verify --log', shellWord(path), '--herder', herder];
  for (const [flag, value] of flags)
    if (value !== undefined && value !== null) words.push(flag, shellWord(String(value)));
  return [...words, '--complete'].join(' ');
}

/** Problems with the demo's inputs (checked before anything boots). */
export function demoProblems(options: DemoOptions): string[] {
  const problems: string[] = [];
  const prompt = options.prompt ?? DEFAULT_PROMPT;
  const tokens = options.tokens ?? DEFAULT_TOKENS;
  if (prompt.trim() === '') problems.push('--prompt must not be empty');
  if (utf8Length(prompt) > MAX_PROMPT_BYTES)
    problems.push(`--prompt is ${utf8Length(prompt)} bytes; AOS-Llama takes at most ${MAX_PROMPT_BYTES}`);
  if (!Number.isSafeInteger(tokens) || tokens < 1 || tokens > DEFAULT_CONFIG.maxTokens)
    problems.push(`--tokens must be an integer in [1, ${DEFAULT_CONFIG.maxTokens}]`);
  if (options.multiplier !== undefined && options.fee !== undefined)
    problems.push('give --multiplier or --fee, not both');
  if (options.multiplier !== undefined) {
    const m = /^(\d*)\.?(\d*)$/.exec(options.multiplier);
    if (!m || `${m[1]}${m[2]}` === '' || (m[1]?.length ?? 0) > 18 || (m[2]?.length ?? 0) > 18)
      problems.push('--multiplier must be a plain decimal such as 1.5');
    else if (parseMultiplier(options.multiplier).num < parseMultiplier(options.multiplier).den)
      problems.push('--multiplier must be at least 1');
  }
  if (options.fee !== undefined && (!/^\d+$/.test(options.fee) || BigInt(options.fee) === 0n))
    problems.push('--fee must be a positive whole number of token units');
  return problems;
}

function parseMultiplier(text: string): { num: bigint; den: bigint } {
  const [whole = '', fraction = ''] = text.split('.');
  return { num: BigInt(`${whole}${fraction}` || '0'), den: 10n ** BigInt(fraction.length) };
}

const now = () => performance.now();

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const problems = demoProblems(options);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const started = now();
  const prompt = options.prompt ?? DEFAULT_PROMPT;
  const tokens = options.tokens ?? DEFAULT_TOKENS;
  const herderModule = options.herderModule ?? 'aos32';
  const seed = options.seed ?? 'llama-herder-demo';
  const herd = await bootLocalHerd({
    seed,
    herderModule,
    clientBoot: 'DemoCallback = function(answer, result) DemoResult = result end',
    ...(options.onStep ? { onStep: options.onStep } : {}),
    ...(options.model ? { model: options.model } : {}),
  });
  try {
    const booted = now();
    const before = { client: await herd.balance(herd.client), herder: await herd.balance(herd.herder) };
    const start = herd.net.log.length;

    options.onStep?.('paying and running the prompt', 0, 1);
    const fees =
      options.fee !== undefined
        ? `{ Fee = ${lua(options.fee)} }`
        : options.multiplier !== undefined
          ? `{ Multiplier = ${lua(options.multiplier)} }`
          : 'nil';
    const reference = await herd.clientEval(
      `return Llama.run(${lua(prompt)}, ${tokens}, DemoCallback, ${fees})`,
    );
    // Deliver one message at a time to time the worker's evaluation.
    let workerMs: number | undefined;
    let messages = 0;
    const stepMs = new Map<number, number>();
    for (;;) {
      const next = herd.net.pending[0];
      if (next === undefined) break;
      const t0 = now();
      const callMs0 = herd.net.stats.callMs;
      const entry = await herd.net.step();
      messages++;
      if (entry) stepMs.set(entry.seq, now() - t0);
      if (entry && herd.workers.includes(entry.to) && tagValue(entry.tags, 'Action') === 'Inference') {
        // The module call alone (the network's bookkeeping around it excluded).
        workerMs = (workerMs ?? 0) + (herd.net.stats.callMs - callMs0);
      }
      if (messages > 10_000) throw new Error('the demo did not settle (message loop?)');
    }
    const requestDone = now();
    const read = await herd.clientRead<Record<string, unknown> | unknown[]>('DemoResult or {}');
    const r: Record<string, unknown> = Array.isArray(read) ? {} : read;
    const after = { client: await herd.balance(herd.client), herder: await herd.balance(herd.herder) };

    const log = herd.net.log.slice(options.fullTimeline ? 0 : start);
    const t0 = herd.net.log[0]?.timestamp ?? 0;
    const timeline = log.map((e) => toTimeline(e, t0, stepMs.get(e.seq)));
    const requestLog = herd.net.log.slice(start);
    const response = requestLog.find(
      (e) =>
        herd.workers.includes(e.from) &&
        e.to === herd.herder &&
        tagValue(e.tags, 'Action') === 'Inference-Response',
    );
    const tokensGenerated = response ? Number(tagValue(response.tags, 'Tokens-Generated') ?? '0') : undefined;
    const transfer = requestLog.find(
      (e) => e.from === herd.client && e.to === herd.token && tagValue(e.tags, 'Action') === 'Transfer',
    );
    const needed = neededFee(herd.config, tokens, prompt);
    const paid = BigInt((transfer && tagValue(transfer.tags, 'Quantity')) ?? '0');
    const status = (r.status as DemoResult['outcome']['status'] | undefined) ?? 'unfinished';
    let written: DemoResult['log'];
    if (options.log !== undefined) {
      const history = herderHistory(herd.net.log, herd.herder, herd.net.pending);
      writeFileSync(options.log, toJsonLines(history));
      written = {
        path: options.log,
        messages: history.length,
        verify: verifyLogCommand(options.log, herd.herder, herd.config),
      };
    }
    return {
      version: MODEL_VERSION,
      seed,
      processes: {
        token: herd.token,
        herder: herd.herder,
        herderModule,
        workers: [...herd.workers],
        client: herd.client,
        operator: herd.owner,
      },
      model: { id: herd.model.id, bytes: herd.model.bytes, synthetic: options.model === undefined },
      request: {
        prompt,
        tokens,
        words: words(prompt),
        reference: stripQuotes(reference),
        ...(typeof r.request === 'string' ? { request: r.request } : {}),
      },
      fees: {
        baseFee: herd.config.baseFee.toString(),
        tokenFee: herd.config.tokenFee.toString(),
        needed: needed.toString(),
        paid: paid.toString(),
        multiplier: formatMultiplier({ paid, needed }),
      },
      outcome: {
        status,
        ok: r.ok === true,
        ...(typeof r.answer === 'string' ? { answer: r.answer } : {}),
        ...(typeof r.reason === 'string' ? { reason: r.reason } : {}),
        ...(typeof r.refunded === 'string' ? { refunded: r.refunded } : {}),
        ...(response ? { worker: herd.names[response.from] ?? response.from } : {}),
        ...(tokensGenerated !== undefined ? { tokensGenerated } : {}),
      },
      balances: {
        before: { client: before.client.toString(), herder: before.herder.toString() },
        after: { client: after.client.toString(), herder: after.herder.toString() },
      },
      timeline,
      timing: {
        wallMs: Math.round(now() - started),
        bootMs: Math.round(booted - started),
        requestMs: Math.round(requestDone - booted),
        ...(workerMs !== undefined ? { workerMs: round1(workerMs) } : {}),
        ...(workerMs !== undefined && tokensGenerated
          ? { msPerToken: round1(workerMs / tokensGenerated) }
          : {}),
        messages,
        wasmTiers: baselineWasmOnly() ? 'liftoff-only' : 'default',
      },
      rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
      names: { ...herd.names },
      config: configToJson(herd.config),
      ...(written ? { log: written } : {}),
    };
  } finally {
    herd.close();
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;

function stripQuotes(text: string): string {
  return text.replace(/^"(.*)"$/, '$1');
}

const PLUMBING = new Set([
  'Data-Protocol',
  'Variant',
  'Type',
  'From-Process',
  'From-Module',
  'Pushed-For',
  'Reference',
]);

function toTimeline(e: LogEntry, t0: number, ms: number | undefined): TimelineEntry {
  const tags: Record<string, string> = {};
  for (const t of e.tags)
    if (!PLUMBING.has(t.name) && t.name !== 'Action' && !(t.name in tags)) tags[t.name] = t.value;
  return {
    seq: e.seq,
    at: e.timestamp - t0,
    kind: e.kind,
    from: e.from,
    to: e.to,
    action: e.kind === 'spawn' ? 'Spawn' : (tagValue(e.tags, 'Action') ?? e.kind),
    tags: e.kind === 'spawn' ? {} : tags,
    ...(e.data && e.kind !== 'spawn' ? { data: e.data } : {}),
    ...(ms !== undefined ? { ms: round1(ms) } : {}),
    ...(e.error !== undefined ? { error: e.error } : {}),
    ...(e.kind === 'external' ? { external: true } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Human output

/** Key tags per Action, in the order shown. */
const KEY_TAGS: Record<string, readonly string[]> = {
  Transfer: ['Quantity', 'Recipient', 'X-Tokens', 'X-Reference', 'X-Reason', 'X-Needed'],
  'Debit-Notice': ['Quantity', 'Recipient', 'X-Reference'],
  'Credit-Notice': ['Quantity', 'Sender', 'X-Reference', 'X-Reason', 'X-Needed'],
  'Transfer-Error': ['Error', 'X-Reference'],
  Info: [],
  'Info-Response': ['Base-Fee', 'Token-Fee', 'Last-Multiplier', 'Queue-Length', 'Idle-Workers'],
  Inference: ['Tokens', 'X-Request'],
  'Inference-Response': ['X-Request', 'X-Reference', 'Tokens-Generated'],
  'Inference-Error': ['X-Request', 'X-Reason'],
  Init: ['Model-ID', 'Herder'],
  'Worker-Initialized': ['Model-ID'],
  'Worker-Error': ['X-Reason'],
  'Add-Worker': ['Worker'],
  'Admin-Done': ['Admin-Action'],
  Mint: ['Quantity', 'Recipient'],
  'Mint-Confirmation': ['Quantity'],
};

/** Printable, one line, at most `max` characters (JSON-style escapes for control bytes). */
export function printable(text: string, max = 48): string {
  const escaped = JSON.stringify(text).slice(1, -1);
  return escaped.length > max ? `${escaped.slice(0, max - 1)}…` : escaped;
}

/** Lua source on one line, shortened. */
function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function short(value: string, names: Record<string, string>): string {
  if (names[value] !== undefined) return names[value]!;
  return /^[A-Za-z0-9_-]{43}$/.test(value) ? `${value.slice(0, 6)}…` : printable(value, 28);
}

export function formatTimelineEntry(e: TimelineEntry, names: Record<string, string>): string {
  const who = `${short(e.from, names)} → ${short(e.to, names)}`;
  const keys = KEY_TAGS[e.action] ?? Object.keys(e.tags).slice(0, 4);
  const tags = keys
    .filter((k) => e.tags[k] !== undefined)
    .map((k) => `${k}=${short(e.tags[k]!, names)}`)
    .join(' ');
  let line = `#${String(e.seq).padStart(3)}  ${who.padEnd(22)} ${e.action}`;
  if (tags) line += ` [${tags}]`;
  if (e.data !== undefined && e.kind === 'eval') line += ` ${oneLine(e.data, 72)}`;
  else if (e.data !== undefined && !e.action.endsWith('-Notice') && e.action !== 'Mint-Confirmation')
    line += ` "${printable(e.data, 40)}"`;
  if (e.ms !== undefined && e.ms >= 1) line += ` (${Math.round(e.ms)} ms)`;
  if (e.error !== undefined) line += ` ✗ ${e.error.split('\n')[0]}`;
  if (e.external) line += ' (to a wallet)';
  return line;
}

export function formatDemo(r: DemoResult): string {
  const n = r.names;
  const lines: string[] = [];
  lines.push(`llama-herder demo — model version ${r.version}, local AO network (seed "${r.seed}")`);
  lines.push('');
  lines.push(`  token    ${r.processes.token}  (wAR, aos32)`);
  lines.push(`  herder   ${r.processes.herder}  (${r.processes.herderModule})`);
  r.processes.workers.forEach((w) => {
    lines.push(`  ${(n[w] ?? 'worker').padEnd(9)}${w}  (AOS-Llama, llama.wasm)`);
  });
  lines.push(`  client   ${r.processes.client}  (aos32 + client package)`);
  lines.push(
    r.model.synthetic
      ? `  model    ${r.model.id}  (${(r.model.bytes / 1024).toFixed(0)} KiB, generated tiny llama: its text is not meaningful)`
      : `  model    ${r.model.id}  (${(r.model.bytes / 2 ** 20).toFixed(1)} MiB, your GGUF file)`,
  );
  lines.push('');
  lines.push(
    `Prompt   "${printable(r.request.prompt, 200)}" — ${r.request.words} words, ${r.request.tokens} tokens`,
  );
  lines.push(
    `Fees     needed ${r.fees.needed} = ${r.fees.baseFee} + ${r.fees.tokenFee} × (${r.request.tokens} tokens + ${r.request.words} words); ` +
      `paid ${r.fees.paid}; multiplier ${r.fees.multiplier}`,
  );
  if (r.outcome.status === 'answered') {
    lines.push(
      `Answer   "${printable(r.outcome.answer ?? '', 200)}"  (${r.outcome.tokensGenerated ?? '?'} tokens from ${r.outcome.worker ?? 'a worker'})`,
    );
  } else {
    lines.push(`Outcome  ${r.outcome.status}: ${r.outcome.reason ?? 'no answer'}`);
  }
  lines.push('');
  const row = (who: string, b: string, a: string) => {
    const change = BigInt(a) - BigInt(b);
    return `  ${who.padEnd(8)}${b.padStart(12)}${a.padStart(12)}${`${change > 0n ? '+' : ''}${change}`.padStart(10)}`;
  };
  lines.push(`Balances (wAR units)  before       after    change`);
  lines.push(row('client', r.balances.before.client, r.balances.after.client));
  lines.push(row('herder', r.balances.before.herder, r.balances.after.herder));
  lines.push('');
  lines.push(
    `Timeline (${r.timeline.length} evaluations and messages${r.timeline[0]?.seq ? ', after the boot' : ''}):`,
  );
  for (const e of r.timeline) lines.push(`  ${formatTimelineEntry(e, n)}`);
  lines.push('');
  const t = r.timing;
  lines.push(
    `Wall time ${(t.wallMs / 1000).toFixed(1)} s (boot ${(t.bootMs / 1000).toFixed(1)} s, request ${(t.requestMs / 1000).toFixed(2)} s, ${t.messages} messages)` +
      (t.msPerToken !== undefined
        ? `; worker ${t.msPerToken} ms/token (${t.workerMs} ms for ${r.outcome.tokensGenerated} tokens incl. the prompt)`
        : '') +
      `; RSS ${r.rssMiB} MiB; wasm ${t.wasmTiers === 'liftoff-only' ? 'baseline compiler only' : 'default tiering'}`,
  );
  if (r.log) {
    lines.push('');
    lines.push(
      `Herder history: ${r.log.messages} messages into or out of the herder written to ${r.log.path}`,
    );
    lines.push(`Check it:  ${r.log.verify}`);
  }
  return lines.join('\n');
}
