import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import {
  buildPlan,
  type Connection,
  connectNetwork,
  DEPLOY_OPTIONS,
  DeployError,
  type DeployEvent,
  type DeployFlags,
  type DeployReport,
  type DeploySectionJson,
  type DeploySettings,
  deployOptionHelp,
  fileStateStore,
  formatPlan,
  type Jwk,
  NEW_DEPLOYMENT,
  planRows,
  prepareDeploy,
  readDeployConfig,
  readWallet,
  resolveSettings,
  runDeploy,
  StateFileError,
  unreachableUnits,
  type WalletError,
  walletAddress,
} from '../../deploy/index.ts';
import { type HerdConfig, makeConfig } from '../../model/config.ts';
import { emit, intOption, oneLine, problemsLine, showProgress, UserError } from '../output.ts';

export interface DeployCommandOptions extends DeployFlags {
  config?: string;
  token?: string;
  owner?: string;
  respawnUnrecorded?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

/** What the command needs from the outside world; tests pass an in-memory AO. */
interface DeployCommandDeps {
  connect?: (settings: DeploySettings, jwk: Jwk) => Promise<Connection>;
  /** Problems reaching the units; skipped when `connect` is injected and this is not. */
  checkUnits?: (settings: DeploySettings) => Promise<string[]>;
}

function loadInputs(opts: DeployCommandOptions): {
  config: HerdConfig;
  settings: DeploySettings;
  jwk?: Jwk;
  owner: string;
} {
  let config: HerdConfig | undefined;
  let section: DeploySectionJson = {};
  let baseDir = '.';
  if (opts.config) {
    if (opts.token || opts.owner) throw new UserError('give either --config or --token/--owner, not both');
    try {
      ({ config, section, baseDir } = readDeployConfig(opts.config));
    } catch (err) {
      throw new UserError(oneLine((err as Error).message));
    }
  } else if (!opts.token)
    throw new UserError('no config: pass --config herd.json, or --token <wAR process id>');

  const flags = { ...opts, workers: opts.workers };
  // Settings need a config for the default fees; without a file, validate against a provisional one.
  const provisional =
    config ??
    safeConfig({ token: opts.token!, owner: opts.owner ?? 'provisional-owner-000000000000000000000000000' });
  const resolved = resolveSettings(section, flags, provisional, baseDir);
  if (!resolved.ok) throw new UserError(`deploy settings are invalid: ${problemsLine(resolved.problems)}`);
  const settings = resolved.settings;

  let jwk: Jwk | undefined;
  if (settings.wallet !== undefined) {
    try {
      jwk = readWallet(settings.wallet);
    } catch (err) {
      throw new UserError((err as WalletError).message);
    }
  } else if (!opts.dryRun)
    throw new UserError(
      'no wallet: pass --wallet <file> (an Arweave JWK) or set deploy.wallet in the config',
    );
  const address = jwk ? walletAddress(jwk) : undefined;
  if (!config) config = safeConfig({ token: opts.token!, owner: opts.owner ?? address ?? '' });
  const owner = address ?? config.owner;
  return { config, settings, ...(jwk ? { jwk } : {}), owner };
}

function safeConfig(fields: { token: string; owner: string }): HerdConfig {
  if (fields.owner === '')
    throw new UserError('no owner: pass --wallet (its address is the owner) or --owner for a dry run');
  try {
    return makeConfig(fields);
  } catch (err) {
    throw new UserError((err as Error).message);
  }
}

/** Prints progress: a bar on a terminal, one line per step otherwise (never with --json). */
async function progressPrinter(opts: DeployCommandOptions): Promise<{
  onEvent: (event: DeployEvent) => void;
  stop: () => void;
}> {
  if (opts.json) return { onEvent: () => {}, stop: () => {} };
  if (!showProgress(opts)) {
    return {
      onEvent: (event) => {
        if (event.type === 'check') process.stderr.write(`  checking ${event.role} ${event.process}\n`);
        else if (event.type !== 'start')
          process.stderr.write(
            `  [${event.index + 1}/${event.total}] ${event.step.id}: ${event.type === 'skip' ? 'already done' : 'done'}${event.detail ? ` ${event.detail}` : ''}\n`,
          );
      },
      stop: () => {},
    };
  }
  const { default: progress } = await import('cli-progress');
  const bar = new progress.SingleBar(
    { format: 'deploying [{bar}] {value}/{total} | {step}', clearOnComplete: true },
    progress.Presets.shades_classic,
  );
  let started = false;
  return {
    onEvent: (event) => {
      if (event.type === 'check') return;
      if (!started) {
        bar.start(event.total, 0, { step: '' });
        started = true;
      }
      const done = event.type === 'start' ? event.index : event.index + 1;
      bar.update(done, { step: `${event.step.id}${event.type === 'start' ? ' …' : ''}` });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/** The command's work, separate from commander so that tests can inject the network. */
export async function deployCommand(opts: DeployCommandOptions, deps: DeployCommandDeps = {}): Promise<void> {
  const { config, settings, jwk, owner } = loadInputs(opts);
  const store = fileStateStore(resolve(settings.stateFile));
  let prepared: ReturnType<typeof prepareDeploy>;
  try {
    prepared = prepareDeploy({ config, settings, owner, store });
  } catch (err) {
    if (err instanceof DeployError || err instanceof StateFileError) throw new UserError(err.message);
    throw err;
  }
  const { plan, resumed } = prepared;
  const existing = resumed ? prepared.state : undefined;

  if (opts.dryRun) {
    // A new deploy's id is made when its state is first saved: show a placeholder, not a throwaway id.
    const shown = existing
      ? plan
      : buildPlan({ config, settings, owner, deployment: NEW_DEPLOYMENT, sources: prepared.sources });
    emit(
      {
        dryRun: true,
        deployment: existing ? plan.deployment : null,
        owner: plan.owner,
        token: plan.token,
        network: plan.network,
        configSha256: plan.configSha256,
        model: plan.model,
        workers: plan.workers,
        stateFile: store.path,
        resumed,
        steps: planRows(shown, existing),
      },
      opts,
      () =>
        formatPlan({
          plan: shown,
          ...(existing ? { state: existing } : {}),
          stateFile: store.path,
          ...(settings.wallet ? { wallet: settings.wallet } : {}),
          dryRun: true,
        }),
    );
    return;
  }

  const check =
    deps.checkUnits ?? (deps.connect ? undefined : (s: DeploySettings) => unreachableUnits(s.network));
  if (check) {
    const problems = await check(settings);
    if (problems.length > 0) throw new UserError(problemsLine(problems));
  }
  const connection = await (deps.connect ?? ((s, key) => connectNetwork(s.network, key)))(settings, jwk!);
  const progress = await progressPrinter(opts);
  let report: DeployReport;
  try {
    report = await runDeploy({
      api: connection.api,
      signer: connection.signer,
      findSpawn: connection.findSpawn,
      plan,
      store,
      state: prepared.state,
      respawnUnrecorded: Boolean(opts.respawnUnrecorded),
      onEvent: progress.onEvent,
    });
  } catch (err) {
    progress.stop();
    if (err instanceof DeployError || err instanceof StateFileError)
      throw new UserError(
        `${oneLine(err.message)}; progress is saved in ${store.path}: run the same command again to resume`,
        1,
      );
    throw err;
  }
  progress.stop();
  emit({ ...report, resumed }, opts, (r) => {
    const sent = r.steps.filter((s) => s.outcome !== 'skipped').length;
    return [
      `${r.resumed ? 'Resumed and finished' : 'Deployed'} herd ${r.deployment} (${sent} step(s) run, ${r.steps.length - sent} already done; ${r.sent.spawns} spawn(s) and ${r.sent.messages} message(s) sent).`,
      `  herder   ${r.herder}`,
      ...r.workers.map((w, i) => `  worker ${String(i + 1).padEnd(2)}${w}`),
      `  token    ${r.token}`,
      `  Info     Base-Fee=${r.info['Base-Fee']} Token-Fee=${r.info['Token-Fee']} Workers=${r.info.Workers} Idle-Workers=${r.info['Idle-Workers']} Queue-Length=${r.info['Queue-Length']} Version=${r.info.Version}`,
      `  state    ${r.stateFile}`,
      '',
      'Clients pay the herder through the token: Transfer(Recipient=<herder>, Quantity, X-Prompt, X-Tokens, X-Reference).',
    ].join('\n');
  });
}

export function register(program: Command): void {
  const command = program
    .command('deploy')
    .description(
      'spawn a herder and its AOS-Llama workers on AO, load the handlers, Init, register, set fees, verify',
    )
    .option('-c, --config <file>', 'herd config (as for `herd export`), optionally with a "deploy" section')
    .addOption(new Option('--token <id>', 'token process id (instead of --config)'))
    .addOption(
      new Option('--owner <id>', 'owner address for a dry run without a wallet (instead of --config)'),
    );
  for (const option of DEPLOY_OPTIONS) {
    const flag = new Option(option.flag, deployOptionHelp(option));
    if (option.type === 'number') flag.argParser(intOption(1));
    if ('choices' in option) flag.choices(option.choices);
    command.addOption(flag);
  }
  command
    .option(
      '--respawn-unrecorded',
      'spawn again a process whose earlier spawn was interrupted and cannot be found',
    )
    .option('--dry-run', 'print the full plan (and how far an earlier run got) without sending anything')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Examples:
  $ herd deploy --config herd.json --wallet wallet.json \\
      --herder-module <aos module> --worker-module <AOS-Llama module> --model <model tx id> --dry-run
  $ herd deploy --config herd.json --wallet wallet.json ...same flags...

Every step is recorded in the state file before and after it is sent; running the same command
again after a failure resumes where it stopped and never spawns a process twice.`,
    )
    .action(async (opts: DeployCommandOptions) => {
      await deployCommand(opts);
    });
}
