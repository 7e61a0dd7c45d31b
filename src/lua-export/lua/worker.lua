-- The worker's body (the header, WORKER_CONFIG and the prelude come first): REASON, tag and
-- MAX_PROMPT_BYTES are the prelude's.

-- The herder: baked in at export (WORKER_CONFIG.herder), else set by an Init from the Owner.
Herder = Herder or WORKER_CONFIG.herder

local llama = require("llama")

-- The llama.cpp bindings call these two while loading; they must exist and must not fail.
Llama = Llama or {}
Llama.onLog = function(level, text)
  if Worker then Worker.lastLog = text end
end
Llama.onProgress = function(progress)
  if Worker then Worker.progress = progress end
end

-- uninitialised -> loading -> ready | failed. "loading" survives only if llama.cpp aborted.
Worker = Worker or { state = "uninitialised", model = nil }

local function reply(target, fields, data)
  local message = { Target = target }
  for key, value in pairs(fields) do message[key] = value end
  if data ~= nil then message.Data = data end
  ao.send(message)
end

---------------------------------------------------------------------------------------------
-- GGUF preflight: read the model header through WeaveDrive and check it before llama.cpp does.
---------------------------------------------------------------------------------------------

local Gguf = {}

-- ggml tensor types: id -> { elements per block, bytes per block }
Gguf.TYPES = {
  [0] = { 1, 4 },      -- F32
  [1] = { 1, 2 },      -- F16
  [2] = { 32, 18 },    -- Q4_0
  [3] = { 32, 20 },    -- Q4_1
  [6] = { 32, 22 },    -- Q5_0
  [7] = { 32, 24 },    -- Q5_1
  [8] = { 32, 34 },    -- Q8_0
  [9] = { 32, 36 },    -- Q8_1
  [10] = { 256, 84 },  -- Q2_K
  [11] = { 256, 110 }, -- Q3_K
  [12] = { 256, 144 }, -- Q4_K
  [13] = { 256, 176 }, -- Q5_K
  [14] = { 256, 210 }, -- Q6_K
  [15] = { 256, 292 }, -- Q8_K
  [16] = { 256, 66 },  -- IQ2_XXS
  [17] = { 256, 74 },  -- IQ2_XS
  [18] = { 256, 98 },  -- IQ3_XXS
  [19] = { 256, 50 },  -- IQ1_S
  [20] = { 32, 18 },   -- IQ4_NL
  [21] = { 256, 110 }, -- IQ3_S
  [22] = { 256, 82 },  -- IQ2_S
  [23] = { 256, 136 }, -- IQ4_XS
  [24] = { 1, 1 },     -- I8
  [25] = { 1, 2 },     -- I16
  [26] = { 1, 4 },     -- I32
  [27] = { 1, 8 },     -- I64
  [28] = { 1, 8 },     -- F64
  [29] = { 256, 56 },  -- IQ1_M
  [30] = { 1, 2 },     -- BF16
}

-- metadata value types: id -> { string.unpack format, size }
Gguf.SCALARS = {
  [0] = { "<I1", 1 }, [1] = { "<i1", 1 }, [2] = { "<I2", 2 }, [3] = { "<i2", 2 },
  [4] = { "<I4", 4 }, [5] = { "<i4", 4 }, [6] = { "<f", 4 }, [7] = { "<I1", 1 },
  [10] = { "<i8", 8 }, [11] = { "<i8", 8 }, [12] = { "<d", 8 },
}
local STRING, ARRAY, BOOL = 8, 9, 7
local CHUNK = 65536

local function fail(reason) error({ reason = reason }, 0) end

-- A sequential reader over an open file of known size. It never reads past the end of the file
-- (WeaveDrive would return short reads that io.read cannot tell apart from data).
local function newReader(file, size)
  return { file = file, size = size, buf = "", base = 0, at = 0 }
end

