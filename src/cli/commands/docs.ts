/**
 * `herd docs`: regenerates docs/ from the model — the protocol reference, the invariants, the
 * guides, the state diagrams — and the typedoc API reference. `--check` changes nothing and fails
 * when a committed page is out of date.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { buildApiReference } from '../../docs/api.ts';
import { generateDocs, staleDocs, writeDocs } from '../../docs/generate.ts';
import { EXIT_CHECK_FAILED, emit, type OutputOptions, showProgress, UserError } from '../output.ts';

/** The project root (this file is src/cli/commands/docs.ts). */
const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface DocsFlags extends OutputOptions {
  check?: boolean;
  api: boolean;
}

interface DocsResult {
  readonly pages: number;
  /** Pages rewritten (or, with --check, out of date). */
  readonly changed: string[];
  readonly check: boolean;
  readonly api?: { out: string; warnings: number; errors: number };
}

/**
 * Whether `root` is a checkout of the repository: the docs are generated from its sources and
 * tests, which the installed package does not ship (it ships the generated pages in docs/).
 */
function isCheckout(root: string = PROJECT_ROOT): boolean {
  return existsSync(join(root, 'src', 'docs', 'generate.ts')) && existsSync(join(root, 'test'));
}

async function apiReference(): Promise<NonNullable<DocsResult['api']>> {
  try {
    return await buildApiReference(PROJECT_ROOT);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && /typedoc/.test(String((err as Error).message)))
      throw new UserError(
        'the API reference needs typedoc, a development dependency: run `npm ci` in the checkout, or pass --no-api',
      );
    throw err;
  }
}

async function docs(flags: DocsFlags): Promise<void> {
  if (!isCheckout())
    throw new UserError(
      `herd docs regenerates docs/ in a checkout of the llama-herder repository (it reads the sources and tests, which the package does not ship); the generated pages are installed in ${join(PROJECT_ROOT, 'docs')}`,
    );
  const note = (text: string) => {
    if (showProgress(flags)) process.stderr.write(`${text}\n`);
  };
  note('generating pages from the model…');
  const files = await generateDocs(PROJECT_ROOT);
  if (flags.check) {
    const stale = await staleDocs(PROJECT_ROOT, files);
    const result: DocsResult = { pages: files.length, changed: stale, check: true };
    emit(result, flags, () =>
      stale.length === 0
        ? `docs/ is up to date (${files.length} generated pages).`
        : `docs/ is out of date: ${stale.join(', ')}.\nRun \`npm run docs\` to regenerate.`,
    );
    if (stale.length > 0) process.exitCode = EXIT_CHECK_FAILED;
    return;
  }
  const changed = await writeDocs(PROJECT_ROOT, files);
  let api: DocsResult['api'];
  if (flags.api) {
    note('building the API reference with typedoc (docs/api/)…');
    api = await apiReference();
    if (api.errors > 0) process.exitCode = EXIT_CHECK_FAILED;
  }
  const result: DocsResult = { pages: files.length, changed, check: false, ...(api ? { api } : {}) };
  emit(result, flags, (r) => {
    const lines = [
      r.changed.length === 0
        ? `docs/: ${r.pages} generated pages, all already up to date.`
        : `docs/: ${r.pages} generated pages; updated ${r.changed.join(', ')}.`,
    ];
    if (r.api)
      lines.push(
        `API reference: ${r.api.out} (${r.api.errors} errors, ${r.api.warnings} warnings from typedoc).`,
      );
    return lines.join('\n');
  });
}

export function register(program: Command): void {
  program
    .command('docs')
    .summary('regenerate docs/ from the model')
    .description(
      'Regenerates docs/ from the code: the protocol reference (from the protocol catalogue), the ' +
        'invariants and where each is checked, the guides (with real simulator output), the state ' +
        'diagrams, and the typedoc API reference in docs/api/. Works offline, in a checkout of the ' +
        'repository only.',
    )
    .option('--check', 'change nothing; exit 1 if a generated page is out of date')
    .option('--no-api', 'skip the typedoc API reference')
    .option('--json', 'print one JSON document instead of the summary')
    .addHelpText(
      'after',
      `
Only in a checkout of the repository (git clone, npm ci): it reads the sources and the tests.
An installed package has the generated pages in its docs/ directory; \`herd docs\` there exits 2.

Examples:
  $ herd docs                 # regenerate docs/ and docs/api/
  $ herd docs --no-api        # the pages only (no typedoc)
  $ herd docs --check         # CI: exit 1 when a committed page is out of date`,
    )
    .action((flags: DocsFlags) => docs(flags));
}
