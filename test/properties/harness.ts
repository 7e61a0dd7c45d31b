/**
 * The model as the properties run it (with its white-box checks), and the assertions that run
 * scenario traces through any synchronous herder and audit every step (src/verify/run.ts).
 */
import fc from 'fast-check';
import type { InvariantName, Violation } from '../../src/audit/invariants.ts';
import { type HerderState, type HerderStepper, MODEL_STEPPER } from '../../src/model/herder.ts';
import { ledgerViolations } from '../../src/model/ledger.ts';
import {
  describeViolation,
  runTrace as runStepped,
  type SteppedRunOptions,
  type TraceRun,
} from '../../src/verify/run.ts';
import { type TraceSpec, traceSpec } from '../../src/verify/scenario.ts';

export { describeViolation, type TraceRun } from '../../src/verify/run.ts';

/** The model herder: the properties run it with its white-box checks ({@link inspectModel}). */
export const modelHerder: HerderStepper = MODEL_STEPPER;

/** Runs a trace; the model itself (not a variant with a seeded defect) also gets its white-box checks. */
export function runTrace(impl: HerderStepper, spec: TraceSpec, options: SteppedRunOptions = {}): TraceRun {
  return runStepped(impl, spec, impl === modelHerder ? { inspect: inspectModel, ...options } : options);
}

/** White-box checks on the model's state. */
export function inspectModel(state: HerderState): Violation[] {
  const found: Violation[] = [];
  const flag = (invariant: InvariantName, detail: string) => found.push({ invariant, step: -1, detail });
  for (const problem of ledgerViolations(state.ledger)) flag('conservation', problem);
  let escrow = 0n;
  for (const r of state.requests.values()) escrow += r.multiplier.paid;
  if (escrow !== state.ledger.escrow)
    flag('conservation', `escrow ${state.ledger.escrow} != sum of live requests ${escrow}`);
  const holders = new Map<string, string>();
  for (const worker of state.herd.all()) {
    if ((worker.status === 'busy') !== (worker.request !== undefined))
      flag('no-double-booking', `worker ${worker.id} is ${worker.status} with request ${worker.request}`);
    if (worker.request === undefined) continue;
    const r = state.requests.get(worker.request);
    if (r?.worker !== worker.id)
      flag('no-double-booking', `worker ${worker.id} holds ${worker.request}, which is on ${r?.worker}`);
    if (holders.has(worker.request)) flag('no-double-booking', `request ${worker.request} on two workers`);
    holders.set(worker.request, worker.id);
  }
  for (const r of state.requests.values())
    if (r.worker !== undefined && holders.get(r.id) !== r.worker)
      flag('no-double-booking', `request ${r.id} says it is on ${r.worker}, which does not hold it`);
  if (state.queue.length > 0 && state.herd.idleCount > 0)
    flag(
      'work-conserving',
      `${state.herd.idleCount} idle worker(s) and ${state.queue.length} waiting request(s)`,
    );
  return found;
}

/**
 * Runs per property: 1,000 by default. Mutation testing lowers it (HERD_PROPERTY_RUNS) because it
 * reruns the suite once per mutant; the default test run never does.
 */
export const RUNS = Number(process.env.HERD_PROPERTY_RUNS ?? 1_000);

/**
 * Runs of properties over one message or one pure function, which cost microseconds each:
 * mutation testing keeps these high (HERD_UNIT_RUNS) so that rare edge values still come up.
 */
export const UNIT_RUNS = Number(process.env.HERD_UNIT_RUNS ?? 1_000);

/**
 * Asserts that no trace breaks `invariant` on `impl`. A failure reports the seed, the shrunk
 * trace and the first violation with the messages that led to it.
 */
export function assertInvariant(
  invariant: InvariantName,
  impl: HerderStepper,
  options: { numRuns?: number; arbitrary?: fc.Arbitrary<TraceSpec>; seed?: number } = {},
): void {
  fc.assert(
    fc.property(options.arbitrary ?? traceSpec(), (spec) => {
      const run = runTrace(impl, spec);
      const broken = run.violations.find((v) => v.invariant === invariant);
      if (broken) throw new Error(describeViolation(broken, run));
    }),
    { numRuns: options.numRuns ?? RUNS, ...(options.seed === undefined ? {} : { seed: options.seed }) },
  );
}

/** Whether some trace breaks `invariant` on `impl` (for the seeded-defect tests). */
export function findViolation(
  invariant: InvariantName,
  impl: HerderStepper,
  options: { numRuns?: number; arbitrary?: fc.Arbitrary<TraceSpec>; seed?: number } = {},
): fc.RunDetails<[TraceSpec]> {
  return fc.check(
    fc.property(
      options.arbitrary ?? traceSpec(),
      (spec) => !runTrace(impl, spec).violations.some((v) => v.invariant === invariant),
    ),
    { numRuns: options.numRuns ?? RUNS, ...(options.seed === undefined ? {} : { seed: options.seed }) },
  );
}
