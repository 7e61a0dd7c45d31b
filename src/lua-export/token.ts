/**
 * The token process (it plays Wrapped AR on local networks and in tests), as AOS Lua.
 *
 * Semantics of the AO token blueprint (see the Lua header). Deterministic: the same options give
 * the same text. Runs unchanged in aos32 (tag names kept), aos64 (tag names Title-Cased) and
 * llama.wasm (aos 2.0.0.rc1).
 */
import { MODEL_VERSION } from '../model/version.ts';

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

/** A Lua string literal for any JS string (bytes outside printable ASCII escaped as \ddd). */
export function luaString(value: string): string {
  let out = '"';
  for (const byte of Buffer.from(value, 'utf8')) {
    if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x0a) out += '\\n';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${byte.toString().padStart(3, '0')}`;
  }
  return `${out}"`;
}

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
  return `-- llama-herder token
-- model version: ${MODEL_VERSION}
--
-- A fungible token with the AO token blueprint's message semantics:
--   Transfer (Recipient, Quantity[, Cast], X-* tags)
--     enough balance: moves Quantity; unless Cast is set, sends the payer a Debit-Notice
--       (Recipient, Quantity) and the recipient a Credit-Notice (Sender = payer, Quantity),
--       both carrying every X- tag of the Transfer;
--     otherwise (or invalid input): Transfer-Error (Message-Id, Error) to the sender, nothing moves.
--   Balance ([Recipient | Target]) -> Balance, Ticker, Account tags, Data = balance
--   Balances -> Data = JSON object address -> balance
--   Info -> Name, Ticker, Logo, Denomination, Total-Supply
--   Total-Supply -> Data = total supply
--   Mint (Recipient, Quantity), owner only (for tests) -> Mint-Confirmation; else Mint-Error
--
-- Amounts are decimal strings on the wire (digits only, > 0, canonical when forwarded) and
-- 512-bit integers here (aos's .bint). The total supply is capped below 10^${TOKEN_MAX_DIGITS}, so
-- no balance or sum can reach 2^511: the arithmetic is exact and never wraps.
-- Tag names are read case-insensitively: aos 2.0.6 Title-Cases incoming names (x-prompt -> X-Prompt),
-- aos 2.0.4 keeps them as sent.

local bint = require('.bint')(512)
local json = require('json')

Token = Token or {}
Token.Name = Token.Name or ${luaString(name)}
Token.Ticker = Token.Ticker or ${luaString(ticker)}
Token.Denomination = Token.Denomination or ${denomination}
Token.Logo = Token.Logo or ${luaString(logo)}
Token.MaxDigits = ${TOKEN_MAX_DIGITS}
Balances = Balances or {}
TotalSupply = TotalSupply or '0'

local LIMIT = bint('1' .. string.rep('0', Token.MaxDigits))

-- The value of a tag, whatever the case of its name (first one in message order).
local function tag(msg, name)
  local tags = msg.Tags or {}
  if tags[name] ~= nil then return tags[name] end
  local wanted = string.lower(name)
  for _, t in ipairs(msg.TagArray or {}) do
    if type(t.name) == 'string' and string.lower(t.name) == wanted then return t.value end
  end
  return nil
end

local function isAction(action)
  return function(msg) return tag(msg, 'Action') == action end
end

-- The X- tags of a message, in message order (names as received).
local function xTags(msg)
  local found, seen = {}, {}
  for _, t in ipairs(msg.TagArray or {}) do
    if type(t.name) == 'string' and string.upper(string.sub(t.name, 1, 2)) == 'X-' and not seen[t.name] then
      seen[t.name] = true
      table.insert(found, { name = t.name, value = t.value })
    end
  end
  return found
end

-- A positive amount from its decimal string, or nil and the reason.
local function parseAmount(text)
  if type(text) ~= 'string' or not string.match(text, '^%d+$') then
    return nil, 'Quantity must be a string of decimal digits'
  end
  local digits = string.gsub(text, '^0+', '')
  if digits == '' then return nil, 'Quantity must be greater than 0' end
  if #digits > Token.MaxDigits then return nil, 'Quantity is too large' end
  return bint(digits)
end

local function balanceOf(address)
  return bint(Balances[address] or '0')
end

local function setBalance(address, amount)
  Balances[address] = tostring(amount)
end

local function withXTags(message, msg)
  for _, t in ipairs(xTags(msg)) do message[t.name] = t.value end
  return message
end

local function transferError(msg, reason)
  ao.send(withXTags({
    Target = msg.From,
    Action = 'Transfer-Error',
    ['Message-Id'] = msg.Id,
    Error = reason
  }, msg))
end

Handlers.add('token.transfer', isAction('Transfer'), function(msg)
  local recipient = tag(msg, 'Recipient')
  if type(recipient) ~= 'string' or recipient == '' then
    return transferError(msg, 'Recipient is required')
  end
  local quantity, problem = parseAmount(tag(msg, 'Quantity'))
  if not quantity then return transferError(msg, problem) end
  local balance = balanceOf(msg.From)
  if bint.ult(balance, quantity) then return transferError(msg, 'Insufficient Balance!') end
  setBalance(msg.From, balance - quantity)
  setBalance(recipient, balanceOf(recipient) + quantity)
  if tag(msg, 'Cast') == nil then
    local amount = tostring(quantity)
    ao.send(withXTags({
      Target = msg.From,
      Action = 'Debit-Notice',
      Recipient = recipient,
      Quantity = amount,
      Data = 'You transferred ' .. amount .. ' to ' .. recipient
    }, msg))
    ao.send(withXTags({
      Target = recipient,
      Action = 'Credit-Notice',
      Sender = msg.From,
      Quantity = amount,
      Data = 'You received ' .. amount .. ' from ' .. msg.From
    }, msg))
  end
end)

Handlers.add('token.balance', isAction('Balance'), function(msg)
  local account = tag(msg, 'Recipient') or tag(msg, 'Target') or msg.From
  local balance = Balances[account] or '0'
  ao.send({
    Target = msg.From,
    Balance = balance,
    Ticker = Token.Ticker,
    Account = account,
    Data = balance
  })
end)

Handlers.add('token.balances', isAction('Balances'), function(msg)
  ao.send({ Target = msg.From, Data = json.encode(Balances) })
end)

Handlers.add('token.info', isAction('Info'), function(msg)
  ao.send({
    Target = msg.From,
    Name = Token.Name,
    Ticker = Token.Ticker,
    Logo = Token.Logo,
    Denomination = tostring(Token.Denomination),
    ['Total-Supply'] = TotalSupply
  })
end)

Handlers.add('token.total-supply', isAction('Total-Supply'), function(msg)
  ao.send({ Target = msg.From, Action = 'Total-Supply', Ticker = Token.Ticker, Data = TotalSupply })
end)

Handlers.add('token.mint', isAction('Mint'), function(msg)
  local function refuse(reason)
    ao.send({ Target = msg.From, Action = 'Mint-Error', ['Message-Id'] = msg.Id, Error = reason })
  end
  if msg.From ~= Owner and msg.From ~= ao.id then return refuse('Only the owner can mint') end
  local recipient = tag(msg, 'Recipient') or msg.From
  local quantity, problem = parseAmount(tag(msg, 'Quantity'))
  if not quantity then return refuse(problem) end
  local supply = bint(TotalSupply) + quantity
  if not bint.ult(supply, LIMIT) then return refuse('Total supply would exceed the limit') end
  TotalSupply = tostring(supply)
  setBalance(recipient, balanceOf(recipient) + quantity)
  ao.send({
    Target = msg.From,
    Action = 'Mint-Confirmation',
    Recipient = recipient,
    Quantity = tostring(quantity),
    Data = 'Minted ' .. tostring(quantity) .. ' to ' .. recipient
  })
end)
`;
}
