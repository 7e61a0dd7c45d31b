import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configHash, herderLua } from '../../src/lua-export/herder.ts';
import { makeConfig } from '../../src/model/config.ts';
import { MODEL_VERSION } from '../../src/model/version.ts';
import { herd } from '../cli-harness.ts';

describe('herd export', () => {
  it('writes byte-identical files for the same config, headed by version and config hash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herd-export-'));
    const config = join(dir, 'herd.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      config,
      JSON.stringify({ token: 'TOKEN-ID', owner: 'OWNER-ID', baseFee: '5', workers: ['W1'] }),
    );
    const first = await herd('export', '--config', config, '--out', join(dir, 'a'), '--json');
    const second = await herd('export', '--config', config, '--out', join(dir, 'b'));
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    const files = readdirSync(join(dir, 'a'), { recursive: true }).map(String).sort();
    expect(files).toEqual(
      expect.arrayContaining(['herder.lua', 'worker.lua', 'token.lua', join('client', 'main.lua')]),
    );
    for (const file of files.filter((f) => f.includes('.')))
      expect(readFileSync(join(dir, 'b', file), 'utf8'), file).toBe(
        readFileSync(join(dir, 'a', file), 'utf8'),
      );
    const herder = readFileSync(join(dir, 'a', 'herder.lua'), 'utf8');
    const parsed = makeConfig({ token: 'TOKEN-ID', owner: 'OWNER-ID', baseFee: 5n, workers: ['W1'] });
    expect(herder).toBe(herderLua(parsed));
    expect(herder.split('\n').slice(0, 3)).toEqual([
      '-- llama-herder herder',
      `-- model version: ${MODEL_VERSION}`,
      `-- config sha256: ${configHash(parsed)}`,
    ]);
    expect(JSON.parse(first.stdout).configSha256).toBe(configHash(parsed));
    expect(readFileSync(join(dir, 'a', 'client', 'main.lua'), 'utf8')).toContain('TOKEN-ID');
  });

  it('explains bad input in one line and exits non-zero', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herd-export-'));
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'bad.json'), '{"token": "T", "owner": "O", "baseFee": 5}');
    writeFileSync(join(dir, 'broken.json'), '{"token": ');
    const cases: [string[], RegExp][] = [
      [['export', '--out', dir], /no config: pass --config herd.json, or --token and --owner/],
      [
        ['export', '--config', join(dir, 'missing.json'), '--out', dir],
        /cannot read config .*missing.json: ENOENT/,
      ],
      [['export', '--config', join(dir, 'broken.json'), '--out', dir], /is not valid JSON/],
      [
        ['export', '--config', join(dir, 'bad.json'), '--out', dir],
        /baseFee must be a decimal string \(got 5\)/,
      ],
      [['export', '--token', 'bad id', '--owner', 'O', '--out', dir], /token must be a process id/],
    ];
    for (const [args, message] of cases) {
      const result = await herd(...args);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
