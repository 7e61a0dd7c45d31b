/**
 * Runs a deploy plan against an AO network (any {@link AoApi}), resumably.
 *
 * Every step is recorded in the state before and after its network call:
 * - a spawn whose id was recorded is never spawned again; one whose outcome is unknown (the run
 *   stopped, or the MU's reply was lost) is first looked for by its tags (`Herd-Deployment`,
 *   `Herd-Role`, owner) and adopted when found. It is spawned again only when the failure shows
 *   the request never reached the MU, or when the operator says so (`respawnUnrecorded`);
 * - a message whose id was recorded is not sent again: its result is read;
 * - a message whose outcome is unknown is sent again: every message of the plan is idempotent
 *   (re-evaluating herder.lua or worker.lua keeps the process state, Init on a ready worker
 *   answers Worker-Initialized, Add-Worker of a member is Admin-Done, Set-Fees sets values);
 * - a done step is skipped unless what it would send changed (e.g. new fees).
 * On resume, every recorded process is first checked to exist on the compute unit.
 */
import {
  type AoApi,
  type AoResult,
  type AoSigner,
  describeError,
  messagesWithAction,
  messageTag,
  neverDelivered,
  resultError,
} from '../ao/aoconnect.ts';
import { dataText } from '../ao/results.ts';
import {
  type DeployPlan,
  fingerprint,
  herderRole,
  type MessageStep,
  type Role,
  resolveTags,
  type SpawnStep,
  type Step,
  type VerifyStep,
} from './plan.ts';
import { type DeployState, newState, type StateStore, type StepRecord } from './state.ts';

/** A deploy that stopped: the state is saved, and running again resumes. */
export class DeployError extends Error {
  constructor(
    message: string,
    readonly step?: string,
  ) {
    super(message);
    this.name = 'DeployError';
  }
}

/** Finds processes spawned by `owner` with this deploy's tags; `undefined` when it cannot tell. */
export type SpawnFinder = (query: {
  owner: string;
  deployment: string;
  role: Role;
}) => Promise<string[] | undefined>;

export type DeployEvent =
  | { type: 'check'; process: string; role: Role }
  | { type: 'start' | 'skip' | 'done'; step: Step; index: number; total: number; detail?: string };

export type StepOutcome = 'sent' | 'skipped' | 'adopted' | 'checked' | 'result-read';

export interface DeployReport {
  deployment: string;
  owner: string;
  token: string;
  herder: string;
  workers: string[];
  stateFile: string;
  steps: {
    id: string;
    title: string;
    outcome: StepOutcome;
    process?: string;
    message?: string;
    note?: string;
  }[];
  /** Spawns and messages this run sent (0 and 0 when resuming a finished deploy). */
  sent: { spawns: number; messages: number };
  /** The herder's Info-Response tags from the verification dry run. */
  info: Record<string, string>;
}

export interface DeployOptions {
  api: AoApi;
  signer: AoSigner;
  plan: DeployPlan;
  store: StateStore;
  state: DeployState;
  findSpawn?: SpawnFinder;
  /** Spawn again a process whose earlier spawn may have happened but cannot be found. */
  respawnUnrecorded?: boolean;
  onEvent?: (event: DeployEvent) => void;
}

/**
 * Loads the state for `plan`'s owner, token and network, or makes a new one; refuses a state
 * that belongs to another owner, token or network, or whose herder was loaded from another
 * config. The returned state is not saved until the first step runs.
 */
