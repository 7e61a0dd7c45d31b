-- The client side of the llama-herder protocol (docs/design.md §2.11): prices, exact fees, paid
-- inference through the token, and the answer (or the refund) delivered to a callback.
--
-- Flow of one `run`:
--   client -> token   Transfer (Recipient = herder, Quantity = fee, X-Prompt, X-Tokens, X-Reference)
--   token  -> client  Debit-Notice (X- tags copied)                       status 'paid'
--   herder -> client  Inference-Response (X-Reference, X-Request, Data)   callback(answer, result)
-- or, when the herder refunds (invalid request, underpayment, no worker could answer):
--   token  -> client  Credit-Notice (Sender = herder, Quantity, X-Reason, X-Reference[, X-Needed])
--                                                                          callback(nil, result)
-- or, when the token refuses the payment (e.g. the balance is too low):
--   token  -> client  Transfer-Error (Error, X-Reference)                  callback(nil, result)
--
-- Amounts are decimal strings computed with aos's .bint: never floats.

local bint = require('.bint')(1024)

-- Longest amount (digits) the herder keeps books on; larger fees are refused here.
local MAX_AMOUNT_DIGITS = 78
-- Longest accepted decimal input (Fee, Tokens) before it is even parsed.
local MAX_RAW_DIGITS = 1000
-- Most digits on either side of a Multiplier's decimal point.
local MAX_MULTIPLIER_DIGITS = 18
-- Longest X-Reference accepted from the caller.
local MAX_REFERENCE_BYTES = 128
-- Finished requests kept for `Client.result` (oldest dropped first).
local HISTORY = 64

-- Persistent state: survives loading the package again (e.g. an upgrade).
LlamaHerderClient = LlamaHerderClient or {}
local State = LlamaHerderClient
State.pending = State.pending or {}
State.deferred = State.deferred or {}
State.priceCallbacks = State.priceCallbacks or {}
State.history = State.history or {}
State.nextReference = State.nextReference or 1
-- Ids baked in at export win over what a previous version held.
if DEFAULT_HERDER ~= nil then
  if State.herder ~= DEFAULT_HERDER then State.prices = nil end
  State.herder = DEFAULT_HERDER
end
if DEFAULT_TOKEN ~= nil then State.token = DEFAULT_TOKEN end

local Client = { _version = PACKAGE_VERSION, _name = MODULE_NAME }

--------------------------------------------------------------------------------------------
-- Helpers
--------------------------------------------------------------------------------------------

local function fail(text)
  error('llama-herder: ' .. text, 0)
end

-- tag(msg, name): the prelude's case-insensitive tag lookup.

local function canonical(digits)
  local trimmed = string.gsub(digits, '^0+', '')
  if trimmed == '' then return '0' end
  return trimmed
end

local function isProcessId(id)
  return type(id) == 'string' and #id >= 1 and #id <= 64 and string.find(id, '[^%w_%-]') == nil
end

-- A non-negative integer given as a Lua integer or a string of decimal digits, as canonical
-- digits; nil if it is neither.
local function decimal(value)
  if math.type(value) == 'integer' then
    if value < 0 then return nil end
    return tostring(value)
  end
  if type(value) == 'string' and #value <= MAX_RAW_DIGITS and string.match(value, '^%d+$') then
    return canonical(value)
  end
  return nil
end

-- Maximal runs of ASCII letters and digits (%w in the C locale): how the herder counts words.
local function words(prompt)
  local count = 0
  for _ in string.gmatch(prompt, '%w+') do count = count + 1 end
  return count
end

local function checkPrompt(prompt)
  if type(prompt) ~= 'string' or prompt == '' then fail('the prompt must be a non-empty string') end
end

-- Tokens as a Lua integer >= 1 and as its decimal string.
local function checkTokens(tokens)
  local digits = decimal(tokens)
  if digits == nil or digits == '0' or #digits > 15 then
    fail('tokens must be an integer >= 1 (a number or a decimal string)')
  end
  return math.tointeger(tonumber(digits)), digits
end

