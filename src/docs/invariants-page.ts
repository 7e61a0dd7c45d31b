/**
 * docs/invariants.md: each invariant (src/audit/invariants.ts) and where it is checked, found by
 * reading the project itself: the property file named after it, the white-box model checks, the
 * black-box auditor, `herd verify`, the model checker and the seeded defects it catches.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INVARIANT_NAMES, INVARIANTS, type InvariantName } from '../audit/invariants.ts';
import { cell, code, generatedHeader, table } from './markdown.ts';

/** What the project says about where each invariant is checked. */
export interface InvariantCoverage {
  readonly name: InvariantName;
  readonly statement: string;
  /** test/properties/<name>.test.ts, when it exists, with the titles of its properties. */
  readonly propertyFile: string | undefined;
  readonly properties: readonly string[];
  /** Checked on the model's own state after every step of every property trace. */
  readonly whiteBox: boolean;
  /** Checked by the black-box auditor (properties, conformance in WASM, `herd verify`). */
  readonly auditor: boolean;
  /** Reported by `herd verify`. */
  readonly verify: boolean;
  /** Files of the model checker that name it. */
  readonly checker: readonly string[];
  /** Seeded defects (the shared catalogue, test/defects/catalogue.ts) that this invariant catches. */
  readonly defects: readonly string[];
}

function read(root: string, path: string): string | undefined {
  const full = join(root, path);
  return existsSync(full) ? readFileSync(full, 'utf8') : undefined;
}

function mentions(source: string | undefined, name: string): boolean {
  return source !== undefined && (source.includes(`'${name}'`) || source.includes(`"${name}"`));
}

/** Titles of `it(...)` blocks whose title is a plain string literal. */
export function testTitles(source: string): string[] {
  const titles: string[] = [];
  const pattern = /\bit\(\s*(['"`])((?:\\.|(?!\1)[^\\])*)\1\s*,/g;
  for (let m = pattern.exec(source); m !== null; m = pattern.exec(source))
    if (!m[2]!.includes('${')) titles.push(m[2]!.replace(/\\(.)/g, '$1'));
  return titles;
}

function sourceFiles(root: string, dir: string): string[] {
  const full = join(root, dir);
  if (!existsSync(full)) return [];
  const files: string[] = [];
  for (const entry of readdirSync(full, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) files.push(...sourceFiles(root, path));
    else if (entry.name.endsWith('.ts')) files.push(path);
  }
  return files;
}

/** The invariants the black-box auditor has a rule for (src/audit/rules.ts). */
async function auditedInvariants(root: string): Promise<(name: string) => boolean> {
  const path = join(root, 'src/audit/rules.ts');
  const module = (await import(path)) as { RULES?: Readonly<Record<string, unknown>> };
  const rules = module.RULES;
  if (rules === undefined) throw new Error(`${path} no longer exports RULES, which docs/invariants.md shows`);
  return (name) => rules[name] !== undefined;
}

/** The invariants `herd verify` reports. */
async function verifiedInvariants(root: string): Promise<readonly string[]> {
  const path = join(root, 'src/verify/verify.ts');
  const module = (await import(path)) as { OBSERVABLE_INVARIANTS?: readonly string[] };
  if (module.OBSERVABLE_INVARIANTS === undefined)
    throw new Error(`${path} no longer exports OBSERVABLE_INVARIANTS, which docs/invariants.md shows`);
  return module.OBSERVABLE_INVARIANTS;
}

export async function invariantCoverage(root: string): Promise<InvariantCoverage[]> {
  const harness = read(root, 'test/properties/harness.ts');
  const inspect = harness?.slice(harness.indexOf('function inspectModel'));
  const audited = await auditedInvariants(root);
  const defectsSource =
    read(root, 'test/defects/catalogue.ts') ?? read(root, 'test/properties/seeded-defects.test.ts') ?? '';
  const defects: { defect: string; invariant: string }[] = [];
  const defectPattern = /defect:\s*'((?:\\.|[^'\\])*)',\s*invariant:\s*'([a-z-]+)'/g;
  for (let m = defectPattern.exec(defectsSource); m !== null; m = defectPattern.exec(defectsSource))
    defects.push({ defect: m[1]!.replace(/\\(.)/g, '$1'), invariant: m[2]! });
  const verified = await verifiedInvariants(root);
  const checkerFiles = sourceFiles(root, 'src/checker');
  const checkerSources = checkerFiles.map((path) => ({ path, source: read(root, path) }));
  return INVARIANT_NAMES.map((name) => {
    const propertyPath = `test/properties/${name}.test.ts`;
    const property = read(root, propertyPath);
    return {
      name,
      statement: INVARIANTS[name],
      propertyFile: property === undefined ? undefined : propertyPath,
      properties: property === undefined ? [] : testTitles(property),
      whiteBox: mentions(inspect, name),
      auditor: audited(name),
      verify: verified.includes(name),
      checker: checkerSources.filter((f) => mentions(f.source, name)).map((f) => f.path),
      defects: defects.filter((d) => d.invariant === name).map((d) => d.defect),
    };
  });
}