local function need(r, n)
  if n < 0 or r.at + n > r.size then fail("corrupt model: header runs past the end of the file") end
  local have = r.base + #r.buf
  if r.at + n <= have then return end
  local keep = string.sub(r.buf, r.at - r.base + 1)
  local want = math.min(math.max(n - #keep, CHUNK), r.size - have)
  local more = r.file:read(want)
  if more == nil or #more ~= want then fail("model file could not be read") end
  r.buf = keep .. more
  r.base = r.at
end

local function skip(r, n)
  if n < 0 or r.at + n > r.size then fail("corrupt model: header runs past the end of the file") end
  if r.at + n <= r.base + #r.buf then
    r.at = r.at + n
    return
  end
  r.at = r.at + n
  r.file:seek("set", r.at)
  r.buf, r.base = "", r.at
end

local function scalar(r, kind)
  local spec = Gguf.SCALARS[kind]
  if spec == nil then fail("corrupt model: unknown metadata type " .. tostring(kind)) end
  need(r, spec[2])
  local value = string.unpack(spec[1], r.buf, r.at - r.base + 1)
  r.at = r.at + spec[2]
  if kind == BOOL then return value ~= 0 end
  return value
end

local function u32(r) return scalar(r, 4) end

local function count(r)
  local n = scalar(r, 10)
  if n < 0 or n > r.size then fail("corrupt model: impossible count " .. tostring(n)) end
  return n
end

local function str(r)
  local n = count(r)
  need(r, n)
  local s = string.sub(r.buf, r.at - r.base + 1, r.at - r.base + n)
  r.at = r.at + n
  return s
end

-- Reads one metadata value. Arrays come back as { n = length, values = {...} }; only numeric
-- arrays of at most 4096 elements keep their values (per-layer hyper-parameters), and for
-- string arrays onString(s) is called for every element instead.
local function value(r, onString)
  local kind = u32(r)
  if kind == STRING then return str(r) end
  if kind ~= ARRAY then return scalar(r, kind) end
  local element, n = u32(r), count(r)
  local array = { n = n, kind = element }
  if element == STRING then
    for _ = 1, n do
      local s = str(r)
      if onString then onString(s) end
    end
  elseif element == ARRAY then
    fail("corrupt model: nested metadata array")
  else
    local spec = Gguf.SCALARS[element]
    if spec == nil then fail("corrupt model: unknown metadata type " .. tostring(element)) end
    if n <= 4096 then
      array.values = {}
      for i = 1, n do array.values[i] = scalar(r, element) end
    else
      skip(r, n * spec[2])
    end
  end
  return array
end

-- Reads and checks the header of an open GGUF file; returns meta, tensors (in file order).
function Gguf.read(file, size)
  local r = newReader(file, size)
  if size < 24 then fail("not a GGUF model: file is only " .. size .. " bytes") end
  need(r, 4)
  if string.sub(r.buf, 1, 4) ~= "GGUF" then fail("not a GGUF model: bad magic") end
  r.at = 4
  local version = u32(r)
  if version ~= 2 and version ~= 3 then fail("unsupported GGUF version " .. version) end
  local nTensors, nKeys = count(r), count(r)

  local meta, lineFeed = {}, false
  local function onToken(s)
    if s == "<0x0A>" or s == "\n" then lineFeed = true end
  end
  for _ = 1, nKeys do
    local key = str(r)
    if meta[key] ~= nil then fail("corrupt model: duplicate key " .. key) end
    meta[key] = value(r, key == "tokenizer.ggml.tokens" and onToken or nil)
  end
  meta["$lineFeed"] = lineFeed

  local alignment = meta["general.alignment"] or 32
  if math.type(alignment) ~= "integer" or alignment < 1 or alignment & (alignment - 1) ~= 0 then
    fail("corrupt model: bad alignment")
  end

  local tensors, byName = {}, {}
  for _ = 1, nTensors do
    local name = str(r)
    local nDims = u32(r)
    if nDims < 1 or nDims > 4 then fail("corrupt model: tensor " .. name .. " has " .. nDims .. " dimensions") end
    local dims = {}
    for d = 1, nDims do dims[d] = count(r) end
    local kind = u32(r)
    local offset = scalar(r, 10)
    if byName[name] then fail("corrupt model: duplicate tensor " .. name) end
    local tensor = { name = name, dims = dims, kind = kind, offset = offset }
    tensors[#tensors + 1] = tensor
    byName[name] = tensor
  end

  local dataStart = (r.at + alignment - 1) // alignment * alignment
  for _, t in ipairs(tensors) do
    local spec = Gguf.TYPES[t.kind]
    if spec == nil then fail("unsupported tensor type " .. t.kind .. " (" .. t.name .. ")") end
    local elements = 1
    for _, d in ipairs(t.dims) do
      -- no format stores more than 8 elements per byte: bounds the product without overflow
      if d < 1 or d > size * 8 // elements then fail("corrupt model: tensor " .. t.name .. " is too large") end
      elements = elements * d
    end
    if t.dims[1] % spec[1] ~= 0 then fail("corrupt model: tensor " .. t.name .. " has a partial block") end
    local bytes = elements // spec[1] * spec[2]
    if t.offset < 0 or t.offset % alignment ~= 0 then fail("corrupt model: tensor " .. t.name .. " is misaligned") end
    if t.offset > size or dataStart + t.offset + bytes > size then
      fail("corrupt model: tensor " .. t.name .. " lies past the end of the file (truncated?)")
    end
  end
  return meta, tensors, byName
end

local TOKENIZERS = { llama = true, gpt2 = true, bert = true, t5 = true, no_vocab = true }

-- What llama.cpp requires of any model's vocabulary.
function Gguf.checkVocabulary(meta)
  local model = meta["tokenizer.ggml.model"]
  if type(model) ~= "string" then fail("corrupt model: tokenizer.ggml.model is missing") end
  if not TOKENIZERS[model] then fail("unsupported tokenizer " .. model) end
  if model == "no_vocab" then return nil end
  local tokens = meta["tokenizer.ggml.tokens"]
  if type(tokens) ~= "table" or tokens.kind ~= STRING or tokens.n < 1 then
    fail("corrupt model: tokenizer.ggml.tokens is missing")
  end
  for _, key in ipairs({ "tokenizer.ggml.scores", "tokenizer.ggml.token_type" }) do
    local array = meta[key]
    if array ~= nil and (type(array) ~= "table" or array.n ~= tokens.n) then
      fail("corrupt model: " .. key .. " does not match the vocabulary")
    end
  end
  if model == "llama" and not meta["$lineFeed"] then fail("corrupt model: vocabulary has no line feed token") end
  if model == "gpt2" and type(meta["tokenizer.ggml.merges"]) ~= "table" then
    fail("corrupt model: tokenizer.ggml.merges is missing")
  end
  return tokens.n
end

-- A hyper-parameter that may be one number or one number per layer.
local function perLayer(v, layer)
  if type(v) == "table" then return v.values and v.values[layer + 1] end
  return v
end

local function sameDims(dims, expected)
  for i = 1, 4 do
    if (dims[i] or 1) ~= (expected[i] or 1) then return false end
  end
  return true
end

local function dimsText(dims) return "[" .. table.concat(dims, ", ") .. "]" end

-- The llama architecture: hyper-parameters, and every tensor's presence and shape.
function Gguf.checkLlama(meta, tensors, byName, nVocabTokens)
  local function key(name, required)
    local v = meta["llama." .. name]
    if v == nil and required then fail("corrupt model: llama." .. name .. " is missing") end
    return v
  end
  local function positive(v, what)
    if math.type(v) ~= "integer" or v < 1 then fail("corrupt model: bad " .. what) end
    return v
  end
  key("context_length", true)
  key("attention.layer_norm_rms_epsilon", true)
  local nEmbd = positive(key("embedding_length", true), "llama.embedding_length")
  local nLayer = positive(key("block_count", true), "llama.block_count")
  local nVocab = key("vocab_size") or nVocabTokens
  if nVocab == nil then fail("corrupt model: vocabulary size unknown") end
  if nVocabTokens ~= nil and nVocab ~= nVocabTokens then fail("corrupt model: llama.vocab_size does not match the vocabulary") end
  local nExpert = key("expert_count") or 0
  local headCount, headCountKv, ffLength = key("attention.head_count", true), key("attention.head_count_kv"), key("feed_forward_length", true)

  local expected = {}
  local function expect(name, dims, optional) expected[name] = { dims = dims, optional = optional } end
  local function allow(name) expected[name] = { optional = true } end
  expect("token_embd.weight", { nEmbd, nVocab })
  expect("output_norm.weight", { nEmbd })
  expect("output.weight", { nEmbd, nVocab }, true)
  allow("rope_freqs.weight")
  for i = 0, nLayer - 1 do
    local nHead = positive(perLayer(headCount, i), "llama.attention.head_count")
    local nHeadKv = positive(perLayer(headCountKv, i) or nHead, "llama.attention.head_count_kv")
    local nFf = positive(perLayer(ffLength, i), "llama.feed_forward_length")
    local headK = key("attention.key_length") or nEmbd // nHead
    local headV = key("attention.value_length") or nEmbd // nHead
    local p = "blk." .. i .. "."
    expect(p .. "attn_norm.weight", { nEmbd })
    expect(p .. "attn_q.weight", { nEmbd, headK * nHead })
    expect(p .. "attn_k.weight", { nEmbd, headK * nHeadKv })
    expect(p .. "attn_v.weight", { nEmbd, headV * nHeadKv })
    expect(p .. "attn_output.weight", { headK * nHead, nEmbd })
    expect(p .. "attn_q.bias", { headK * nHead }, true)
    expect(p .. "attn_k.bias", { headK * nHeadKv }, true)
    expect(p .. "attn_v.bias", { headV * nHeadKv }, true)
    expect(p .. "attn_output.bias", { nEmbd }, true)
    expect(p .. "ffn_norm.weight", { nEmbd })
    if nExpert == 0 then
      expect(p .. "ffn_gate.weight", { nEmbd, nFf })
      expect(p .. "ffn_down.weight", { nFf, nEmbd })
      expect(p .. "ffn_up.weight", { nEmbd, nFf })
    else
      for _, name in ipairs({ "ffn_gate_inp", "ffn_gate_exps", "ffn_down_exps", "ffn_up_exps", "ffn_gate", "ffn_down", "ffn_up" }) do
        allow(p .. name .. ".weight")
      end
    end
  end

  for _, t in ipairs(tensors) do
    local e = expected[t.name]
    if e == nil then fail("corrupt model: unexpected tensor " .. t.name) end
    if e.dims and not sameDims(t.dims, e.dims) then
      fail("corrupt model: tensor " .. t.name .. " is " .. dimsText(t.dims) .. ", expected " .. dimsText(e.dims))
    end
  end
  for name, e in pairs(expected) do
    if not e.optional and byName[name] == nil then fail("corrupt model: tensor " .. name .. " is missing") end
  end
end

-- Checks /data/<id>; returns nil when llama.cpp can be given the file, else a reason.
function Gguf.preflight(path)
  local file = io.open(path, "rb")
  if file == nil then return "model not found: " .. path end
  local ok, err = pcall(function()
    local size = file:seek("end")
    file:seek("set", 0)
    local meta, tensors, byName = Gguf.read(file, size)
    local nVocab = Gguf.checkVocabulary(meta)
    if meta["general.architecture"] == nil then fail("corrupt model: general.architecture is missing") end
    if meta["general.architecture"] == "llama" then Gguf.checkLlama(meta, tensors, byName, nVocab) end
  end)
  file:close()
  if ok then return nil end
  if type(err) == "table" then return err.reason end
  return "model check failed: " .. tostring(err)
end

-- Exposed for diagnostics: Worker.checkModel("/data/<id>") -> nil or the reason it would fail.
Worker.checkModel = Gguf.preflight

---------------------------------------------------------------------------------------------
-- Init
---------------------------------------------------------------------------------------------

local function loadModel(id)
  if not string.match(id, "^[%w_%-]+$") or #id > 128 then return "invalid Model-ID" end
  local path = "/data/" .. id
  local problem = Gguf.preflight(path)
  if problem then return problem end
  Worker.state = "loading"
  local ok, result = pcall(llama.load, path)
  if not ok then return "model load failed: " .. tostring(result) end
  if result ~= nil and result ~= 0 then
    return "model load failed: llama.cpp returned " .. tostring(result) .. (Worker.lastLog and (" (" .. Worker.lastLog .. ")") or "")
  end
  return nil
end

local function init(msg)
  local herderTag = tag(msg, "Herder")
  if msg.From == Owner and herderTag ~= nil and herderTag ~= "" then Herder = herderTag end
  local modelId = tag(msg, "Model-ID")

  local answer
  if Worker.state == "ready" then
    answer = { Action = "Worker-Initialized", ["Model-ID"] = Worker.model }
  elseif Worker.state == "failed" or Worker.state == "loading" then
    Worker.state = "failed"
    answer = { Action = "Worker-Error", ["X-Reason"] = "model load failed earlier; spawn a new worker" }
  elseif modelId == nil or modelId == "" then
    answer = { Action = "Worker-Error", ["X-Reason"] = "Model-ID is missing" }
  else
    local problem = loadModel(modelId)
    if problem then
      Worker.state, Worker.reason = "failed", problem
      answer = { Action = "Worker-Error", ["X-Reason"] = problem }
    else
      Worker.state, Worker.model = "ready", modelId
      answer = { Action = "Worker-Initialized", ["Model-ID"] = modelId }
    end
  end

  reply(msg.From, answer)
  if Herder ~= nil and Herder ~= msg.From then reply(Herder, answer) end
end

---------------------------------------------------------------------------------------------
-- Inference
---------------------------------------------------------------------------------------------

-- Up to limit tokens after prompt; fewer only when the model ends the sequence.
local function generate(prompt, limit)
  llama.set_prompt(prompt)
  local pieces, produced = {}, 0
  while produced < limit do
    local piece = llama.next()
    if piece == nil then break end
    produced = produced + 1
    pieces[produced] = piece
  end
  return table.concat(pieces), produced
end

local function inference(msg)
  local request = tag(msg, "X-Request") or ""
  local function refuse(reason)
    reply(msg.From, { Action = "Inference-Error", ["X-Request"] = request, ["X-Reason"] = reason })
  end
  if Worker.state ~= "ready" then return refuse("model not loaded") end
  local tokens = tag(msg, "Tokens")
  if type(tokens) ~= "string" or not string.match(tokens, "^%d+$") or tonumber(tokens) < 1 then
    return refuse(REASON.BadTokens .. " >= 1")
  end
  local prompt = msg.Data or ""
  if type(prompt) ~= "string" then prompt = tostring(prompt) end
  if #prompt > MAX_PROMPT_BYTES then
    return refuse("prompt too long: at most " .. MAX_PROMPT_BYTES .. " bytes")
  end
  local ok, text, produced = pcall(generate, prompt, tonumber(tokens))
  if not ok then return refuse("generation failed: " .. tostring(text)) end
  reply(msg.From, {
    Action = "Inference-Response",
    ["X-Request"] = request,
    ["Tokens-Generated"] = tostring(produced),
  }, text)
end

---------------------------------------------------------------------------------------------
-- Handlers
---------------------------------------------------------------------------------------------

Handlers.add("Worker.Init",
  function(msg)
    return tag(msg, "Action") == "Init" and (msg.From == Owner or (Herder ~= nil and msg.From == Herder))
  end,
  init)

Handlers.add("Worker.Inference",
  function(msg)
    return tag(msg, "Action") == "Inference" and Herder ~= nil and msg.From == Herder
  end,
  inference)
