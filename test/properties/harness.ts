/**
 * Runs a trace of abstract events through a herder and audits every step. Events become
 * concrete AO messages only at delivery, using what the herder has said so far (e.g. a worker
 * answers the request it was last sent), so shrinking keeps traces meaningful.
 */
import fc from 'fast-check';
import { Auditor } from '../../src/audit/auditor.ts';
import type { InvariantName, Violation } from '../../src/audit/invariants.ts';
import type { HerdConfig } from '../../src/model/config.ts';
import { neededFee } from '../../src/model/fees.ts';
import {
  cloneHerderState,
  type HerderState,
  initialHerderState,
  stepInPlace,
} from '../../src/model/herder.ts';
import { ledgerViolations } from '../../src/model/ledger.ts';
import type { AoMessage, OutMessage } from '../../src/model/messages.ts';
import {
  CLIENTS,
  OWNER,
  STRANGER,
  type TimedEvent,
  TOKEN,
  type TraceEvent,
  type TraceSpec,
  traceSpec,
  WORKER_POOL,
} from './arbitraries.ts';

/** A herder implementation as the properties see it. */
export interface HerderUnderTest<S> {
  readonly name: string;
  init(config: HerdConfig): S;
  /** Delivers one message; returns the next state and the herder's outbox. */
  step(state: S, msg: AoMessage): { state: S; outbox: OutMessage[] };
  /** Invariants checked on the implementation's own state (optional white-box view). */
  inspect?(state: S): Violation[];
}

/** The model herder, stepped purely (the input state is never modified). */
export const modelHerder: HerderUnderTest<HerderState> = {
  name: 'model',
  init: initialHerderState,
  step(state, msg) {
    const next = cloneHerderState(state);
    return { state: next, outbox: stepInPlace(next, msg) };
  },
  inspect: inspectModel,
};

/** White-box checks on the model's state. */
export function inspectModel(state: HerderState): Violation[] {
  const found: Violation[] = [];
  const flag = (invariant: InvariantName, detail: string) => found.push({ invariant, step: -1, detail });
  for (const problem of ledgerViolations(state.ledger)) flag('conservation', problem);
  let escrow = 0n;
  for (const r of state.requests.values()) escrow += r.multiplier.paid;
  if (escrow !== state.ledger.escrow)
    flag('conservation', `escrow ${state.ledger.escrow} != sum of live requests ${escrow}`);
  const holders = new Map<string, string>();
  for (const worker of state.herd.all()) {
    if ((worker.status === 'busy') !== (worker.request !== undefined))
      flag('no-double-booking', `worker ${worker.id} is ${worker.status} with request ${worker.request}`);
    if (worker.request === undefined) continue;
    const r = state.requests.get(worker.request);
    if (r?.worker !== worker.id)
      flag('no-double-booking', `worker ${worker.id} holds ${worker.request}, which is on ${r?.worker}`);
    if (holders.has(worker.request)) flag('no-double-booking', `request ${worker.request} on two workers`);
    holders.set(worker.request, worker.id);
  }
  for (const r of state.requests.values())
    if (r.worker !== undefined && holders.get(r.id) !== r.worker)
      flag('no-double-booking', `request ${r.id} says it is on ${r.worker}, which does not hold it`);
  if (state.queue.length > 0 && state.herd.idleCount > 0)
    flag(
      'work-conserving',
      `${state.herd.idleCount} idle worker(s) and ${state.queue.length} waiting request(s)`,
    );
  return found;
}

export interface TraceRun {
  readonly violations: Violation[];
  /** Every delivered message with the herder's outbox, in order. */
  readonly log: { msg: AoMessage; outbox: OutMessage[] }[];
}

/** Builds concrete messages for events, delivers them, audits, then drains the herd. */
export function runTrace<S>(
  impl: HerderUnderTest<S>,
  spec: TraceSpec,
  options: { drain?: boolean } = {},
): TraceRun {
  const world = new World(spec.config);
  let state = impl.init(spec.config);
  const auditor = new Auditor(spec.config);
  const log: TraceRun['log'] = [];
  const violations: Violation[] = [];
  const deliver = (msg: AoMessage) => {
    const result = impl.step(state, msg);
    state = result.state;
    log.push({ msg, outbox: result.outbox });
    world.learn(msg, result.outbox);
    auditor.observe(msg, result.outbox);
    for (const v of impl.inspect?.(state) ?? []) violations.push({ ...v, step: log.length - 1 });
  };
  for (const timed of spec.events) for (const msg of world.messagesFor(timed)) deliver(msg);
  if (options.drain ?? true) {
    // Liveness: with time advancing, answering workers and a fresh worker, everything must end.
    deliver(world.admin(true, { op: 'Add-Worker', worker: -1 }));
    // Workers answer promptly (before any new deadline passes) until nothing is left.
    for (let round = 0; round < 40 && auditor.liveRequests().length > 0; round++) {
      for (const msg of world.drainAnswers()) deliver(msg);
      world.clock += 1;
      deliver(world.tick());
    }
    auditor.finish();
  }
  violations.push(...auditor.violations);
  return { violations, log };
}

