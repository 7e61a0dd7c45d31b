/**
 * The operator's Arweave wallet (a JWK file): read, checked, and its address computed — the
 * base64url SHA-256 of the RSA modulus, which is what processes see as `Owner` and `From`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** An Arweave RSA key in JWK form (only the fields this project reads are typed). */
export interface Jwk {
  kty: 'RSA';
  n: string;
  e: string;
  d?: string;
  [field: string]: unknown;
}

export class WalletError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WalletError';
  }
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Checks that `json` is a private Arweave RSA key; throws a WalletError naming what is wrong. */
export function checkJwk(json: unknown, source = 'the wallet'): Jwk {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new WalletError(`${source} is not a JWK object`);
  const key = json as Record<string, unknown>;
  if (key.kty !== 'RSA') throw new WalletError(`${source} is not an Arweave wallet (kty must be "RSA")`);
  for (const field of ['n', 'e']) {
    const value = key[field];
    if (typeof value !== 'string' || !BASE64URL.test(value))
      throw new WalletError(`${source} has no valid "${field}" (base64url)`);
  }
  if (typeof key.d !== 'string' || key.d === '')
    throw new WalletError(`${source} has no private key ("d"): a signing wallet is needed`);
  return key as unknown as Jwk;
}

/** Reads and checks a wallet file. */
export function readWallet(path: string): Jwk {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new WalletError(
      code === 'ENOENT'
        ? `wallet ${path} does not exist`
        : `cannot read wallet ${path}: ${code ?? String(err)}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WalletError(`wallet ${path} is not JSON (expected an Arweave JWK)`);
  }
  return checkJwk(json, `wallet ${path}`);
}

/** The wallet's Arweave address: base64url(SHA-256(modulus bytes)), 43 characters. */
export function walletAddress(jwk: Pick<Jwk, 'n'>): string {
  return createHash('sha256').update(Buffer.from(jwk.n, 'base64url')).digest('base64url');
}
