/**
 * The deploy plan: every step `herd deploy` takes, in order, with the exact tags and data it
 * sends. Steps have stable ids (`herder.spawn`, `worker-2.init`, …) under which the state file
 * records their outcome, so a later run skips what is done.
 *
 *   herder.spawn       spawn the herder (aos module)                [On-Boot=Data: herder.lua]
 *   herder.load        Eval herder.lua                              (skipped with --load on-boot)
 *   worker-N.spawn     spawn worker N (AOS-Llama module)            [On-Boot=Data: worker.lua]
 *   worker-N.load      Eval worker.lua                              (skipped with --load on-boot)
 *   worker-N.init      Init Model-ID=<model> Herder=<herder>        expects Worker-Initialized
 *   worker-N.register  Add-Worker Worker=<worker N> to the herder   expects Admin-Done
 *   herder.fees        Set-Fees Base-Fee Token-Fee                  expects Admin-Done
 *   verify             Info dry run: fees, token, herd size, version
 */
import { createHash } from 'node:crypto';
import type { AoTag } from '../ao/aoconnect.ts';
import { configHash, herderLua } from '../lua-export/herder.ts';
import { workerLua } from '../lua-export/worker.ts';
import type { HerdConfig } from '../model/config.ts';
import { settingsOf, settingTagValue } from '../model/settings.ts';
import { MODEL_VERSION } from '../model/version.ts';
import type { DeploySettings, NetworkSettings } from './settings.ts';

/** `herder` or `worker-<n>` (1-based). */
export type Role = string;

/** A tag whose value is a literal, or the process id of a role (known once it is spawned). */
export type TagTemplate = { name: string; value: string } | { name: string; process: Role };

/** What a message step must produce in its result to count as done. */
export type Expectation =
  | { kind: 'no-error' }
  | { kind: 'reply'; success: string; failure: string; to: 'owner' };

export interface SpawnStep {
  kind: 'spawn';
  id: string;
  role: Role;
  title: string;
  module: string;
  tags: AoTag[];
  /** Set with On-Boot=Data: the handlers evaluated at boot. */
  data?: string;
}

export interface MessageStep {
  kind: 'message';
  id: string;
  title: string;
  to: Role;
  tags: TagTemplate[];
  data?: string;
  expect: Expectation;
}

export interface VerifyStep {
  kind: 'verify';
  id: 'verify';
  title: string;
  to: Role;
  /** Info-Response tags and the values they must have. */
  expect: Record<string, string>;
}

export type Step = SpawnStep | MessageStep | VerifyStep;

export interface DeployPlan {
  /** Identifies this deploy's processes (`Herd-Deployment` tag); kept in the state file. */
  deployment: string;
  owner: string;
  token: string;
  network: NetworkSettings;
  configSha256: string;
  model: string;
  workers: number;
  steps: Step[];
}

/** Placeholder for the deployment id before the state file exists (dry runs). */
export const NEW_DEPLOYMENT = '<new>';

export const herderRole = 'herder';
export const workerRole = (n: number): Role => `worker-${n}`;

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The exact bytes every deploy of `settings` loads: herder.lua and worker.lua (or the custom worker). */
export interface DeploySources {
  herder: string;
  worker: string;
}

export function defaultSources(config: HerdConfig, customWorker?: string): DeploySources {
  return { herder: herderLua(config), worker: customWorker ?? workerLua() };
}

