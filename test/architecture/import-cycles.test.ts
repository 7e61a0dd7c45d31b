/**
 * No import cycle in src/, type-only imports included: dependency-cruiser with the repository's
 * .dependency-cruiser.json (the same rule `npm run lint` applies). A cycle fails with its path.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cruise, type ICruiseOptions } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { describe, expect, it } from 'vitest';

const CONFIG = './.dependency-cruiser.json';

async function cycles(roots: string[], options: ICruiseOptions): Promise<string[]> {
  const result = await cruise(roots, options, {}, { tsConfig: extractTSConfig('tsconfig.json') });
  if (typeof result.output === 'string')
    throw new Error(`unexpected dependency-cruiser output: ${result.output}`);
  return result.output.summary.violations.map((v) =>
    [v.from, ...(v.cycle ?? []).map((step) => step.name)].join(' → '),
  );
}

describe('architecture', () => {
  it('src/ has no import cycle, type-only imports included', async () => {
    const options = await extractDepcruiseOptions(CONFIG);
    expect(await cycles(['src'], options)).toEqual([]);
  });

  it('the rule sees a cycle made only of type imports', async () => {
    const options = await extractDepcruiseOptions(CONFIG);
    // The same rule, scoped to a throw-away pair outside the tree instead of src/.
    const rules = options.ruleSet?.forbidden?.map((rule) => ({ ...rule, from: {} }));
    const dir = mkdtempSync(join(tmpdir(), 'cycle-check-'));
    try {
      writeFileSync(join(dir, 'a.ts'), "import type { B } from './b.ts';\nexport type A = { b?: B };\n");
      writeFileSync(join(dir, 'b.ts'), "import type { A } from './a.ts';\nexport type B = { a?: A };\n");
      const found = await cycles([dir], { ...options, ruleSet: { ...options.ruleSet, forbidden: rules } });
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/[ab]\.ts → .*[ab]\.ts → .*[ab]\.ts$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
