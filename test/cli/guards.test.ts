import { describe, expect, it } from 'vitest';
import { BYTES_PER_STATE, memoryPlan, threadsProblem } from '../../src/cli/commands/check.ts';
import { progressLines } from '../../src/cli/output.ts';
import { herd } from '../cli-harness.ts';

describe('herd check guards', () => {
  it('refuses more threads than cores', () => {
    expect(threadsProblem(2, 2)).toBeUndefined();
    expect(threadsProblem(3, 2)).toBe(
      '--threads 3 is more than the 2 core(s) of this machine: use --threads 2 or fewer',
    );
  });

  it('caps the states to what fits in --max-memory and in the heap, before exploring', () => {
    const gib = 2 ** 30;
    expect(memoryPlan(1000, 8, 16)).toMatchObject({ cap: 1000, limited: false });
    const byFlag = memoryPlan(20_000_000, 1, 16);
    expect(byFlag).toMatchObject({ cap: Math.floor(gib / BYTES_PER_STATE), limited: true, byHeap: false });
    expect(byFlag.neededGib).toBeCloseTo((20_000_000 * BYTES_PER_STATE) / gib);
    const byHeap = memoryPlan(20_000_000, 8, 4);
    expect(byHeap).toMatchObject({ cap: Math.floor((3.6 * gib) / BYTES_PER_STATE), byHeap: true });
  });

  it('stops at the memory cap with a reason and exit 1', async () => {
    // 0.0001 GiB holds about 35 states at 3 KB each; 2 × 4 has more, reduced by symmetry or not.
    const result = await herd('check', '--requests', '4', '--max-memory', '0.0001', '--json');
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.complete).toBe(false);
    expect(report.stoppedByMemory).toMatch(/^stopped at 35 states to stay within --max-memory 0.0001 GiB/);
  });

  it('warns before exploring when --max-states asks for more than fits', async () => {
    const result = await herd('check', '--requests', '4', '--max-states', '1000', '--max-memory', '0.0001');
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'herd check: note: --max-states 1,000 would need about 2.9 MiB; this run stops at 35 states to stay within --max-memory 0.0001 GiB\n',
    );
  });

  it('shows the bounds in --help', async () => {
    const { stdout } = await herd('check', '--help');
    expect(stdout).toContain('--workers 1 to 8, --requests 0 to 12');
    expect(stdout).toContain('Examples:');
  });
});

describe('progress lines', () => {
  const sink = () => {
    const lines: string[] = [];
    const stream = {
      write: (chunk: string) => {
        lines.push(chunk);
        return true;
      },
    } as unknown as NodeJS.WriteStream;
    return { lines, stream };
  };

  it('prints the latest status every interval, also for synchronous work', async () => {
    const { lines, stream } = sink();
    const progress = progressLines('check', { intervalSeconds: 0.05, stream });
    progress.update('10 states');
    const until = performance.now() + 120;
    let n = 0;
    while (performance.now() < until) progress.update(`${++n} states`);
    progress.stop();
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(3);
    expect(lines[0]).toMatch(/^herd check: \d+ states \(0 s\)\n$/);
  });

  it('prints nothing on a terminal', async () => {
    const { lines, stream } = sink();
    (stream as { isTTY?: boolean }).isTTY = true;
    const progress = progressLines('check', { intervalSeconds: 0.01, stream });
    progress.update('x');
    await new Promise((r) => setTimeout(r, 50));
    progress.update('y');
    progress.stop();
    expect(lines).toEqual([]);
  });
});