export function openState(
  store: StateStore,
  expected: Pick<DeployState, 'owner' | 'token' | 'configSha256' | 'network'>,
): { state: DeployState; resumed: boolean } {
  const existing = store.load();
  if (existing === undefined) return { state: newState(expected), resumed: false };
  const problems: string[] = [];
  if (existing.owner !== expected.owner)
    problems.push(`it belongs to owner ${existing.owner}, not ${expected.owner}`);
  if (existing.token !== expected.token)
    problems.push(`its token is ${existing.token}, not ${expected.token}`);
  for (const key of ['mu', 'cu', 'scheduler'] as const)
    if (existing.network[key] !== expected.network[key])
      problems.push(`its ${key} is ${existing.network[key]}, not ${expected.network[key]}`);
  if (existing.herderConfigSha256 !== undefined && existing.herderConfigSha256 !== expected.configSha256)
    problems.push(
      `its herder was loaded from another config (sha256 ${existing.herderConfigSha256.slice(0, 12)}…, now ${expected.configSha256.slice(0, 12)}…), whose settings are baked in: change fees with --base-fee/--token-fee, or deploy a new herd with another --state file`,
    );
  existing.configSha256 = expected.configSha256;
  if (problems.length > 0)
    throw new DeployError(`state file ${store.path} does not match this deploy: ${problems.join('; ')}`);
  return { state: existing, resumed: true };
}

