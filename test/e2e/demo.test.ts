/**
 * `herd demo`: one run of the whole flow through the CLI (JSON output), its human rendering, and
 * the input checks that stop it before anything boots.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type DemoResult, demoProblems, formatDemo } from '../../src/demo/demo.ts';
import { neededFee } from '../../src/model/fees.ts';
import { herd } from '../cli-harness.ts';

afterEach(() => {
  process.exitCode = undefined;
});

describe('herd demo', () => {
  it('boots, pays with a multiplier, answers, and reports fees, balances and the timeline', async () => {
    const { code, stdout } = await herd('demo', '--json', '--tokens', '6', '--multiplier', '1.5');
    expect(code).toBe(0);
    const r = JSON.parse(stdout) as DemoResult;
    const needed = neededFee({ baseFee: 100n, tokenFee: 10n }, 6, 'Tell me about llamas');
    const paid = (needed * 15n + 9n) / 10n;
    expect(r.fees).toEqual({
      baseFee: '100',
      tokenFee: '10',
      needed: needed.toString(),
      paid: paid.toString(),
      multiplier: '1.5',
    });
    expect(r.outcome).toMatchObject({ status: 'answered', ok: true, tokensGenerated: 6 });
    expect(r.outcome.answer!.length).toBeGreaterThan(0);
    expect(r.balances.before).toEqual({ client: '1000000', herder: '0' });
    expect(r.balances.after).toEqual({ client: (1_000_000n - paid).toString(), herder: paid.toString() });
    expect(r.timeline.map((e) => e.action)).toEqual([
      'Eval',
      'Info',
      'Info-Response',
      'Transfer',
      'Debit-Notice',
      'Credit-Notice',
      'Inference',
      'Inference-Response',
      'Inference-Response',
    ]);
    expect(r.timing.msPerToken).toBeGreaterThan(0);
    expect(r.timing.wasmTiers).toBe('liftoff-only');
    expect(r.rssMiB).toBeGreaterThan(0);

    const text = formatDemo(r);
    expect(text).toContain(
      `Fees     needed ${needed} = 100 + 10 × (6 tokens + 4 words); paid ${paid}; multiplier 1.5`,
    );
    expect(text).toMatch(/Answer {3}".+" {2}\(6 tokens from worker-\d\)/);
    expect(text).toMatch(/herder → worker-\d +Inference \[Tokens=6/);
    expect(text).toMatch(/Wall time .* ms\/token/);
  });

  it('refuses bad input before booting anything', async () => {
    expect(demoProblems({ prompt: ' ' })).toEqual(['--prompt must not be empty']);
    expect(demoProblems({ prompt: 'x'.repeat(511) })[0]).toMatch(/at most 510/);
    expect(demoProblems({ tokens: 513 })[0]).toMatch(/--tokens must be an integer in \[1, 512\]/);
    expect(demoProblems({ multiplier: '0.99' })).toEqual(['--multiplier must be at least 1']);
    expect(demoProblems({ multiplier: '2', fee: '3' })).toEqual(['give --multiplier or --fee, not both']);
    const { code, stderr, stdout } = await herd('demo', '--prompt', '');
    expect(code).toBe(2);
    expect(stderr).toBe('herd: --prompt must not be empty\n');
    expect(stdout).toBe('');
  });
});
