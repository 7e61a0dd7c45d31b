-- A tag's value whatever the case of its name (aos 2.0.6 Title-Cases names on arrival:
-- Model-ID arrives as Model-Id): the exact name first, else a name of the same length that is
-- equal ignoring case (the others are not lower-cased at all).
local function tag(msg, name)
  local tags = msg.Tags or {}
  local exact = tags[name]
  if exact ~= nil then return exact end
  local wanted, length = string.lower(name), #name
  for key, value in pairs(tags) do
    if type(key) == 'string' and #key == length and string.lower(key) == wanted then return value end
  end
  return nil
end
