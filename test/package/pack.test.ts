/**
 * The published package, as a user gets it: `npm pack`, installed into an empty directory (its
 * dependencies from the registry). Slow (2–4 minutes, most of it `npm install`) and needs
 * the registry, so it runs only with HERD_PACK_TEST=1:
 *
 *   HERD_PACK_TEST=1 npx vitest run test/package
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'herd-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });

describe.runIf(process.env.HERD_PACK_TEST === '1')('npm pack, installed', () => {
  let files: string[] = [];
  let tarball = '';

  it('packs compiled code, declarations, docs and the license, and no tests or tool configs', () => {
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], ROOT))[0];
    tarball = join(dir, packed.filename);
    files = packed.files.map((f: { path: string }) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'package.json',
        'bin/herd.js',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/cli/main.js',
        'dist/lua-export/lua/herder.lua',
        'dist/checker/thread.ts',
        'docs/guides/deploying.md',
      ]),
    );
    const unwanted = files.filter(
      (f) =>
        /^(test|bench|\.ci|src|scripts|reports|\.cache)\//.test(f) ||
        /^(vitest|stryker|biome|typedoc|tsconfig)[^/]*$/.test(f) ||
        /\.test\.(ts|js)$/.test(f),
    );
    expect(unwanted).toEqual([]);
  }, 300_000);

  it('installs into an empty directory; plain node imports the API; the bin runs compiled code', () => {
    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), '{"name":"app","private":true,"type":"module"}');
    npm(['install', '--no-audit', '--no-fund', tarball], app);
    const names = ['HerderClient', 'neededFee', 'parseConfig', 'step', 'initialHerderState', 'verifyHerder'];
    const script = `import * as h from 'llama-herder';
const c = h.parseConfig({ token: 'T', owner: 'O' });
console.log(JSON.stringify({ types: ${JSON.stringify(names)}.map((n) => typeof h[n]), fee: String(h.neededFee(c.config, 16, 'Tell me about llamas')) }));`;
    const imported = JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: app, encoding: 'utf8' }),
    );
    expect(imported).toEqual({ types: names.map(() => 'function'), fee: '300' });

    // A TypeScript consumer type-checks against the declarations (Node's types from this checkout).
    writeFileSync(
      join(app, 'consumer.ts'),
      `import { type HerdConfig, HerderClient, initialHerderState, neededFee, parseConfig, step, verifyHerder } from 'llama-herder';
const parsed = parseConfig({ token: 'T', owner: 'O' });
if (parsed.ok) {
  const config: HerdConfig = parsed.config;
  const fee: bigint = neededFee(config, 16, 'hello');
  const { state } = step(initialHerderState(config), { Id: 'm1', From: 'T', Owner: 'T', Tags: [], Data: '', Timestamp: 0 } as never);
  console.log(fee, state, typeof HerderClient, typeof verifyHerder);
}
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          typeRoots: [join(ROOT, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    );
    const tsc = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app],
      {
        encoding: 'utf8',
      },
    );
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);

    const herd = (...args: string[]) =>
      spawnSync(process.execPath, [join(app, 'node_modules', '.bin', 'herd'), ...args], {
        cwd: app,
        encoding: 'utf8',
        env: { ...process.env, HERD_CACHE_DIR: join(dir, 'cache') },
      });
    const checked = herd('check', '--workers', '2', '--requests', '3', '--max-overtakes', 'unbounded');
    expect(checked.status, checked.stderr).toBe(0);
    const docs = herd('docs');
    expect(docs.status).toBe(2);
    expect(docs.stderr).toMatch(
      /^herd: herd docs regenerates docs\/ in a checkout of the llama-herder repository[^\n]*\n$/,
    );
  }, 600_000);
});
