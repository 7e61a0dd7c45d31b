import { describe, expect, it } from 'vitest';
import { type AoEnv, AoInstance, type AoMessage, type AoResult } from '../../src/ao/loader.ts';
import { moduleBytes, moduleId, moduleSpec } from '../../src/ao/modules.ts';

const PID = 'P'.repeat(43);
const OWNER = 'O'.repeat(43);
const MU = 'M'.repeat(43);
const env: AoEnv = {
  Process: { Id: PID, Owner: OWNER, Tags: [{ name: 'Authority', value: MU }] },
  Module: { Id: 'module', Owner: OWNER, Tags: [] },
};

function messages() {
  let n = 0;
  return (fields: Partial<AoMessage> = {}): AoMessage => {
    n += 1;
    return {
      Id: `m${String(n).padStart(42, '0')}`,
      Target: PID,
      Owner: OWNER,
      From: OWNER,
      Tags: [],
      Data: '',
      Timestamp: 1_700_000_000_000 + n,
      'Block-Height': 1,
      Cron: false,
      ...fields,
    };
  };
}

function data(result: AoResult): string {
  return (result.Output as { data?: string } | undefined)?.data ?? '';
}

async function spawned(module: 'aos32' | 'aos64' = 'aos32') {
  const instance = await AoInstance.create(module);
  const msg = messages();
  const spawn = await instance.call(
    msg({ Id: PID, Module: 'module', Tags: [{ name: 'Type', value: 'Process' }] }),
    env,
  );
  expect(spawn.ok).toBe(true);
  const evalLua = async (lua: string, on: AoInstance = instance): Promise<AoResult> => {
    const out = await on.call(msg({ Tags: [{ name: 'Action', value: 'Eval' }], Data: lua }), env);
    if (!out.ok) throw out.error;
    return out.result;
  };
  return { instance, msg, evalLua };
}

describe('modules', () => {
  it('knows the three modules, reads bytes once and derives a 43-char module id', () => {
    expect(moduleSpec('aos32').format).toBe('wasm32-unknown-emscripten4');
    expect(moduleSpec('aos64').format).toBe('wasm64-unknown-emscripten-draft_2024_02_15');
    expect(moduleSpec('llama').memory64).toBe(true);
    expect(moduleBytes('aos32')).toBe(moduleBytes('aos32'));
    expect(moduleId('aos32')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(moduleId('aos32')).not.toBe(moduleId('aos64'));
  });
});

describe('guarded loader', () => {
  it('leaves Date.now, Math.random, console.log, performance.now and globalThis as they were', async () => {
    const before = {
      now: Date.now,
      random: Math.random,
      log: console.log,
      perf: performance.now,
      ownPerf: Object.hasOwn(performance, 'now'),
      globals: Object.getOwnPropertyNames(globalThis).sort(),
    };
    const check = () => {
      expect(Date.now).toBe(before.now);
      expect(Math.random).toBe(before.random);
      expect(console.log).toBe(before.log);
      expect(performance.now).toBe(before.perf);
      expect(Object.hasOwn(performance, 'now')).toBe(before.ownPerf);
      expect(Object.getOwnPropertyNames(globalThis).sort()).toEqual(before.globals);
    };
    const { instance, msg, evalLua } = await spawned();
    check();
    await evalLua('return 1');
    check();
    // A malformed message (no Tags) makes ao-loader's handle() throw mid-call.
    const thrown = await instance.call({ ...msg(), Tags: undefined } as unknown as AoMessage, env);
    expect(thrown.ok).toBe(false);
    expect(instance.broken).toBe(true);
    check();
    await expect(instance.call(msg(), env)).rejects.toThrow(/failed before/);
    check();
    expect(Date.now()).toBeGreaterThan(1_600_000_000_000);
  });

  it('gives the module a deterministic clock during a call', async () => {
    const a = await spawned();
    const b = await spawned();
    const lua = 'return tostring(os.clock()) .. "|" .. tostring(os.time())';
    const first = data(await a.evalLua(lua));
    expect(first).toMatch(/^[\d.]+\|\d+$/);
    const second = data(await b.evalLua(lua));
    expect(second).toBe(first);
  });

  it('snapshots the live memory and restores it in place', async () => {
    const { instance, evalLua } = await spawned();
    await evalLua('X = 1');
    const snap = instance.snapshot();
    expect(snap.data.byteLength).toBeLessThan(snap.byteLength / 4);
    await evalLua('X = 2; Big = {}; for i = 1, 100000 do Big[i] = "v" .. i end');
    expect(data(await evalLua('return #Big'))).toBe('100000');
    instance.restore(snap);
    expect(data(await evalLua('return tostring(X) .. " " .. tostring(Big)'))).toBe('1 nil');
  });

  it('restores a snapshot into a fresh instance, byte for byte on the live pages', async () => {
    const { instance, evalLua } = await spawned();
    await evalLua('Y = {}; for i = 1, 50000 do Y[i] = i * 2 end; Name2 = "kept"');
    const snap = instance.snapshot();
    const fresh = await instance.fork(snap);
    expect(fresh).not.toBe(instance);
    const again = fresh.snapshot();
    expect(again.offsets).toEqual(snap.offsets);
    expect(Buffer.from(again.data).equals(Buffer.from(snap.data))).toBe(true);
    const out = data(await evalLua('return Name2 .. " " .. #Y .. " " .. Y[50000]', fresh));
    expect(out).toBe('kept 50000 100000');
  });
});
