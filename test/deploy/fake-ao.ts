/**
 * A scripted stand-in for AO in the deploy unit tests: processes answer the deploy's messages the
 * way herder.lua and worker.lua do (Worker-Initialized, Admin-Done, Info-Response), and every
 * call is counted. Failures are injected per call with `failNext`.
 */
import type { AoApi, AoResult, AoTag } from '../../src/deploy/index.ts';
import { MODEL_VERSION } from '../../src/model/version.ts';

interface FakeProcess {
  id: string;
  owner: string;
  module: string;
  tags: AoTag[];
  loaded: boolean;
  workers: Set<string>;
  fees: { base: string; token: string };
  model?: string;
  workerError?: string;
}

type Call = 'spawn' | 'message' | 'result' | 'dryrun';

export interface FakeAo extends AoApi {
  processes: Map<string, FakeProcess>;
  calls: Record<Call, number>;
  /** The next call of this kind throws `error`; with `after`, it does its work first (a lost reply). */
  failNext(call: Call, error: Error, options?: { after?: boolean }): void;
  /** Init on any worker answers Worker-Error with this reason. */
  workerError?: string;
  /** Add-Worker answers Admin-Refused with this reason. */
  refuseAdd?: string;
}

const value = (tags: readonly AoTag[] | undefined, name: string) => tags?.find((t) => t.name === name)?.value;

/** `signer()` in this fake returns the signing wallet's address. */
export function fakeAo(token = 'T'.repeat(43)): FakeAo {
  const processes = new Map<string, FakeProcess>();
  const results = new Map<string, AoResult>();
  const calls: Record<Call, number> = { spawn: 0, message: 0, result: 0, dryrun: 0 };
  const failures: { call: Call; error: Error; after: boolean }[] = [];
  let counter = 0;
  const nextId = (prefix: string) => `${prefix}${String(++counter).padStart(43 - prefix.length, '0')}`;

  const takeFailure = (call: Call) => {
    const index = failures.findIndex((f) => f.call === call);
    return index < 0 ? undefined : failures.splice(index, 1)[0];
  };
  const wrap = async <T>(call: Call, work: () => T): Promise<T> => {
    calls[call]++;
    const failure = takeFailure(call);
    if (failure && !failure.after) throw failure.error;
    const out = work();
    if (failure) throw failure.error;
    return out;
  };
  const reply = (target: string, tags: Record<string, string>): AoResult => ({
    Messages: [{ Target: target, Tags: Object.entries(tags).map(([name, v]) => ({ name, value: v })) }],
  });

  const fake: FakeAo = {
    processes,
    calls,
    failNext(call, error, options = {}) {
      failures.push({ call, error, after: Boolean(options.after) });
    },
    spawn: (args) =>
      wrap('spawn', () => {
        const id = nextId('P');
        processes.set(id, {
          id,
          owner: String(args.signer()),
          module: args.module,
          tags: args.tags ?? [],
          loaded: args.data !== undefined,
          workers: new Set(),
          fees: { base: '100', token: '10' },
        });
        results.set(`${id}/${id}`, {});
        return id;
      }),
    message: (args) =>
      wrap('message', () => {
        const p = processes.get(args.process);
        if (!p) throw new Error(`no process ${args.process}`);
        const id = nextId('M');
        const from = String(args.signer());
        const action = value(args.tags, 'Action');
        let result: AoResult = {};
        if (from !== p.owner) result = {};
        else if (action === 'Eval') p.loaded = true;
        else if (action === 'Init') {
          const reason = fake.workerError;
          p.model = value(args.tags, 'Model-ID');
          result = reason
            ? reply(from, { Action: 'Worker-Error', 'X-Reason': reason })
            : reply(from, { Action: 'Worker-Initialized', 'Model-ID': p.model ?? '' });
        } else if (action === 'Add-Worker') {
          if (fake.refuseAdd) result = reply(from, { Action: 'Admin-Refused', 'X-Reason': fake.refuseAdd });
          else {
            const note: Record<string, string> = p.workers.has(value(args.tags, 'Worker')!)
              ? { 'X-Note': 'already in the herd' }
              : {};
            p.workers.add(value(args.tags, 'Worker')!);
            result = reply(from, { Action: 'Admin-Done', 'Admin-Action': 'Add-Worker', ...note });
          }
        } else if (action === 'Set-Fees') {
          p.fees = { base: value(args.tags, 'Base-Fee')!, token: value(args.tags, 'Token-Fee')! };
          result = reply(from, { Action: 'Admin-Done', 'Admin-Action': 'Set-Fees' });
        }
        if (!p.loaded && action !== 'Eval') result = {};
        results.set(`${args.process}/${id}`, result);
        return id;
      }),
    result: (args) => wrap('result', () => results.get(`${args.process}/${args.message}`)),
    results: async () => ({ edges: [] }),
    dryrun: (args) =>
      wrap('dryrun', () => {
        const p = processes.get(args.process);
        if (!p) return undefined;
        if (!p.loaded || value(p.tags, 'Herd-Role') !== 'herder') return {};
        return reply('dryrun', {
          Action: 'Info-Response',
          'Base-Fee': p.fees.base,
          'Token-Fee': p.fees.token,
          Token: token,
          Workers: String(p.workers.size),
          'Idle-Workers': String(p.workers.size),
          'Queue-Length': '0',
          Version: MODEL_VERSION,
        });
      }),
  };
  return fake;
}
