-- Sentiment agent: an AO process that labels the sentiment of texts sent to it, paying a
-- llama-herder herd for each inference with its own wAR.
--
-- Needs the llama-herder client package loaded first (its install.lua, from `herd export`).
--
--   -> Action = Analyze-Sentiment, Data = the text (at most 300 bytes)
--   <- Action = Sentiment-Result, Sentiment = positive | negative | neutral | unknown,
--      Fee-Paid, X-Request = <your message id>, Data = the model's raw answer
--   <- Action = Sentiment-Error, Reason, X-Request   (bad input, or the payment was refunded)
--
-- The label is the first of positive / negative / neutral that appears in the answer; an answer
-- with none of them (always the case with the tiny synthetic model used in tests) is `unknown`.

local Llama = require('llama-herder')

Sentiment = Sentiment or {
  tokens = 4,            -- tokens to generate: a label needs few
  multiplier = '1',      -- priority: pay needed x multiplier
  maxTextBytes = 300,    -- keeps the prompt under AOS-Llama's 510-byte limit
  jobs = {},             -- reference -> { requester, request }
  count = 0,
  answered = 0,
  failed = 0,
}

local LABELS = { 'positive', 'negative', 'neutral' }

function Sentiment.prompt(text)
  return 'Classify the sentiment of the text as positive, negative or neutral.\nText: '
    .. text .. '\nSentiment:'
end

-- The first label the answer mentions (case-insensitive), else 'unknown'.
function Sentiment.label(answer)
  if type(answer) ~= 'string' then return 'unknown' end
  local lower = string.lower(answer)
  local best, at = 'unknown', math.huge
  for _, label in ipairs(LABELS) do
    local found = string.find(lower, label, 1, true)
    if found ~= nil and found < at then best, at = label, found end
  end
  return best
end

local function refuse(target, request, reason)
  Sentiment.failed = Sentiment.failed + 1
  ao.send({ Target = target, Action = 'Sentiment-Error', Reason = reason, ['X-Request'] = request })
end

local function onAnswer(answer, result)
  local job = Sentiment.jobs[result.reference]
  if job == nil then return end
  Sentiment.jobs[result.reference] = nil
  if answer == nil then
    return refuse(job.requester, job.request, 'inference not done: ' .. tostring(result.reason))
  end
  Sentiment.answered = Sentiment.answered + 1
  ao.send({
    Target = job.requester,
    Action = 'Sentiment-Result',
    Sentiment = Sentiment.label(answer),
    ['Fee-Paid'] = tostring(result.fee),
    ['X-Request'] = job.request,
    Data = answer,
  })
end

Handlers.add('sentiment.analyze',
  function(msg) return msg.Tags.Action == 'Analyze-Sentiment' end,
  function(msg)
    local text = msg.Data
    if type(text) ~= 'string' or string.match(text, '^%s*$') then
      return refuse(msg.From, msg.Id, 'send the text to analyse as Data')
    end
    if #text > Sentiment.maxTextBytes then
      return refuse(msg.From, msg.Id, 'text too long: at most ' .. Sentiment.maxTextBytes .. ' bytes')
    end
    Sentiment.count = Sentiment.count + 1
    local reference = 'sentiment-' .. Sentiment.count
    Sentiment.jobs[reference] = { requester = msg.From, request = msg.Id }
    local ok, err = pcall(Llama.run, Sentiment.prompt(text), Sentiment.tokens, onAnswer,
      { Multiplier = Sentiment.multiplier }, reference)
    if not ok then
      Sentiment.jobs[reference] = nil
      refuse(msg.From, msg.Id, tostring(err))
    end
  end)
