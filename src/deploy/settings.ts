/**
 * Deploy settings: where to deploy (MU, CU, gateway, scheduler), with which wallet, modules,
 * model and herd size. They come from the `deploy` section of the herd config file and from
 * command-line flags (flags win), with the usual legacynet defaults for the units.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { type Amount, parseDecimal } from '../model/amount.ts';
import { type HerdConfig, parseConfig } from '../model/config.ts';

export const DEFAULT_MU_URL = 'https://mu.ao-testnet.xyz';
export const DEFAULT_CU_URL = 'https://cu.ao-testnet.xyz';
export const DEFAULT_GATEWAY_URL = 'https://arweave.net';
/** The legacynet scheduler unit's wallet (Scheduler-Location owner). */
export const DEFAULT_SCHEDULER = '_GQ33BkPtZrqxA84vM8Zk-N2aO0toNNu_C-l-rawrBA';
/**
 * The legacynet MU's wallet, given to every spawn as `Authority`: aos trusts messages that other
 * processes send (which the MU delivers, signed by itself) only from an Authority.
 */
export const DEFAULT_AUTHORITY = 'fcoN_xJeisVsPXA-trzVAuIiqO3ydLQxM-L4XbrQKzY';
export const DEFAULT_STATE_FILE = '.herd-deploy.json';
export const DEFAULT_WORKERS = 2;
/**
 * AO's cron interval of the herder (its `Cron-Interval` spawn tag): every tick is a message, and
 * every message advances the herder's clock, so a silent worker's deadline fires even when no
 * other traffic arrives. A minute matches the default timeoutBase of 60 s.
 */
export const DEFAULT_CRON = '1-minute';
/** `<n>-<unit>` as AO's scheduler reads Cron-Interval, or "off". */
const CRON_INTERVAL = /^[1-9][0-9]{0,5}-(second|minute|hour|day|month|year|block)s?$/;
/** Most workers one deploy spawns (a guard against typos such as --workers 200). */
export const MAX_WORKERS = 64;

export type LoadMode = 'eval' | 'on-boot';

export interface NetworkSettings {
  /** Messenger unit: where messages and spawns are sent. */
  readonly mu: string;
  /** Compute unit: where results and dry runs are read. */
  readonly cu: string;
  /** Arweave gateway (GraphQL at `<gateway>/graphql`): used to find spawns whose id was lost. */
  readonly gateway: string;
  /** Scheduler unit's address, given to every spawn. */
  readonly scheduler: string;
  /** `Authority` tag of every spawn: the MU's wallet. */
  readonly authority: string;
}

export interface DeploySettings {
  /** Path of the operator's JWK; only a dry run may go without one. */
  readonly wallet?: string;
  readonly network: NetworkSettings;
  /** Module of the herder process (aos). */
  readonly herderModule: string;
  /** Module of the worker processes (AOS-Llama). */
  readonly workerModule: string;
  /** Number of workers to spawn. */
  readonly workers: number;
  /** Model each worker loads: `Init` with `Model-ID` (read from `/data/<id>` via WeaveDrive). */
  readonly model: string;
  /** Fees set on the herder after the workers are registered (default: the config's). */
  readonly baseFee: Amount;
  readonly tokenFee: Amount;
  /** How handlers are loaded: an `Eval` message after the spawn, or `On-Boot=Data` in the spawn. */
  readonly load: LoadMode;
  /** State file that makes the deploy resumable. */
  readonly stateFile: string;
  /** A worker source to load instead of the generated worker.lua (e.g. a patched one). */
  readonly workerLua?: string;
  /** The herder's Cron-Interval (e.g. "1-minute"); absent for no cron ticks. */
  readonly cron?: string;
}

/**
 * Every deploy option, stated once: its key in the config's `deploy` section (also the
 * camel-cased name of its flag), the flag, the JSON type, what it means and its default. The
 * section's parser, the settings, `herd deploy`'s flags and their help all read this table.
 */
