/**
 * Citations of the design document point at it and at sections it has: every "docs/design.md §N"
 * in the sources, tests, benchmarks, docs, scripts and examples names a numbered heading of
 * docs/design.md, and nothing cites a design document outside the repository.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DESIGN = 'docs/design.md';
const SCANNED = ['src', 'test', 'bench', 'docs', 'scripts', 'examples'];
/** Built locally by typedoc from the sources (not committed): their comments are checked at the source. */
const SKIPPED = new Set(['docs/api', 'node_modules']);
const TEXT = /\.(ts|mts|cts|js|mjs|cjs|lua|md|json|txt|html|svg|ya?ml)$/;

const NUMBER = String.raw`\d+(?:\.\d+)*`;
/** One cited section or range: `§2.3`, `§2.5–2.7`. */
const SECTION = new RegExp(String.raw`§\s*(${NUMBER})(?:\s*[–-]\s*(${NUMBER}))?`, 'g');
/** A citation: the document, then one or more sections (`§2.3, §2.7`, `§2.5 and §2.10`). */
const CITATION = new RegExp(
  String.raw`(?:docs/design\.md|\bDESIGN)\s*((?:§\s*${NUMBER}(?:\s*[–-]\s*${NUMBER})?(?:\s*(?:,|and|or)\s*(?=§))?)+)`,
  'g',
);
/** Citations of a design document that is not docs/design.md. */
const FOREIGN = /\bDESIGN(?:\.md)?\s*§|\bDESIGN\.md\b|shared\/DESIGN/;

/** The section numbers a text cites, both ends of a range included (`§2.5–7` ends at 2.7). */
function citedSections(text: string): string[] {
  const cited: string[] = [];
  for (const citation of text.matchAll(CITATION))
    for (const [, first, last] of citation[1]!.matchAll(SECTION)) {
      cited.push(first!);
      if (last !== undefined) cited.push(last.includes('.') ? last : first!.replace(/[^.]+$/, () => last));
    }
  return cited;
}

/** The numbers of docs/design.md's numbered headings: `## 2. The protocol` is 2, `### 2.9 …` is 2.9. */
function headingNumbers(markdown: string): Set<string> {
  const numbers = new Set<string>();
  for (const m of markdown.matchAll(new RegExp(String.raw`^#{1,6}\s+(${NUMBER})\.?\s`, 'gm')))
    numbers.add(m[1]!);
  return numbers;
}

function scannedFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (SKIPPED.has(path) || SKIPPED.has(entry.name)) continue;
    if (entry.isDirectory()) files.push(...scannedFiles(path));
    else if (entry.isFile() && TEXT.test(entry.name)) files.push(path);
  }
  return files;
}

interface Line {
  readonly where: string;
  readonly text: string;
}

function lines(): Line[] {
  return SCANNED.flatMap((dir) => scannedFiles(dir)).flatMap((path) =>
    readFileSync(join(ROOT, path), 'utf8')
      .split('\n')
      .map((text, i) => ({ where: `${relative(ROOT, join(ROOT, path))}:${i + 1}`, text })),
  );
}

describe('citations of docs/design.md', () => {
  const design = readFileSync(join(ROOT, DESIGN), 'utf8');
  const headings = headingNumbers(design);
  const all = lines();

  it('read sections, lists and ranges the way they are written', () => {
    const doc = 'docs/design.md';
    expect(citedSections(`(${doc} §2.5–2.7, §2.10) and ${doc} §3.`)).toEqual(['2.5', '2.7', '2.10', '3']);
    expect(citedSections(`${doc} §2 item 11; ${doc} §2.3 and §2.4; ${doc} §2.5–7`)).toEqual([
      '2',
      '2.3',
      '2.4',
      '2.5',
      '2.7',
    ]);
    expect(citedSections('§2.3 alone, or design.md §2.3 without the folder')).toEqual([]);
    expect([...headingNumbers('# Title\n## 2. The protocol\n### 2.9 Memory\n#### Not numbered\n')]).toEqual([
      '2',
      '2.9',
    ]);
  });

  it('name only sections that are headings of docs/design.md', () => {
    const missing: string[] = [];
    let citations = 0;
    for (const line of all)
      for (const section of citedSections(line.text)) {
        citations++;
        if (!headings.has(section)) missing.push(`${line.where}: §${section}`);
      }
    expect(citations, 'no citation found: is the pattern still right?').toBeGreaterThan(10);
    expect(missing, `cited sections that docs/design.md has no heading for:\n${missing.join('\n')}`).toEqual(
      [],
    );
  });

  it('inside docs/design.md, refer only to its own sections', () => {
    const missing = [...design.matchAll(SECTION)]
      .flatMap(([, first, last]) => (last === undefined ? [first!] : [first!, last]))
      .filter((section) => !headings.has(section));
    expect(missing).toEqual([]);
  });

  it('never cite a design document outside the repository', () => {
    const foreign = all.filter((line) => FOREIGN.test(line.text)).map((line) => line.where);
    expect(foreign, `cite docs/design.md §N instead:\n${foreign.join('\n')}`).toEqual([]);
  });
});
