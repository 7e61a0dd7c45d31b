/**
 * Info-Response reports prices, queue and herd truthfully: after every step of a random trace,
 * an Info request is answered with what an independent observer of the trace expects.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Auditor } from '../../src/audit/auditor.ts';
import { formatMultiplier } from '../../src/model/fees.ts';
import { cloneHerderState, initialHerderState, stepInPlace } from '../../src/model/herder.ts';
import { MODEL_VERSION } from '../../src/model/version.ts';
import { traceSpec } from '../properties/arbitraries.ts';
import { modelHerder, RUNS, runTrace } from '../properties/harness.ts';

describe('Info', () => {
  it('answers the asker with fees, last multiplier, queue length and worker counts as observed', () => {
    fc.assert(
      fc.property(traceSpec({ maxEvents: 50 }), (spec) => {
        const { log } = runTrace(modelHerder, spec, { drain: false });
        const state = initialHerderState(spec.config);
        const auditor = Auditor.forConfig(spec.config);
        for (const { msg } of log) {
          auditor.observe(msg, stepInPlace(state, msg));
          const asked = cloneHerderState(state);
          const outbox = stepInPlace(asked, {
            id: `info-${msg.id}`,
            from: 'ASKER',
            timestamp: state.now,
            tags: { Action: 'Info' },
          });
          expect(outbox).toHaveLength(1);
          const reply = outbox[0]!;
          const expected = auditor.expectedInfo();
          expect(reply.target).toBe('ASKER');
          expect(reply.tags).toMatchObject({
            Action: 'Info-Response',
            'Base-Fee': expected.baseFee.toString(),
            'Token-Fee': expected.tokenFee.toString(),
            'Queue-Length': String(expected.queueLength),
            Workers: String(expected.workers),
            'Idle-Workers': String(expected.idle),
            'Busy-Workers': String(expected.busy),
            'Unavailable-Workers': String(expected.workers - expected.idle - expected.busy),
            'Max-Tokens': String(asked.config.maxTokens),
            'Max-Prompt-Bytes': String(asked.config.maxPromptBytes),
            'Max-Overtakes':
              asked.config.maxOvertakes === null ? 'unbounded' : String(asked.config.maxOvertakes),
            Paused: String(expected.paused),
            Token: spec.config.token,
            Version: MODEL_VERSION,
            'Last-Multiplier':
              expected.lastMultiplier === undefined ? '1' : formatMultiplier(expected.lastMultiplier),
          });
        }
      }),
      { numRuns: RUNS },
    );
  });
});