/** Builds the plan. `owner` is the wallet's address (the config's owner in a wallet-less dry run). */
export function buildPlan(input: {
  config: HerdConfig;
  settings: DeploySettings;
  owner: string;
  deployment: string;
  sources: DeploySources;
}): DeployPlan {
  const { config, settings, deployment, sources } = input;
  const onBoot = settings.load === 'on-boot';
  const steps: Step[] = [];

  const spawnTags = (role: Role, name: string): AoTag[] => [
    { name: 'Name', value: name },
    { name: 'Authority', value: settings.network.authority },
    { name: 'Herd-Deployment', value: deployment },
    { name: 'Herd-Role', value: role },
    { name: 'Herd-Version', value: MODEL_VERSION },
    ...(onBoot ? [{ name: 'On-Boot', value: 'Data' }] : []),
    // AO's cron ticks reach the herder as Action=Cron messages: its deadlines fire without traffic.
    ...(role === herderRole && settings.cron !== undefined
      ? [
          { name: 'Cron-Interval', value: settings.cron },
          { name: 'Cron-Tag-Action', value: 'Cron' },
        ]
      : []),
  ];

  const spawn = (role: Role, name: string, module: string, source: string, what: string) => {
    steps.push({
      kind: 'spawn',
      id: `${role}.spawn`,
      role,
      title: `spawn ${role} (${what})${onBoot ? ' with its handlers On-Boot' : ''}`,
      module,
      tags: spawnTags(role, name),
      ...(onBoot ? { data: source } : {}),
    });
    if (!onBoot)
      steps.push({
        kind: 'message',
        id: `${role}.load`,
        title: `load ${role === herderRole ? 'herder.lua' : settings.workerLua ? 'the custom worker Lua' : 'worker.lua'} into ${role} (Eval)`,
        to: role,
        tags: [{ name: 'Action', value: 'Eval' }],
        data: source,
        expect: { kind: 'no-error' },
      });
  };

  spawn(herderRole, 'llama-herder', settings.herderModule, sources.herder, 'aos');
  for (let n = 1; n <= settings.workers; n++) {
    const role = workerRole(n);
    spawn(role, `llama-herder-${role}`, settings.workerModule, sources.worker, 'AOS-Llama');
    steps.push({
      kind: 'message',
      id: `${role}.init`,
      title: `Init ${role} with model ${settings.model} and its herder`,
      to: role,
      tags: [
        { name: 'Action', value: 'Init' },
        { name: 'Model-ID', value: settings.model },
        { name: 'Herder', process: herderRole },
      ],
      expect: { kind: 'reply', success: 'Worker-Initialized', failure: 'Worker-Error', to: 'owner' },
    });
    steps.push({
      kind: 'message',
      id: `${role}.register`,
      title: `register ${role} with the herder (Add-Worker)`,
      to: herderRole,
      tags: [
        { name: 'Action', value: 'Add-Worker' },
        { name: 'Worker', process: role },
      ],
      expect: { kind: 'reply', success: 'Admin-Done', failure: 'Admin-Refused', to: 'owner' },
    });
  }
  // The fees as the settings table tags them, set with Set-Fees and read back from Info.
  const fees = settingsOf('Set-Fees').map((s) => ({ name: s.tag, value: settingTagValue(settings[s.name]) }));
  steps.push({
    kind: 'message',
    id: 'herder.fees',
    title: `set fees: base ${settings.baseFee}, per token ${settings.tokenFee} (Set-Fees)`,
    to: herderRole,
    tags: [{ name: 'Action', value: 'Set-Fees' }, ...fees],
    expect: { kind: 'reply', success: 'Admin-Done', failure: 'Admin-Refused', to: 'owner' },
  });
  const herdSize = new Set(config.workers).size + settings.workers;
  steps.push({
    kind: 'verify',
    id: 'verify',
    title: 'verify with an Info dry run',
    to: herderRole,
    expect: {
      ...Object.fromEntries(fees.map((tag) => [tag.name, tag.value])),
      Token: config.token,
      Workers: String(herdSize),
      Version: MODEL_VERSION,
    },
  });

  return {
    deployment,
    owner: input.owner,
    token: config.token,
    network: settings.network,
    configSha256: configHash(config),
    model: settings.model,
    workers: settings.workers,
    steps,
  };
}

/** Tags with role references replaced by process ids (`<role>` while a role has none yet). */
export function resolveTags(
  tags: readonly TagTemplate[],
  processes: Readonly<Record<Role, string>>,
): AoTag[] {
  return tags.map((tag) =>
    'process' in tag ? { name: tag.name, value: processes[tag.process] ?? `<${tag.process}>` } : tag,
  );
}

/** What a step sends, hashed: a done step whose fingerprint changed is sent again. */
export function fingerprint(tags: readonly AoTag[], data: string | undefined, target: string): string {
  return sha256(JSON.stringify({ target, tags, data: data === undefined ? null : sha256(data) }));
}
