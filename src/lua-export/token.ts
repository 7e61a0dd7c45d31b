/**
 * The token process (it plays Wrapped AR on local networks and in tests), as AOS Lua.
 *
 * Semantics of the AO token blueprint (see the Lua header). Deterministic: the same options give
 * the same text. Runs unchanged in aos32 (tag names kept), aos64 (tag names Title-Cased) and
 * llama.wasm (aos 2.0.0.rc1).
 */
import { MODEL_VERSION } from '../model/version.ts';
import { luaBody, luaFile, luaValue } from './prelude.ts';

export interface TokenOptions {
  /** `Name` of the Info reply. Default 'Wrapped AR'. */
  name?: string;
  /** Default 'wAR'. */
  ticker?: string;
  /** Default 12. */
  denomination?: number;
  /** Default ''. */
  logo?: string;
}

export { luaString } from './lua-string.ts';

/** The largest number of decimal digits an amount or a total supply may have. */
export const TOKEN_MAX_DIGITS = 150;

export function tokenLua(options: TokenOptions = {}): string {
  const name = options.name ?? 'Wrapped AR';
  const ticker = options.ticker ?? 'wAR';
  const denomination = options.denomination ?? 12;
  const logo = options.logo ?? '';
  if (!Number.isInteger(denomination) || denomination < 0 || denomination > 36) {
    throw new Error(`denomination must be an integer in [0, 36], got ${denomination}`);
  }
  return luaFile({
    header: [
      'llama-herder token',
      `model version: ${MODEL_VERSION}`,
      '',
      "A fungible token with the AO token blueprint's message semantics:",
      '  Transfer (Recipient, Quantity[, Cast], X-* tags)',
      '    enough balance: moves Quantity; unless Cast is set, sends the payer a Debit-Notice',
      '      (Recipient, Quantity) and the recipient a Credit-Notice (Sender = payer, Quantity),',
      '      both carrying every X- tag of the Transfer;',
      '    otherwise (or invalid input): Transfer-Error (Message-Id, Error) to the sender, nothing moves.',
      '  Balance ([Recipient | Target]) -> Balance, Ticker, Account tags, Data = balance',
      '  Balances -> Data = JSON object address -> balance',
      '  Info -> Name, Ticker, Logo, Denomination, Total-Supply',
      '  Total-Supply -> Data = total supply',
      '  Mint (Recipient, Quantity), owner only (for tests) -> Mint-Confirmation; else Mint-Error',
      '',
      'Amounts are decimal strings on the wire (digits only, > 0, canonical when forwarded) and',
      `512-bit integers here (aos's .bint). The total supply is capped below 10^${TOKEN_MAX_DIGITS}, so`,
      'no balance or sum can reach 2^511: the arithmetic is exact and never wraps.',
      'Tag names are read case-insensitively: aos 2.0.6 Title-Cases incoming names (x-prompt -> X-Prompt),',
      'aos 2.0.4 keeps them as sent.',
    ],
    globals: [['TOKEN_CONFIG', luaValue({ name, ticker, denomination, logo, maxDigits: TOKEN_MAX_DIGITS })]],
    prelude: ['tag'],
    body: luaBody('token.lua'),
  });
}
