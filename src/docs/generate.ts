/**
 * Everything under docs/ that is generated from the code: the protocol reference, worked examples
 * of a request's life (run through the model), the invariants and where they are checked, the
 * guides, and the state diagrams (from src/machines/diagrams.ts).
 * `generateDocs` only computes the pages; `writeDocs` and `staleDocs` compare them with the disk.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MODEL_VERSION } from '../model/version.ts';
import { GUIDES, guidePage } from './guides.ts';
import { invariantsPage } from './invariants-page.ts';
import { lifecyclePage } from './lifecycle-page.ts';
import { generatedHeader } from './markdown.ts';
import { protocolPage } from './protocol-page.ts';

export interface GeneratedFile {
  /** Relative to the project root, with forward slashes. */
  readonly path: string;
  readonly content: string;
}

export interface Diagram {
  /** Relative to docs/. */
  readonly path: string;
  readonly content: string;
}

/** The state diagrams, drawn from the machine definitions (src/machines/diagrams.ts). */
export async function diagrams(root: string): Promise<readonly Diagram[]> {
  const path = join(root, 'src/machines/diagrams.ts');
  const module = (await import(path)) as { renderDiagrams?: () => Diagram[] | Promise<Diagram[]> };
  if (typeof module.renderDiagrams !== 'function')
    throw new Error(`${path} no longer exports renderDiagrams, which docs/diagrams/ is drawn by`);
  return module.renderDiagrams();
}

/** Hand-written guides kept beside the generated ones (docs/guides/*.md not made here), with their titles. */
function otherGuides(root: string): { file: string; title: string }[] {
  const dir = join(root, 'docs/guides');
  if (!existsSync(dir)) return [];
  const generated = new Set(GUIDES.map((g) => `${g}.md`));
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md') && !generated.has(f))
    .sort()
    .map((file) => {
      const heading = /^# (.+)$/m.exec(readFileSync(join(dir, file), 'utf8'));
      return { file, title: heading?.[1] ?? file };
    });
}

function index(rendered: readonly Diagram[], others: { file: string; title: string }[]): string {
  const lines = [
    generatedHeader('src/docs/generate.ts'),
    '',
    '# llama-herder documentation',
    '',
    `Model version ${MODEL_VERSION}. The pages here are generated from the code by \`npm run docs\` ` +
      '(`herd docs`), and a test fails when a committed page is out of date; the design document and ' +
      'the guides not generated here are written by hand.',
    '',
    '## Guides',
    '',
    '- [Operators](guides/operators.md): configure, export, deploy and tune a herd (with `herd simulate`).',
    '- [Client developers](guides/clients.md): the fee, paying, answers and refunds, the client package.',
    '- [Auditors](guides/auditors.md): the invariants and how to check any herder (`herd verify`).',
    ...others.map((g) => `- [${g.title}](guides/${g.file})`),
    '',
    '## Reference',
    '',
    '- [Design](design.md): how the project is laid out, the protocol’s rules, the original’s dialect and ' +
      'defects, the command line and the targets (written by hand; the code cites its sections).',
    '- [Protocol](protocol.md): every message, tag, format and refund reason.',
    '- [A request’s life, step by step](lifecycle.md): named scenarios run through the model, each ' +
      'message with the events it caused and the messages sent back.',
    '- [Invariants](invariants.md): each invariant and where it is checked.',
  ];
  lines.push('- State diagrams:');
  for (const d of rendered) lines.push(`  - [${d.path.replace(/^diagrams\//, '')}](${d.path})`);
  lines.push(
    '- API reference: `docs/api/index.html`, built by typedoc on `npm run docs` (not committed; ' +
      'run `npm run docs` to build it locally).',
  );
  lines.push('');
  return lines.join('\n');
}

/** Every generated page, in a fixed order. */
export async function generateDocs(root: string): Promise<GeneratedFile[]> {
  const rendered = await diagrams(root);
  const files: GeneratedFile[] = [
    { path: 'docs/README.md', content: index(rendered, otherGuides(root)) },
    { path: 'docs/protocol.md', content: protocolPage() },
    { path: 'docs/lifecycle.md', content: lifecyclePage() },
    { path: 'docs/invariants.md', content: await invariantsPage(root) },
  ];
  for (const guide of GUIDES)
    files.push({ path: `docs/guides/${guide}.md`, content: await guidePage(guide, root) });
  for (const d of rendered) files.push({ path: `docs/${d.path}`, content: d.content });
  return files;
}

/** Files whose content on disk differs from `files` (or that are missing). */
export async function staleDocs(root: string, files: readonly GeneratedFile[]): Promise<string[]> {
  const stale: string[] = [];
  for (const file of files) {
    const full = join(root, file.path);
    const current = existsSync(full) ? await readFile(full, 'utf8') : undefined;
    if (current !== file.content) stale.push(file.path);
  }
  return stale;
}

/** Writes the files that changed; returns their paths. */
export async function writeDocs(root: string, files: readonly GeneratedFile[]): Promise<string[]> {
  const changed = await staleDocs(root, files);
  for (const path of changed) {
    const file = files.find((f) => f.path === path)!;
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), file.content);
  }
  return changed;
}
