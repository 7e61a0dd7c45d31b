import { defineConfig } from 'vitest/config';

/**
 * The suite that judges mutants of src/model/: the model's properties and unit properties.
 * Stryker reruns it once per mutant, so it runs fewer trace properties (cheap unit properties keep
 * more runs), draws the same cases every run (fixed seed: Stryker's per-test coverage must hold),
 * and shares one worker between files (the model has no global state to isolate).
 */
export default defineConfig({
  test: {
    include: ['test/properties/**/*.test.ts', 'test/model/**/*.test.ts'],
    exclude: ['test/properties/seeded-defects.test.ts'],
    setupFiles: ['test/mutation/setup.ts'],
    pool: 'threads',
    isolate: false,
    testTimeout: 120_000,
    env: {
      HERD_PROPERTY_RUNS: process.env.HERD_PROPERTY_RUNS ?? '15',
      HERD_UNIT_RUNS: process.env.HERD_UNIT_RUNS ?? '300',
      HERD_LARGE_QUEUE: process.env.HERD_LARGE_QUEUE ?? '10000',
    },
  },
});
