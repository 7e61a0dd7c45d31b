/**
 * A whole herd on a local AO network: the token (wAR), the herder, AOS-Llama workers running
 * worker.lua on the generated tiny model (served by the local WeaveDrive), and a client process
 * with the client package loaded. Used by `herd demo`, the end-to-end tests and the examples.
 *
 * Boot order (every message goes through the network and is in its log):
 * 1. spawn the token, the herder (config: token, owner, fees; workers per `registration`), the
 *    client (install.lua of the client package, then `Llama = require(...)`) and the workers
 *    (worker.lua; the herder baked in when it is known). With `registration: 'config'` the
 *    workers come first, since the herder's config names them;
 * 2. with `registration: 'add-worker'` the owner sends `Add-Worker` for each worker;
 * 3. the owner sends each worker `Init` (Model-ID, Herder): `Worker-Initialized`, or
 *    `Worker-Error` for a worker whose model is missing — the herder then marks it failed;
 * 4. the owner mints wAR for the client.
 * Workers are registered before their Init so that the herder hears the Init's outcome: a
 * Worker-Error from a worker the herder does not know yet is ignored, and a later Add-Worker
 * would register it as healthy.
 */
import { dirname } from 'node:path';
import { LocalNetwork, type LogEntry, type NetworkOptions, tagValue } from '../ao/network.ts';
import { ensureTinyModel, type ModelFile } from '../gguf/index.ts';
import { type ClientPackageOptions, clientInstallLua, DEFAULT_MODULE_NAME } from '../lua-export/client.ts';
import { herderLua } from '../lua-export/herder.ts';
import { tokenLua } from '../lua-export/token.ts';
import { workerLua } from '../lua-export/worker.ts';
import { type HerdConfig, makeConfig } from '../model/config.ts';
import { createWeaveDrive } from '../weavedrive/index.ts';

export type AosModule = 'aos32' | 'aos64';

export interface LocalHerdOptions {
  /** Network seed (ids and log are a function of it). Default 'llama-herder-demo'. */
  seed?: string;
  /** Module of the herder. Default aos32. */
  herderModule?: AosModule;
  /** Module of the client. Default aos32. */
  clientModule?: AosModule;
  /** Module of the token. Default aos32. */
  tokenModule?: AosModule;
  /** Healthy AOS-Llama workers. Default 2. */
  workers?: number;
  /** Extra workers whose Init names a model that does not exist (they answer Worker-Error). */
  brokenWorkers?: number;
  /** How the herder learns its workers: in its config, or by owner `Add-Worker`. Default 'add-worker'. */
  registration?: 'config' | 'add-worker';
  /** Herder settings (fees, limits, timeouts) over the defaults. */
  config?: Partial<Omit<HerdConfig, 'token' | 'owner' | 'workers'>>;
  /** wAR minted for the client. Default 1,000,000. */
  mint?: bigint;
  /** Client package options (module name); herder and token ids are always baked in. */
  clientPackage?: Pick<ClientPackageOptions, 'moduleName'>;
  /** Lua evaluated in the client after the package is loaded (e.g. an example agent). */
  clientBoot?: string;
  /** Extra options of the network. */
  network?: NetworkOptions;
  /** Called before each boot step (progress). */
  onStep?: (step: string, index: number, total: number) => void;
  /** The model the workers load (default: the generated tiny model). */
  model?: ModelFile;
}

/** The herder's books and herd, as HerderSummary() returns them. */
export interface HerderSummary {
  ledger: Record<'credited' | 'refunded' | 'revenue' | 'escrow' | 'unclaimed' | 'withdrawn', string>;
  workers: Record<string, { status: string; request?: string; draining: boolean }>;
  requests: Record<string, { worker?: string; attempts: number }>;
  queueLength: number;
  paused: boolean;
  now: number;
}

export interface LocalHerd {
  readonly net: LocalNetwork;
  /** The operator wallet: owns the token, the herder and the workers. */
  readonly owner: string;
  /** The wallet that owns the client process. */
  readonly user: string;
  readonly token: string;
  readonly herder: string;
  /** Healthy workers, in registration order. */
  readonly workers: readonly string[];
  readonly brokenWorkers: readonly string[];
  readonly client: string;
  readonly model: ModelFile;
  readonly config: HerdConfig;
  /** Short names of every address, for timelines. */
  readonly names: Readonly<Record<string, string>>;
  /** Module name the client package is registered under. */
  readonly moduleName: string;
  /** Index of the first log entry after the boot. */
  readonly bootLogLength: number;
  /** Token balance of an address (exact). */
  balance(address: string): Promise<bigint>;
  /** The herder's books and herd. */
  summary(): Promise<HerderSummary>;
  /** Evaluates Lua in the client (owner Eval) and returns its output. */
  clientEval(lua: string): Promise<string>;
  /** Reads a JSON-encodable Lua expression from the client. */
  clientRead<T>(expression: string): Promise<T>;
  close(): void;
}

export const DEFAULT_MINT = 1_000_000n;

/** A JSON reader usable from every aos module here (aos 2.0.0.rc1 and 2.0.4 both ship `json`). */
const readJson = (expression: string) => `return require('json').encode(${expression})`;