-- A Multiplier (number or decimal string such as "1.5") as an exact fraction num / den >= 1.
local function parseMultiplier(value)
  local text = value
  if math.type(value) == 'integer' then
    text = tostring(value)
  elseif math.type(value) == 'float' then
    text = string.format('%.14g', value)
  end
  if type(text) ~= 'string' then fail('Multiplier must be a number or a decimal string') end
  local whole, fraction = string.match(text, '^(%d*)%.?(%d*)$')
  if whole == nil or whole .. fraction == '' then
    fail('Multiplier must be a plain decimal such as "1.5" (got ' .. tostring(value) .. ')')
  end
  if #whole > MAX_MULTIPLIER_DIGITS or #fraction > MAX_MULTIPLIER_DIGITS then
    fail('Multiplier has more than ' .. MAX_MULTIPLIER_DIGITS .. ' digits on one side of the point')
  end
  local numerator = bint(canonical(whole .. fraction))
  local denominator = bint('1' .. string.rep('0', #fraction))
  if numerator < denominator then fail('Multiplier must be at least 1 (got ' .. text .. ')') end
  return { numerator = numerator, denominator = denominator, text = text }
end

-- The `fees` argument of run / calculateFee: nil, { Fee = amount } or { Multiplier = m }.
local function parseFees(fees)
  if fees == nil then return { multiplier = nil } end
  if type(fees) ~= 'table' then fail('fees must be a table { Fee = ... } or { Multiplier = ... }') end
  local fee = fees.Fee
  if fee == nil then fee = fees.fee end
  local multiplier = fees.Multiplier
  if multiplier == nil then multiplier = fees.multiplier end
  if fee ~= nil and multiplier ~= nil then fail('give either Fee or Multiplier, not both') end
  if fee ~= nil then
    local digits = decimal(fee)
    if digits == nil or digits == '0' then fail('Fee must be a positive integer amount (a decimal string)') end
    if #digits > MAX_AMOUNT_DIGITS then fail('Fee has more than ' .. MAX_AMOUNT_DIGITS .. ' digits') end
    return { fee = digits }
  end
  if multiplier ~= nil then return { multiplier = parseMultiplier(multiplier) } end
  return { multiplier = nil }
end

-- needed = baseFee + tokenFee * (tokens + words(prompt)), exact.
local function neededFee(prices, prompt, tokens)
  return bint(prices.baseFee) + bint(prices.tokenFee) * bint(tokens + words(prompt))
end

-- The amount to pay: the Fee given, or ceil(needed * multiplier). Returns fee, needed (strings;
-- needed is nil when an explicit Fee makes the prices unnecessary).
local function feeFor(spec, prices, prompt, tokens)
  if spec.fee ~= nil then
    if prices == nil then return spec.fee, nil end
    return spec.fee, tostring(neededFee(prices, prompt, tokens))
  end
  if prices == nil then fail('prices are unknown: call getPrices() and wait for the Info-Response') end
  local needed = neededFee(prices, prompt, tokens)
  local fee = needed
  local m = spec.multiplier
  if m ~= nil then
    fee = (needed * m.numerator + m.denominator - bint(1)) // m.denominator
  end
  local text = tostring(fee)
  if #text > MAX_AMOUNT_DIGITS then fail('the fee has more than ' .. MAX_AMOUNT_DIGITS .. ' digits') end
  if text == '0' then fail('the fee is 0: the token cannot transfer nothing') end
  return text, tostring(needed)
end

local function requireIds()
  if not isProcessId(State.herder) then fail('no herder configured: Llama.configure({ herder = <process id> })') end
  if not isProcessId(State.token) then fail('no token configured: Llama.configure({ token = <process id> })') end
end

local function remember(result)
  local history = State.history
  history[#history + 1] = result
  while #history > HISTORY do table.remove(history, 1) end
end

-- Ends a request: out of `pending`, into the history, then the callback (errors are caught,
-- printed and recorded: a failing callback must not undo the bookkeeping of the message).
local function finish(entry, answer, result)
  State.pending[entry.reference] = nil
  result.reference = entry.reference
  result.prompt = entry.prompt
  result.tokens = entry.tokens
  result.fee = entry.fee
  result.needed = result.needed or entry.needed
  result.herder = entry.herder
  remember(result)
  if entry.callback ~= nil then
    local ok, err = pcall(entry.callback, answer, result)
    if not ok then
      result.callbackError = tostring(err)
      print('llama-herder: the callback of ' .. entry.reference .. ' failed: ' .. tostring(err))
    end
  end
end

local function pay(entry)
  local fee, needed = feeFor(entry.fees, State.prices, entry.prompt, entry.tokens)
  entry.fee, entry.needed = fee, needed
  entry.herder, entry.token = State.herder, State.token
  entry.status = 'paying'
  ao.send({
    Target = entry.token,
    Action = 'Transfer',
    Recipient = entry.herder,
    Quantity = fee,
    ['X-Prompt'] = entry.prompt,
    ['X-Tokens'] = entry.tokensText,
    ['X-Reference'] = entry.reference,
  })
end

local function requestInfo()
  State.infoRequested = true
  ao.send({ Target = State.herder, Action = 'Info' })
end

--------------------------------------------------------------------------------------------
-- API
--------------------------------------------------------------------------------------------

-- Sets the herder and/or token process ids: Llama.configure({ herder = ..., token = ... }).
function Client.configure(settings)
  if type(settings) ~= 'table' then fail('configure expects a table { herder = ..., token = ... }') end
  if settings.herder ~= nil then
    if not isProcessId(settings.herder) then fail('herder must be a process id') end
    local changed = settings.herder ~= State.herder
    State.herder = settings.herder
    if changed then
      State.prices = nil
      State.infoRequested = false
      -- Requests waiting for prices now wait for the new herder's.
      if #State.deferred > 0 then requestInfo() end
    end
  end
  if settings.token ~= nil then
    if not isProcessId(settings.token) then fail('token must be a process id') end
    State.token = settings.token
  end
  return { herder = State.herder, token = State.token }
end

-- Drops a request that is still waiting for prices (nothing was paid). Returns true if dropped.
function Client.cancel(reference)
  local entry = State.pending[reference]
  if entry == nil or entry.status ~= 'awaiting-prices' then return false end
  State.pending[reference] = nil
  for i, waiting in ipairs(State.deferred) do
    if waiting == reference then
      table.remove(State.deferred, i)
      break
    end
  end
  return true
end

-- Asks the herder for its prices (Info). Returns the prices known so far (nil before the first
-- Info-Response); `callback(prices)`, if given, runs when the answer arrives.
function Client.getPrices(callback)
  if callback ~= nil and type(callback) ~= 'function' then fail('the callback must be a function') end
  if not isProcessId(State.herder) then fail('no herder configured: Llama.configure({ herder = <process id> })') end
  if callback ~= nil then State.priceCallbacks[#State.priceCallbacks + 1] = callback end
  requestInfo()
  return State.prices
end

-- The fee a request needs, as a decimal string (exact). With `fees` ({ Fee } or
-- { Multiplier }) it returns the amount `run` would pay, then the needed fee.
function Client.calculateFee(prompt, tokens, fees)
  checkPrompt(prompt)
  local count = checkTokens(tokens)
  local spec = parseFees(fees)
  if State.prices == nil then fail('prices are unknown: call getPrices() and wait for the Info-Response') end
  local fee, needed = feeFor(spec, State.prices, prompt, count)
  if fees == nil then return needed end
  return fee, needed
end

-- Pays the herder for `tokens` tokens of inference on `prompt` and calls
-- `callback(answer, result)` when the answer arrives, or `callback(nil, result)` when the
-- payment is refunded or refused. `fees`: nil (pay exactly the needed fee), { Fee = "<amount>" }
-- or { Multiplier = "1.5" } (needed x 1.5, rounded up). `reference`: your X-Reference (a
-- fresh one is made when nil). Returns the reference. Before the first Info-Response the
-- payment waits for the prices (unless an explicit Fee is given).
function Client.run(prompt, tokens, callback, fees, reference)
  checkPrompt(prompt)
  local count, tokensText = checkTokens(tokens)
  if callback ~= nil and type(callback) ~= 'function' then fail('the callback must be a function or nil') end
  local spec = parseFees(fees)
  requireIds()
  if reference == nil then
    repeat
      reference = 'llama-' .. State.nextReference
      State.nextReference = State.nextReference + 1
    until State.pending[reference] == nil
  else
    if math.type(reference) == 'integer' then reference = tostring(reference) end
    if type(reference) ~= 'string' or reference == '' or #reference > MAX_REFERENCE_BYTES then
      fail('the reference must be a non-empty string of at most ' .. MAX_REFERENCE_BYTES .. ' bytes')
    end
    if State.pending[reference] ~= nil then fail('reference ' .. reference .. ' is already in flight') end
  end
  local entry = {
    reference = reference,
    prompt = prompt,
    tokens = count,
    tokensText = tokensText,
    callback = callback,
    fees = spec,
    status = 'awaiting-prices',
  }
  if spec.fee == nil and State.prices == nil then
    State.pending[reference] = entry
    State.deferred[#State.deferred + 1] = reference
    if not State.infoRequested then requestInfo() end
    return reference
  end
  pay(entry)
  State.pending[reference] = entry
  return reference
end

-- Where a request stands: the pending entry's status ('awaiting-prices', 'paying', 'paid'),
-- or the result of a finished one ({ ok, status = 'answered' | 'refunded' | 'payment-failed', ... }).
function Client.result(reference)
  local entry = State.pending[reference]
  if entry ~= nil then return { status = entry.status, reference = reference, fee = entry.fee } end
  for i = #State.history, 1, -1 do
    if State.history[i].reference == reference then return State.history[i] end
  end
  return nil
end

-- Number of requests not finished yet.
function Client.inFlight()
  local n = 0
  for _ in pairs(State.pending) do n = n + 1 end
  return n
end

-- herder, token and prices read through the module table (Llama.herder = id also configures).
setmetatable(Client, {
  __index = function(_, key)
    if key == 'herder' or key == 'token' or key == 'prices' then return State[key] end
    return nil
  end,
  __newindex = function(t, key, value)
    if key == 'herder' or key == 'token' then
      Client.configure({ [key] = value })
    else
      rawset(t, key, value)
    end
  end,
})

--------------------------------------------------------------------------------------------
-- Handlers
--------------------------------------------------------------------------------------------

-- The pending request a message from `source` (entry.herder or entry.token) is about.
local function pendingFor(msg, source)
  local reference = tag(msg, 'X-Reference')
  if reference == nil then return nil end
  local entry = State.pending[reference]
  if entry == nil or entry.status == 'awaiting-prices' or msg.From ~= entry[source] then return nil end
  return entry
end

local function isInfoResponse(msg)
  return tag(msg, 'Action') == 'Info-Response' and State.herder ~= nil and msg.From == State.herder
end

local function onInfoResponse(msg)
  local prices = {
    baseFee = decimal(tag(msg, 'Base-Fee')),
    tokenFee = decimal(tag(msg, 'Token-Fee')),
    lastMultiplier = tag(msg, 'Last-Multiplier'),
    queueLength = tonumber(tag(msg, 'Queue-Length') or ''),
    workers = tonumber(tag(msg, 'Workers') or ''),
    idleWorkers = tonumber(tag(msg, 'Idle-Workers') or ''),
    maxTokens = tonumber(tag(msg, 'Max-Tokens') or ''),
    maxPromptBytes = tonumber(tag(msg, 'Max-Prompt-Bytes') or ''),
    paused = tag(msg, 'Paused') == 'true',
    version = tag(msg, 'Version'),
    herder = msg.From,
    timestamp = msg.Timestamp,
  }
  State.infoRequested = false
  if prices.baseFee == nil or prices.tokenFee == nil then
    print('llama-herder: the herder\'s Info-Response has no valid Base-Fee / Token-Fee')
    return
  end
  State.prices = prices
  local callbacks = State.priceCallbacks
  State.priceCallbacks = {}
  for _, callback in ipairs(callbacks) do
    local ok, err = pcall(callback, prices)
    if not ok then print('llama-herder: a getPrices callback failed: ' .. tostring(err)) end
  end
  local deferred = State.deferred
  State.deferred = {}
  for _, reference in ipairs(deferred) do
    local entry = State.pending[reference]
    if entry ~= nil and entry.status == 'awaiting-prices' then
      local ok, err = pcall(pay, entry)
      if not ok then
        finish(entry, nil, { ok = false, status = 'payment-failed', reason = tostring(err) })
      end
    end
  end
end

local function isAnswer(msg)
  return tag(msg, 'Action') == 'Inference-Response' and pendingFor(msg, 'herder') ~= nil
end

local function onAnswer(msg)
  local entry = pendingFor(msg, 'herder')
  local answer = msg.Data
  if type(answer) ~= 'string' then answer = '' end
  finish(entry, answer, { ok = true, status = 'answered', answer = answer, request = tag(msg, 'X-Request') })
end

local function isRefund(msg)
  if tag(msg, 'Action') ~= 'Credit-Notice' then return false end
  local entry = pendingFor(msg, 'token')
  return entry ~= nil and tag(msg, 'Sender') == entry.herder
end

local function onRefund(msg)
  local entry = pendingFor(msg, 'token')
  finish(entry, nil, {
    ok = false,
    status = 'refunded',
    reason = tag(msg, 'X-Reason') or 'refunded',
    refunded = tag(msg, 'Quantity'),
    needed = tag(msg, 'X-Needed'),
    request = tag(msg, 'X-Request'),
  })
end

local function isDebit(msg)
  if tag(msg, 'Action') ~= 'Debit-Notice' then return false end
  local entry = pendingFor(msg, 'token')
  return entry ~= nil and entry.status == 'paying' and tag(msg, 'Recipient') == entry.herder
end

local function onDebit(msg)
  pendingFor(msg, 'token').status = 'paid'
end

local function isTransferError(msg)
  if tag(msg, 'Action') ~= 'Transfer-Error' then return false end
  local entry = pendingFor(msg, 'token')
  return entry ~= nil and entry.status == 'paying'
end

local function onTransferError(msg)
  local entry = pendingFor(msg, 'token')
  finish(entry, nil, {
    ok = false,
    status = 'payment-failed',
    reason = 'the token refused the payment: ' .. tostring(tag(msg, 'Error') or 'unknown error'),
  })
end

-- First in the list (the patterns match only messages about our own requests), so that a
-- catch-all handler of the process cannot swallow an answer or a refund.
local addFirst = Handlers.prepend or Handlers.add
addFirst('llama-herder.transfer-error', isTransferError, onTransferError)
addFirst('llama-herder.debit-notice', isDebit, onDebit)
addFirst('llama-herder.refund', isRefund, onRefund)
addFirst('llama-herder.inference-response', isAnswer, onAnswer)
addFirst('llama-herder.info-response', isInfoResponse, onInfoResponse)

return Client
