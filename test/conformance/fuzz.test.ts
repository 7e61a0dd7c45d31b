/**
 * bad-input-safe in WASM: malformed messages (odd, missing, huge or duplicated tags, wrong
 * senders) go to the Lua herder in aos; it must never raise, must answer exactly as the model
 * does, and its own books must balance after every single message.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { HerdConfig } from '../../src/model/config.ts';
import type { AoMessage } from '../../src/model/messages.ts';
import { runTraceAsync } from '../../src/verify/run.ts';
import { herdConfig, junkEvent, traceEvent, traceSpec } from '../../src/verify/scenario.ts';
import { PairedHerder } from './paired.ts';

let fuzzed = 0;

async function ledgerBalances(paired: PairedHerder): Promise<void> {
  const summary = JSON.parse(
    await paired.lua.eval("return require('json').encode(HerderSummary().ledger)"),
  ) as Record<string, string>;
  const [credited, refunded, revenue, escrow, unclaimed, withdrawn] = [
    'credited',
    'refunded',
    'revenue',
    'escrow',
    'unclaimed',
    'withdrawn',
  ].map((k) => BigInt(summary[k]!)) as [bigint, bigint, bigint, bigint, bigint, bigint];
  expect(credited).toBe(refunded + revenue + escrow + unclaimed);
  expect(withdrawn <= revenue).toBe(true);
}

describe('malformed messages into herder.lua (aos32)', () => {
  let paired: PairedHerder | undefined;
  const start = async (spec: { config: HerdConfig }) => {
    if (paired === undefined) paired = await PairedHerder.create('aos32', spec.config);
    else await paired.reset(spec.config);
    return paired;
  };

  it('junk-heavy traces: same outbox as the model, books balanced after every message', async () => {
    const mostlyJunk = fc.oneof({ weight: 4, arbitrary: junkEvent }, { weight: 1, arbitrary: traceEvent });
    await fc.assert(
      fc.asyncProperty(traceSpec({ events: mostlyJunk, minEvents: 50, maxEvents: 70 }), async (spec) => {
        const herder = await start(spec);
        const checked = {
          deliver: async (msg: AoMessage) => {
            const out = await herder.deliver(msg);
            await ledgerBalances(herder);
            fuzzed++;
            return out;
          },
        };
        await runTraceAsync(checked, spec, { drain: false });
      }),
      { numRuns: 25 },
    );
  });

  it('arbitrary tag names and values, from anyone', async () => {
    const anyTags = fc.dictionary(
      fc.oneof(
        fc.string({ maxLength: 12 }),
        fc.constantFrom('Action', 'Quantity', 'Sender', 'X-Prompt', 'X-Tokens', 'X-Request', 'Worker'),
      ),
      fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.constantFrom('Credit-Notice', 'Inference-Response', 'Set-Limits', 'Withdraw', 'Add-Worker'),
        fc.bigInt({ min: 0n, max: 1n << 400n }).map(String),
      ),
      { maxKeys: 8 },
    );
    const raw = fc.record({
      from: fc.constantFrom('TOKEN', 'OWNER', 'W1', 'W2', 'MALLORY', 'CLIENT-A'),
      tags: fc.oneof(
        anyTags,
        anyTags.map((t) => ({ ...t, Action: 'Credit-Notice' })),
      ),
      data: fc.string({ maxLength: 60 }),
      dt: fc.nat(5_000),
    });
    await fc.assert(
      fc.asyncProperty(
        herdConfig,
        fc.array(raw, { minLength: 20, maxLength: 40 }),
        async (config, messages) => {
          const herder = await start({ config });
          let clock = 1_000;
          for (const [i, m] of messages.entries()) {
            clock += m.dt;
            await herder.deliver({ id: `f${i}`, from: m.from, timestamp: clock, tags: m.tags, data: m.data });
            await ledgerBalances(herder);
            fuzzed++;
          }
        },
      ),
      { numRuns: 30 },
    );
  });
});

afterAll(() => {
  console.log(`fuzz: ${fuzzed} malformed or mixed messages into herder.lua, books checked after each`);
  expect(fuzzed).toBeGreaterThanOrEqual(2_000);
});
