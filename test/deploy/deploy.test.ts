/**
 * herd deploy without a network: settings, plan, state, the resume rules (against a scripted
 * fake AO, test/deploy/fake-ao.ts), and the command line (--dry-run, clear errors).
 * The deploy into WAO's in-memory AO is in resume.test.ts and test/client/.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  DeployError,
  type DeploySettings,
  fileStateStore,
  gatewayFinder,
  memoryStateStore,
  parseSection,
  prepareDeploy,
  readDeployConfig,
  readWallet,
  resolveSettings,
  runDeploy,
  type StateStore,
  unreachableUnits,
  walletAddress,
} from '../../src/deploy/index.ts';
import { type HerdConfig, makeConfig } from '../../src/model/config.ts';
import { herd } from '../cli-harness.ts';
import { type FakeAo, fakeAo } from './fake-ao.ts';

const OWNER = 'O'.repeat(43);
const TOKEN = 'T'.repeat(43);
const AOS = 'A'.repeat(43);
const LLAMA = 'L'.repeat(43);
const MODEL = 'M'.repeat(43);

const config = makeConfig({ token: TOKEN, owner: OWNER });
const settings = (overrides: Partial<DeploySettings> = {}): DeploySettings => {
  const resolved = resolveSettings(
    {},
    { herderModule: AOS, workerModule: LLAMA, model: MODEL, workers: 2 },
    config,
  );
  if (!resolved.ok) throw new Error(resolved.problems.join('; '));
  return { ...resolved.settings, ...overrides };
};
const sources = { herder: '-- herder', worker: '-- worker' };

async function deploy(
  ao: FakeAo,
  store: StateStore,
  options: {
    settings?: DeploySettings;
    config?: HerdConfig;
    respawnUnrecorded?: boolean;
    finder?: boolean;
  } = {},
) {
  const prepared = prepareDeploy({
    config: options.config ?? config,
    settings: options.settings ?? settings(),
    owner: OWNER,
    store,
    sources,
  });
  return runDeploy({
    api: ao,
    signer: () => OWNER,
    ...prepared,
    respawnUnrecorded: Boolean(options.respawnUnrecorded),
    ...(options.finder
      ? {
          findSpawn: async ({ role, deployment }) =>
            [...ao.processes.values()]
              .filter((p) => p.tags.some((t) => t.name === 'Herd-Role' && t.value === role))
              .filter((p) => p.tags.some((t) => t.name === 'Herd-Deployment' && t.value === deployment))
              .map((p) => p.id),
        }
      : {}),
  });
}

const failure = (p: Promise<unknown>) => p.then(() => undefined).catch((e: unknown) => e as Error);

describe('deploy plan', () => {
  it('spawns, loads, inits, registers, sets fees and verifies, in that order', async () => {
    const ao = fakeAo();
    const store = memoryStateStore();
    const report = await deploy(ao, store);
    expect(report.steps.map((s) => s.id)).toEqual([
      'herder.spawn',
      'herder.load',
      'worker-1.spawn',
      'worker-1.load',
      'worker-1.init',
      'worker-1.register',
      'worker-2.spawn',
      'worker-2.load',
      'worker-2.init',
      'worker-2.register',
      'herder.fees',
      'verify',
    ]);
    expect(report.sent).toEqual({ spawns: 3, messages: 8 });
    expect(report.workers).toHaveLength(2);
    const herder = ao.processes.get(report.herder)!;
    expect([...herder.workers]).toEqual(report.workers);
    expect(herder.module).toBe(AOS);
    for (const w of report.workers)
      expect(ao.processes.get(w)).toMatchObject({ module: LLAMA, model: MODEL });
    const tags = Object.fromEntries(herder.tags.map((t) => [t.name, t.value]));
    expect(tags).toMatchObject({ 'Herd-Role': 'herder', 'Herd-Deployment': report.deployment });
    expect(tags.Authority).toBe('fcoN_xJeisVsPXA-trzVAuIiqO3ydLQxM-L4XbrQKzY');
    expect(Object.values(store.current!.steps).every((s) => s.status === 'done')).toBe(true);
  });

  it('gives the herder a Cron interval (a setting, one minute by default), and only the herder', async () => {
    const ao = fakeAo();
    const report = await deploy(ao, memoryStateStore());
    const herder = ao.processes.get(report.herder)!;
    expect(herder.tags).toContainEqual({ name: 'Cron-Interval', value: '1-minute' });
    expect(herder.tags).toContainEqual({ name: 'Cron-Tag-Action', value: 'Cron' });
    for (const w of report.workers)
      expect(ao.processes.get(w)!.tags.some((t) => t.name.startsWith('Cron-'))).toBe(false);

    const every30s = await deploy(fakeAo(), memoryStateStore(), {
      settings: settings({ cron: '30-seconds' }),
    });
    expect(every30s.steps.length).toBe(report.steps.length);
    const none = fakeAo();
    const off = resolveSettings(
      { cron: 'off' },
      { herderModule: AOS, workerModule: LLAMA, model: MODEL },
      config,
    );
    expect(off.ok && off.settings.cron).toBe(undefined);
    const noCron = await deploy(none, memoryStateStore(), { settings: off.ok ? off.settings : settings() });
    expect(none.processes.get(noCron.herder)!.tags.some((t) => t.name === 'Cron-Interval')).toBe(false);
    const bad = resolveSettings(
      {},
      { cron: 'hourly', herderModule: AOS, workerModule: LLAMA, model: MODEL },
      config,
    );
    expect(bad).toEqual({
      ok: false,
      problems: [
        'cron must be an interval such as "1-minute", "30-seconds" or "2-hours", or "off" (got "hourly")',
      ],
    });
  });

  it('--load on-boot: the handlers travel with the spawn, no Eval messages', async () => {
    const ao = fakeAo();
    const report = await deploy(ao, memoryStateStore(), { settings: settings({ load: 'on-boot' }) });
    expect(report.steps.some((s) => s.id.endsWith('.load'))).toBe(false);
    expect(report.sent).toEqual({ spawns: 3, messages: 5 });
    const herder = ao.processes.get(report.herder)!;
    expect(herder.tags).toContainEqual({ name: 'On-Boot', value: 'Data' });
  });

  it('a finished deploy run again sends nothing; changed fees send only Set-Fees', async () => {
    const ao = fakeAo();
    const store = memoryStateStore();
    const first = await deploy(ao, store);
    const again = await deploy(ao, store);
    expect(again.sent).toEqual({ spawns: 0, messages: 0 });
    expect(again.deployment).toBe(first.deployment);
    expect(again.steps.filter((s) => s.outcome !== 'skipped').map((s) => s.id)).toEqual(['verify']);
    const cheaper = await deploy(ao, store, { settings: settings({ baseFee: 7n, tokenFee: 1n }) });
    expect(cheaper.sent).toEqual({ spawns: 0, messages: 1 });
    expect(cheaper.info['Base-Fee']).toBe('7');
    const more = await deploy(ao, store, { settings: settings({ baseFee: 7n, tokenFee: 1n, workers: 3 }) });
    expect(more.sent).toEqual({ spawns: 1, messages: 3 });
    expect(more.info.Workers).toBe('3');
    expect((await failure(deploy(ao, store)))?.message).toMatch(/never removes any: run with --workers 3/);
  });

  it('a failure after the first spawn, resumed, spawns nothing twice', async () => {
    const ao = fakeAo();
    const store = memoryStateStore();
    ao.failNext('message', new Error('socket hang up'));
    const error = await failure(deploy(ao, store));
    expect(error).toBeInstanceOf(DeployError);
    expect(error?.message).toMatch(/load herder.lua into herder \(Eval\) failed: socket hang up/);
    expect(ao.calls.spawn).toBe(1);
    const report = await deploy(ao, store);
    expect(ao.calls.spawn).toBe(3);
    expect(ao.processes.size).toBe(3);
    expect(report.steps[0]).toMatchObject({ id: 'herder.spawn', outcome: 'skipped' });
  });

  it('a spawn whose reply was lost is found by its tags, not spawned again', async () => {
    const ao = fakeAo();
    const store = memoryStateStore();
    ao.failNext('spawn', new Error('socket hang up'), { after: true });
    expect((await failure(deploy(ao, store, { finder: true })))?.message).toMatch(/spawn herder/);
    expect(store.current!.steps['herder.spawn']).toMatchObject({ status: 'failed', error: 'socket hang up' });
    const report = await deploy(ao, store, { finder: true });
    expect(report.steps[0]).toMatchObject({ outcome: 'adopted' });
    expect(ao.processes.size).toBe(3);
  });

  it('without a way to look it up, an unknown spawn is not repeated unless the operator says so', async () => {
    const ao = fakeAo();
    const store = memoryStateStore();
    ao.failNext('spawn', new Error('socket hang up'), { after: true });
    await failure(deploy(ao, store));
    const refused = await failure(deploy(ao, store));
    expect(refused?.message).toMatch(/may have reached the MU .*--respawn-unrecorded/);
    expect(ao.calls.spawn).toBe(1);
    const report = await deploy(ao, store, { respawnUnrecorded: true });
    expect(report.sent.spawns).toBe(3);
  });

  it('a spawn that never reached the MU (connection refused) is simply spawned on resume', async () => {
    const ao = fakeAo();
    const store = memoryStateStore();
    const refused = Object.assign(new Error('fetch failed'), {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:80'), { code: 'ECONNREFUSED' }),
    });
    ao.failNext('spawn', refused);
    expect((await failure(deploy(ao, store)))?.message).toMatch(/ECONNREFUSED/);
    expect(store.current!.steps['herder.spawn']).toMatchObject({ status: 'failed', delivered: false });
    await deploy(ao, store);
    expect(ao.processes.size).toBe(3);
  });

  it('a message sent whose result could not be read is checked on resume, not sent again', async () => {
    const ao = fakeAo();
    const store = memoryStateStore();
    ao.failNext('result', new Error('CU timeout'));
    const error = await failure(deploy(ao, store));
    expect(error?.message).toMatch(/was sent but its result cannot be read/);
    const messagesBefore = ao.calls.message;
    const report = await deploy(ao, store);
    expect(report.steps[1]).toMatchObject({ id: 'herder.load', outcome: 'result-read' });
    expect(ao.calls.message - messagesBefore).toBe(7);
  });

  it('refusals carry the process reason: Worker-Error, Admin-Refused', async () => {
    const ao = fakeAo();
    ao.workerError = 'model not found: /data/MMM';
    const store = memoryStateStore();
    expect((await failure(deploy(ao, store)))?.message).toBe(
      `Init worker-1 with model ${MODEL} and its herder failed: Worker-Error: model not found: /data/MMM`,
    );
    ao.workerError = undefined;
    ao.refuseAdd = 'worker "x" is not a process id';
    expect((await failure(deploy(ao, store)))?.message).toMatch(
      /register worker-1 with the herder \(Add-Worker\) failed: Admin-Refused: worker "x" is not a process id/,
    );
  });

  it('refuses a state of another owner, network or herder config, and a process the CU does not know', async () => {
    const ao = fakeAo();
    const store = memoryStateStore();
    await deploy(ao, store);
    const other = makeConfig({ token: TOKEN, owner: OWNER, maxTokens: 99 });
    expect((await failure(deploy(ao, store, { config: other })))?.message).toMatch(
      /herder was loaded from another config/,
    );
    const elsewhere = settings({ network: { ...settings().network, cu: 'https://cu.example' } });
    expect((await failure(deploy(ao, store, { settings: elsewhere })))?.message).toMatch(
      /its cu is https:\/\/cu.ao-testnet.xyz, not https:\/\/cu.example/,
    );
    expect(() =>
      prepareDeploy({ config, settings: settings(), owner: 'X'.repeat(43), store, sources }),
    ).toThrow(/config's owner .* is not the deploying wallet/);
    ao.processes.delete(store.current!.processes['worker-2']!);
    expect((await failure(deploy(ao, store)))?.message).toMatch(/worker-2 .* cannot be read/);
  });
});

describe('deploy settings and wallet', () => {
  it('lists every problem with the settings', () => {
    const result = resolveSettings(
      { mu: 'ftp://mu', workers: 0 },
      { cu: 'not a url', baseFee: '1.5' },
      config,
    );
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        'MU URL "ftp://mu" must be http:// or https://',
        'CU URL "not a url" is not a valid URL',
        'no herder module: pass --herder-module <aos module id> or set deploy.herderModule',
        'no worker module: pass --worker-module <AOS-Llama module id> or set deploy.workerModule',
        'no model: pass --model <model id> or set deploy.model',
        'workers must be an integer from 1 to 64',
        'baseFee must be a decimal integer (got "1.5")',
      ]),
    );
    expect(parseSection({ wallet: 1, colour: 'red' })).toEqual({
      ok: false,
      problems: ['deploy.wallet must be a string', 'unknown key "deploy.colour"'],
    });
  });

  it('reads wallets and explains bad ones', async () => {
    const dir = await tempDir();
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwk = privateKey.export({ format: 'jwk' });
    await writeFile(join(dir, 'w.json'), JSON.stringify(jwk));
    await writeFile(join(dir, 'pub.json'), JSON.stringify(publicKey.export({ format: 'jwk' })));
    await writeFile(join(dir, 'junk.json'), 'nope');
    expect(walletAddress(readWallet(join(dir, 'w.json')))).toMatch(/^[\w-]{43}$/);
    expect(() => readWallet(join(dir, 'none.json'))).toThrow(/does not exist/);
    expect(() => readWallet(join(dir, 'pub.json'))).toThrow(/no private key/);
    expect(() => readWallet(join(dir, 'junk.json'))).toThrow(/not JSON/);
  });

  it('finds spawns through the gateway GraphQL, and says when a unit is unreachable', async () => {
    const fetchMock = vi.fn(async (_url: string | URL | Request, init?: RequestInit) => {
      const body = JSON.parse(String(init?.body));
      expect(body.variables.tags).toContainEqual({ name: 'Herd-Role', values: ['worker-1'] });
      return new Response(JSON.stringify({ data: { transactions: { edges: [{ node: { id: 'PID' } }] } } }));
    });
    const find = gatewayFinder('https://gw.example', fetchMock as unknown as typeof fetch);
    expect(await find({ owner: OWNER, deployment: 'd', role: 'worker-1' })).toEqual(['PID']);
    expect(fetchMock.mock.calls[0]![0]).toBe('https://gw.example/graphql');
    const down = vi.fn(async (url: string | URL | Request) => {
      if (String(url).includes('mu'))
        throw Object.assign(new Error('fetch failed'), { cause: new Error('ECONNREFUSED') });
      return new Response('', { status: 502 });
    });
    expect(
      await unreachableUnits({ mu: 'http://mu.example', cu: 'http://cu.example' }, down as never),
    ).toEqual([
      'cannot reach the MU at http://mu.example: fetch failed (ECONNREFUSED)',
      'the CU at http://cu.example answered HTTP 502',
    ]);
  });
});

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'herd-deploy-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('herd deploy (command line)', () => {
  async function herdJson(dir: string, deploySection: Record<string, unknown>): Promise<string> {
    const path = join(dir, 'herd.json');
    await writeFile(
      path,
      JSON.stringify({
        token: TOKEN,
        owner: OWNER,
        baseFee: '100',
        tokenFee: '10',
        deploy: {
          herderModule: AOS,
          workerModule: LLAMA,
          model: MODEL,
          workers: 2,
          state: 'state.json',
          ...deploySection,
        },
      }),
    );
    return path;
  }

  it('--dry-run prints the full plan from a config with a deploy section, sending nothing', async () => {
    const dir = await tempDir();
    const path = await herdJson(dir, { mu: 'https://mu.example', tokenFee: '12' });
    const { config: parsed, section } = readDeployConfig(path);
    expect(parsed.token).toBe(TOKEN);
    expect(section.mu).toBe('https://mu.example');

    const human = await herd('deploy', '--config', path, '--dry-run');
    expect(human.code).toBe(0);
    expect(human.stderr).toBe('');
    const text = human.stdout;
    expect(text).toMatch(/^Deploy plan \(dry run: nothing is sent\)/);
    expect(text).toContain('MU         https://mu.example');
    expect(text).toContain('CU         https://cu.ao-testnet.xyz');
    expect(text).toContain(`owner      ${OWNER} (from the config; no wallet read)`);
    expect(text).toContain(`state      ${join(dir, 'state.json')}: none yet (a new deploy)`);
    for (const step of [
      'herder.spawn',
      'herder.load',
      'worker-2.init',
      'worker-2.register',
      'herder.fees',
      'verify',
    ])
      expect(text).toContain(step);
    expect(text).toContain(`spawn module ${LLAMA}`);
    expect(text).toContain(`Model-ID = ${MODEL}`);
    expect(text).toContain('Herder = <herder>');
    expect(text).toContain('Worker = <worker-1>');
    expect(text).toContain('Token-Fee = 12');
    expect(text).toMatch(/Data: \d+ bytes, sha256 [0-9a-f]{16}…/);
    expect(text).toContain('expect Base-Fee=100, Token-Fee=12, Token=');

    const json = await herd('deploy', '--config', path, '--dry-run', '--json', '--workers', '3');
    const plan = JSON.parse(json.stdout);
    expect(plan).toMatchObject({ dryRun: true, deployment: null, workers: 3, resumed: false });
    expect(plan.steps).toHaveLength(2 + 3 * 4 + 2);
    expect(plan.steps[0]).toMatchObject({
      step: 'herder.spawn',
      action: 'spawn',
      module: AOS,
      status: 'pending',
    });
    await expect(readFile(join(dir, 'state.json'))).rejects.toThrow(/ENOENT/);
  });

  it('--dry-run on an interrupted deploy shows how far it got', async () => {
    const dir = await tempDir();
    const path = await herdJson(dir, {});
    const store = fileStateStore(join(dir, 'state.json'));
    const ao = fakeAo();
    ao.failNext('message', new Error('socket hang up'), { after: true });
    const parsed = readDeployConfig(path);
    const resolved = resolveSettings(parsed.section, {}, parsed.config, parsed.baseDir);
    if (!resolved.ok) throw new Error(resolved.problems.join());
    const prepared = prepareDeploy({
      config: parsed.config,
      settings: resolved.settings,
      owner: OWNER,
      store,
    });
    await failure(runDeploy({ api: ao, signer: () => OWNER, ...prepared }));
    const { stdout } = await herd('deploy', '--config', path, '--dry-run', '--json');
    const plan = JSON.parse(stdout);
    expect(plan.deployment).toBe(prepared.state.deployment);
    expect(plan.steps.slice(0, 3).map((s: { status: string }) => s.status)).toEqual([
      'done',
      'failed: socket hang up',
      'pending',
    ]);
    expect(plan.steps[1].target).toBe(prepared.state.processes.herder);
  });

  it('explains missing wallets, bad URLs and unreachable units in one line, without a stack', async () => {
    const dir = await tempDir();
    const path = await herdJson(dir, {});
    const noWallet = await herd('deploy', '--config', path);
    expect(noWallet).toMatchObject({ code: 2, stdout: '' });
    expect(noWallet.stderr).toBe(
      'herd: no wallet: pass --wallet <file> (an Arweave JWK) or set deploy.wallet in the config\n',
    );
    const missing = await herd('deploy', '--config', path, '--wallet', join(dir, 'nope.json'));
    expect(missing.stderr).toBe(`herd: wallet ${join(dir, 'nope.json')} does not exist\n`);
    const badUrl = await herd('deploy', '--config', path, '--cu', 'cu.example', '--dry-run');
    expect(badUrl.stderr).toBe('herd: deploy settings are invalid: CU URL "cu.example" is not a valid URL\n');

    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwk = privateKey.export({ format: 'jwk' });
    const wallet = join(dir, 'wallet.json');
    await writeFile(wallet, JSON.stringify(jwk));
    const notOwner = await herd('deploy', '--config', path, '--wallet', wallet, '--dry-run');
    expect(notOwner.stderr).toMatch(/^herd: the config's owner O+ is not the deploying wallet [\w-]{43}/);

    const owned = await herdJson(dir, {});
    const json = JSON.parse(await readFile(owned, 'utf8'));
    json.owner = walletAddress(jwk as { n: string });
    await writeFile(owned, JSON.stringify(json));
    const closed = `http://127.0.0.1:${await closedPort()}`;
    const down = await herd('deploy', '--config', owned, '--wallet', wallet, '--mu', closed, '--cu', closed);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(
      new RegExp(`^herd: cannot reach the MU at ${closed}: fetch failed \\(ECONNREFUSED`),
    );
    expect(down.stderr).not.toMatch(/\n\s+at /);
    expect(down.stderr.split('\n')).toHaveLength(2); // one line: the MU's and the CU's problems together
  });
});
