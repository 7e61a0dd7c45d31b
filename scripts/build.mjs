#!/usr/bin/env node
// Builds the package into dist/: JavaScript and declarations from src/ (tsc with
// tsconfig.build.json), the Lua and Markdown files the code reads at run time, and the entry of
// the model checker's worker threads. Run by `npm run build` and on `npm pack` (prepack).
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');

rmSync(dist, { recursive: true, force: true });
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

// Assets read next to the code (new URL('./lua/herder.lua', import.meta.url) and the like).
let assets = 0;
for (const path of files(src))
  if (/\.(lua|md)$/.test(path)) {
    cpSync(path, join(dist, relative(src, path)));
    assets++;
  }

// Declarations keep the sources' `.ts` specifiers; consumers resolve the `.js` (and its .d.ts).
let declarations = 0;
for (const path of files(dist))
  if (path.endsWith('.d.ts')) {
    const text = readFileSync(path, 'utf8');
    const fixed = text.replace(/((?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+)\.ts\2/g, '$1$2$3.js$2');
    if (fixed !== text) writeFileSync(path, fixed);
    declarations++;
  }

// The model checker and `herd verify` start their threads on `./thread.ts` through tsx: give them
// the compiled code under that name (an `import './thread.js'` would not do: tsx resolves it to
// thread.ts itself).
cpSync(join(dist, 'checker', 'thread.js'), join(dist, 'checker', 'thread.ts'));
cpSync(join(dist, 'verify', 'thread.js'), join(dist, 'verify', 'thread.ts'));

console.error(`dist/: ${declarations} declaration files, ${assets} assets`);
