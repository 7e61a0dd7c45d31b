import { vi } from 'vitest';
import { main } from '../src/cli/main.ts';

/** Runs `herd …` in-process and captures its exit code, stdout and stderr; `process.exitCode` is left as it was. */
export async function herd(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  const exitCode = process.exitCode;
  try {
    return { code: await main(['node', 'herd', ...args]), stdout, stderr };
  } finally {
    process.exitCode = exitCode;
    out.mockRestore();
    err.mockRestore();
  }
}
