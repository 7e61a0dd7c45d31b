/**
 * The Llama bridge inside llama.wasm (a process of the local network): `require("llama")` offers
 * the raw backend and the wrapper API, the global `Llama` keeps `onLog` / `onProgress` whatever
 * worker code assigns to it, and a model loads and generates through either API. Also the
 * WeaveDrive's fallback, which serves a model under an id it has no file for.
 */
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LLAMA_BRIDGE_LUA } from '../../src/ao/llama-bridge.ts';
import { LocalNetwork } from '../../src/ao/network.ts';
import { useBaselineWasmOnly } from '../../src/demo/wasm-tiering.ts';
import { ensureTinyModel, type ModelFile } from '../../src/gguf/cache.ts';
import { createWeaveDrive, type WeaveDriveEvent } from '../../src/weavedrive/index.ts';

useBaselineWasmOnly();

const RAW = ['load', 'set_prompt', 'next', 'run', 'add', 'stop'];
const OTHER_ID = 'x'.repeat(43);

describe('the Llama bridge in llama.wasm', () => {
  let net: LocalNetwork;
  let model: ModelFile;
  let plain: string;
  let bridged: string;
  const events: WeaveDriveEvent[] = [];
  const owner = 'o'.repeat(43);

  beforeAll(async () => {
    model = await ensureTinyModel();
    net = await LocalNetwork.create({ seed: 'llama-bridge' });
    const weaveDrive = createWeaveDrive({
      modelsDir: dirname(model.path),
      fallbackId: model.id,
      onEvent: (e) => events.push(e),
    });
    plain = await net.spawn({ module: 'llama', owner, name: 'plain' });
    bridged = await net.spawn({
      module: 'llama',
      owner,
      name: 'bridged',
      weaveDrive,
      boot: LLAMA_BRIDGE_LUA,
    });
  });
  afterAll(() => net?.close());

  const types = (pid: string, names: readonly string[], on = 'require("llama")') =>
    net.eval(
      pid,
      `local t = ${on} local out = {} for _, k in ipairs({${names.map((n) => `"${n}"`).join(',')}}) do out[#out + 1] = type(t[k]) end return table.concat(out, " ")`,
    );

  it('without it, require("llama") is the raw backend: no setPrompt', async () => {
    expect(await types(plain, RAW)).toBe(RAW.map(() => 'function').join(' '));
    expect(await types(plain, ['setPrompt', 'info', 'onLog'])).toBe('nil nil nil');
  });

  it('with it, require("llama") offers both APIs, the raw functions being the backend\'s own', async () => {
    expect(
      await types(bridged, [...RAW, 'setPrompt', 'info', 'onLog', 'onProgress', 'backend', 'logLevels']),
    ).toBe(
      [...RAW.map(() => 'function'), 'function', 'function', 'function', 'function', 'table', 'table'].join(
        ' ',
      ),
    );
    expect(
      await net.eval(
        bridged,
        'local l = require("llama") return tostring(l.set_prompt == l.backend.set_prompt and l.next == l.backend.next)',
      ),
    ).toBe('true');
    expect(await net.eval(bridged, 'return tostring(Llama == require("llama"))')).toBe('true');
    // Evaluating it again changes nothing.
    await net.eval(bridged, LLAMA_BRIDGE_LUA);
    expect(
      await net.eval(bridged, 'return tostring(Llama == require("llama") and Llama.backend ~= Llama)'),
    ).toBe('true');
  });

  it('the global Llama keeps onLog and onProgress whatever is assigned to it', async () => {
    await net.eval(bridged, 'Llama = {}');
    expect(await types(bridged, ['onLog', 'onProgress', 'setPrompt'], 'Llama')).toBe('function function nil');
    await net.eval(bridged, 'Mine = function() end Llama = { onLog = Mine }');
    expect(
      await net.eval(bridged, 'return tostring(Llama.onLog == Mine) .. " " .. type(Llama.onProgress)'),
    ).toBe('true function');
    await net.eval(bridged, 'Llama = nil');
    expect(await net.eval(bridged, 'return tostring(Llama == require("llama"))')).toBe('true');
    // Other globals are untouched.
    await net.eval(bridged, 'Other = 42');
    expect(await net.eval(bridged, 'return tostring(rawget(_G, "Other"))')).toBe('42');
  });

  it('a model loads under a hard-coded id and generates through the wrapper API, Llama reassigned first', async () => {
    const out = await net.eval(
      bridged,
      `Llama = {}
       local L = require("llama")
       L.load("/data/${OTHER_ID}")
       L.setPrompt("Tell me about llamas")
       local text = ""
       for _ = 1, 5 do local t = L.next() if t == nil then break end text = text .. t end
       return text`,
    );
    expect(out.length).toBeGreaterThan(0);
    const opened = events.find((e) => e.kind === 'open' && e.path === `/data/${OTHER_ID}`);
    expect(opened).toMatchObject({ kind: 'open', size: model.bytes });
    // The raw API gives the same text for the same prompt.
    const raw = await net.eval(
      bridged,
      `local l = require("llama")
       l.set_prompt("Tell me about llamas")
       local text = ""
       for _ = 1, 5 do local t = l.next() if t == nil then break end text = text .. t end
       return text`,
    );
    expect(raw).toBe(out);
    // The wrapper module of llama.wasm still works on top of the bridge.
    const wrapped = await net.eval(
      bridged,
      `local W = require(".Llama")
       W.setPrompt("Tell me about llamas")
       local text = ""
       for _ = 1, 5 do local t = W.next() if t == nil then break end text = text .. t end
       return text`,
    );
    expect(wrapped).toBe(out);
    // Only transaction ids fall back to the model: other names under /data stay missing.
    expect(await net.eval(bridged, 'return tostring(io.open("/data/missing.lua") == nil)')).toBe('true');
  });
});
