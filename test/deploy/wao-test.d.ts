// Types for the parts of WAO's test entry point (the `wao/test` export, untyped upstream) that the
// deploy and client tests use: its in-memory AO (`connect()`), accounts and scheduler.
declare module 'wao/test' {
  interface WaoAccount {
    jwk: { kty: 'RSA'; n: string; e: string; d?: string; [field: string]: unknown };
    addr: string;
    signer: (...args: unknown[]) => unknown;
  }
  interface WaoTx {
    id?: string;
    owner?: string;
    tags?: { name: string; value: string }[];
  }
  interface WaoMemory {
    modules: Record<string, string>;
    txs: Record<string, WaoTx>;
    getTx(id: string): Promise<WaoTx | null>;
    env: Record<string, unknown>;
  }
  interface WaoConnection {
    spawn(args: Record<string, unknown>): Promise<string | null>;
    message(args: Record<string, unknown>): Promise<string | null>;
    result(args: { process: string; message: string }): Promise<unknown>;
    results(args: Record<string, unknown>): Promise<unknown>;
    dryrun(args: Record<string, unknown>): Promise<unknown>;
    mem: WaoMemory;
  }
  export const acc: WaoAccount[];
  export const mu: WaoAccount;
  export const scheduler: string;
  export function connect(): WaoConnection;
}
