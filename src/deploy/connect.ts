/**
 * The real network: aoconnect bound to the configured MU, CU and gateway, the wallet's signer,
 * a gateway GraphQL lookup that finds a deploy's spawns by their tags, and a reachability check
 * that turns an unreachable unit into one clear sentence before anything is sent.
 */
import type { AoApi, AoSigner } from '../ao/aoconnect.ts';
import { describeError } from '../ao/aoconnect.ts';
import type { SpawnFinder } from './deploy.ts';
import type { NetworkSettings } from './settings.ts';
import type { Jwk } from './wallet.ts';

export interface Connection {
  api: AoApi;
  signer: AoSigner;
  findSpawn: SpawnFinder;
}

/** aoconnect (legacy mode) for `network`, signing with `jwk`. */
export async function connectNetwork(network: NetworkSettings, jwk: Jwk): Promise<Connection> {
  const aoconnect = (await import('@permaweb/aoconnect')) as unknown as {
    connect(args: Record<string, unknown>): unknown;
    createDataItemSigner(wallet: unknown): AoSigner;
  };
  const api = aoconnect.connect({
    MODE: 'legacy',
    MU_URL: network.mu,
    CU_URL: network.cu,
    GATEWAY_URL: network.gateway,
  }) as AoApi;
  return { api, signer: aoconnect.createDataItemSigner(jwk), findSpawn: gatewayFinder(network.gateway) };
}

/** Finds spawns by `Herd-Deployment`/`Herd-Role` and owner through `<gateway>/graphql`. */
export function gatewayFinder(gateway: string, fetchImpl: typeof fetch = fetch): SpawnFinder {
  return async ({ owner, deployment, role }) => {
    const query = `query($owners: [String!], $tags: [TagFilter!]) {
      transactions(owners: $owners, tags: $tags, first: 10) { edges { node { id } } }
    }`;
    const variables = {
      owners: [owner],
      tags: [
        { name: 'Type', values: ['Process'] },
        { name: 'Herd-Deployment', values: [deployment] },
        { name: 'Herd-Role', values: [role] },
      ],
    };
    try {
      const response = await fetchImpl(`${gateway}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(20_000),
      });
      if (!response.ok) return undefined;
      const body = (await response.json()) as {
        data?: { transactions?: { edges?: { node?: { id?: string } }[] } };
      };
      const edges = body.data?.transactions?.edges;
      if (!Array.isArray(edges)) return undefined;
      return edges.map((edge) => edge.node?.id).filter((id): id is string => typeof id === 'string');
    } catch {
      return undefined;
    }
  };
}

/** Problems reaching the MU and the CU (empty when both answer). */
export async function unreachableUnits(
  network: Pick<NetworkSettings, 'mu' | 'cu'>,
  fetchImpl: typeof fetch = fetch,
  timeoutMs = 15_000,
): Promise<string[]> {
  const problems: string[] = [];
  for (const [name, url] of [
    ['MU', network.mu],
    ['CU', network.cu],
  ] as const) {
    try {
      const response = await fetchImpl(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (response.status >= 500) problems.push(`the ${name} at ${url} answered HTTP ${response.status}`);
      await response.body?.cancel();
    } catch (err) {
      const timedOut = err instanceof Error && err.name === 'TimeoutError';
      problems.push(
        `cannot reach the ${name} at ${url}: ${timedOut ? `no answer within ${timeoutMs / 1000} s` : describeError(err)}`,
      );
    }
  }
  return problems;
}
