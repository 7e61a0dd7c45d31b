#!/usr/bin/env node
// Entry point of the `herd` command. AOS-Llama (llama.wasm) is a wasm64 module, which Node 20
// compiles only with memory64 enabled; the flag can be set at run time, before any module loads.
// Installed, the command runs the compiled JavaScript in dist/; in a checkout of the repository
// (src/ present), it runs the TypeScript sources through tsx, so that edits take effect at once.
import { existsSync } from 'node:fs';
import v8 from 'node:v8';

v8.setFlagsFromString('--experimental-wasm-memory64');

// A reader that stops early (`herd check --help | head -3`) closes the pipe: the command then
// stops quietly, as other command-line tools do, instead of dying on the write it can no longer make.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });

const source = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(source) && process.env.HERD_USE_DIST !== '1') {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(source.href));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(process.argv);
