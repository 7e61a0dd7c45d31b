/**
 * Reading what a module returned: the text of `Output`, of a message's `Data` and of an error,
 * with aos's ANSI colour codes removed where a person or a comparison reads them.
 */
import type { AoResult } from './loader.ts';

const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** The text of a result's Output (aos returns `{ data, prompt, ... }`). */
export function outputText(result: AoResult | undefined): string {
  const output = result?.Output;
  if (output === undefined || output === null) return '';
  if (typeof output === 'string') return output;
  if (typeof output === 'object' && 'data' in output) {
    const data = (output as { data: unknown }).data;
    if (typeof data === 'string') return data;
    if (data === undefined || data === null) return '';
    return JSON.stringify(data);
  }
  return JSON.stringify(output);
}

/** A message's data as text (aos returns strings; some units return JSON values). */
export function dataText(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data === undefined || data === null) return '';
  return JSON.stringify(data);
}

/** A result's `Error` as plain text. */
export function errorText(error: unknown): string {
  return stripAnsi(typeof error === 'string' ? error : JSON.stringify(error)).trim();
}

const PRINTED_HANDLER_ERROR = `${ESC}[31mError${ESC}[90m handling message`;

/** The error aos 2.0.0.rc1 prints into Output when a handler raises (llama.wasm), if any. */
export function printedHandlerError(output: string): string | undefined {
  const at = output.indexOf(PRINTED_HANDLER_ERROR);
  if (at < 0) return undefined;
  const text = stripAnsi(output.slice(at));
  const cut = text.indexOf('stack traceback:');
  return (cut >= 0 ? text.slice(0, cut) : text).trim();
}
