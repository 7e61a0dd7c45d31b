import { defineConfig } from 'vitest/config';
import modelSuite from './vitest.mutation.config.ts';

/**
 * The suite that judges mutants of the auditor (src/audit/: the invariant catalogue, its rules and
 * the auditor that applies them): the model suite, the auditor's own unit tests, and the seeded-defect tests of the properties
 * and of the checker, which are what kill a mutant that makes the auditor blind (a weakened rule
 * still passes the model but misses a defect). Same fixed seed, runs and shared worker.
 */
export default defineConfig({
  test: {
    ...modelSuite.test,
    include: [
      'test/audit/**/*.test.ts',
      'test/properties/**/*.test.ts',
      'test/model/**/*.test.ts',
      'test/checker/seeded-defects.test.ts',
    ],
    exclude: [],
  },
});
