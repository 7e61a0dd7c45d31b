import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/replay.ts'],
    pool: 'forks',
    // Test files on every core (by default one core is left free, which on two leaves one).
    maxWorkers: availableParallelism(),
    // llama.wasm and aos2_0_6.wasm are wasm64 modules; Node 20 runs them only with the first
    // flag. The second keeps V8 on its baseline WebAssembly compiler: results are identical and
    // the suites that start many AOS instances run several times faster (no background tier-up).
    execArgv: ['--experimental-wasm-memory64', '--liftoff-only'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