export async function bootLocalHerd(options: LocalHerdOptions = {}): Promise<LocalHerd> {
  const healthy = options.workers ?? 2;
  const broken = options.brokenWorkers ?? 0;
  const registration = options.registration ?? 'add-worker';
  const steps = 6 + healthy + broken;
  // model, token, herder, client, each worker, Init, mint
  let stepIndex = 0;
  const step = (label: string) => options.onStep?.(label, stepIndex++, steps);

  step(options.model ? 'loading the model' : 'generating the tiny model');
  const model = options.model ?? (await ensureTinyModel());
  const net = await LocalNetwork.create({ seed: options.seed ?? 'llama-herder-demo', ...options.network });
  try {
    const owner = net.wallet('operator');
    const user = net.wallet('client-user');
    const moduleName = options.clientPackage?.moduleName ?? DEFAULT_MODULE_NAME;
    step('spawning the token');
    const token = await net.spawn({
      module: options.tokenModule ?? 'aos32',
      owner,
      name: 'token',
      boot: tokenLua(),
    });

    const weaveDrive = createWeaveDrive({ modelsDir: dirname(model.path) });
    const total = healthy + broken;
    const workerIds: string[] = [];
    const spawnWorkers = async (herderId?: string) => {
      for (let i = 0; i < total; i++) {
        step(`spawning AOS-Llama worker ${i + 1}/${total}`);
        const pid = await net.spawn({
          module: 'llama',
          owner,
          name: i < healthy ? `worker-${i + 1}` : `broken-worker-${i - healthy + 1}`,
          weaveDrive,
          boot: workerLua(herderId === undefined ? {} : { herder: herderId }),
        });
        workerIds.push(pid);
      }
    };
    const spawnHerder = async (workers: string[]) => {
      step('spawning the herder');
      const config = makeConfig({ ...options.config, token, owner, workers });
      const pid = await net.spawn({
        module: options.herderModule ?? 'aos32',
        owner,
        name: 'herder',
        boot: herderLua(config),
      });
      return { pid, config };
    };
    const spawnClient = async (herderId: string) => {
      step('spawning the client and loading the client package');
      const pid = await net.spawn({
        module: options.clientModule ?? 'aos32',
        owner: user,
        name: 'client',
        boot: clientInstallLua({ herder: herderId, token, moduleName }),
      });
      await net.eval(pid, `Llama = require(${JSON.stringify(moduleName)})`);
      return pid;
    };

    // A herder configured with its workers needs their ids: spawn them first (their Herder is
    // set by the Init). Otherwise the workers get the herder baked in and are added by message.
    let herder: string;
    let config: HerdConfig;
    let client: string;
    if (registration === 'config') {
      await spawnWorkers();
      ({ pid: herder, config } = await spawnHerder(workerIds));
      client = await spawnClient(herder);
    } else {
      ({ pid: herder, config } = await spawnHerder([]));
      client = await spawnClient(herder);
      await spawnWorkers(herder);
      for (const worker of workerIds) {
        net.send({ from: owner, target: herder, tags: { Action: 'Add-Worker', Worker: worker } });
      }
      await net.deliverAll();
    }

    step('loading the model in the workers (Init)');
    const missing = 'missing-model-'.padEnd(43, '0');
    workerIds.forEach((worker, i) => {
      net.send({
        from: owner,
        target: worker,
        tags: { Action: 'Init', 'Model-ID': i < healthy ? model.id : missing, Herder: herder },
      });
    });
    await net.deliverAll();
    const initialized = new Set(
      net.log
        .filter((e) => e.kind !== 'spawn' && tagValue(e.tags, 'Action') === 'Worker-Initialized')
        .map((e) => e.from),
    );
    for (const worker of workerIds.slice(0, healthy)) {
      if (!initialized.has(worker)) {
        const error = net.log.find((e) => e.from === worker && tagValue(e.tags, 'Action') === 'Worker-Error');
        throw new Error(
          `worker ${worker} did not load the model: ${error ? tagValue(error.tags, 'X-Reason') : 'no answer'}`,
        );
      }
    }

    if (options.clientBoot !== undefined) {
      await net.eval(client, options.clientBoot);
      await net.deliverAll();
    }

    step('minting wAR for the client');
    net.send({
      from: owner,
      target: token,
      tags: { Action: 'Mint', Recipient: client, Quantity: (options.mint ?? DEFAULT_MINT).toString() },
    });
    await net.deliverAll();
    options.onStep?.('ready', steps, steps);

    const names: Record<string, string> = {
      [owner]: 'operator',
      [user]: 'user',
      [token]: 'token',
      [herder]: 'herder',
      [client]: 'client',
    };
    workerIds.forEach((w, i) => {
      names[w] = i < healthy ? `worker-${i + 1}` : `broken-${i - healthy + 1}`;
    });

    return {
      net,
      owner,
      user,
      token,
      herder,
      workers: workerIds.slice(0, healthy),
      brokenWorkers: workerIds.slice(healthy),
      client,
      model,
      config,
      names,
      moduleName,
      bootLogLength: net.log.length,
      async balance(address) {
        const raw = await net.peek(token, `return Balances[${JSON.stringify(address)}] or '0'`);
        return BigInt(raw);
      },
      async summary() {
        return JSON.parse(await net.peek(herder, readJson('HerderSummary()'))) as HerderSummary;
      },
      clientEval: (lua) => net.eval(client, lua),
      async clientRead<T>(expression: string) {
        return JSON.parse(await net.peek(client, readJson(expression))) as T;
      },
      close: () => net.close(),
    };
  } catch (err) {
    net.close();
    throw err;
  }
}

/** The log entries since `from` (default: the end of the boot). */
export function entriesSince(herd: LocalHerd, from = herd.bootLogLength): readonly LogEntry[] {
  return herd.net.log.slice(from);
}