/** The herder's surroundings: clock, ids, what each worker was last sent, past messages. */
class World {
  clock = 1_000;
  private nextId = 0;
  private readonly sent: AoMessage[] = [];
  /** Last Inference each worker received, and whether the world has answered it. */
  private readonly inbox = new Map<string, { request: string; answered: boolean }>();
  private readonly everRegistered = new Set<string>(['W-DRAIN']);

  constructor(private readonly config: HerdConfig) {
    for (const w of config.workers) this.everRegistered.add(w);
  }

  private message(from: string, tags: Record<string, string>, data?: string): AoMessage {
    const msg: AoMessage = {
      id: `m${++this.nextId}`,
      from,
      timestamp: this.clock,
      tags,
      ...(data === undefined ? {} : { data }),
    };
    this.sent.push(msg);
    return msg;
  }

  learn(_msg: AoMessage, outbox: readonly OutMessage[]): void {
    for (const out of outbox)
      if (out.tags.Action === 'Inference')
        this.inbox.set(out.target, { request: out.tags['X-Request']!, answered: false });
  }

  tick(): AoMessage {
    return this.message(OWNER, { Action: 'Cron', Cron: 'true' });
  }

  messagesFor({ dt, event }: TimedEvent): AoMessage[] {
    this.clock += dt;
    const msg = this.concrete(event);
    return msg === undefined ? [] : [msg];
  }

  admin(byOwner: boolean, op: Extract<TraceEvent, { kind: 'admin' }>['op']): AoMessage {
    const from = byOwner ? OWNER : STRANGER;
    const workerId = (i: number) => (i < 0 ? 'W-DRAIN' : WORKER_POOL[i]!);
    switch (op.op) {
      case 'Add-Worker':
        if (byOwner) this.everRegistered.add(workerId(op.worker));
        return this.message(from, { Action: 'Add-Worker', Worker: workerId(op.worker) });
      case 'Remove-Worker':
        return this.message(from, { Action: 'Remove-Worker', Worker: workerId(op.worker) });
      case 'Set-Fees':
        return this.message(from, {
          Action: 'Set-Fees',
          'Base-Fee': String(op.baseFee),
          'Token-Fee': String(op.tokenFee),
        });
      case 'Set-Limits':
        return this.message(from, {
          Action: 'Set-Limits',
          'Max-Overtakes': op.maxOvertakes === null ? 'unbounded' : String(op.maxOvertakes),
          'Max-Attempts': String(op.maxAttempts),
        });
      case 'Withdraw':
        return this.message(from, { Action: 'Withdraw', Quantity: String(op.quantity) });
      default:
        return this.message(from, { Action: op.op });
    }
  }

  /** Every worker answers what it holds and reports itself initialised. */
  drainAnswers(): AoMessage[] {
    const out: AoMessage[] = [];
    for (const [worker, last] of this.inbox) {
      if (last.answered) continue;
      last.answered = true;
      out.push(this.message(worker, { Action: 'Inference-Response', 'X-Request': last.request }, 'drained'));
    }
    for (const worker of this.everRegistered)
      out.push(this.message(worker, { Action: 'Worker-Initialized' }));
    return out;
  }

  private concrete(event: TraceEvent): AoMessage | undefined {
    switch (event.kind) {
      case 'credit':
        return this.credit(event);
      case 'answer': {
        const worker = WORKER_POOL[event.worker]!;
        const last = this.inbox.get(worker);
        const request =
          event.which === 'held'
            ? last?.request
            : event.which === 'stale'
              ? this.sent[0]?.id
              : 'no-such-request';
        if (request === undefined) return undefined;
        if (event.which === 'held' && event.from === 'worker' && last) last.answered = true;
        const from =
          event.from === 'worker'
            ? worker
            : event.from === 'stranger'
              ? STRANGER
              : WORKER_POOL[(event.worker + 1) % WORKER_POOL.length]!;
        return event.ok
          ? this.message(from, { Action: 'Inference-Response', 'X-Request': request }, `answer to ${request}`)
          : this.message(from, {
              Action: 'Inference-Error',
              'X-Request': request,
              'X-Reason': 'out of memory',
            });
      }
      case 'worker-report':
        return this.message(WORKER_POOL[event.worker]!, {
          Action: event.error ? 'Worker-Error' : 'Worker-Initialized',
        });
      case 'tick':
        return this.tick();
      case 'info':
        return this.message(event.fromOwner ? OWNER : STRANGER, { Action: 'Info' });
      case 'duplicate': {
        const original = this.sent[this.sent.length - event.back];
        if (original === undefined) return undefined;
        const again = { ...original, timestamp: this.clock };
        this.sent.push(again);
        return again;
      }
      case 'junk': {
        const from =
          event.from === 'token'
            ? TOKEN
            : event.from === 'worker'
              ? WORKER_POOL[0]
              : event.from === 'owner'
                ? OWNER
                : STRANGER;
        return this.message(from, { ...event.tags }, event.data);
      }
      case 'admin':
        return this.admin(event.byOwner, event.op);
    }
  }

