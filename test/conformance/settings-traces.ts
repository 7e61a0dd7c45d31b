/**
 * Conformance over the settings space: herder.lua in aos sends exactly what the model sends with
 * every setting varied, the extremes of each bound included, a queue-wait bound short enough that
 * requests wait it out, and the owner changing limits (every Set-Limits tag, valid or out of bound)
 * in the middle of a trace.
 *
 * The traces are run in shards, one test file each (settings-*.test.ts), so that a test run on
 * several cores runs them side by side; every shard draws its own random traces.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type HerdConfig, makeConfig, SETTING_BOUNDS } from '../../src/model/config.ts';
import type { AoMessage, OutMessage } from '../../src/model/messages.ts';
import { runTraceAsync } from '../../src/verify/run.ts';
import { OWNER, TOKEN, traceSpec, WORKER_POOL } from '../../src/verify/scenario.ts';
import { PairedHerder } from './paired.ts';

/** Traces in all shards together. */
const RUNS = Number(process.env.HERD_SETTINGS_RUNS ?? 200);

/** A value of a bounded setting: often an extreme, otherwise anywhere in its range. */
const within = (name: keyof typeof SETTING_BOUNDS, small?: number) => {
  const { min, max } = SETTING_BOUNDS[name];
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(min, max) },
    { weight: 3, arbitrary: fc.integer({ min, max: small ?? max }) },
  );
};

const settingsConfig: fc.Arbitrary<HerdConfig> = fc
  .record({
    workers: fc.integer({ min: 0, max: 3 }),
    maxOvertakes: fc.option(fc.nat(3), { nil: null }),
    maxAttempts: within('maxAttempts'),
    baseFee: fc.bigInt({ min: 0n, max: 200n }),
    tokenFee: fc.bigInt({ min: 1n, max: 20n }),
    maxTokens: within('maxTokens', 60),
    maxPromptBytes: within('maxPromptBytes', 60),
    timeoutBase: within('timeoutBase', 5_000),
    timeoutPerToken: within('timeoutPerToken', 200),
    maxQueueWait: within('maxQueueWait', 6_000),
  })
  .map((c) => makeConfig({ ...c, token: TOKEN, owner: OWNER, workers: WORKER_POOL.slice(0, c.workers) }));

const LIMIT_TAGS = [
  'Max-Tokens',
  'Max-Prompt-Bytes',
  'Max-Overtakes',
  'Timeout-Base',
  'Timeout-Per-Token',
  'Max-Attempts',
  'Max-Queue-Wait',
] as const;

const limitValue = fc.oneof(
  fc.integer({ min: 0, max: 6_000 }).map(String),
  fc.constantFrom('0', '1', '10', '11', '510', '511', '65536', '65537', '600000', '600001'),
  fc.constantFrom('86400000', '86400001', '9007199254740991', '1000000000000000', 'unbounded', 'x'),
);

/**
 * Messages sent just before the message of the trace at `at`: the owner's Set-Limits, and
 * initialisation reports and registrations in any order (readiness).
 */
const limitChanges = fc.array(
  fc.record({
    at: fc.nat(90),
    from: fc.constantFrom(OWNER, ...WORKER_POOL),
    tags: fc.oneof(
      {
        weight: 3,
        arbitrary: fc
          .dictionary(fc.constantFrom(...LIMIT_TAGS), limitValue, { minKeys: 1, maxKeys: 4 })
          .map((tags) => ({ Action: 'Set-Limits', ...tags })),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          Action: fc.constantFrom('Worker-Error', 'Worker-Initialized'),
          'X-Reason': fc.constant('model did not load'),
        }),
      },
      {
        // X-Tokens at the edges of every accepted maxTokens: model and Lua read it alike.
        weight: 2,
        arbitrary: fc.record({
          Action: fc.constant('Credit-Notice'),
          Sender: fc.constant('CLIENT-X'),
          Quantity: fc.constantFrom('1000000', '100000000000'),
          'X-Prompt': fc.constant('tell me about llamas'),
          'X-Tokens': fc.constantFrom(
            '1',
            '60',
            '65536',
            '0065536',
            '65537',
            '999999999999999',
            '1000000000000000',
            '9007199254740993',
          ),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          Action: fc.constantFrom('Add-Worker', 'Remove-Worker'),
          Worker: fc.constantFrom(...WORKER_POOL),
        }),
      },
    ),
  }),
  { maxLength: 8 },
);

/** Shard `shard` (from 1) of `shards` of the traces. */
export function describeSettingsConformance(shard: number, shards: number): void {
  const runs = Math.ceil(RUNS / shards);
  const counts = { traces: 0, messages: 0, settings: 0, queueWaitRefunds: 0 };
  let paired: PairedHerder | undefined;

  describe(`herder.lua over the settings space (aos32, shard ${shard} of ${shards})`, () => {
    it(`matches the model on ${runs} traces with every setting varied and changed mid-trace`, async () => {
      await fc.assert(
        fc.asyncProperty(
          traceSpec({ config: settingsConfig, minEvents: 60, maxEvents: 90 }),
          limitChanges,
          async (spec, changes) => {
            if (paired === undefined) paired = await PairedHerder.create('aos32', spec.config);
            else await paired.reset(spec.config);
            const herder = paired;
            const before = herder.delivered;
            let index = 0;
            const injected: OutMessage[] = [];
            const withChanges = {
              deliver: async (msg: AoMessage): Promise<OutMessage[]> => {
                for (const [k, change] of changes.entries()) {
                  if (change.at !== index) continue;
                  const action = change.tags.Action;
                  const from = action.startsWith('Worker-')
                    ? change.from
                    : action === 'Credit-Notice'
                      ? TOKEN
                      : OWNER;
                  injected.push(
                    ...(await herder.deliver({
                      id: `change-${index}-${k}`,
                      from,
                      timestamp: msg.timestamp,
                      tags: change.tags as Record<string, string>,
                    })),
                  );
                  counts.settings++;
                }
                index++;
                // What the injected messages caused is shown to the scenario's world too.
                const out = [...injected.splice(0), ...(await herder.deliver(msg))];
                for (const o of out)
                  if (o.tags['X-Reason'] === 'Waited too long in the queue') counts.queueWaitRefunds++;
                return out;
              },
            };
            await runTraceAsync(withChanges, spec);
            await herder.compareState();
            counts.traces++;
            counts.messages += herder.delivered - before;
          },
        ),
        { numRuns: runs },
      );
      expect(counts.queueWaitRefunds).toBeGreaterThan(0);
    });
  });

  afterAll(() => {
    console.log(
      `settings conformance (shard ${shard} of ${shards}): ${counts.traces} traces, ${counts.messages} messages (${counts.settings} settings, reports and registrations), ${counts.queueWaitRefunds} queue-wait refunds, matched`,
    );
  });
}
