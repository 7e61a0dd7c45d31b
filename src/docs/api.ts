/**
 * The API reference (docs/api/), built by typedoc from typedoc.json. Offline: typedoc reads the
 * TypeScript sources only. The output is not committed (docs/.gitignore); `npm run docs` rebuilds it.
 */
import { join, resolve } from 'node:path';

export async function buildApiReference(
  root: string,
): Promise<{ out: string; warnings: number; errors: number }> {
  const typedoc = await import('typedoc');
  const app = await typedoc.Application.bootstrapWithPlugins({ options: join(root, 'typedoc.json') }, [
    new typedoc.TypeDocReader(),
    new typedoc.TSConfigReader(),
  ]);
  const project = await app.convert();
  if (project === undefined)
    throw new Error('typedoc could not convert the sources (see its messages above)');
  const out = resolve(root, String(app.options.getValue('out')));
  await app.generateDocs(project, out);
  return { out, warnings: app.logger.warningCount, errors: app.logger.errorCount };
}
