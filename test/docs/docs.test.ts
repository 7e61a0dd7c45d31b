/**
 * The committed docs are current: regenerating them from the code gives exactly the files on disk.
 * When this fails, run `npm run docs` and commit the result.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { type GeneratedFile, generateDocs, staleDocs } from '../../src/docs/generate.ts';
import { GUIDES, guideTemplate, SIMULATE_EXAMPLE } from '../../src/docs/guides.ts';
import { testTitles } from '../../src/docs/invariants-page.ts';
import { runSimulation } from '../../src/simulate/engine.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('generated docs', () => {
  let files: GeneratedFile[];
  beforeAll(async () => {
    files = await generateDocs(ROOT);
  });

  it('are up to date on disk (run `npm run docs` when this fails)', async () => {
    expect(files.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        'docs/protocol.md',
        'docs/lifecycle.md',
        'docs/invariants.md',
        'docs/guides/operators.md',
      ]),
    );
    const stale = await staleDocs(ROOT, files);
    expect(stale, `stale generated docs: ${stale.join(', ')} — run \`npm run docs\` and commit`).toEqual([]);
  });

  it('link the worked examples of a request’s life from the index and the protocol reference', () => {
    const page = (path: string) => files.find((f) => f.path === path)!.content;
    expect(page('docs/README.md')).toContain('](lifecycle.md)');
    expect(page('docs/protocol.md')).toContain('](lifecycle.md)');
  });

  it('are the same when generated twice (no dates, no timings, no randomness)', async () => {
    expect(await generateDocs(ROOT)).toEqual(files);
  });

  it('show simulator output that `herd simulate` really prints for the command shown', async () => {
    let stdout = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      stdout += String(chunk);
      return true;
    });
    try {
      expect(await main(['node', 'herd', 'simulate', ...SIMULATE_EXAMPLE.args, '--json'])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    const { wallMs: _a, ...fromCli } = JSON.parse(stdout).result;
    const { wallMs: _b, ...fromDocs } = JSON.parse(
      JSON.stringify(runSimulation(SIMULATE_EXAMPLE.options()), (_k, v) =>
        typeof v === 'bigint' ? String(v) : v,
      ),
    );
    expect(fromCli).toEqual(fromDocs);
  });

  it('use only known blocks in the guide templates', () => {
    for (const guide of GUIDES) {
      const blocks = guideTemplate(guide).match(/\{\{[^}]*\}\}/g) ?? [];
      for (const b of blocks) expect(b).toMatch(/^\{\{[a-z-]+(:[a-z-]+)?\}\}$/);
    }
  });

  it('read property titles from test sources', () => {
    expect(testTitles(`it('a \\'quoted\\' title', () => {}); it(\`x \${y}\`, () => {}); it("b", f)`)).toEqual(
      ["a 'quoted' title", 'b'],
    );
  });
});
