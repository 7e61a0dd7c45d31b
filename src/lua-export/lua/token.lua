-- The token's body (the header, TOKEN_CONFIG and the prelude's tag() come first).

local bint = require('.bint')(512)
local json = require('json')

Token = Token or {}
Token.Name = Token.Name or TOKEN_CONFIG.name
Token.Ticker = Token.Ticker or TOKEN_CONFIG.ticker
Token.Denomination = Token.Denomination or TOKEN_CONFIG.denomination
Token.Logo = Token.Logo or TOKEN_CONFIG.logo
Token.MaxDigits = TOKEN_CONFIG.maxDigits
Balances = Balances or {}
TotalSupply = TotalSupply or '0'

local LIMIT = bint('1' .. string.rep('0', Token.MaxDigits))

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
