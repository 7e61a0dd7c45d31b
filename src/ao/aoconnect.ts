/**
 * The part of the aoconnect API that deploying and calling a herd needs, as an interface.
 *
 * `@permaweb/aoconnect`'s `connect({ MU_URL, CU_URL, GATEWAY_URL })` satisfies it, and so does
 * WAO's in-memory `connect()`: the deployer and the client take an `AoApi` (plus a signer made
 * by the matching `createDataItemSigner`) instead of importing aoconnect themselves, so tests run
 * them against an in-memory AO and operators against the real units. Shared by the deployer
 * (src/deploy/) and the TypeScript client (src/client/), with helpers that read its results.
 */
import { dataText, stripAnsi } from './results.ts';
import { type AoTag, tagValue } from './tags.ts';

export type { AoTag } from './tags.ts';

/** An outgoing message in a result (`Messages[]`). */
export interface AoOutgoing {
  Target?: string;
  Tags?: AoTag[];
  Data?: unknown;
  Anchor?: string;
}

/** What a compute unit returns for one evaluated message (or a dry run). */
export interface AoResult {
  Messages?: AoOutgoing[];
  Spawns?: unknown[];
  Output?: unknown;
  Error?: unknown;
}

/** A page of results: `cursor` is what `from` takes to continue after that result. */
export interface AoResultsPage {
  edges: { cursor: string; node: AoResult | null | undefined }[];
}

/** Made by the aoconnect flavour in use (`createDataItemSigner(jwk)`); opaque here. */
export type AoSigner = (...args: unknown[]) => unknown;

export interface AoApi {
  spawn(args: {
    module: string;
    scheduler: string;
    signer: AoSigner;
    tags?: AoTag[];
    data?: string;
  }): Promise<string | null | undefined>;
  message(args: {
    process: string;
    signer: AoSigner;
    tags?: AoTag[];
    data?: string;
  }): Promise<string | null | undefined>;
  result(args: { process: string; message: string }): Promise<AoResult | null | undefined>;
  results(args: {
    process: string;
    from?: string;
    to?: string;
    sort?: 'ASC' | 'DESC';
    limit?: number;
  }): Promise<AoResultsPage | null | undefined>;
  dryrun(args: { process: string; tags?: AoTag[]; data?: string }): Promise<AoResult | null | undefined>;
}

/** A message's tag, its name compared case-insensitively. */
export function messageTag(
  message: { Tags?: readonly AoTag[] } | undefined,
  name: string,
): string | undefined {
  return tagValue(message?.Tags ?? [], name);
}

/** The outgoing messages of a result that carry `Action=<action>`. */
export function messagesWithAction(result: AoResult | null | undefined, action: string): AoOutgoing[] {
  return (result?.Messages ?? []).filter((m) => messageTag(m, 'Action') === action);
}

/** The text of a result's `Error`, or undefined when the message was handled without one. */
export function resultError(result: AoResult | null | undefined): string | undefined {
  const error = result?.Error;
  if (error === undefined || error === null || error === '') return undefined;
  return cleanErrorText(dataText(error));
}

/** aos error text on one line: colour codes and the stack traceback dropped. */
function cleanErrorText(text: string): string {
  const plain = stripAnsi(text);
  const cut = plain.indexOf('stack traceback:');
  return (cut >= 0 ? plain.slice(0, cut) : plain).replace(/\s+/g, ' ').trim();
}

/** An error's message, including the cause chain fetch errors hide their reason in. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return `${err.message} (${code ? `${code}: ` : ''}${cause.message})`;
  }
  return err.message;
}

/**
 * True when an error shows the request never reached the unit (no connection was made), so
 * repeating it cannot create a duplicate.
 */
export function neverDelivered(err: unknown): boolean {
  const codes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code;
    if (code !== undefined && codes.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
