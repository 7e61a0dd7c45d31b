/**
 * The Llama bridge: Lua evaluated in every local AOS-Llama worker before the worker's own code,
 * so that worker code written for either shape of the AOS-Llama bindings runs unchanged.
 *
 * In llama.wasm, `require("llama")` returns the raw llama.cpp backend (`load`, `set_prompt`,
 * `next`, `run`, `add`, `stop`), and the Lua wrapper (`Llama.load`, `Llama.setPrompt`,
 * `Llama.next`, `Llama.info`, `Llama.onLog`, …, delegating to `Llama.backend`) is the separate
 * module `.Llama`. Other AOS-Llama builds return the wrapper from `require("llama")`, and code
 * written for them does `Llama = require("llama")` then `Llama.setPrompt(...)`. After the bridge:
 *
 * - `require("llama")` returns one table offering both APIs: the raw functions (the very same
 *   C functions) and the wrapper's (`setPrompt`, `info`, `backend`, `onLog`, `onProgress`,
 *   `logLevels`, `logLevel`, `log`, `logToStderr`);
 * - the global `Llama` is that table to begin with, and always has `onLog` and `onProgress`,
 *   which the llama.cpp bindings call through the global while loading: a table assigned to
 *   `Llama` gets the bridge's defaults for whichever of the two it lacks, and assigning `nil`
 *   brings the bridge back. This is done by a metatable on `_G` that watches the one name
 *   `Llama`; every other global is untouched.
 *
 * The default log handler keeps the last lines per level (not every line forever, as the
 * wrapper does: a worker lives long) and writes to stderr only when `logToStderr` is set.
 * Evaluating the bridge again is harmless.
 */

/** The bridge's Lua source (evaluate it as an owner Eval before the worker's code). */
export const LLAMA_BRIDGE_LUA = `-- llama-herder: Llama bridge (raw backend and wrapper API on require("llama"))
do
  local loaded = package.loaded
  local current = loaded["llama"]
  if type(current) ~= "table" or not current.__llamaHerderBridge then
    local backend = current
    if type(backend) ~= "table" then backend = require("llama") end
    local bridge = { __llamaHerderBridge = true, backend = backend }
    -- The raw API: the backend's own functions.
    for key, value in pairs(backend) do bridge[key] = value end
    -- The wrapper API, as the .Llama module defines it.
    function bridge.info() return "A decentralized LLM inference engine, built on top of llama.cpp." end
    function bridge.setPrompt(prompt) return backend.set_prompt(prompt) end
    if bridge.load == nil then function bridge.load(id) return backend.load(id) end end
    if bridge.set_prompt == nil then function bridge.set_prompt(prompt) return backend.set_prompt(prompt) end end
    bridge.logLevels = { [2] = "error", [3] = "warn", [4] = "info", [5] = "debug" }
    bridge.logLevel = 5
    bridge.logToStderr = false
    bridge.log = {}
    local KEEP = 50
    local function onLog(level, text)
      if type(level) ~= "number" or level > bridge.logLevel then return end
      local name = bridge.logLevels[level] or tostring(level)
      if bridge.logToStderr then
        io.stderr:write(name .. ": " .. tostring(text))
        io.stderr:flush()
      end
      local lines = bridge.log[name]
      if lines == nil then
        lines = {}
        bridge.log[name] = lines
      end
      lines[#lines + 1] = text
      if #lines > KEEP then table.remove(lines, 1) end
    end
    local function onProgress(progress) bridge.progress = progress end
    bridge.onLog = onLog
    bridge.onProgress = onProgress
    loaded["llama"] = bridge

    -- The global Llama: the bridge until assigned; whatever is assigned keeps onLog/onProgress.
    local function complete(value)
      if type(value) == "table" then
        if rawget(value, "onLog") == nil and value.onLog == nil then rawset(value, "onLog", onLog) end
        if rawget(value, "onProgress") == nil and value.onProgress == nil then
          rawset(value, "onProgress", onProgress)
        end
      end
      return value
    end
    local held = complete(rawget(_G, "Llama") or bridge)
    rawset(_G, "Llama", nil)
    local meta = getmetatable(_G) or {}
    local nextIndex, nextNewIndex = meta.__index, meta.__newindex
    meta.__index = function(t, key)
      if key == "Llama" then
        if held == nil then return bridge end
        return held
      end
      if type(nextIndex) == "function" then return nextIndex(t, key) end
      if nextIndex ~= nil then return nextIndex[key] end
      return nil
    end
    meta.__newindex = function(t, key, value)
      if key == "Llama" then
        held = complete(value)
        return
      end
      if type(nextNewIndex) == "function" then return nextNewIndex(t, key, value) end
      if nextNewIndex ~= nil then
        nextNewIndex[key] = value
        return
      end
      rawset(t, key, value)
    end
    setmetatable(_G, meta)
  end
end
`;
