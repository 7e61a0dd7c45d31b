-- The herder: takes wAR payments for LLM inference, queues the requests by how much each paid
-- over the fee it needed, and dispatches them to a herd of AOS-Llama workers (docs/design.md §2).
--
-- Every message is handled in three phases, always in this order:
--   1. time: `now` advances to the message's Timestamp and every passed deadline is handled
--      (the request is retried or refunded; the worker gets no work until it answers again),
--      then every request that has waited in the queue longer than maxQueueWait is refunded;
--   2. the message itself: Credit-Notice, Inference-Response/-Error, Worker-Error/-Initialized,
--      Info and the owner's administration; anything else is ignored;
--   3. dispatch: while a worker is idle and the queue is non-empty, the next request goes to
--      the worker that has been idle longest.
--
-- Amounts are exact integers (native below 2^62, else aos's .bint); none ever becomes a float.
-- REASON, ACTION, SETTINGS, the limits (MAX_DIGITS, DEDUP_WINDOW, ...) and tag() come from the
-- generated prelude above.

--------------------------------------------------------------------------------------------
-- Amounts: a native integer below 2^62, else a 1024-bit .bint. aos collects all garbage after
-- every message, and the .bint library alone (its code and closures) costs more live heap than
-- the rest of the herder's state, so it is loaded only when an amount first reaches 2^62. Every
-- amount is kept in that one form (`amount`), so that == and < compare any two exactly (a
-- .bint compares with an integer through its metamethods; == is never across the two forms).
--------------------------------------------------------------------------------------------

local LIMIT62 = 1 << 62
local MAX62 = LIMIT62 - 1

-- The .bint library, loaded on first use. One instance for good (a global): a .bint works
-- only with numbers of its own instance, and re-evaluating this file must keep the amounts.
local function big()
  local lib = HerderBint
  if lib == nil then
    lib = require('.bint')(1024)
    HerderBint = lib
  end
  return lib
end

-- `value` (a .bint or an integer) in its one form.
local function amount(value)
  if math.type(value) == 'integer' then return value end
  if value > -LIMIT62 and value < LIMIT62 then return big().tointeger(value) end
  return value
end

-- The amount written by canonical decimal `digits` (at most MAX_DIGITS).
local function amountOf(digits)
  if #digits <= 18 then return math.tointeger(tonumber(digits)) end -- below 10^18 < 2^62
  return amount(big()(digits))
end

-- a + b and a - b of two amounts.
local function plus(a, b)
  if math.type(a) == 'integer' and math.type(b) == 'integer' then
    local sum = a + b -- both below 2^62 in magnitude: no wrap-around
    if sum > -LIMIT62 and sum < LIMIT62 then return sum end
  end
  return amount(big().tobint(a) + b)
end

local function minus(a, b)
  if math.type(a) == 'integer' and math.type(b) == 'integer' then
    local difference = a - b
    if difference > -LIMIT62 and difference < LIMIT62 then return difference end
  end
  return amount(big().tobint(a) - b)
end

--------------------------------------------------------------------------------------------
-- Small helpers
--------------------------------------------------------------------------------------------

local function isDecimal(text)
  return type(text) == 'string' and string.find(text, '^%d+$') ~= nil
end

-- `text` without leading zeros ("0" stays "0").
local function canonical(text)
  local first = string.byte(text, 1)
  if first ~= nil and first ~= 48 then return text end -- no leading '0': spares a gsub
  local trimmed = string.gsub(text, '^0+', '')
  if trimmed == '' then return '0' end
  return trimmed
end

-- The canonical digits of a non-negative decimal amount or count, or nil and the reason it is
-- not one.
local function decimalDigits(raw, what)
  if raw == nil then return nil, what .. ' is missing' end
  if not isDecimal(raw) or #raw > MAX_RAW_DIGITS then return nil, what .. ' is not a decimal integer' end
  local digits = canonical(raw)
  if #digits > MAX_DIGITS then return nil, what .. ' has more than ' .. MAX_DIGITS .. ' digits' end
  return digits
end

-- A non-negative decimal amount, or nil and the reason it is not one.
local function parseDecimal(raw, what)
  local digits, reason = decimalDigits(raw, what)
  if digits == nil then return nil, reason end
  return amountOf(digits)
end

local function parsePositiveAmount(raw, what)
  local value, reason = parseDecimal(raw, what)
  if value == nil then return nil, reason end
  if value == 0 then return nil, what .. ' must be greater than zero' end
  return value
end

-- Maximal runs of ASCII letters and digits (%w in the C locale), as the fee formula counts words.
local function words(prompt)
  local count = 0
  for _ in string.gmatch(prompt, '%w+') do count = count + 1 end
  return count
end

local function isProcessId(id)
  return type(id) == 'string' and #id >= 1 and #id <= 64 and string.find(id, '[^%w_%-]') == nil
end

local function isCount(n, min)
  return math.type(n) == 'integer' and n >= min and n <= MAX_SAFE_INTEGER
end

-- Why `value` is out of an integer setting's range (a record of SETTINGS), or nil.
local function settingProblem(setting, value)
  if math.type(value) == 'integer' and value >= setting.min and value <= setting.max then return nil end
  return setting.name .. ' must be an integer from ' .. setting.min .. ' to ' .. setting.max .. setting.unit
end

--------------------------------------------------------------------------------------------
-- Configuration
--------------------------------------------------------------------------------------------

-- Every way a config breaks the protocol's assumptions, in the model's order and words.
local function configProblems(config)
  local problems = {}
  local function add(text) problems[#problems + 1] = text end
  if not isProcessId(config.token) then add('token must be a process id') end
  if not isProcessId(config.owner) then add('owner must be a process id') end
  for _, setting in ipairs(SETTINGS) do
    local name, value = setting.name, config[setting.name]
    if setting.kind == 'amount' then
      if #tostring(value) > MAX_DIGITS then add(name .. ' has more than ' .. MAX_DIGITS .. ' digits') end
      -- The one rule over two settings, listed right after them (where the model lists it too).
      if name == 'tokenFee' and config.baseFee == 0 and config.tokenFee == 0 then
        add('baseFee and tokenFee cannot both be 0 (the multiplier would divide by zero)')
      end
    elseif setting.kind == 'bound' then
      if value ~= nil and not isCount(value, setting.min) then
        add(name .. ' must be an integer >= ' .. setting.min .. ' or null (unbounded)')
      end
    else
      local problem = settingProblem(setting, value)
      if problem ~= nil then add(problem) end
    end
  end
  local seen = {}
  for _, worker in ipairs(config.workers or {}) do
    if not isProcessId(worker) then add('worker "' .. worker .. '" is not a process id') end
    if seen[worker] then add('worker "' .. worker .. '" is listed twice') end
    if worker == config.token then add('the token cannot be a worker') end
    seen[worker] = true
  end
  return problems
end

local function copyConfig(config)
  local copy = {}
  for key, value in pairs(config) do copy[key] = value end
  copy.workers = {}
  return copy
end

--------------------------------------------------------------------------------------------
-- Multipliers: paid / needed, compared exactly by cross-multiplication
--------------------------------------------------------------------------------------------

-- A request's amounts below 2^62 are kept as native integers (`paidInt`, `neededInt`): every
-- realistic payment is, and their products are compared exactly as 124-bit numbers built from
-- 31-bit limbs, far cheaper than 1024-bit .bint multiplication. Anything larger takes the
-- .bint path.
local MASK31 = 0x7FFFFFFF
local LIMIT31 = 1 << 31

-- baseFee + tokenFee * count as a native integer when both fees are native and the result stays
-- below 2^62 (exact), else as a .bint.
local function feeFor(config, count)
  local base, perUnit = config.baseFee, config.tokenFee
  if math.type(base) == 'integer' and math.type(perUnit) == 'integer'
    and (perUnit == 0 or count <= (MAX62 - base) // perUnit) then
    return base + perUnit * count
  end
  return amount(big().tobint(perUnit) * count + base)
end

-- a * b for 0 <= a, b < 2^62, as limbs (high, middle, low) of 62, 31 and 31 bits.
local function wideProduct(a, b)
  local a1, a0 = a >> 31, a & MASK31
  local b1, b0 = b >> 31, b & MASK31
  local low = a0 * b0
  local middle = a0 * b1 + a1 * b0 + (low >> 31)
  return a1 * b1 + (middle >> 31), middle & MASK31, low & MASK31
end

local function compareWide(ah, am, al, bh, bm, bl)
  if ah ~= bh then return ah < bh and -1 or 1 end
  if am ~= bm then return am < bm and -1 or 1 end
  if al ~= bl then return al < bl and -1 or 1 end
  return 0
end

-- Orders requests `a` and `b` (handles into `R`) by paid / needed. Amounts are kept as native
-- integers, or as decimal strings when too large: aos runs a full garbage collection after every
-- message, so each queued request must cost as few collectable objects as possible, and a .bint
-- is a table of 32 integers.
-- A request's amounts as decimal text: kept as text only when too large for a native copy.
local function paidText(R, r) return R.paid[r] or tostring(R.paidInt[r]) end
local function neededText(R, r) return R.needed[r] or tostring(R.neededInt[r]) end

local function compareMultipliers(R, a, b)
  local paidInt, neededInt = R.paidInt, R.neededInt
  local ap, an, bp, bn = paidInt[a], neededInt[a], paidInt[b], neededInt[b]
  if ap and an and bp and bn then
    if ap < LIMIT31 and an < LIMIT31 and bp < LIMIT31 and bn < LIMIT31 then
      -- Products below 2^62: plain integers.
      local left, right = ap * bn, bp * an
      if left == right then return 0 end
      return left < right and -1 or 1
    end
    local lh, lm, ll = wideProduct(ap, bn)
    local rh, rm, rl = wideProduct(bp, an)
    return compareWide(lh, lm, ll, rh, rm, rl)
  end
  local bint = big()
  local left = bint(paidText(R, a)) * bint(neededText(R, b))
  local right = bint(paidText(R, b)) * bint(neededText(R, a))
  if left == right then return 0 end
  if left < right then return -1 end
  return 1
end

-- Truncated to six decimals, trailing zeros dropped: 3/2 -> "1.5", 2/1 -> "2", 4/3 -> "1.333333".
-- Native when paid * 10^MULTIPLIER_DECIMALS stays below 2^62 (exact), else with .bint.
local SCALE = math.tointeger(10 ^ MULTIPLIER_DECIMALS)
local function formatMultiplier(m)
  local paid, needed = amountOf(m.paid), amountOf(m.needed)
  local scaled
  if math.type(paid) == 'integer' and math.type(needed) == 'integer' and paid <= MAX62 // SCALE then
    scaled = paid * SCALE // needed
  else
    scaled = big().tobint(paid) * SCALE // needed
  end
  local whole = scaled // SCALE
  local fraction = tostring(scaled % SCALE)
  fraction = string.rep('0', MULTIPLIER_DECIMALS - #fraction) .. fraction
  fraction = string.gsub(fraction, '0+$', '')
  if fraction == '' then return tostring(whole) end
  return tostring(whole) .. '.' .. fraction
end

--------------------------------------------------------------------------------------------
-- Requests: one array per field, indexed by a handle that the free list reuses. aos runs a full
-- garbage collection after every message, whose cost grows with the live objects: a table per
-- request (with its hash part of 16 fields) cost several times what a slot in each array does.
-- `attempts` and `overtakes` are set from a request's first dispatch on (unset: 0, and the
-- queue's tree holds the count), so that a request that has only waited has no slot in them.
--------------------------------------------------------------------------------------------

local REQUEST_FIELDS = {
  'id', 'client', 'reference', 'prompt', 'tokens', 'paid', 'needed', 'paidInt', 'neededInt',
  'arrival', 'attempts', 'worker', 'slot', 'overtakes', 'waitUntil', 'tried',
}

local function newRequests()
  local R = { free = {}, top = 0 }
  for _, field in ipairs(REQUEST_FIELDS) do R[field] = {} end
  return R
end

-- A handle for a new request, its fields unset.
local function allocRequest(R)
  local n = #R.free
  if n > 0 then
    local h = R.free[n]
    R.free[n] = nil
    return h
  end
  R.top = R.top + 1
  return R.top
end

local function freeRequest(R, h)
  for _, field in ipairs(REQUEST_FIELDS) do R[field][h] = nil end
  R.free[#R.free + 1] = h
end

--------------------------------------------------------------------------------------------
-- The queue: best multiplier first, arrival order among equals, bounded overtaking.
--
-- Dispatching request r overtakes every waiting request that arrived before r. A waiting
-- request overtaken `maxOvertakes` times is saturated; while one waits, only requests that
-- arrived no later than the earliest saturated one may be dispatched. A segment tree over
-- arrival order keeps, per range, the best waiting entry and the largest overtake count (with
-- lazy range addition), so each operation is O(log n).
--------------------------------------------------------------------------------------------

local EMPTY = -math.huge
local NONE = -1

local Queue = {}
Queue.__index = Queue

-- Its entries are request handles into `R`.
local function newQueue(R, capacity)
  local q = setmetatable({ req = R }, Queue)
  q:reset(capacity or 16)
  return q
end

function Queue:reset(capacity)
  local size = 2
  while size < capacity do size = size * 2 end
  self.capacity = size
  self.slots = {}
  self.best = {}
  self.count = {}
  self.pending = {}
  for node = 1, 2 * size - 1 do self.count[node] = EMPTY end
  -- Only inner nodes (1 .. size - 1) keep a best slot (see bestOf) and pending additions.
  for node = 1, size - 1 do
    self.best[node] = NONE
    self.pending[node] = 0
  end
  self.nextSlot = 0
  self.reserved = 0
  self.waiting = 0
end

function Queue:better(a, b)
  if a == NONE then return b end
  if b == NONE then return a end
  local order = compareMultipliers(self.req, self.slots[a], self.slots[b])
  if order > 0 then return a end
  if order < 0 then return b end
  return math.min(a, b)
end

-- The best slot under `node`. A leaf's is not stored (a long queue would pay a slot per leaf at
-- every garbage collection): it is its own slot unless it is empty.
function Queue:bestOf(node)
  local capacity = self.capacity
  if node < capacity then return self.best[node] end
  if self.count[node] == EMPTY then return NONE end
  return node - capacity
end

function Queue:pushDown(node)
  local add = self.pending[node]
  if add == 0 then return end
  local inner = 2 * node < self.capacity
  for child = 2 * node, 2 * node + 1 do
    self.count[child] = self.count[child] + add
    if inner then self.pending[child] = self.pending[child] + add end
  end
  self.pending[node] = 0
end

function Queue:pull(node)
  local left, right = 2 * node, 2 * node + 1
  self.count[node] = math.max(self.count[left], self.count[right])
  self.best[node] = self:better(self:bestOf(left), self:bestOf(right))
end

-- The hottest path (every arrival, dispatch and release): pushDown and pull written out.
function Queue:setLeaf(slot, overtakes)
  local count, pending, best, capacity = self.count, self.pending, self.best, self.capacity
  local node, lo, hi = 1, 0, capacity - 1
  while lo < hi do
    local add = pending[node]
    if add ~= 0 then
      local left = 2 * node
      count[left], count[left + 1] = count[left] + add, count[left + 1] + add
      if left < capacity then pending[left], pending[left + 1] = pending[left] + add, pending[left + 1] + add end
      pending[node] = 0
    end
    local mid = (lo + hi) // 2
    if slot <= mid then node, hi = 2 * node, mid else node, lo = 2 * node + 1, mid + 1 end
  end
  count[node] = overtakes
  node = node // 2
  while node >= 1 do
    local left = 2 * node
    local most = math.max(count[left], count[left + 1])
    local winner
    if left < capacity then winner = self:better(best[left], best[left + 1])
    else winner = self:better(self:bestOf(left), self:bestOf(left + 1)) end
    -- Unchanged here: every node above depends only on this one along the path.
    if most == count[node] and winner == best[node] then return end
    count[node], best[node] = most, winner
    node = node // 2
  end
end

function Queue:readLeaf(slot)
  local node, lo, hi, add = 1, 0, self.capacity - 1, 0
  while lo < hi do
    add = add + self.pending[node]
    local mid = (lo + hi) // 2
    if slot <= mid then node, hi = 2 * node, mid else node, lo = 2 * node + 1, mid + 1 end
  end
  return self.count[node] + add
end

function Queue:addRange(node, lo, hi, from, to)
  if to < lo or hi < from or self.count[node] == EMPTY then return end
  if from <= lo and hi <= to then
    self.count[node] = self.count[node] + 1
    if node < self.capacity then self.pending[node] = self.pending[node] + 1 end
    return
  end
  self:pushDown(node)
  local mid = (lo + hi) // 2
  self:addRange(2 * node, lo, mid, from, to)
  self:addRange(2 * node + 1, mid + 1, hi, from, to)
  self.count[node] = math.max(self.count[2 * node], self.count[2 * node + 1])
end

function Queue:firstAtLeast(bound)
  if self.count[1] < bound then return NONE end
  local node, lo, hi = 1, 0, self.capacity - 1
  while lo < hi do
    self:pushDown(node)
    local mid = (lo + hi) // 2
    if self.count[2 * node] >= bound then node, hi = 2 * node, mid else node, lo = 2 * node + 1, mid + 1 end
  end
  return lo
end

function Queue:bestUpTo(node, lo, hi, last)
  if lo > last then return NONE end
  if hi <= last then return self:bestOf(node) end
  local mid = (lo + hi) // 2
  return self:better(self:bestUpTo(2 * node, lo, mid, last), self:bestUpTo(2 * node + 1, mid + 1, hi, last))
end

-- Renumbers live slots 0..n-1 in arrival order into a tree with room to grow.
function Queue:compact()
  local entries, overtakes = {}, {}
  for slot = 0, self.nextSlot - 1 do
    local entry = self.slots[slot]
    if entry ~= nil then
      entries[#entries + 1] = entry
      overtakes[#entries] = self:readLeaf(slot)
    end
  end
  local waiting = self.waiting
  -- Room for a quarter more: compaction stays amortised O(1) per request, while the tree, which
  -- every garbage collection traverses, keeps at most 2.5 leaves per live request.
  self:reset(math.max(16, #entries + #entries // 4 + 1))
  self.waiting = waiting
  local slotOf = self.req.slot
  for index, entry in ipairs(entries) do
    local slot = index - 1
    slotOf[entry] = slot
    self.slots[slot] = entry
    self.count[self.capacity + slot] = overtakes[index]
  end
  for node = self.capacity - 1, 1, -1 do self:pull(node) end
  self.nextSlot = #entries
  self.reserved = #entries
end

function Queue:enqueue(entry)
  if self.nextSlot == self.capacity then self:compact() end
  local slot = self.nextSlot
  self.req.slot[entry] = slot
  self.nextSlot = slot + 1
  self.slots[slot] = entry
  self.reserved = self.reserved + 1
  self:setLeaf(slot, 0)
  self.waiting = self.waiting + 1
end

function Queue:peek(maxOvertakes)
  if self.waiting == 0 then return nil end
  local last = self.capacity - 1
  if maxOvertakes ~= nil then
    local saturated = self:firstAtLeast(maxOvertakes)
    if saturated ~= NONE then last = saturated end
  end
  local slot = self:bestUpTo(1, 0, self.capacity - 1, last)
  if slot == NONE then return nil end
  return self.slots[slot]
end

-- Dispatch: every earlier waiting arrival is overtaken once more; the entry keeps its slot.
function Queue:dispatch(entry)
  local slot = self.req.slot[entry]
  if slot > 0 then self:addRange(1, 0, self.capacity - 1, 0, slot - 1) end
  self.req.overtakes[entry] = self:readLeaf(slot)
  self:setLeaf(slot, EMPTY)
  self.waiting = self.waiting - 1
end

-- Back to its arrival place after a failed attempt, keeping its overtake count.
function Queue:requeue(entry)
  self:setLeaf(self.req.slot[entry], self.req.overtakes[entry])
  self.waiting = self.waiting + 1
end

-- Gone for good (answered or refunded).
function Queue:release(entry)
  local slot = self.req.slot[entry]
  if self:readLeaf(slot) ~= EMPTY then
    self:setLeaf(slot, EMPTY)
    self.waiting = self.waiting - 1
  end
  self.slots[slot] = nil
  self.reserved = self.reserved - 1
end

--------------------------------------------------------------------------------------------
-- The herd: workers, their status, and the order in which they became idle (a FIFO with lazy
-- deletion: an entry counts only while its stamp matches the worker's).
--   idle | busy (holds one request) | timed-out (no work until it answers) | failed
--------------------------------------------------------------------------------------------

local Herd = {}
Herd.__index = Herd

local function newHerd()
  -- idleQueue[idleHead..idleTail] holds { worker id, stamp } pairs, oldest first.
  return setmetatable({ workers = {}, size = 0, idleQueue = {}, idleHead = 1, idleTail = 0, stamps = 0, idle = 0 }, Herd)
end

function Herd:setStatus(worker, status)
  if worker.status == 'idle' then self.idle = self.idle - 1 end
  worker.idleStamp = 0
  worker.status = status
  if status == 'idle' then
    self.stamps = self.stamps + 1
    worker.idleStamp = self.stamps
    self.idleTail = self.idleTail + 1
    self.idleQueue[self.idleTail] = { worker.id, worker.idleStamp }
    self.idle = self.idle + 1
  end
end

function Herd:add(id)
  local worker = { id = id, status = 'failed', request = nil, lastRequest = nil, deadline = 0, draining = false, idleStamp = 0 }
  self.workers[id] = worker
  self.size = self.size + 1
  self:setStatus(worker, 'idle')
  return worker
end

function Herd:remove(worker)
  self:setStatus(worker, 'failed')
  self.workers[worker.id] = nil
  self.size = self.size - 1
end

local function contains(list, value)
  for _, item in ipairs(list) do
    if item == value then return true end
  end
  return false
end

-- The longest-idle worker the request has not failed on, else the longest-idle one.
function Herd:pickIdle(avoid)
  local fallback = nil
  local seen = 0
  local i = self.idleHead
  while i <= self.idleTail and seen <= #avoid do
    local id, stamp = self.idleQueue[i][1], self.idleQueue[i][2]
    local worker = self.workers[id]
    if worker == nil or worker.idleStamp ~= stamp then
      if i == self.idleHead then
        self.idleQueue[i] = nil
        self.idleHead = self.idleHead + 1
      end
    else
      if not contains(avoid, id) then return worker end
      if fallback == nil then fallback = worker end
      seen = seen + 1
    end
    i = i + 1
  end
  return fallback
end

--------------------------------------------------------------------------------------------
-- Deadlines as binary min-heaps: of running requests (`worker` names the holder) and of waiting
-- ones (the queue-wait bound: `worker` is empty, `arrival` orders requests that share a
-- deadline). Stale entries are skipped when popped.
--------------------------------------------------------------------------------------------

local function earlier(a, b)
  if a.at ~= b.at then return a.at < b.at end
  if a.worker ~= b.worker then return a.worker < b.worker end
  return (a.arrival or 0) < (b.arrival or 0)
end

local function pushDeadline(heap, deadline)
  heap[#heap + 1] = deadline
  local i = #heap
  while i > 1 do
    local parent = i // 2
    if not earlier(heap[i], heap[parent]) then break end
    heap[i], heap[parent] = heap[parent], heap[i]
    i = parent
  end
end

local function popExpired(heap, now)
  local top = heap[1]
  if top == nil or top.at >= now then return nil end
  local last = table.remove(heap)
  if #heap > 0 then
    heap[1] = last
    local i = 1
    while true do
      local left, right, least = 2 * i, 2 * i + 1, i
      if left <= #heap and earlier(heap[left], heap[least]) then least = left end
      if right <= #heap and earlier(heap[right], heap[least]) then least = right end
      if least == i then break end
      heap[i], heap[least] = heap[least], heap[i]
      i = least
    end
  end
  return top
end

-- Queue-wait deadlines of waiting requests: the same min-heap order (time, then arrival), kept in
-- three arrays rather than a table per entry, since aos collects garbage after every message and
-- a long queue would otherwise cost a table per waiting request.
local function newWaits()
  return { at = {}, request = {}, arrival = {}, n = 0 }
end

local function waitEarlier(w, i, j)
  if w.at[i] ~= w.at[j] then return w.at[i] < w.at[j] end
  return w.arrival[i] < w.arrival[j]
end

local function waitSwap(w, i, j)
  w.at[i], w.at[j] = w.at[j], w.at[i]
  w.request[i], w.request[j] = w.request[j], w.request[i]
  w.arrival[i], w.arrival[j] = w.arrival[j], w.arrival[i]
end

local function pushWait(w, at, request, arrival)
  local i = w.n + 1
  w.n = i
  w.at[i], w.request[i], w.arrival[i] = at, request, arrival
  while i > 1 do
    local parent = i // 2
    if not waitEarlier(w, i, parent) then break end
    waitSwap(w, i, parent)
    i = parent
  end
end

-- Removes the earliest entry if it is strictly before `now`; returns its request and time.
local function popExpiredWait(w, now)
  if w.n == 0 or w.at[1] >= now then return nil end
  local request, at = w.request[1], w.at[1]
  local last = w.n
  waitSwap(w, 1, last)
  w.at[last], w.request[last], w.arrival[last] = nil, nil, nil
  w.n = last - 1
  local i = 1
  while true do
    local left, right, least = 2 * i, 2 * i + 1, i
    if left <= w.n and waitEarlier(w, left, least) then least = left end
    if right <= w.n and waitEarlier(w, right, least) then least = right end
    if least == i then break end
    waitSwap(w, i, least)
    i = least
  end
  return request, at
end

--------------------------------------------------------------------------------------------
-- State
--------------------------------------------------------------------------------------------

local function newState(config)
  local requests = newRequests()
  local settings = copyConfig(config)
  settings.baseFee = amountOf(canonical(config.baseFee))
  settings.tokenFee = amountOf(canonical(config.tokenFee))
  local state = {
    config = settings,
    paused = false,
    now = 0,
    -- Ids remembered for de-duplication, each with the count of handled messages after which it
    -- is forgotten (a live request's id counts as seen through `requests` instead): memory
    -- bounded by live work, not by age.
    seen = {},
    handled = 0,
    -- Ids in the order their window ends: forgetIds[i] ends after forgetAt[i] handled messages.
    forgetIds = {}, forgetAt = {}, forgetHead = 1, forgetTail = 0,
    arrivals = 0,
    -- Live requests: id -> handle into `req`.
    requests = {},
    req = requests,
    queue = newQueue(requests),
    herd = newHerd(),
    deadlines = {},
    waits = newWaits(),
    -- Processes outside the herd whose last initialisation report was Worker-Error (or that
    -- left the herd failed), oldest first, at most MAX_UNREADY: added, they join failed.
    unready = {},
    -- The books: an amount per entry.
    ledger = { credited = 0, refunded = 0, revenue = 0, escrow = 0, unclaimed = 0, withdrawn = 0 },
    lastMultiplier = nil,
  }
  for _, worker in ipairs(config.workers) do state.herd:add(worker) end
  return state
end

--------------------------------------------------------------------------------------------
-- Outgoing messages
--------------------------------------------------------------------------------------------

local function send(target, tags, data)
  local message = { Target = target }
  for name, value in pairs(tags) do message[name] = value end
  if data ~= nil then message.Data = data end
  ao.send(message)
end

local function transfer(state, recipient, quantity, extra)
  local tags = { Action = ACTION.Transfer, Recipient = recipient, Quantity = tostring(quantity) }
  for name, value in pairs(extra) do tags[name] = value end
  send(state.config.token, tags)
end

--------------------------------------------------------------------------------------------
-- Phase 2: the message
--------------------------------------------------------------------------------------------

-- Remembers `id` for the next DEDUP_WINDOW handled messages.
local function remember(state, id)
  local untilCount = state.handled + DEDUP_WINDOW
  state.seen[id] = untilCount
  state.forgetTail = state.forgetTail + 1
  state.forgetIds[state.forgetTail] = id
  state.forgetAt[state.forgetTail] = untilCount
end

-- Forgets the ids whose window has ended. An id is remembered once per handling, and a live
-- request's only when it ends, so every queued window is its id's latest: no lookup is needed.
local function forgetOld(state)
  while state.forgetHead <= state.forgetTail do
    local head = state.forgetHead
    if state.forgetAt[head] > state.handled then break end
    state.seen[state.forgetIds[head]] = nil
    state.forgetIds[head] = nil
    state.forgetAt[head] = nil
    state.forgetHead = head + 1
  end
  -- Renumbered from 1 once the forgotten prefix outgrows the rest: indices that only grow would
  -- leave both lists in hash parts, which every garbage collection walks node by node.
  local live = state.forgetTail - state.forgetHead + 1
  if state.forgetHead > 64 and state.forgetHead > live then
    local ids, at = {}, {}
    for i = 1, live do
      ids[i] = state.forgetIds[state.forgetHead + i - 1]
      at[i] = state.forgetAt[state.forgetHead + i - 1]
    end
    state.forgetIds, state.forgetAt, state.forgetHead, state.forgetTail = ids, at, 1, live
  end
end

-- A request's payment for the books: its native copy when it has one (see judgeCredit).
local function paidAmount(R, r)
  return R.paidInt[r] or amountOf(R.paid[r])
end

local function book(state, name, value, sign)
  local ledger = state.ledger
  if sign > 0 then ledger[name] = plus(ledger[name], value) else ledger[name] = minus(ledger[name], value) end
end

local function finish(state, r)
  local id = state.req.id[r]
  state.queue:release(r)
  state.requests[id] = nil
  freeRequest(state.req, r)
  remember(state, id)
end

local function forgetUnready(state, id)
  for index, known in ipairs(state.unready) do
    if known == id then
      table.remove(state.unready, index)
      return true
    end
  end
  return false
end

local function rememberUnready(state, id)
  forgetUnready(state, id)
  state.unready[#state.unready + 1] = id
  if #state.unready > MAX_UNREADY then table.remove(state.unready, 1) end
end

-- Whether a queue-wait entry is still the deadline of a waiting request.
local function liveWait(state, request, at)
  local r = state.requests[request]
  return r ~= nil and state.req.worker[r] == nil and state.req.waitUntil[r] == at
end

-- The request (re-)enters the queue now: its queue-wait deadline starts. Entries of requests
-- that were dispatched or ended stay until they pass; they are dropped in bulk once they
-- outnumber the live ones, so that the heap stays within a small multiple of the queue.
local function startWait(state, r)
  local R = state.req
  R.waitUntil[r] = state.now + state.config.maxQueueWait
  pushWait(state.waits, R.waitUntil[r], R.id[r], R.arrival[r])
  local waits = state.waits
  if waits.n > 2 * state.queue.waiting + 64 then
    local kept = newWaits()
    for i = 1, waits.n do
      if liveWait(state, waits.request[i], waits.at[i]) then
        pushWait(kept, waits.at[i], waits.request[i], waits.arrival[i])
      end
    end
    state.waits = kept
  end
end

-- Ends an accepted request with a refund of its whole payment to the payer.
local function refundRequest(state, r, reason)
  local R = state.req
  local paid = paidAmount(R, r)
  book(state, 'escrow', paid, -1)
  book(state, 'refunded', paid, 1)
  local tags = { ['X-Reason'] = reason, ['X-Request'] = R.id[r] }
  if R.reference[r] ~= nil then tags['X-Reference'] = R.reference[r] end
  transfer(state, R.client[r], paidText(R, r), tags)
  finish(state, r)
end

local function freeWorker(state, worker)
  worker.request = nil
  if worker.draining then state.herd:remove(worker) else state.herd:setStatus(worker, 'idle') end
end

-- After a failed attempt: back in the queue at its arrival place, or refunded if out of attempts.
local function retryOrRefund(state, r, why)
  local attempts = state.req.attempts[r]
  state.req.worker[r] = nil
  if attempts < state.config.maxAttempts then
    state.queue:requeue(r)
    startWait(state, r)
    return
  end
  refundRequest(state, r, REASON.AttemptsExhausted .. ' after ' .. attempts .. ' attempt(s): ' .. why)
end

-- What to do with a Credit-Notice, as values rather than a table (a Credit-Notice allocates no
-- table of its own): the verdict ('accept', 'refund', 'return': a refund outside the books,
-- 'unclaimed', or nil: ignore), the quantity (an amount; its digits for 'return'), the sender,
-- the X-Reference, then for a refund its reason and, when underpaid, the fee; for an accepted
-- one its tokens, the fee and the prompt.
local function judgeCredit(state, msg)
  local config = state.config
  if msg.From ~= config.token then return nil end
  local rawQuantity = tag(msg, 'Quantity')
  if not isDecimal(rawQuantity) or #rawQuantity > MAX_RAW_DIGITS then return nil end
  local sender = tag(msg, 'Sender')
  local reference = tag(msg, 'X-Reference')
  local claimed = sender ~= nil and sender ~= ''
  local digits = canonical(rawQuantity)
  if #digits > MAX_DIGITS then
    -- Beyond any 256-bit balance: handed back untouched, outside the books.
    if not claimed then return nil end
    return 'return', digits, sender, reference, REASON.QuantityTooLarge
  end
  if digits == '0' then return nil end
  local quantity = amountOf(digits)
  if not claimed then return 'unclaimed', quantity end
  local reason = nil
  local prompt = tag(msg, 'X-Prompt')
  local tokens = nil
  if state.paused then reason = REASON.Paused
  elseif prompt == nil then reason = REASON.MissingPrompt
  elseif prompt == '' then reason = REASON.EmptyPrompt
  elseif #prompt > config.maxPromptBytes then reason = REASON.PromptTooLong
  else
    local rawTokens = tag(msg, 'X-Tokens')
    if rawTokens == nil then reason = REASON.MissingTokens
    elseif not isDecimal(rawTokens) then reason = REASON.BadTokens
    else
      local tokenDigits = canonical(rawTokens)
      tokens = #tokenDigits <= 15 and tonumber(tokenDigits) or math.huge
      if tokens < 1 or tokens > config.maxTokens then reason = REASON.TokensOutOfRange end
    end
  end
  if reason ~= nil then return 'refund', quantity, sender, reference, reason end
  local needed = feeFor(config, tokens + words(prompt))
  if quantity < needed then return 'refund', quantity, sender, reference, REASON.Insufficient, needed end
  return 'accept', quantity, sender, reference, tokens, needed, prompt
end

local function handleCredit(state, msg)
  local verdict, quantity, sender, reference, detail, needed, prompt = judgeCredit(state, msg)
  if verdict == 'unclaimed' then
    book(state, 'credited', quantity, 1)
    book(state, 'unclaimed', quantity, 1)
  elseif verdict == 'refund' or verdict == 'return' then
    if verdict == 'refund' then
      book(state, 'credited', quantity, 1)
      book(state, 'refunded', quantity, 1)
    end
    local tags = { ['X-Reason'] = detail, ['X-Request'] = msg.Id }
    if reference ~= nil then tags['X-Reference'] = reference end
    if needed ~= nil then tags['X-Needed'] = tostring(needed) end
    transfer(state, sender, quantity, tags)
  elseif verdict == 'accept' then
    local R, id = state.req, msg.Id
    local r = allocRequest(R)
    R.id[r], R.client[r], R.reference[r], R.prompt[r], R.tokens[r] = id, sender, reference, prompt, detail
    -- Amounts of 2^62 or more are kept as decimal text (a .bint is a table of 32 integers).
    if math.type(quantity) == 'integer' then R.paidInt[r] = quantity else R.paid[r] = tostring(quantity) end
    if math.type(needed) == 'integer' then R.neededInt[r] = needed else R.needed[r] = tostring(needed) end
    state.arrivals = state.arrivals + 1
    R.arrival[r] = state.arrivals
    book(state, 'credited', quantity, 1)
    book(state, 'escrow', quantity, 1)
    state.requests[id] = r
    state.queue:enqueue(r)
    startWait(state, r)
  end
end

-- Inference-Response / Inference-Error: honoured only from the worker that holds the request.
-- Without X-Request (as workers written for the original answer) an answer is for the one
-- request the worker holds, or, from a timed-out worker, its late answer to the last one.
local function handleAnswer(state, msg, action)
  local worker = state.herd.workers[msg.From]
  if worker == nil then return end
  local requestId = tag(msg, 'X-Request')
  if requestId == nil then
    if worker.status == 'busy' then requestId = worker.request
    elseif worker.status == 'timed-out' then requestId = worker.lastRequest end
  end
  if requestId == nil then return end
  if worker.status == 'busy' and worker.request == requestId then
    local r, R = state.requests[requestId], state.req
    if action == ACTION.InferenceResponse then
      local tags = { Action = ACTION.InferenceResponse, ['X-Request'] = R.id[r] }
      if R.reference[r] ~= nil then tags['X-Reference'] = R.reference[r] end
      local data = msg.Data
      if type(data) ~= 'string' then data = '' end
      send(R.client[r], tags, data)
      local paid = paidAmount(R, r)
      book(state, 'escrow', paid, -1)
      book(state, 'revenue', paid, 1)
      finish(state, r)
    else
      local detail = tag(msg, 'X-Reason')
      local why = 'worker error'
      if detail ~= nil and detail ~= '' then why = 'worker error: ' .. detail end
      retryOrRefund(state, r, why)
    end
    freeWorker(state, worker)
  elseif worker.status == 'timed-out' and worker.lastRequest == requestId then
    -- A late answer: its request was retried or refunded already, so it is dropped, but the
    -- worker has shown it is alive again.
    freeWorker(state, worker)
  end
end

-- Worker-Error marks a worker failed (its request is retried); Worker-Initialized revives it.
-- From a process outside the herd, the report is remembered for when the owner adds it.
local function handleWorkerReport(state, msg, action)
  local worker = state.herd.workers[msg.From]
  if worker == nil then
    if action == ACTION.WorkerError then rememberUnready(state, msg.From) else forgetUnready(state, msg.From) end
    return
  end
  if action == ACTION.WorkerError then
    local held = nil
    if worker.status == 'busy' then held = state.requests[worker.request] end
    worker.request = nil
    if worker.draining then
      state.herd:remove(worker)
      rememberUnready(state, worker.id)
    else
      state.herd:setStatus(worker, 'failed')
    end
    if held ~= nil then retryOrRefund(state, held, 'worker failed') end
  elseif worker.status == 'failed' or worker.status == 'timed-out' then
    freeWorker(state, worker)
  end
end

local function infoResponse(state, target)
  local config = state.config
  local busy, unavailable = 0, 0
  for _, worker in pairs(state.herd.workers) do
    if worker.status == 'busy' then busy = busy + 1
    elseif worker.status ~= 'idle' then unavailable = unavailable + 1 end
  end
  local last = '1'
  if state.lastMultiplier ~= nil then last = formatMultiplier(state.lastMultiplier) end
  local tags = {
    Action = ACTION.InfoResponse,
    Name = 'Llama-Herder',
    ['Last-Multiplier'] = last,
    ['Queue-Length'] = tostring(state.queue.waiting),
    Workers = tostring(state.herd.size),
    ['Idle-Workers'] = tostring(state.herd.idle),
    ['Busy-Workers'] = tostring(busy),
    ['Unavailable-Workers'] = tostring(unavailable),
    Paused = tostring(state.paused),
    Token = config.token,
    Version = HERDER_VERSION,
  }
  -- Every setting under its tag; a bound that is not set reads 'unbounded'.
  for _, setting in ipairs(SETTINGS) do
    local value = config[setting.name]
    if setting.kind == 'amount' then tags[setting.tag] = tostring(value)
    elseif value == nil then tags[setting.tag] = 'unbounded'
    else tags[setting.tag] = tostring(value) end
  end
  send(target, tags, 'Llama-Herder: LLM inference on AO. Pay the herder in the token ' .. config.token
    .. ' with X-Prompt and X-Tokens (and X-Reference to recognise the answer).'
    .. ' Fee = Base-Fee + Token-Fee * (tokens + words in the prompt); paying more moves a request up the queue.'
    .. ' Invalid, underpaid, failed and expired requests are refunded in full.')
end

--------------------------------------------------------------------------------------------
-- Owner administration: anyone else is refused and nothing changes; so is an invalid value.
--------------------------------------------------------------------------------------------

-- A setting's new value from its tag (a record of SETTINGS): an amount, a count, or
-- 'unbounded' (a bound's nil); or nil and the reason it is none.
local function parseSetting(setting, raw)
  if setting.kind == 'amount' then return parseDecimal(raw, setting.tag) end
  if setting.kind == 'bound' and string.lower(raw) == 'unbounded' then return 'unbounded' end
  local digits, reason = decimalDigits(raw, setting.tag)
  if digits == nil then return nil, reason end
  if #digits > 16 or tonumber(digits) > MAX_SAFE_INTEGER then return nil, setting.tag .. ' is too large' end
  return math.tointeger(tonumber(digits))
end

-- Applies every present tag of the settings `action` changes (Set-Fees, Set-Limits) at once, or
-- none of them; the settings in the model's order.
local function reconfigure(state, msg, action)
  local proposed = copyConfig(state.config)
  local changed = 0
  for _, setting in ipairs(SETTINGS) do
    local raw = setting.action == action and tag(msg, setting.tag) or nil
    if raw ~= nil then
      local value, reason = parseSetting(setting, raw)
      if value == nil then return false, reason end
      if value == 'unbounded' then value = nil end
      proposed[setting.name] = value
      changed = changed + 1
    end
  end
  if changed == 0 then
    local names = {}
    for _, setting in ipairs(SETTINGS) do
      if setting.action == action then names[#names + 1] = setting.tag end
    end
    return false, 'expected one of ' .. table.concat(names, ', ')
  end
  local problems = configProblems(proposed)
  if #problems > 0 then return false, table.concat(problems, '; ') end
  state.config = proposed
  return true
end

local function addWorker(state, id)
  if id == nil or id == '' then return false, 'Worker tag is missing' end
  local probe = copyConfig(state.config)
  probe.workers = { id }
  local problems = configProblems(probe)
  if #problems > 0 then return false, table.concat(problems, '; ') end
  local existing = state.herd.workers[id]
  if existing == nil then
    local worker = state.herd:add(id)
    if not forgetUnready(state, id) then return true end
    state.herd:setStatus(worker, 'failed')
    return true, 'added as failed: it reported Worker-Error; it gets work after Worker-Initialized'
  end
  if existing.draining then
    existing.draining = false
    return true, 'removal cancelled'
  end
  return true, 'already in the herd'
end

local function removeWorker(state, id)
  local worker = nil
  if id ~= nil then worker = state.herd.workers[id] end
  if worker == nil then return false, 'no such worker in the herd' end
  if worker.status == 'busy' then
    worker.draining = true
    return true, 'draining: leaves when its request ends'
  end
  if worker.status == 'failed' then rememberUnready(state, worker.id) end
  state.herd:remove(worker)
  return true
end

local function withdraw(state, msg)
  local quantity, reason = parsePositiveAmount(tag(msg, 'Quantity'), 'Quantity')
  if quantity == nil then return false, reason end
  -- Tokens sent to a malformed id would be lost for good.
  local recipient = tag(msg, 'Recipient')
  if recipient == nil or recipient == '' then recipient = state.config.owner end
  if not isProcessId(recipient) then return false, 'Recipient must be a process id' end
  local available = minus(state.ledger.revenue, state.ledger.withdrawn)
  if quantity > available then return false, 'only ' .. tostring(available) .. ' of revenue can be withdrawn' end
  book(state, 'withdrawn', quantity, 1)
  transfer(state, recipient, quantity, { ['X-Reason'] = REASON.Withdrawal })
  return true
end

local ADMIN = {
  [ACTION.AddWorker] = function(state, msg) return addWorker(state, tag(msg, 'Worker')) end,
  [ACTION.RemoveWorker] = function(state, msg) return removeWorker(state, tag(msg, 'Worker')) end,
  [ACTION.SetFees] = function(state, msg) return reconfigure(state, msg, ACTION.SetFees) end,
  [ACTION.SetLimits] = function(state, msg) return reconfigure(state, msg, ACTION.SetLimits) end,
  [ACTION.Pause] = function(state) state.paused = true return true end,
  [ACTION.Resume] = function(state) state.paused = false return true end,
  [ACTION.Withdraw] = withdraw,
}

local function handleAdmin(state, msg, action)
  local ok, detail
  if msg.From ~= state.config.owner then
    ok, detail = false, REASON.NotOwner
  else
    ok, detail = ADMIN[action](state, msg)
  end
  local tags = { ['Admin-Action'] = action }
  if ok then
    tags.Action = ACTION.AdminDone
    if detail ~= nil then tags['X-Note'] = detail end
  else
    tags.Action = ACTION.AdminRefused
    tags['X-Reason'] = detail
  end
  send(msg.From, tags)
end

--------------------------------------------------------------------------------------------
-- Phases 1 and 3: deadlines and dispatch
--------------------------------------------------------------------------------------------

local function expireDeadlines(state)
  while true do
    local expired = popExpired(state.deadlines, state.now)
    if expired == nil then return end
    local worker = state.herd.workers[expired.worker]
    -- Stale entry: the worker has since finished, or holds the request again on a later attempt.
    if worker ~= nil and worker.status == 'busy' and worker.request == expired.request and worker.deadline == expired.at then
      local r = state.requests[expired.request]
      worker.request = nil
      if worker.draining then state.herd:remove(worker) else state.herd:setStatus(worker, 'timed-out') end
      retryOrRefund(state, r, 'worker timed out')
    end
  end
end

-- Refunds every waiting request whose queue-wait deadline has passed, earliest first.
local function expireWaits(state)
  while true do
    local request, at = popExpiredWait(state.waits, state.now)
    if request == nil then return end
    -- Stale entry: the request has ended, is running, or entered the queue again since.
    if liveWait(state, request, at) then
      refundRequest(state, state.requests[request], REASON.QueueWait)
    end
  end
end

local function assign(state, r, worker)
  local config, R = state.config, state.req
  local id = R.id[r]
  state.queue:dispatch(r)
  R.attempts[r] = (R.attempts[r] or 0) + 1
  local tried = R.tried[r] or {}
  R.tried[r] = tried
  tried[#tried + 1] = worker.id
  R.worker[r] = worker.id
  state.herd:setStatus(worker, 'busy')
  worker.request = id
  worker.lastRequest = id
  worker.deadline = state.now + config.timeoutBase + config.timeoutPerToken * R.tokens[r]
  pushDeadline(state.deadlines, { at = worker.deadline, worker = worker.id, request = id })
  -- Finished requests leave stale entries behind until their deadline; drop them in bulk once
  -- they outnumber the herd, so that the heap stays small (this changes no expiry).
  if #state.deadlines > 2 * state.herd.size + 64 then
    local kept = {}
    for _, deadline in ipairs(state.deadlines) do
      local holder = state.herd.workers[deadline.worker]
      if holder ~= nil and holder.status == 'busy' and holder.request == deadline.request
        and holder.deadline == deadline.at then
        kept[#kept + 1] = deadline
      end
    end
    state.deadlines = {}
    for _, deadline in ipairs(kept) do pushDeadline(state.deadlines, deadline) end
  end
  state.lastMultiplier = { paid = paidText(R, r), needed = neededText(R, r) }
  send(worker.id, { Action = ACTION.Inference, Tokens = tostring(R.tokens[r]), ['X-Request'] = id }, R.prompt[r])
end

local NOBODY = {}

local function dispatch(state)
  while state.queue.waiting > 0 and state.herd.idle > 0 do
    local r = state.queue:peek(state.config.maxOvertakes)
    assign(state, r, state.herd:pickIdle(state.req.tried[r] or NOBODY))
  end
end

--------------------------------------------------------------------------------------------
-- The handler
--------------------------------------------------------------------------------------------

local HANDLE = {
  [ACTION.CreditNotice] = handleCredit,
  [ACTION.InferenceResponse] = handleAnswer,
  [ACTION.InferenceError] = handleAnswer,
  [ACTION.WorkerError] = handleWorkerReport,
  [ACTION.WorkerInitialized] = handleWorkerReport,
  [ACTION.Info] = function(state, msg) infoResponse(state, msg.From) end,
}

function HerderStep(msg)
  local state = HerderState
  local timestamp = tonumber(msg.Timestamp)
  if timestamp ~= nil and timestamp > state.now then state.now = timestamp end
  expireDeadlines(state)
  expireWaits(state)
  if msg.Id ~= nil and state.seen[msg.Id] == nil and state.requests[msg.Id] == nil then
    state.handled = state.handled + 1
    local action = tag(msg, 'Action')
    if HANDLE[action] ~= nil then
      HANDLE[action](state, msg, action)
    elseif ADMIN[action] ~= nil then
      handleAdmin(state, msg, action)
    end
    -- The id of a notice that became a live request counts as seen through state.requests for as
    -- long as the request lives (and is remembered when it ends); any other is remembered now.
    if state.requests[msg.Id] == nil then remember(state, msg.Id) end
    forgetOld(state)
  end
  dispatch(state)
end

-- The books and the herd, for audits and tests: amounts as decimal strings.
function HerderSummary()
  local state = HerderState
  local ledger = {}
  for name, value in pairs(state.ledger) do ledger[name] = tostring(value) end
  local workers = {}
  for id, worker in pairs(state.herd.workers) do
    workers[id] = { status = worker.status, request = worker.request, draining = worker.draining }
  end
  local requests = {}
  for id, r in pairs(state.requests) do
    requests[id] = { worker = state.req.worker[r], attempts = state.req.attempts[r] or 0 }
  end
  -- Remembered ids: the window's and those of live requests.
  local remembered = 0
  for _ in pairs(state.seen) do remembered = remembered + 1 end
  for id in pairs(state.requests) do
    if state.seen[id] == nil then remembered = remembered + 1 end
  end
  return { ledger = ledger, workers = workers, requests = requests, queueLength = state.queue.waiting,
    paused = state.paused, now = state.now, remembered = remembered, waits = state.waits.n,
    deadlines = #state.deadlines }
end

-- State survives re-evaluation of this file (e.g. an upgrade by Eval). A state kept from a
-- version without the queue-wait bound gets it: its waiting requests start their wait now.
HerderState = HerderState or newState(HERDER_CONFIG)
-- A state kept from a version with a table per request gets the request arrays; the queue and
-- the herd get this version's methods.
if HerderState.req == nil then
  local R, queue = newRequests(), HerderState.queue
  for slot = 0, queue.nextSlot - 1 do
    local record = queue.slots[slot]
    if record ~= nil then
      local r = allocRequest(R)
      for _, field in ipairs(REQUEST_FIELDS) do R[field][r] = record[field] end
      queue.slots[slot] = r
      HerderState.requests[record.id] = r
    end
  end
  HerderState.req, queue.req = R, R
end
setmetatable(HerderState.queue, Queue)
setmetatable(HerderState.herd, Herd)
if HerderState.waits == nil or HerderState.waits.n == nil then
  HerderState.waits = newWaits()
  HerderState.unready = HerderState.unready or {}
  HerderState.config.maxQueueWait = HerderState.config.maxQueueWait or HERDER_CONFIG.maxQueueWait
  for _, r in pairs(HerderState.requests) do
    if HerderState.req.worker[r] == nil then startWait(HerderState, r) end
  end
end
-- A state kept from a version that kept the fees and the books as .bint values (of its own
-- instance; the books with native parts in `unbooked`) gets them as amounts.
local function migrated(value)
  if type(value) == 'table' and getmetatable(value) ~= HerderBint then return amountOf(tostring(value)) end
  return value
end
for name, value in pairs(HerderState.ledger) do
  HerderState.ledger[name] = plus(migrated(value), HerderState.unbooked and HerderState.unbooked[name] or 0)
end
HerderState.unbooked = nil
HerderState.config.baseFee = migrated(HerderState.config.baseFee)
HerderState.config.tokenFee = migrated(HerderState.config.tokenFee)
-- A state kept from a version that remembered every id forever keeps those of live requests.
if HerderState.handled == nil then
  HerderState.seen = {}
  for id in pairs(HerderState.requests) do HerderState.seen[id] = math.huge end
  HerderState.handled = 0
  HerderState.forgetIds, HerderState.forgetAt = {}, {}
  HerderState.forgetHead, HerderState.forgetTail = 1, 0
end

Handlers.add('llama-herder',
  function(msg) return msg.Action ~= 'Eval' end,
  HerderStep)