export async function runDeploy(options: DeployOptions): Promise<DeployReport> {
  const { api, signer, plan, store, state, onEvent } = options;
  const report: DeployReport = {
    deployment: state.deployment,
    owner: plan.owner,
    token: plan.token,
    herder: '',
    workers: [],
    stateFile: store.path,
    steps: [],
    sent: { spawns: 0, messages: 0 },
    info: {},
  };
  const now = () => new Date().toISOString();
  const record = (id: string, fields: Omit<StepRecord, 'at'>) => {
    state.steps[id] = { ...fields, at: now() };
    store.save(state);
  };

  // Everything this state says was spawned must still exist where we are deploying.
  for (const [role, pid] of Object.entries(state.processes)) {
    onEvent?.({ type: 'check', process: pid, role });
    let result: AoResult | null | undefined;
    let why = 'the compute unit does not know it';
    try {
      result = await api.dryrun({ process: pid, tags: [{ name: 'Action', value: 'Info' }] });
    } catch (err) {
      result = undefined;
      why = describeError(err);
    }
    if (result === null || result === undefined)
      throw new DeployError(
        `${role} ${pid} recorded in ${store.path} cannot be read (${why}); check --cu, or move the state file away to deploy a new herd`,
      );
  }

  const total = plan.steps.length;
  for (const [index, step] of plan.steps.entries()) {
    const emit = (type: 'start' | 'skip' | 'done', detail?: string) =>
      onEvent?.({ type, step, index, total, ...(detail === undefined ? {} : { detail }) });
    let outcome: { outcome: StepOutcome; process?: string; message?: string; note?: string };
    if (step.kind === 'spawn') outcome = await spawnStep(step, emit);
    else if (step.kind === 'message') outcome = await messageStep(step, emit);
    else outcome = await verifyStep(step, emit);
    report.steps.push({ id: step.id, title: step.title, ...outcome });
  }
  report.herder = state.processes[herderRole] ?? '';
  report.workers = Object.keys(state.processes)
    .filter((role) => role.startsWith('worker-'))
    .sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)))
    .map((role) => state.processes[role]!);
  return report;

  async function spawnStep(
    step: SpawnStep,
    emit: (type: 'start' | 'skip' | 'done', detail?: string) => void,
  ): Promise<{ outcome: StepOutcome; process?: string; note?: string }> {
    const previous = state.steps[step.id];
    const known = state.processes[step.role];
    if (known !== undefined) {
      if (previous?.status !== 'done') record(step.id, { status: 'done', process: known });
      emit('skip', known);
      await checkBoot(step, known);
      return { outcome: 'skipped', process: known };
    }
    if (previous !== undefined) {
      // An earlier attempt's outcome is not recorded: find what it created before spawning.
      const found = options.findSpawn
        ? await options.findSpawn({ owner: plan.owner, deployment: plan.deployment, role: step.role })
        : undefined;
      if (found !== undefined && found.length > 1)
        throw new DeployError(
          `${found.length} processes carry the tags of ${step.role} (${found.join(', ')}); put the one to keep under processes.${step.role} in ${store.path} and run again`,
          step.id,
        );
      if (found !== undefined && found.length === 1) {
        const pid = found[0]!;
        state.processes[step.role] = pid;
        record(step.id, {
          status: 'done',
          process: pid,
          note: 'found by its tags after an interrupted spawn',
        });
        emit('done', `${pid} (found by its tags)`);
        await checkBoot(step, pid);
        return { outcome: 'adopted', process: pid, note: 'found by its tags after an interrupted spawn' };
      }
      const safe = previous.status === 'failed' && previous.delivered === false;
      if (!safe && !options.respawnUnrecorded)
        throw new DeployError(
          `the earlier spawn of ${step.role} may have reached the MU (${previous.error ?? 'the run stopped before its process id was recorded'}), and ${
            found === undefined
              ? 'no gateway lookup was possible'
              : 'no process with its tags was found on the gateway yet'
          }. Run again in a few minutes (new processes take a while to be indexed), or pass --respawn-unrecorded if you are sure it was not created`,
          step.id,
        );
    }
    emit('start');
    if (step.role === herderRole && step.data !== undefined) state.herderConfigSha256 = plan.configSha256;
    record(step.id, { status: 'sending' });
    let pid: string | null | undefined;
    try {
      pid = await api.spawn({
        module: step.module,
        scheduler: plan.network.scheduler,
        signer,
        tags: step.tags,
        ...(step.data === undefined ? {} : { data: step.data }),
      });
    } catch (err) {
      const delivered = neverDelivered(err) ? false : undefined;
      record(step.id, {
        status: 'failed',
        error: describeError(err),
        ...(delivered === undefined ? {} : { delivered }),
      });
      throw new DeployError(`${step.title} failed: ${describeError(err)}`, step.id);
    }
    if (typeof pid !== 'string' || pid === '') {
      record(step.id, { status: 'failed', error: 'the MU returned no process id' });
      throw new DeployError(`${step.title} failed: the MU returned no process id`, step.id);
    }
    state.processes[step.role] = pid;
    report.sent.spawns++;
    record(step.id, { status: 'done', process: pid });
    emit('done', pid);
    await checkBoot(step, pid);
    return { outcome: 'sent', process: pid };
  }

  /** With On-Boot=Data, the handlers ran in the spawn: its result must have no error. */
  async function checkBoot(step: SpawnStep, pid: string): Promise<void> {
    if (step.data === undefined) return;
    let result: AoResult | null | undefined;
    try {
      result = await api.result({ process: pid, message: pid });
    } catch (err) {
      throw new DeployError(
        `cannot read the boot result of ${step.role} ${pid}: ${describeError(err)}`,
        step.id,
      );
    }
    const error = resultError(result);
    if (error !== undefined)
      throw new DeployError(
        `${step.role} ${pid} failed to evaluate its handlers at boot: ${error}. Its handlers are not loaded: deploy a new herd with another --state file`,
        step.id,
      );
  }

  async function messageStep(
    step: MessageStep,
    emit: (type: 'start' | 'skip' | 'done', detail?: string) => void,
  ): Promise<{ outcome: StepOutcome; message?: string; note?: string }> {
    const target = state.processes[step.to];
    if (target === undefined) throw new DeployError(`${step.to} has no process id yet`, step.id);
    const tags = resolveTags(step.tags, state.processes);
    const print = fingerprint(tags, step.data, target);
    const previous = state.steps[step.id];
    if (previous?.status === 'done' && previous.fingerprint === print) {
      emit('skip', previous.message);
      return { outcome: 'skipped', ...(previous.message ? { message: previous.message } : {}) };
    }
    emit('start');
    let messageId: string;
    let outcome: StepOutcome = 'sent';
    if (previous?.status === 'sent' && previous.fingerprint === print && previous.message) {
      messageId = previous.message;
      outcome = 'result-read';
    } else {
      if (step.id === `${herderRole}.load`) state.herderConfigSha256 = plan.configSha256;
      record(step.id, { status: 'sending', fingerprint: print });
      let sent: string | null | undefined;
      try {
        sent = await api.message({
          process: target,
          signer,
          tags,
          ...(step.data === undefined ? {} : { data: step.data }),
        });
      } catch (err) {
        record(step.id, { status: 'failed', fingerprint: print, error: describeError(err) });
        throw new DeployError(`${step.title} failed: ${describeError(err)}`, step.id);
      }
      if (typeof sent !== 'string' || sent === '') {
        record(step.id, { status: 'failed', fingerprint: print, error: 'the MU returned no message id' });
        throw new DeployError(`${step.title} failed: the MU returned no message id`, step.id);
      }
      messageId = sent;
      report.sent.messages++;
      record(step.id, { status: 'sent', fingerprint: print, message: messageId });
    }

    let result: AoResult | null | undefined;
    try {
      result = await api.result({ process: target, message: messageId });
    } catch (err) {
      throw new DeployError(
        `${step.title}: message ${messageId} was sent but its result cannot be read (${describeError(err)}); run again to check it`,
        step.id,
      );
    }
    if (result === null || result === undefined)
      throw new DeployError(
        `${step.title}: message ${messageId} was sent but the CU has no result for it yet; run again to check it`,
        step.id,
      );
    const failure = (why: string): never => {
      record(step.id, { status: 'failed', fingerprint: print, message: messageId, error: why });
      throw new DeployError(`${step.title} failed: ${why}`, step.id);
    };
    let note: string | undefined;
    const error = resultError(result);
    if (error !== undefined) failure(error);
    const expect = step.expect;
    if (expect.kind === 'reply') {
      const toOwner = (result.Messages ?? []).filter((m) => m.Target === plan.owner);
      const refused = toOwner.find((m) => messageTag(m, 'Action') === expect.failure);
      if (refused) failure(`${expect.failure}: ${messageTag(refused, 'X-Reason') ?? dataText(refused.Data)}`);
      const done = toOwner.find((m) => messageTag(m, 'Action') === expect.success);
      if (!done) {
        const actions = (result.Messages ?? []).map((m) => messageTag(m, 'Action') ?? '(no Action)');
        failure(
          `no ${expect.success} reply to the owner (the result has ${actions.length === 0 ? 'no messages' : actions.join(', ')}): is the process loaded with the right handlers, and is the owner ${plan.owner}?`,
        );
      }
      note = messageTag(done, 'X-Note');
    }
    record(step.id, {
      status: 'done',
      fingerprint: print,
      message: messageId,
      ...(note === undefined ? {} : { note }),
    });
    emit('done', messageId);
    return { outcome, message: messageId, ...(note === undefined ? {} : { note }) };
  }

  async function verifyStep(
    step: VerifyStep,
    emit: (type: 'start' | 'skip' | 'done', detail?: string) => void,
  ): Promise<{ outcome: StepOutcome; note?: string }> {
    emit('start');
    const herder = state.processes[step.to]!;
    let result: AoResult | null | undefined;
    try {
      result = await api.dryrun({ process: herder, tags: [{ name: 'Action', value: 'Info' }] });
    } catch (err) {
      throw new DeployError(`Info dry run on the herder failed: ${describeError(err)}`, step.id);
    }
    const response = messagesWithAction(result, 'Info-Response')[0];
    if (!response)
      throw new DeployError(
        `the herder ${herder} gave no Info-Response${resultError(result) ? `: ${resultError(result)}` : ''}`,
        step.id,
      );
    for (const tag of response.Tags ?? []) report.info[tag.name] = tag.value;
    const mismatches = Object.entries(step.expect)
      .filter(([name, value]) => messageTag(response, name) !== value)
      .map(([name, value]) => `${name} is ${messageTag(response, name) ?? 'missing'}, expected ${value}`);
    if (mismatches.length > 0)
      throw new DeployError(`the herder's Info does not match the plan: ${mismatches.join('; ')}`, step.id);
    record(step.id, { status: 'done' });
    const summary = `Workers=${messageTag(response, 'Workers')} Idle-Workers=${messageTag(response, 'Idle-Workers')}`;
    emit('done', summary);
    return { outcome: 'checked', note: summary };
  }
}
