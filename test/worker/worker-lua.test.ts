import { describe, expect, it } from 'vitest';
import { luaString, MAX_PROMPT_BYTES, workerLua } from '../../src/lua-export/worker.ts';
import { MODEL_VERSION } from '../../src/model/version.ts';

describe('worker.lua text', () => {
  it('starts with the header and the model version', () => {
    const lines = workerLua().split('\n');
    expect(lines[0]).toBe('-- llama-herder worker');
    expect(lines[1]).toBe(`-- model version: ${MODEL_VERSION}`);
  });

  it('is deterministic', () => {
    expect(workerLua()).toBe(workerLua());
    expect(workerLua({ herder: 'abc' })).toBe(workerLua({ herder: 'abc' }));
  });

  it('bakes the herder only when given', () => {
    expect(workerLua()).toContain('\nWORKER_CONFIG = {}\n');
    const id = 'H'.repeat(43);
    expect(workerLua({ herder: id })).toContain(`\nWORKER_CONFIG = { herder = "${id}" }\n`);
    expect(workerLua()).toContain('\nHerder = Herder or WORKER_CONFIG.herder\n');
  });

  it('defines the llama callbacks before loading and the prompt limit', () => {
    const lua = workerLua();
    expect(lua.indexOf('Llama.onLog = function')).toBeGreaterThan(0);
    expect(lua.indexOf('Llama.onProgress = function')).toBeGreaterThan(0);
    expect(lua.indexOf('Llama.onLog')).toBeLessThan(lua.indexOf('pcall(llama.load'));
    expect(lua).toContain(`local MAX_PROMPT_BYTES = ${MAX_PROMPT_BYTES}\n`);
    expect(lua).not.toContain('@');
  });

  it('quotes any string as a Lua literal', () => {
    expect(luaString('plain-id_09')).toBe('"plain-id_09"');
    expect(luaString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(luaString('\n\u0000é')).toBe('"\\n\\000\\195\\169"');
  });
});
