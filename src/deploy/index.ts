/**
 * `herd deploy` as a library: settings → plan → resumable run against any {@link AoApi}.
 *
 * ```ts
 * const { plan, state, store } = prepareDeploy({ config, settings, owner, store: fileStateStore('.herd-deploy.json') });
 * const report = await runDeploy({ api, signer, plan, state, store });
 * ```
 */
import { readFileSync } from 'node:fs';
import type { AoTag } from '../ao/aoconnect.ts';
import type { HerdConfig } from '../model/config.ts';
import { DeployError, openState } from './deploy.ts';
import {
  buildPlan,
  type DeployPlan,
  type DeploySources,
  defaultSources,
  fingerprint,
  NEW_DEPLOYMENT,
  resolveTags,
  sha256,
} from './plan.ts';
import type { DeploySettings } from './settings.ts';
import type { DeployState, StateStore } from './state.ts';

export * from '../ao/aoconnect.ts';
export * from './connect.ts';
export * from './deploy.ts';
export * from './plan.ts';
export * from './settings.ts';
export * from './state.ts';
export * from './wallet.ts';

export interface PreparedDeploy {
  plan: DeployPlan;
  state: DeployState;
  /** True when the state file existed: this run continues an earlier one. */
  resumed: boolean;
  store: StateStore;
  sources: DeploySources;
}

/** Reads the custom worker source named in the settings, if any. */
export function deploySources(config: HerdConfig, settings: DeploySettings): DeploySources {
  if (settings.workerLua === undefined) return defaultSources(config);
  let text: string;
  try {
    text = readFileSync(settings.workerLua, 'utf8');
  } catch (err) {
    throw new DeployError(
      `cannot read worker Lua ${settings.workerLua}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  return defaultSources(config, text);
}

/**
 * Opens (or starts) the state and builds the plan for it. `owner` is the wallet's address: it
 * must be the config's owner, since the herder obeys administration only from its owner.
 */
export function prepareDeploy(input: {
  config: HerdConfig;
  settings: DeploySettings;
  owner: string;
  store: StateStore;
  sources?: DeploySources;
}): PreparedDeploy {
  const { config, settings, owner, store } = input;
  if (config.owner !== owner)
    throw new DeployError(
      `the config's owner ${config.owner} is not the deploying wallet ${owner}: the herder takes Add-Worker and Set-Fees only from its owner, so set "owner" to the wallet's address`,
    );
  const sources = input.sources ?? deploySources(config, settings);
  const provisional = buildPlan({ config, settings, owner, deployment: NEW_DEPLOYMENT, sources });
  const { state, resumed } = openState(store, {
    owner,
    token: config.token,
    configSha256: provisional.configSha256,
    network: settings.network,
  });
  const beyond = Object.keys(state.processes)
    .map((role) => /^worker-(\d+)$/.exec(role))
    .filter((m): m is RegExpExecArray => m !== null && Number(m[1]) > settings.workers)
    .map((m) => Number(m[1]));
  if (beyond.length > 0)
    throw new DeployError(
      `${store.path} already has ${settings.workers + beyond.length} or more workers and a deploy never removes any: run with --workers ${Math.max(...beyond)} (take workers out of the herd with Remove-Worker)`,
    );
  const plan = buildPlan({ config, settings, owner, deployment: state.deployment, sources });
  return { plan, state, resumed, store, sources };
}

/** One line of a printed plan: what is sent, to whom, and how far it got according to the state. */
export interface PlanRow {
  step: string;
  action: 'spawn' | 'message' | 'dry run';
  /** Process id, or `<role>` while not spawned yet. */
  target: string;
  module?: string;
  title: string;
  tags: AoTag[];
  data?: { bytes: number; sha256: string };
  /** pending | done | sent (result not read) | interrupted | failed: … | changed (will be sent again) */
  status: string;
}

export function planRows(plan: DeployPlan, state?: DeployState): PlanRow[] {
  const processes = state?.processes ?? {};
  const dataInfo = (data: string | undefined) =>
    data === undefined ? {} : { data: { bytes: Buffer.byteLength(data), sha256: sha256(data) } };
  return plan.steps.map((step) => {
    const record = state?.steps[step.id];
    let status = 'pending';
    if (record?.status === 'done') status = 'done';
    else if (record?.status === 'sent') status = 'sent (result not read yet)';
    else if (record?.status === 'sending') status = 'interrupted (outcome unknown)';
    else if (record?.status === 'failed') status = `failed: ${record.error ?? 'unknown error'}`;
    if (step.kind === 'spawn') {
      const pid = processes[step.role];
      return {
        step: step.id,
        action: 'spawn',
        target: pid ?? `<${step.role}>`,
        module: step.module,
        title: step.title,
        tags: step.tags,
        ...dataInfo(step.data),
        status: pid !== undefined ? 'done' : status,
      };
    }
    const target = processes[step.to] ?? `<${step.to}>`;
    if (step.kind === 'verify')
      return {
        step: step.id,
        action: 'dry run',
        target,
        title: `${step.title}: expect ${Object.entries(step.expect)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')}`,
        tags: [{ name: 'Action', value: 'Info' }],
        status: 'runs every time',
      };
    const tags = resolveTags(step.tags, processes);
    if (status === 'done' && record?.fingerprint !== fingerprint(tags, step.data, target))
      status = 'changed (will be sent again)';
    return {
      step: step.id,
      action: 'message',
      target,
      title: step.title,
      tags,
      ...dataInfo(step.data),
      status,
    };
  });
}

const short = (id: string) =>
  id.startsWith('<') || id.length < 20 ? id : `${id.slice(0, 8)}…${id.slice(-4)}`;

/** The plan as text: a header and one block per step with every tag it sends. */
export function formatPlan(input: {
  plan: DeployPlan;
  state?: DeployState;
  stateFile: string;
  wallet?: string;
  dryRun: boolean;
}): string {
  const { plan, state } = input;
  const rows = planRows(plan, state);
  const done = rows.filter((r) => r.status === 'done').length;
  const lines = [
    input.dryRun ? 'Deploy plan (dry run: nothing is sent)' : 'Deploy plan',
    `  MU         ${plan.network.mu}`,
    `  CU         ${plan.network.cu}`,
    `  gateway    ${plan.network.gateway}`,
    `  scheduler  ${plan.network.scheduler}`,
    `  authority  ${plan.network.authority}`,
    `  owner      ${plan.owner}${input.wallet ? ` (wallet ${input.wallet})` : ' (from the config; no wallet read)'}`,
    `  token      ${plan.token}`,
    `  config     sha256 ${plan.configSha256}`,
    `  model      ${plan.model}, ${plan.workers} worker(s)`,
    `  state      ${input.stateFile}: ${
      state === undefined
        ? 'none yet (a new deploy)'
        : `deployment ${state.deployment}, ${done} of ${rows.length} steps done`
    }`,
    '',
  ];
  rows.forEach((row, i) => {
    lines.push(
      `${String(i + 1).padStart(3)}. ${row.step.padEnd(18)} ${row.status === 'pending' ? '' : `[${row.status}] `}${row.title}`,
    );
    const target = row.action === 'spawn' ? `module ${row.module}` : `to ${short(row.target)}`;
    lines.push(`       ${row.action} ${target}`);
    for (const tag of row.tags) lines.push(`         ${tag.name} = ${tag.value}`);
    if (row.data)
      lines.push(`         Data: ${row.data.bytes} bytes, sha256 ${row.data.sha256.slice(0, 16)}…`);
  });
  return lines.join('\n');
}
