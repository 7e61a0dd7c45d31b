import { defineConfig } from 'vitest/config';

/** The suite that judges mutants of src/model/: the model's properties and unit properties. */
export default defineConfig({
  test: {
    include: ['test/properties/**/*.test.ts', 'test/model/**/*.test.ts'],
    exclude: ['test/properties/seeded-defects.test.ts'],
    pool: 'forks',
    testTimeout: 120_000,
    env: { HERD_PROPERTY_RUNS: process.env.HERD_PROPERTY_RUNS ?? '40' },
  },
});