export const DEPLOY_OPTIONS = [
  {
    key: 'wallet',
    flag: '-w, --wallet <file>',
    type: 'path',
    meaning: 'operator wallet, an Arweave JWK file; its address must be the config owner',
  },
  { key: 'mu', flag: '--mu <url>', type: 'string', meaning: 'messenger unit URL', default: DEFAULT_MU_URL },
  { key: 'cu', flag: '--cu <url>', type: 'string', meaning: 'compute unit URL', default: DEFAULT_CU_URL },
  {
    key: 'gateway',
    flag: '--gateway <url>',
    type: 'string',
    meaning: 'gateway URL, for finding interrupted spawns',
    default: DEFAULT_GATEWAY_URL,
  },
  {
    key: 'scheduler',
    flag: '--scheduler <address>',
    type: 'string',
    meaning: 'scheduler unit address',
    default: DEFAULT_SCHEDULER,
  },
  {
    key: 'authority',
    flag: '--authority <address>',
    type: 'string',
    meaning: "Authority tag of every spawn, the MU's wallet",
    default: DEFAULT_AUTHORITY,
  },
  {
    key: 'herderModule',
    flag: '--herder-module <id>',
    type: 'string',
    meaning: 'module id of the herder process (an aos module)',
  },
  {
    key: 'workerModule',
    flag: '--worker-module <id>',
    type: 'string',
    meaning: 'module id of the worker processes (an AOS-Llama module)',
  },
  {
    key: 'workers',
    flag: '-n, --workers <n>',
    type: 'number',
    meaning: `number of workers to spawn, 1 to ${MAX_WORKERS}`,
    default: String(DEFAULT_WORKERS),
  },
  {
    key: 'model',
    flag: '-m, --model <id>',
    type: 'string',
    meaning: 'model id every worker loads (Init Model-ID; /data/<id> via WeaveDrive)',
  },
  {
    key: 'baseFee',
    flag: '--base-fee <amount>',
    type: 'string',
    meaning: 'base fee set on the herder with Set-Fees',
    default: 'the config baseFee',
  },
  {
    key: 'tokenFee',
    flag: '--token-fee <amount>',
    type: 'string',
    meaning: 'token fee set on the herder with Set-Fees',
    default: 'the config tokenFee',
  },
  {
    key: 'load',
    flag: '--load <how>',
    type: 'string',
    meaning:
      'how handlers are loaded: "eval" (an Eval message after the spawn) or "on-boot" (On-Boot spawn data)',
    choices: ['eval', 'on-boot'],
    default: 'eval',
  },
  {
    key: 'state',
    flag: '--state <file>',
    type: 'path',
    meaning: 'state file that makes the deploy resumable',
    default: DEFAULT_STATE_FILE,
  },
  {
    key: 'workerLua',
    flag: '--worker-lua <file>',
    type: 'path',
    meaning: 'Lua to load into the workers instead of the generated worker.lua',
  },
  {
    key: 'cron',
    flag: '--cron <interval>',
    type: 'string',
    meaning: `the herder's Cron-Interval, so that deadlines fire when traffic stops: "30-seconds", "5-minutes", … or "off"`,
    default: DEFAULT_CRON,
  },
] as const satisfies readonly {
  key: string;
  flag: string;
  /** `path`: a file, relative to the config file's directory in the section, to the cwd as a flag. */
  type: 'string' | 'number' | 'path';
  meaning: string;
  default?: string;
  choices?: readonly string[];
}[];

export type DeployOption = (typeof DEPLOY_OPTIONS)[number];

/** The `deploy` section of a herd config file: every option, each optional (flags override). */
export type DeploySectionJson = {
  [O in DeployOption as O['key']]?: O['type'] extends 'number' ? number : string;
};

/** Command-line values: commander's camel-cased option names are the section's keys. */
export type DeployFlags = DeploySectionJson;

/** What an option means, with its default: a flag's help and the docs. */
export function deployOptionHelp(option: DeployOption): string {
  return 'default' in option ? `${option.meaning} (default ${option.default})` : option.meaning;
}

const ARWEAVE_ID = /^[A-Za-z0-9_-]{43}$/;
/** What worker.lua accepts as a Model-ID. */
const MODEL_ID = /^[A-Za-z0-9_-]{1,128}$/;

function checkUrl(raw: string, what: string, problems: string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`${what} URL ${JSON.stringify(raw)} is not a valid URL`);
    return raw;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    problems.push(`${what} URL ${JSON.stringify(raw)} must be http:// or https://`);
  return raw.replace(/\/+$/, '');
}

/**
 * Merges the config section and the flags into settings, or lists every problem. Relative paths
 * in the section are taken from the config file's directory (`baseDir`); flags from the cwd.
 */
