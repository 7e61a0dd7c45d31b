import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // llama.wasm and aos2_0_6.wasm are wasm64 modules; Node 20 runs them only with this flag.
    execArgv: ['--experimental-wasm-memory64'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
