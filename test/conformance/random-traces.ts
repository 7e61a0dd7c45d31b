/**
 * Conformance: the exported herder.lua, running inside the real AOS WebAssembly modules, sends
 * exactly the messages the model sends, on random traces of at least 50 messages (credits of
 * every kind, worker answers, errors, silence and late answers, time passing, spoofs, owner
 * actions, duplicates, malformed messages), and keeps the same books.
 *
 * The traces are run in shards, one test file each (herder-*.test.ts), so that a test run on
 * several cores runs them side by side; every shard draws its own random traces.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModuleKey } from '../../src/ao/modules.ts';
import { runTraceAsync } from '../../src/verify/run.ts';
import { traceSpec } from '../../src/verify/scenario.ts';
import { PairedHerder } from './paired.ts';

/** Random traces per module, in all shards together. */
export const TRACES: Record<ModuleKey, number> = { aos32: 200, llama: 60, aos64: 0 };

/** Shard `shard` (from 1) of `shards` of the module's traces. */
export function describeRandomTraces(module: ModuleKey, shard = 1, shards = 1): void {
  const runs = Math.ceil(TRACES[module] / shards);
  const counts = { traces: 0, messages: 0 };
  describe(`herder.lua in ${module} (traces, shard ${shard} of ${shards})`, () => {
    it(`matches the model message for message on ${runs} random traces`, async () => {
      let paired: PairedHerder | undefined;
      await fc.assert(
        fc.asyncProperty(traceSpec({ minEvents: 60, maxEvents: 90 }), async (spec) => {
          if (paired === undefined) paired = await PairedHerder.create(module, spec.config);
          else await paired.reset(spec.config);
          const before = paired.delivered;
          const run = await runTraceAsync(paired, spec);
          await paired.compareState();
          expect(run.log.length).toBeGreaterThanOrEqual(50);
          counts.traces++;
          counts.messages += paired.delivered - before;
        }),
        { numRuns: runs },
      );
    });
  });
  afterAll(() => {
    console.log(
      `conformance (${module}, shard ${shard} of ${shards}): ${counts.traces} traces, ${counts.messages} messages matched`,
    );
  });
}