const yes = (b: boolean) => (b ? 'yes' : '—');

export async function invariantsPage(root: string): Promise<string> {
  const coverage = await invariantCoverage(root);
  const out: string[] = [];
  out.push(
    generatedHeader(
      'src/audit/invariants.ts and the files that check each invariant (test/properties/, src/audit/auditor.ts, src/verify/, src/checker/)',
    ),
  );
  out.push('');
  out.push('# Invariants');
  out.push('');
  out.push(
    'The protocol’s invariants are stated once, in `src/audit/invariants.ts`, and the same names are used ' +
      'by the property tests (one file per invariant in `test/properties/`), the black-box auditor ' +
      '(`src/audit/auditor.ts`, which watches only messages in and out), the model checker and ' +
      '`herd verify`. This page is generated by reading those files, so it shows where each invariant is ' +
      'checked in this build.',
  );
  out.push('');
  out.push(
    table(
      ['invariant', 'property test', 'model state', 'auditor', '`herd verify`', 'model checker'],
      coverage.map((c) => [
        `[${c.name}](#${c.name})`,
        c.propertyFile === undefined ? '—' : `[${c.name}.test.ts](../${c.propertyFile})`,
        yes(c.whiteBox),
        yes(c.auditor),
        yes(c.verify),
        yes(c.checker.length > 0),
      ]),
    ),
  );
  out.push('');
  out.push(
    '- **property test**: fast-check properties over random traces of the model, 1,000 runs each by default.',
  );
  out.push(
    '- **model state**: checked on the model’s own state after every step of every property trace ' +
      '(`inspectModel` in `test/properties/harness.ts`).',
  );
  out.push(
    '- **auditor**: checked from the outside, on every message in and out; the same auditor runs in the ' +
      'property tests, in the conformance tests of the Lua herder inside WebAssembly, and in `herd verify`.',
  );
  out.push(
    '- **`herd verify`**: black-box checking of any Lua herder (src/verify/); invariants that need the ' +
      'herder’s inside are not reported there.',
  );
  out.push(
    '- **model checker**: bounded exhaustive exploration (`herd check`, src/checker/); “yes” where its sources name the invariant.',
  );
  for (const c of coverage) {
    out.push('');
    out.push(`## ${c.name}`);
    out.push('');
    out.push(`> ${c.statement}`);
    out.push('');
    if (c.propertyFile !== undefined) {
      out.push(`Property test: [${c.propertyFile}](../${c.propertyFile})`);
      for (const title of c.properties) out.push(`- ${cell(title)}`);
    } else out.push('Property test: none named after it.');
    const where: string[] = [];
    if (c.whiteBox) where.push('on the model’s state after every step');
    if (c.auditor) where.push('by the black-box auditor');
    if (c.verify) where.push('by `herd verify`');
    if (c.checker.length > 0) where.push(`by the model checker (${c.checker.map(code).join(', ')})`);
    if (where.length > 0) {
      out.push('');
      out.push(`Also checked ${where.join(', ')}.`);
    }
    if (c.defects.length > 0) {
      out.push('');
      out.push('Seeded defects it catches (test/defects/catalogue.ts):');
      for (const d of c.defects) out.push(`- ${cell(d)}`);
    }
  }
  out.push('');
  return out.join('\n');
}
