/**
 * The deploy state file (default `.herd-deploy.json`): which processes this deploy spawned and
 * how far each step got. It is written (atomically: temporary file, fsync, rename) before and
 * after every network call, so an interrupted deploy resumes where it stopped and never spawns a
 * process twice.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { Role } from './plan.ts';
import type { NetworkSettings } from './settings.ts';

export const STATE_FORMAT = 'llama-herder/deploy-state@1';

/**
 * - `sending`: the call was about to be made and its outcome is unknown (the run was
 *   interrupted, or the unit's reply was lost);
 * - `failed`: the call failed; `delivered: false` when it provably never reached the unit;
 * - `sent`: a message was accepted (its id is recorded) but its result was not checked yet;
 * - `done`.
 */
export type StepStatus = 'sending' | 'failed' | 'sent' | 'done';

export interface StepRecord {
  status: StepStatus;
  /** ISO time of the last change. */
  at: string;
  /** Spawned process (spawn steps). */
  process?: string;
  /** Message id (message steps). */
  message?: string;
  /** Hash of what was sent (see plan.fingerprint). */
  fingerprint?: string;
  error?: string;
  delivered?: boolean;
  /** How the step was completed when not by sending it: e.g. "found by its tags". */
  note?: string;
}

export interface DeployState {
  format: typeof STATE_FORMAT;
  deployment: string;
  created: string;
  updated: string;
  owner: string;
  token: string;
  configSha256: string;
  /** Set once herder.lua is (being) loaded: the config baked into the running herder. */
  herderConfigSha256?: string;
  network: NetworkSettings;
  /** Role → process id, for every process spawned so far. */
  processes: Record<Role, string>;
  steps: Record<string, StepRecord>;
}

export interface StateStore {
  /** Where the state lives, for messages. */
  readonly path: string;
  load(): DeployState | undefined;
  save(state: DeployState): void;
}

export class StateFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateFileError';
  }
}

/** A fresh deployment id: 16 random bytes, base64url. */
export function newDeploymentId(): string {
  return randomBytes(16).toString('base64url');
}

export function newState(fields: {
  deployment?: string;
  owner: string;
  token: string;
  configSha256: string;
  network: NetworkSettings;
}): DeployState {
  const now = new Date().toISOString();
  return {
    format: STATE_FORMAT,
    deployment: fields.deployment ?? newDeploymentId(),
    created: now,
    updated: now,
    owner: fields.owner,
    token: fields.token,
    configSha256: fields.configSha256,
    network: { ...fields.network },
    processes: {},
    steps: {},
  };
}

function checkState(json: unknown, path: string): DeployState {
  const bad = (why: string) =>
    new StateFileError(`state file ${path} is not a herd deploy state (${why}); move it away to start over`);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('not a JSON object');
  const state = json as Partial<DeployState>;
  if (state.format !== STATE_FORMAT) throw bad(`format is ${JSON.stringify(state.format)}`);
  for (const key of ['deployment', 'owner', 'token', 'configSha256'] as const)
    if (typeof state[key] !== 'string') throw bad(`${key} is missing`);
  if (typeof state.network !== 'object' || state.network === null) throw bad('network is missing');
  if (typeof state.processes !== 'object' || state.processes === null) throw bad('processes is missing');
  if (typeof state.steps !== 'object' || state.steps === null) throw bad('steps is missing');
  return state as DeployState;
}

/** The state kept in a JSON file. */
export function fileStateStore(path: string): StateStore {
  return {
    path,
    load() {
      if (!existsSync(path)) return undefined;
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        throw new StateFileError(
          `cannot read state file ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`,
        );
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new StateFileError(`state file ${path} is not valid JSON; move it away to start over`);
      }
      return checkState(json, path);
    },
    save(state) {
      state.updated = new Date().toISOString();
      const tmp = `${path}.${process.pid}.tmp`;
      try {
        const fd = openSync(tmp, 'w');
        try {
          writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, path);
      } catch (err) {
        throw new StateFileError(
          `cannot write state file ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`,
        );
      }
    },
  };
}

/** A state kept in memory (tests, library use); `saves` counts the writes. */
export function memoryStateStore(
  initial?: DeployState,
): StateStore & { saves: number; current?: DeployState } {
  const store = {
    path: '<memory>',
    saves: 0,
    current: initial ? structuredClone(initial) : undefined,
    load() {
      return store.current ? structuredClone(store.current) : undefined;
    },
    save(state: DeployState) {
      store.saves++;
      state.updated = new Date().toISOString();
      store.current = structuredClone(state);
    },
  };
  return store;
}
