-- Chatbot: an AO process that chats with anyone who messages it, keeping a short history per
-- conversation and paying a llama-herder herd for every reply with its own wAR.
--
-- Needs the llama-herder client package loaded first (its install.lua, from `herd export`).
--
--   -> Action = Chat, Data = your message (at most 200 bytes)
--   <- Action = Chat-Response, Turn, Fee-Paid, X-Request = <your message id>, Data = the reply
--   <- Action = Chat-Error, Reason, X-Request   (bad input, busy, or the payment was refunded)
--   -> Action = Reset-Chat                       forgets your conversation
--
-- Replies are cleaned before they are sent or remembered: invalid UTF-8 and control characters
-- are dropped, whitespace is collapsed, and an empty reply becomes a fixed placeholder. With the
-- tiny synthetic model used in tests the replies are noise; the flow is the real one.

local Llama = require('llama-herder')

Chatbot = Chatbot or {
  persona = 'You are a friendly llama. Answer in one short sentence.',
  tokens = 24,             -- tokens per reply
  maxMessageBytes = 200,
  maxReplyBytes = 160,     -- of a reply kept in the history
  maxPromptBytes = 480,    -- AOS-Llama runs prompts of at most 510 bytes
  historyTurns = 4,
  conversations = {},      -- user -> { count = turns so far, turns = { { user, llama }, ... } }
  busy = {},               -- user -> true while a reply is on its way
  replies = 0,
}

-- Valid UTF-8 only, no control characters, single spaces, trimmed.
function Chatbot.clean(text)
  if type(text) ~= 'string' then return '' end
  local parts, i = {}, 1
  while i <= #text do
    local length, bad = utf8.len(text, i)
    if length ~= nil then
      parts[#parts + 1] = string.sub(text, i)
      break
    end
    parts[#parts + 1] = string.sub(text, i, bad - 1)
    i = bad + 1
  end
  local clean = table.concat(parts)
  clean = string.gsub(clean, '%c', ' ')
  clean = string.gsub(clean, '%s+', ' ')
  clean = string.match(clean, '^%s*(.-)%s*$')
  return clean
end

-- Cuts a string to at most n bytes without splitting a UTF-8 sequence.
local function cut(text, n)
  if #text <= n then return text end
  local last = n
  while last > 0 and (string.byte(text, last + 1) or 0) & 0xC0 == 0x80 do last = last - 1 end
  return string.sub(text, 1, last)
end

-- Persona, then as many recent turns as fit, then the new message.
function Chatbot.prompt(history, message)
  local tail = 'User: ' .. message .. '\nLlama:'
  local turns = {}
  local size = #Chatbot.persona + 1 + #tail
  for i = #history, 1, -1 do
    local turn = 'User: ' .. history[i].user .. '\nLlama: ' .. history[i].llama .. '\n'
    if size + #turn > Chatbot.maxPromptBytes then break end
    table.insert(turns, 1, turn)
    size = size + #turn
  end
  return Chatbot.persona .. '\n' .. table.concat(turns) .. tail
end

local function chatError(target, request, reason)
  ao.send({ Target = target, Action = 'Chat-Error', Reason = reason, ['X-Request'] = request })
end

Handlers.add('chatbot.chat',
  function(msg) return msg.Tags.Action == 'Chat' end,
  function(msg)
    local user, request = msg.From, msg.Id
    if Chatbot.busy[user] then return chatError(user, request, 'still answering your previous message') end
    local message = Chatbot.clean(msg.Data)
    if message == '' then return chatError(user, request, 'send your message as Data') end
    if #message > Chatbot.maxMessageBytes then
      return chatError(user, request, 'message too long: at most ' .. Chatbot.maxMessageBytes .. ' bytes')
    end
    local conversation = Chatbot.conversations[user] or { count = 0, turns = {} }
    Chatbot.conversations[user] = conversation
    local history = conversation.turns
    Chatbot.busy[user] = true
    local ok, err = pcall(Llama.run, Chatbot.prompt(history, message), Chatbot.tokens, function(answer, result)
      Chatbot.busy[user] = nil
      if answer == nil then
        return chatError(user, request, 'no reply: ' .. tostring(result.reason))
      end
      local reply = Chatbot.clean(answer)
      if reply == '' then reply = '(the llama has nothing to say)' end
      history[#history + 1] = { user = message, llama = cut(reply, Chatbot.maxReplyBytes) }
      while #history > Chatbot.historyTurns do table.remove(history, 1) end
      conversation.count = conversation.count + 1
      Chatbot.replies = Chatbot.replies + 1
      ao.send({
        Target = user,
        Action = 'Chat-Response',
        Turn = tostring(conversation.count),
        ['Fee-Paid'] = tostring(result.fee),
        ['X-Request'] = request,
        Data = reply,
      })
    end)
    if not ok then
      Chatbot.busy[user] = nil
      chatError(user, request, tostring(err))
    end
  end)

Handlers.add('chatbot.reset',
  function(msg) return msg.Tags.Action == 'Reset-Chat' end,
  function(msg)
    Chatbot.conversations[msg.From] = nil
    ao.send({ Target = msg.From, Action = 'Chat-Reset' })
  end)