export function resolveSettings(
  section: DeploySectionJson,
  flags: DeployFlags,
  config: HerdConfig,
  baseDir = '.',
): { ok: true; settings: DeploySettings } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const fromSection = (path: string | undefined) =>
    path === undefined ? undefined : isAbsolute(path) ? path : resolve(baseDir, path);
  const pick = <T>(flag: T | undefined, key: keyof DeploySectionJson): T | undefined =>
    flag !== undefined ? flag : (section[key] as T | undefined);

  const wallet = flags.wallet ?? fromSection(section.wallet);
  const mu = checkUrl(pick(flags.mu, 'mu') ?? DEFAULT_MU_URL, 'MU', problems);
  const cu = checkUrl(pick(flags.cu, 'cu') ?? DEFAULT_CU_URL, 'CU', problems);
  const gateway = checkUrl(pick(flags.gateway, 'gateway') ?? DEFAULT_GATEWAY_URL, 'gateway', problems);
  const scheduler = pick(flags.scheduler, 'scheduler') ?? DEFAULT_SCHEDULER;
  if (!ARWEAVE_ID.test(scheduler)) problems.push('scheduler must be a 43-character address');
  const authority = pick(flags.authority, 'authority') ?? DEFAULT_AUTHORITY;
  if (!ARWEAVE_ID.test(authority)) problems.push('authority must be a 43-character address');

  const herderModule = pick(flags.herderModule, 'herderModule');
  const workerModule = pick(flags.workerModule, 'workerModule');
  if (herderModule === undefined)
    problems.push('no herder module: pass --herder-module <aos module id> or set deploy.herderModule');
  else if (!ARWEAVE_ID.test(herderModule)) problems.push('herderModule must be a 43-character module id');
  if (workerModule === undefined)
    problems.push('no worker module: pass --worker-module <AOS-Llama module id> or set deploy.workerModule');
  else if (!ARWEAVE_ID.test(workerModule)) problems.push('workerModule must be a 43-character module id');

  const model = pick(flags.model, 'model');
  if (model === undefined) problems.push('no model: pass --model <model id> or set deploy.model');
  else if (!MODEL_ID.test(model)) problems.push('model must be an id of letters, digits, "_" and "-"');

  const workers = pick(flags.workers, 'workers') ?? DEFAULT_WORKERS;
  if (!Number.isSafeInteger(workers) || workers < 1 || workers > MAX_WORKERS)
    problems.push(`workers must be an integer from 1 to ${MAX_WORKERS}`);

  const fee = (raw: string | undefined, key: 'baseFee' | 'tokenFee'): Amount => {
    if (raw === undefined) return config[key];
    const parsed = parseDecimal(raw, key);
    if (!parsed.ok) problems.push(`${key} must be a decimal integer (got ${JSON.stringify(raw)})`);
    return parsed.ok ? parsed.value : config[key];
  };
  const baseFee = fee(pick(flags.baseFee, 'baseFee'), 'baseFee');
  const tokenFee = fee(pick(flags.tokenFee, 'tokenFee'), 'tokenFee');
  if (baseFee === 0n && tokenFee === 0n) problems.push('baseFee and tokenFee cannot both be 0');

  const load = pick(flags.load, 'load') ?? 'eval';
  if (load !== 'eval' && load !== 'on-boot') problems.push('load must be "eval" or "on-boot"');

  const cron = pick(flags.cron, 'cron') ?? DEFAULT_CRON;
  if (cron !== 'off' && !CRON_INTERVAL.test(cron))
    problems.push(
      `cron must be an interval such as "1-minute", "30-seconds" or "2-hours", or "off" (got ${JSON.stringify(cron)})`,
    );

  const stateFile = flags.state ?? fromSection(section.state) ?? DEFAULT_STATE_FILE;
  const workerLua = flags.workerLua ?? fromSection(section.workerLua);

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    settings: {
      ...(wallet === undefined ? {} : { wallet }),
      network: { mu, cu, gateway, scheduler, authority },
      herderModule: herderModule!,
      workerModule: workerModule!,
      workers,
      model: model!,
      baseFee,
      tokenFee,
      load: load as LoadMode,
      stateFile,
      ...(workerLua === undefined ? {} : { workerLua }),
      ...(cron === 'off' ? {} : { cron }),
    },
  };
}

/** Checks the `deploy` section's shape (types and unknown keys); values are checked by resolveSettings. */
export function parseSection(
  raw: unknown,
): { ok: true; section: DeploySectionJson } | { ok: false; problems: string[] } {
  if (raw === undefined) return { ok: true, section: {} };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, problems: ['deploy must be an object'] };
  const problems: string[] = [];
  const input = raw as Record<string, unknown>;
  for (const [key, value] of Object.entries(input)) {
    const option = DEPLOY_OPTIONS.find((o) => o.key === key);
    if (option === undefined) {
      problems.push(`unknown key "deploy.${key}"`);
      continue;
    }
    const expected = option.type === 'number' ? 'number' : 'string';
    if (typeof value !== expected) problems.push(`deploy.${key} must be a ${expected}`);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, section: input as DeploySectionJson };
}

/**
 * Reads a herd config file that may carry a `deploy` section: the rest is validated exactly as
 * `herd export` validates a config. Throws an Error whose message lists every problem.
 */
export function readDeployConfig(path: string): {
  config: HerdConfig;
  section: DeploySectionJson;
  baseDir: string;
} {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read config ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`config ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const problems: string[] = [];
  let herdJson: unknown = json;
  let section: DeploySectionJson = {};
  if (typeof json === 'object' && json !== null && !Array.isArray(json) && 'deploy' in json) {
    const { deploy, ...rest } = json as Record<string, unknown>;
    herdJson = rest;
    const parsedSection = parseSection(deploy);
    if (parsedSection.ok) section = parsedSection.section;
    else problems.push(...parsedSection.problems);
  }
  const parsed = parseConfig(herdJson);
  if (!parsed.ok) problems.push(...parsed.problems);
  if (problems.length > 0 || !parsed.ok)
    throw new Error(`config ${path} is invalid:\n  - ${problems.join('\n  - ')}`);
  return { config: parsed.config, section, baseDir: dirname(resolve(path)) };
}
