/**
 * HerderClient's polling against a scripted results feed: paging past many unrelated results,
 * matching only this wallet's messages with its reference, and giving up in time.
 */
import { describe, expect, it } from 'vitest';
import { HerderClient, HerderTimeoutError, PaymentRefusedError } from '../../src/client/index.ts';
import type { AoApi, AoOutgoing, AoResult } from '../../src/deploy/index.ts';

const ME = 'C'.repeat(43);
const HERDER = 'H'.repeat(43);
const TOKEN = 'T'.repeat(43);

const msg = (target: string, tags: Record<string, string>, data = ''): AoOutgoing => ({
  Target: target,
  Tags: Object.entries(tags).map(([name, value]) => ({ name, value })),
  Data: data,
});

type Append = (process: string, ...messages: AoOutgoing[]) => void;

/** Per process, a list of results; `onTransfer` appends what the transfer "causes". */
function feed(onTransfer: (transfer: string, tags: Record<string, string>, push: Append) => void) {
  const logs: Record<string, { cursor: string; node: AoResult }[]> = { [HERDER]: [], [TOKEN]: [] };
  let n = 0;
  const append: Append = (process, ...messages) => {
    logs[process]!.push({ cursor: `c${++n}`, node: { Messages: messages } });
  };
  append(HERDER, msg(ME, { Action: 'Inference-Response', 'X-Reference': 'old' }, 'stale answer'));
  const api: AoApi = {
    spawn: async () => 'x',
    message: async (args) => {
      const tags = Object.fromEntries((args.tags ?? []).map((t) => [t.name, t.value]));
      const id = `m${++n}`;
      onTransfer(id, tags, append);
      return id;
    },
    result: async () => ({}),
    dryrun: async () => ({}),
    results: async ({ process, from, sort, limit = 25 }) => {
      let list = logs[process] ?? [];
      if (sort === 'DESC') list = [...list].reverse();
      const start = from === undefined ? 0 : list.findIndex((e) => e.cursor === from) + 1;
      return { edges: list.slice(start, start + limit) };
    },
  };
  return { api, append };
}

const client = (api: AoApi, timeoutMs = 1_000) =>
  new HerderClient({
    api,
    signer: () => ME,
    address: ME,
    herder: HERDER,
    token: TOKEN,
    pollIntervalMs: 1,
    timeoutMs,
  });

describe('HerderClient polling', () => {
  it('pages through unrelated results and takes only its own answer', async () => {
    let polls = 0;
    const { api } = feed((_id, tags, push) => {
      for (let i = 0; i < 250; i++)
        push(
          HERDER,
          msg('someone-else', { Action: 'Inference-Response', 'X-Reference': tags['X-Reference']! }),
        );
      push(HERDER, msg(ME, { Action: 'Inference-Response', 'X-Reference': 'another' }, 'not mine'));
      push(TOKEN, msg(ME, { Action: 'Debit-Notice', 'X-Reference': tags['X-Reference']! }));
      push(
        HERDER,
        msg(
          ME,
          { Action: 'Inference-Response', 'X-Reference': tags['X-Reference']!, 'X-Request': 'R1' },
          'mine',
        ),
      );
    });
    const results = api.results;
    api.results = (args) => {
      polls++;
      return results(args);
    };
    const answer = await client(api).run('hi', 1, { fee: 5n, reference: 'r-1' });
    expect(answer).toMatchObject({ answer: 'mine', request: 'R1', reference: 'r-1', fee: 5n });
    expect(polls).toBeGreaterThanOrEqual(2 + 3);
  });

  it('a Transfer-Error for its transfer is a PaymentRefusedError', async () => {
    const { api } = feed((id, _tags, push) =>
      push(TOKEN, msg(ME, { Action: 'Transfer-Error', 'Message-Id': id, Error: 'Insufficient Balance!' })),
    );
    const error = await client(api)
      .run('hi', 1, { fee: 5n })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PaymentRefusedError);
    expect((error as PaymentRefusedError).reason).toBe('Insufficient Balance!');
  });

  it('gives up after timeoutMs and says whether the payment went through', async () => {
    const { api } = feed((_id, tags, push) =>
      push(TOKEN, msg(ME, { Action: 'Debit-Notice', 'X-Reference': tags['X-Reference']! })),
    );
    const error = await client(api, 20)
      .run('hi', 1, { fee: 5n })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HerderTimeoutError);
    expect((error as HerderTimeoutError).paid).toBe(true);
  });
});
