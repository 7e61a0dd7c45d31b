/**
 * Mutation runs draw the same cases every time: Stryker picks the tests to run against a mutant
 * from the coverage of its first run, which is only right if later runs generate the same inputs.
 */
import fc from 'fast-check';

fc.configureGlobal({ seed: Number(process.env.HERD_MUTATION_SEED ?? 20261124) });
