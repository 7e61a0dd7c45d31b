/**
 * V8's WebAssembly tiering, for short runs of llama.wasm.
 *
 * V8 first compiles WebAssembly with its baseline compiler (Liftoff), then recompiles hot
 * functions with its optimising compiler (TurboFan) on background threads. For llama.wasm
 * (2.7 MB of code) that optimising work is far larger than a short run with the tiny model needs,
 * and on a busy machine the main thread ends up waiting for it. Measured on this project's
 * machine (2 shared cores, Node 20), `herd demo` with 16 tokens, same process otherwise:
 *
 * | | process wall time | demo body | worker call, 16 / 128 tokens | RSS |
 * | --- | --- | --- | --- | --- |
 * | default tiering | 9–21 s | 4.3–8.7 s | 1,230 / 2,570 ms | 330–400 MiB |
 * | Liftoff only | 2.3–3.4 s | 1.3–1.9 s | 190–210 / 280–400 ms | 165–175 MiB |
 *
 * (With default tiering the process also stalls for several seconds after the work is done,
 * its main thread waiting on the background compile jobs.) Wasm semantics do not depend on the
 * tier, so results are identical.
 */
import v8 from 'node:v8';

let applied = false;

/**
 * Makes V8 compile WebAssembly with Liftoff only. Call it before the first module is compiled
 * in this process (modules compiled earlier keep their tiering). Process-wide and idempotent.
 */
export function useBaselineWasmOnly(): void {
  if (applied) return;
  v8.setFlagsFromString('--liftoff-only');
  applied = true;
}

/** Whether {@link useBaselineWasmOnly} was applied in this process. */
export function baselineWasmOnly(): boolean {
  return applied;
}
