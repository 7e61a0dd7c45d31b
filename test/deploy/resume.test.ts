/**
 * `herd deploy` (the command's code path, with its state file) into WAO's in-memory AO, with
 * failures injected into the aoconnect API: a deploy interrupted after the first spawn, then
 * interrupted again by a spawn whose reply was lost, resumes to a complete herd in which every
 * process was spawned exactly once. Herder on aos 2.0.4; workers run the exported worker.lua on
 * the same aos module behind a stub for AOS-Llama's C side (see wao-herd.ts for why).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DeployCommandOptions, deployCommand } from '../../src/cli/commands/deploy.ts';
import { UserError } from '../../src/cli/output.ts';
import { type AoApi, type DeployReport, walletAddress } from '../../src/deploy/index.ts';
import { stubbedWorkerLua, type WaoNet, waoNet } from './wao-herd.ts';

type Call = 'spawn' | 'message';

/** WAO's API with one-shot failures: before the call (nothing sent) or after it (reply lost). */
function flaky(api: AoApi) {
  const failures: { call: Call; after: boolean; error: Error }[] = [];
  const guard =
    <A, R>(call: Call, fn: (args: A) => Promise<R>) =>
    async (args: A): Promise<R> => {
      const index = failures.findIndex((f) => f.call === call);
      const failure = index < 0 ? undefined : failures.splice(index, 1)[0];
      if (failure && !failure.after) throw failure.error;
      const out = await fn(args);
      if (failure) throw failure.error;
      return out;
    };
  const wrapped: AoApi = {
    spawn: guard('spawn', (a) => api.spawn(a)),
    message: guard('message', (a) => api.message(a)),
    result: (a) => api.result(a),
    results: (a) => api.results(a),
    dryrun: (a) => api.dryrun(a),
  };
  return {
    api: wrapped,
    fail: (call: Call, after: boolean, message: string) =>
      failures.push({ call, after, error: new Error(message) }),
  };
}

let net: WaoNet;
let dir: string;
let config: string;

beforeAll(async () => {
  net = waoNet();
  dir = await mkdtemp(join(tmpdir(), 'herd-resume-'));
  const worker = await stubbedWorkerLua();
  await writeFile(join(dir, 'worker-stubbed.lua'), worker.lua);
  await writeFile(join(dir, 'wallet.json'), JSON.stringify(net.owner.jwk));
  config = join(dir, 'herd.json');
  await writeFile(
    config,
    JSON.stringify({
      token: 'T'.repeat(43),
      owner: net.owner.address,
      baseFee: '50',
      tokenFee: '5',
      deploy: {
        wallet: 'wallet.json',
        mu: 'http://mu.wao.invalid',
        cu: 'http://cu.wao.invalid',
        scheduler: net.scheduler,
        authority: net.authority,
        herderModule: net.aosModule,
        workerModule: net.aosModule,
        model: worker.model,
        workers: 2,
        state: 'state.json',
        workerLua: 'worker-stubbed.lua',
      },
    }),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(
  api: AoApi,
  flags: Partial<DeployCommandOptions> = {},
): Promise<{ report?: DeployReport; error?: UserError }> {
  let stdout = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  try {
    await deployCommand(
      { config, json: true, ...flags },
      { connect: async () => ({ api, signer: net.owner.signer, findSpawn: net.findSpawn }) },
    );
    return { report: JSON.parse(stdout) as DeployReport };
  } catch (err) {
    if (err instanceof UserError) return { error: err };
    throw err;
  } finally {
    out.mockRestore();
  }
}

describe('herd deploy into WAO, interrupted and resumed', () => {
  it('WAO accounts: the wallet address is what the project computes', () => {
    expect(walletAddress(net.owner.jwk)).toBe(net.owner.address);
  });

  it('never spawns a process twice across interrupted runs', async () => {
    const state = async () => JSON.parse(await readFile(join(dir, 'state.json'), 'utf8'));

    // Run 1: the herder is spawned, then loading it fails before anything is sent.
    const first = flaky(net.api);
    first.fail('message', false, 'socket hang up');
    const one = await run(first.api);
    expect(one.error?.message).toMatch(/load herder.lua into herder \(Eval\) failed: socket hang up/);
    expect(one.error?.message).toMatch(/progress is saved in .*state\.json: run the same command again/);
    expect(one.error?.exitCode).toBe(1);
    const deployment = (await state()).deployment as string;
    expect(await net.spawnedFor(deployment)).toEqual({ herder: [(await state()).processes.herder] });

    // Run 2: worker-1's spawn reaches the MU but its reply is lost.
    const second = flaky(net.api);
    second.fail('spawn', true, 'socket hang up');
    const two = await run(second.api);
    expect(two.error?.message).toMatch(/spawn worker-1 \(AOS-Llama\) failed: socket hang up/);
    expect((await state()).steps['worker-1.spawn']).toMatchObject({ status: 'failed' });
    expect(Object.keys(await net.spawnedFor(deployment)).sort()).toEqual(['herder', 'worker-1']);

    // Run 3: the lost worker is found by its tags and adopted; the herd completes.
    const three = await run(net.api);
    expect(three.error).toBeUndefined();
    const report = three.report!;
    const spawned = await net.spawnedFor(deployment);
    expect(spawned).toEqual({
      herder: [report.herder],
      'worker-1': [report.workers[0]],
      'worker-2': [report.workers[1]],
    });
    expect(report.steps.find((s) => s.id === 'worker-1.spawn')).toMatchObject({ outcome: 'adopted' });
    expect(report.steps.find((s) => s.id === 'herder.spawn')).toMatchObject({ outcome: 'skipped' });
    expect(report.sent.spawns).toBe(1);
    expect(report.info).toMatchObject({
      Workers: '2',
      'Idle-Workers': '2',
      'Base-Fee': '50',
      'Token-Fee': '5',
    });
    expect(
      Object.values((await state()).steps).every((s) => (s as { status: string }).status === 'done'),
    ).toBe(true);

    // Run 4: nothing left to do; only the Info dry run.
    const four = await run(net.api);
    expect(four.report?.sent).toEqual({ spawns: 0, messages: 0 });
    expect(await net.spawnedFor(deployment)).toEqual(spawned);
  });

  it('--load on-boot: handlers evaluated at spawn; a boot that fails is reported', async () => {
    const report = (await run(net.api, { load: 'on-boot', state: join(dir, 'on-boot.json') })).report!;
    expect(report.sent).toEqual({ spawns: 3, messages: 5 });
    expect(report.info).toMatchObject({ Workers: '2', 'Idle-Workers': '2' });

    await writeFile(join(dir, 'broken.lua'), 'error("broken worker source")');
    const broken = await run(net.api, {
      load: 'on-boot',
      state: join(dir, 'broken.json'),
      workerLua: join(dir, 'broken.lua'),
    });
    expect(broken.error?.message).toMatch(
      /worker-1 [\w-]{43} failed to evaluate its handlers at boot: .*broken worker source/,
    );
  });
});