  private credit(event: Extract<TraceEvent, { kind: 'credit' }>): AoMessage {
    const prompt =
      event.prompt === 'words'
        ? Array.from(
            { length: event.words },
            (_, i) => ['tell', 'me', 'a', 'story', 'about', 'llamas'][i % 6],
          ).join(' ')
        : event.prompt === 'empty'
          ? ''
          : event.prompt === 'unicode'
            ? 'ünïcödé 草泥马 🦙 ok'
            : event.prompt === 'huge'
              ? 'llama '.repeat(60)
              : event.prompt === 'symbols'
                ? '?!... --- ;;'
                : undefined;
    const tokens = {
      valid: String(event.count),
      missing: undefined,
      zero: '0',
      'too-many': '51',
      'not-a-number': 'ten',
      negative: '-3',
      padded: ` ${event.count}`,
    }[event.tokens];
    const needed = neededFee(this.config, event.count, prompt ?? '');
    const paid = {
      underpaid: needed > 1n ? needed - 1n - (BigInt(event.bump) % (needed - 1n)) : 0n,
      exact: needed,
      overpaid: needed + BigInt(event.bump),
      double: 2n * needed + BigInt(event.bump),
      huge: (1n << 70n) + BigInt(event.bump),
      oversized: 10n ** 80n + BigInt(event.bump),
    }[event.payment];
    const tags: Record<string, string> = {
      Action: 'Credit-Notice',
      Quantity: (paid > 0n ? paid : 1n).toString(),
    };
    if (!event.noSender) tags.Sender = CLIENTS[event.client]!;
    if (prompt !== undefined) tags['X-Prompt'] = prompt;
    if (tokens !== undefined) tags['X-Tokens'] = tokens;
    if (event.reference) tags['X-Reference'] = `ref-${this.nextId}`;
    return this.message(event.spoofed ? STRANGER : TOKEN, tags);
  }
}

/**
 * Runs per property: 1,000 by default. Mutation testing lowers it (HERD_PROPERTY_RUNS) because it
 * reruns the suite once per mutant; the default test run never does.
 */
export const RUNS = Number(process.env.HERD_PROPERTY_RUNS ?? 1_000);

/**
 * Asserts that no trace breaks `invariant` on `impl`. A failure reports the seed, the shrunk
 * trace and the first violation with the messages that led to it.
 */
export function assertInvariant<S>(
  invariant: InvariantName,
  impl: HerderUnderTest<S>,
  options: { numRuns?: number; arbitrary?: fc.Arbitrary<TraceSpec>; seed?: number } = {},
): void {
  fc.assert(
    fc.property(options.arbitrary ?? traceSpec(), (spec) => {
      const run = runTrace(impl, spec);
      const broken = run.violations.find((v) => v.invariant === invariant);
      if (broken) throw new Error(describeViolation(broken, run));
    }),
    { numRuns: options.numRuns ?? RUNS, ...(options.seed === undefined ? {} : { seed: options.seed }) },
  );
}

/** Whether some trace breaks `invariant` on `impl` (for the seeded-defect tests). */
export function findViolation<S>(
  invariant: InvariantName,
  impl: HerderUnderTest<S>,
  options: { numRuns?: number; arbitrary?: fc.Arbitrary<TraceSpec>; seed?: number } = {},
): fc.RunDetails<[TraceSpec]> {
  return fc.check(
    fc.property(
      options.arbitrary ?? traceSpec(),
      (spec) => !runTrace(impl, spec).violations.some((v) => v.invariant === invariant),
    ),
    { numRuns: options.numRuns ?? RUNS, ...(options.seed === undefined ? {} : { seed: options.seed }) },
  );
}

export function describeViolation(v: Violation, run: TraceRun): string {
  const upTo = v.step < 0 ? run.log.length : v.step + 1;
  const lines = run.log.slice(Math.max(0, upTo - 25), upTo).map(({ msg, outbox }, i) => {
    const sent = outbox.map(
      (o) => `${o.tags.Action}→${o.target}${o.tags['X-Request'] ? `(${o.tags['X-Request']})` : ''}`,
    );
    return `  #${upTo - Math.min(25, upTo) + i} t=${msg.timestamp} ${msg.from} ${JSON.stringify(msg.tags)} ⇒ [${sent.join(', ')}]`;
  });
  return `${v.invariant} violated at step ${v.step}: ${v.detail}\n${lines.join('\n')}`;
}
