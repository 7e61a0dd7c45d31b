#!/usr/bin/env node
// Entry point of the `herd` command. AOS-Llama (llama.wasm) is a wasm64 module, which Node 20
// compiles only with memory64 enabled; the flag can be set at run time, before any module loads.
import v8 from 'node:v8';

v8.setFlagsFromString('--experimental-wasm-memory64');

const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
