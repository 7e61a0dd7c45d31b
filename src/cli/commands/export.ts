import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { clientPackage } from '../../lua-export/client.ts';
import { configHash, herderLua } from '../../lua-export/herder.ts';
import { tokenLua } from '../../lua-export/token.ts';
import { workerLua } from '../../lua-export/worker.ts';
import { type HerdConfig, makeConfig } from '../../model/config.ts';
import { readConfigFile } from '../config-file.ts';
import { emit, UserError } from '../output.ts';

interface ExportedFile {
  path: string;
  bytes: number;
  sha256: string;
}

/** Every file of an export, relative to the output directory. */
function exportFiles(
  config: HerdConfig,
  options: { herder?: string } = {},
): { path: string; content: string }[] {
  const files = [
    { path: 'herder.lua', content: herderLua(config) },
    { path: 'worker.lua', content: workerLua(options.herder ? { herder: options.herder } : {}) },
    { path: 'token.lua', content: tokenLua() },
  ];
  const client = clientPackage({
    token: config.token,
    dir: 'client',
    ...(options.herder ? { herder: options.herder } : {}),
  });
  for (const file of client) files.push(file);
  return files;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('write herder.lua, worker.lua, token.lua and the client package for a herd config')
    .option(
      '-c, --config <file>',
      'herd config (JSON: token, owner, fees as decimal strings, limits, workers)',
    )
    .addOption(new Option('--token <id>', 'token process id (instead of --config)'))
    .addOption(new Option('--owner <id>', 'owner wallet or process id (instead of --config)'))
    .option('--herder <id>', 'herder process id to bake into worker.lua (else set by the owner at Init)')
    .requiredOption('-o, --out <dir>', 'directory to write into (created if missing)')
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Example:
  $ herd export --config herd.json --out build/
  $ herd export --token <wAR process id> --owner <your wallet> --out build/

The same config always gives byte-identical files. Every Lua file's header names the model
version; herder.lua's also names the SHA-256 of the config baked into it (worker.lua and
token.lua do not depend on the config). The config may carry the "deploy" section of
\`herd deploy\`: it is validated the same way here.`,
    )
    .action(
      async (opts: {
        config?: string;
        token?: string;
        owner?: string;
        herder?: string;
        out: string;
        json?: boolean;
      }) => {
        let config: HerdConfig;
        if (opts.config) {
          if (opts.token || opts.owner)
            throw new UserError('give either --config or --token/--owner, not both');
          config = readConfigFile(opts.config);
        } else if (opts.token && opts.owner) {
          try {
            config = makeConfig({ token: opts.token, owner: opts.owner });
          } catch (err) {
            throw new UserError((err as Error).message);
          }
        } else throw new UserError('no config: pass --config herd.json, or --token and --owner');
        const out = resolve(opts.out);
        const written: ExportedFile[] = [];
        for (const file of exportFiles(config, opts.herder ? { herder: opts.herder } : {})) {
          const path = join(out, file.path);
          try {
            mkdirSync(dirname(path), { recursive: true });
            writeFileSync(path, file.content);
          } catch (err) {
            throw new UserError(
              `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
            );
          }
          written.push({
            path: file.path,
            bytes: Buffer.byteLength(file.content),
            sha256: createHash('sha256').update(file.content).digest('hex'),
          });
        }
        emit({ out, configSha256: configHash(config), files: written }, opts, (r) =>
          [
            `Exported ${r.files.length} files to ${r.out} (config sha256 ${r.configSha256.slice(0, 12)}…):`,
            ...r.files.map(
              (f) => `  ${f.path.padEnd(44)} ${String(f.bytes).padStart(7)} bytes  ${f.sha256.slice(0, 12)}`,
            ),
            '',
            'Next: load herder.lua into an aos process (Eval or On-Boot), worker.lua into AOS-Llama processes,',
            'then Init each worker with its Model-ID and Add-Worker it on the herder.',
          ].join('\n'),
        );
      },
    );
}
