import { relative } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Test files in the order that judges a mutant soonest. Stryker stops at the first failing test,
 * so the file that failed last time runs first (the next mutant is often in the same function),
 * then the quickest files: most mutants fail a cheap unit property, and vitest's default order
 * (longest first) would run every trace property before it.
 */
class CheapestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const results = (file: TestSpecification) =>
      this.ctx.cache.getFileTestResults(
        `${file.project.name}:${relative(this.ctx.config.root, file.moduleId)}`,
      );
    return [...files].sort((a, b) => {
      const ra = results(a);
      const rb = results(b);
      if (Boolean(ra?.failed) !== Boolean(rb?.failed)) return ra?.failed ? -1 : 1;
      return (ra?.duration ?? Number.POSITIVE_INFINITY) - (rb?.duration ?? Number.POSITIVE_INFINITY);
    });
  }
}

/**
 * The suite that judges mutants of src/model/: the model's properties and unit properties.
 * Stryker reruns it once per mutant, so it runs fewer trace properties (cheap unit properties keep
 * more runs), draws the same cases every run (fixed seed: Stryker's per-test coverage must hold),
 * and shares one worker between files (the model has no global state to isolate).
 */
export default defineConfig({
  test: {
    // The docs generated from the model are checked against the files on disk: a mutant that
    // changes what the docs say (a reason, a setting, an event's meaning) fails there.
    include: ['test/properties/**/*.test.ts', 'test/model/**/*.test.ts', 'test/docs/docs.test.ts'],
    exclude: ['test/properties/seeded-defects.test.ts'],
    setupFiles: ['test/mutation/setup.ts'],
    pool: 'threads',
    isolate: false,
    sequence: { sequencer: CheapestFirst },
    testTimeout: 120_000,
    env: {
      HERD_PROPERTY_RUNS: process.env.HERD_PROPERTY_RUNS ?? '15',
      HERD_UNIT_RUNS: process.env.HERD_UNIT_RUNS ?? '300',
      HERD_LARGE_QUEUE: process.env.HERD_LARGE_QUEUE ?? '10000',
    },
  },
});
