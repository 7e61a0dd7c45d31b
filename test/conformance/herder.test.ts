/**
 * Conformance: the exported herder.lua, running inside the real AOS WebAssembly modules, sends
 * exactly the messages the model sends, on random traces of at least 50 messages (credits of
 * every kind, worker answers, errors, silence and late answers, time passing, spoofs, owner
 * actions, duplicates, malformed messages), and keeps the same books.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModuleKey } from '../../src/ao/modules.ts';
import { runTraceAsync } from '../../src/verify/run.ts';
import { traceSpec } from '../../src/verify/scenario.ts';
import { PairedHerder } from './paired.ts';

const TRACES: Record<ModuleKey, number> = { aos32: 200, llama: 60, aos64: 0 };
const counts = { traces: 0, messages: 0 };

describe.each(['aos32', 'llama'] as const)('herder.lua in %s', (module) => {
  it(`matches the model message for message on ${TRACES[module]} random traces`, async () => {
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
      { numRuns: TRACES[module] },
    );
  });
});

afterAll(() => {
  console.log(`conformance: ${counts.traces} traces, ${counts.messages} messages, 0 divergences`);
});
