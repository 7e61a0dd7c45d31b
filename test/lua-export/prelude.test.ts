import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalNetwork } from '../../src/ao/network.ts';
import { clientPackage } from '../../src/lua-export/client.ts';
import { configHash, herderLua } from '../../src/lua-export/herder.ts';
import { luaString } from '../../src/lua-export/lua-string.ts';
import { luaValue, preludeLua } from '../../src/lua-export/prelude.ts';
import { tokenLua } from '../../src/lua-export/token.ts';
import { workerLua } from '../../src/lua-export/worker.ts';
import { MAX_DIGITS, MAX_RAW_DIGITS } from '../../src/model/amount.ts';
import { makeConfig, SETTING_BOUNDS } from '../../src/model/config.ts';
import { Action, Reason } from '../../src/model/messages.ts';
import { SETTINGS } from '../../src/model/settings.ts';
import { DEDUP_WINDOW, MAX_UNREADY } from '../../src/model/state.ts';

describe('the Lua printer in aos', () => {
  let net: LocalNetwork;
  let pid: string;
  beforeAll(async () => {
    net = await LocalNetwork.create({ seed: 'prelude' });
    pid = await net.spawn({ module: 'aos32', owner: 'OWNER' });
  });
  afterAll(() => net.close());

  /** The bytes of the Lua string `literal` evaluates to, as aos sees them. */
  const luaBytes = async (literal: string) =>
    JSON.parse(
      await net.eval(
        pid,
        `local s = ${literal} local b = {} for i = 1, #s do b[i] = string.byte(s, i) end return require('json').encode(b)`,
      ),
    ) as number[];

  it('luaString round-trips every ASCII character, escapes and UTF-8 through real Lua', async () => {
    const ascii = Array.from({ length: 128 }, (_, i) => String.fromCharCode(i)).join('');
    const samples = [
      ascii,
      'line\nbreak\r\ttab',
      '\u0000' + '1', // a NUL followed by a digit must not become "\01"
      'quote " and \\ backslash \\" end\\',
      'é € 𝄞 ☃',
      '',
      ']]--[[ long-bracket lookalikes',
    ];
    for (const sample of samples) {
      const literal = luaString(sample);
      expect(literal, JSON.stringify(sample)).not.toMatch(/[\n\r\0]/);
      const bytes = await luaBytes(literal);
      expect(bytes.length === 0 ? [] : bytes, JSON.stringify(sample)).toEqual([
        ...Buffer.from(sample, 'utf8'),
      ]);
    }
  });

  it('the prelude states the model constants in Lua', async () => {
    const out = await net.eval(
      pid,
      `${preludeLua(['protocol', 'tag'])}
return require('json').encode({ REASON = REASON, ACTION = ACTION, SETTINGS = SETTINGS,
  limits = { MAX_DIGITS, MAX_RAW_DIGITS, DEDUP_WINDOW, MAX_UNREADY, MAX_PROMPT_BYTES } })`,
    );
    const lua = JSON.parse(out) as {
      REASON: Record<string, string>;
      ACTION: Record<string, string>;
      SETTINGS: { name: string; tag: string; kind: string; action: string; min?: number; max?: number }[];
      limits: number[];
    };
    expect(lua.REASON).toEqual(Reason);
    expect(lua.ACTION).toEqual(Action);
    expect(lua.SETTINGS.map((s) => [s.name, s.tag, s.kind, s.action])).toEqual(
      SETTINGS.map((s) => [s.name, s.tag, s.kind, s.action]),
    );
    for (const s of lua.SETTINGS)
      if (s.kind === 'integer') {
        const bounds = SETTING_BOUNDS[s.name as keyof typeof SETTING_BOUNDS];
        expect([s.min, s.max], s.name).toEqual([bounds.min, bounds.max]);
      }
    expect(lua.limits).toEqual([
      MAX_DIGITS,
      MAX_RAW_DIGITS,
      DEDUP_WINDOW,
      MAX_UNREADY,
      SETTING_BOUNDS.maxPromptBytes.max,
    ]);
  });

  it("the prelude's tag() reads a tag whatever the case of its name, the exact name first", async () => {
    const out = await net.eval(
      pid,
      `${preludeLua(['tag'])}
local msg = { Tags = { ['X-Prompt'] = 'exact', ['model-id'] = 'lower', ['MODEL-IDX'] = 'longer' } }
return table.concat({ tag(msg, 'X-Prompt'), tag(msg, 'Model-ID'), tostring(tag(msg, 'Model')),
  tostring(tag({}, 'Action')) }, ',')`,
    );
    expect(out).toBe('exact,lower,nil,nil');
  });
});

describe('exported Lua', () => {
  const config = () =>
    makeConfig({
      token: 'TOKEN-ID',
      owner: 'OWNER-ID',
      baseFee: 5n,
      maxOvertakes: null,
      workers: ['W1', 'W2'],
    });

  it('is byte-identical for the same config, and differs with it', () => {
    expect(herderLua(config())).toBe(herderLua(config()));
    expect(workerLua({ herder: 'H' })).toBe(workerLua({ herder: 'H' }));
    expect(tokenLua({ name: 'T\n"x"' })).toBe(tokenLua({ name: 'T\n"x"' }));
    expect(clientPackage({ herder: 'H', token: 'T' })).toEqual(clientPackage({ herder: 'H', token: 'T' }));
    const other = makeConfig({ ...config(), maxOvertakes: 3 });
    expect(herderLua(other)).not.toBe(herderLua(config()));
    expect(configHash(other)).not.toBe(configHash(config()));
    expect(herderLua(config())).toContain(
      `HERDER_CONFIG = ${luaValue({
        token: 'TOKEN-ID',
        owner: 'OWNER-ID',
        baseFee: '5',
        tokenFee: '10',
        maxTokens: 512,
        maxPromptBytes: 510,
        maxOvertakes: null,
        timeoutBase: 60000,
        timeoutPerToken: 1000,
        maxAttempts: 3,
        maxQueueWait: 600000,
        workers: ['W1', 'W2'],
      })}\n`,
    );
  });

  it('states no refund reason itself: every Lua file under src/lua-export takes them from the prelude', () => {
    const dir = fileURLToPath(new URL('../../src/lua-export/', import.meta.url));
    const files = readdirSync(dir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.lua') || f.endsWith('.ts'));
    expect(files).toContain(join('lua', 'herder.lua'));
    for (const file of files) {
      const text = readFileSync(join(dir, file), 'utf8');
      for (const reason of Object.values(Reason))
        expect(text.includes(`'${reason}'`) || text.includes(`"${reason}"`), `${file}: ${reason}`).toBe(
          false,
        );
    }
  });
});
