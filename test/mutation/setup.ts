/**
 * Mutation runs draw the same cases every time: Stryker picks the tests to run against a mutant
 * from the coverage of its first run, which is only right if later runs generate the same inputs.
 * A mutant is judged by whether a property fails, not by its smallest counterexample, so a
 * failure ends the run at once (no shrinking): a mutant that breaks every trace would otherwise
 * spend the whole timeout shrinking.
 */
import fc from 'fast-check';

fc.configureGlobal({ seed: Number(process.env.HERD_MUTATION_SEED ?? 20261124), endOnFailure: true });
