import { describe, expect, it } from 'vitest';
import { threadsProblem } from '../../src/cli/commands/check.ts';
import { progressLines } from '../../src/cli/output.ts';
import { herd } from '../cli-harness.ts';

describe('herd check guards', () => {
  it('refuses more threads than cores', () => {
    expect(threadsProblem(2, 2)).toBeUndefined();
    expect(threadsProblem(3, 2)).toBe(
      '--threads 3 is more than the 2 core(s) of this machine: use --threads 2 or fewer',
    );
  });

  it('stops at --max-memory, measured while exploring, with the reason and exit 1', async () => {
    // 0.0001 GiB is less than any Node process holds: the first reading stops the run.
    const result = await herd('check', '--requests', '4', '--max-memory', '0.0001', '--json');
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.complete).toBe(false);
    expect(report.stoppedBy).toMatchObject({
      limit: 'memory',
      remedy: 'raise --max-memory or narrow the bounds',
    });
    expect(report.stoppedBy.reason).toMatch(
      /^resident memory reached \d+\.\d\d GiB, the memory limit \(0\.00 GiB\)$/,
    );
  });

  it('says which limit stopped a run, in words', async () => {
    const result = await herd('check', '--requests', '4', '--max-states', '20');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'INCOMPLETE: stopped before every state was explored: the state cap (20) was reached (raise --max-states or narrow the bounds)',
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
