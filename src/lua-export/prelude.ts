/**
 * The Lua printer: every exported Lua file is a generated head (header comment, baked-in
 * configuration table, prelude) followed by a hand-written body from lua/*.lua. The prelude
 * states in Lua what the model states in TS — refund reasons, Actions, the settings with their
 * tags, kinds and bounds, the limits — printed from the TS constants, so that each is written
 * once; and it carries the one case-insensitive tag lookup (lua/tag.lua) every body uses.
 * Deterministic: the same input gives byte-identical text.
 */
import { readFileSync } from 'node:fs';
import { MAX_DIGITS, MAX_RAW_DIGITS } from '../model/amount.ts';
import { SETTING_BOUNDS } from '../model/config.ts';
import { MULTIPLIER_DECIMALS } from '../model/fees.ts';
import { Action, Reason } from '../model/messages.ts';
import { SETTINGS } from '../model/settings.ts';
import { DEDUP_WINDOW, MAX_UNREADY } from '../model/state.ts';
import { luaString } from './lua-string.ts';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * `value` as a Lua expression: strings quoted by {@link luaString}, safe integers as numerals,
 * bigints as decimal strings (amounts travel as strings), null/undefined as nil (an absent
 * field: a table omits it), arrays as sequences, objects in their key order.
 */
export function luaValue(value: unknown, indent = ''): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'string') return luaString(value);
  if (typeof value === 'bigint') return luaString(value.toString());
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new Error(`luaValue: ${value} is not a safe integer`);
    return String(value);
  }
  if (typeof value !== 'object') throw new Error(`luaValue: cannot print a ${typeof value}`);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    const items = value as readonly unknown[];
    if (items.length === 0) return '{}';
    const scalar = items.every((v) => typeof v !== 'object' || v === null);
    if (scalar) return `{ ${items.map((v) => luaValue(v, inner)).join(', ')} }`;
    return `{\n${items.map((v) => `${inner}${luaValue(v, inner)},`).join('\n')}\n${indent}}`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== null && v !== undefined);
  if (entries.length === 0) return '{}';
  const key = (k: string) => (IDENTIFIER.test(k) ? k : `[${luaString(k)}]`);
  const nested = entries.some(([, v]) => typeof v === 'object' && v !== null);
  const oneLine = `{ ${entries.map(([k, v]) => `${key(k)} = ${luaValue(v, inner)}`).join(', ')} }`;
  if (!nested && oneLine.length + indent.length <= 96) return oneLine;
  return `{\n${entries.map(([k, v]) => `${inner}${key(k)} = ${luaValue(v, inner)},`).join('\n')}\n${indent}}`;
}

/** A body from lua/ (read once). */
const bodies = new Map<string, string>();
export function luaBody(file: string): string {
  let text = bodies.get(file);
  if (text === undefined) {
    text = readFileSync(new URL(`./lua/${file}`, import.meta.url), 'utf8');
    bodies.set(file, text);
  }
  return text;
}

/**
 * The settings as the Lua reads them: config key, tag, kind (amount | integer | bound), the
 * owner's action that changes it, and for integers and bounds their range, in the model's order
 * (problems are listed and Info reports in it).
 */
function settingsTable(): object[] {
  return SETTINGS.map((s) => {
    const bounds = s.kind === 'integer' ? SETTING_BOUNDS[s.name] : undefined;
    return {
      name: s.name,
      tag: s.tag,
      kind: s.kind,
      action: s.action,
      min: 'min' in s ? s.min : undefined,
      max: bounds?.max,
      unit: bounds?.unit,
    };
  });
}

/** What a prelude holds: `protocol` (reasons, Actions, settings, limits) and `tag` (the lookup). */
export type PreludePart = 'protocol' | 'tag';

/** The generated prelude: `local` definitions for the body that follows it in the same chunk. */
export function preludeLua(parts: readonly PreludePart[]): string {
  const out: string[] = [];
  if (parts.includes('protocol')) {
    out.push(
      '-- The protocol, printed from the model: refund and refusal reasons (X-Reason), Actions,',
      "-- settings (config key, tag, kind, owner's action, range) and limits.",
      `local REASON = ${luaValue(Reason)}`,
      `local ACTION = ${luaValue(Action)}`,
      `local SETTINGS = ${luaValue(settingsTable())}`,
      '-- Most significant digits of an amount kept on the books; longest tag value read as a number.',
      `local MAX_DIGITS = ${MAX_DIGITS}`,
      `local MAX_RAW_DIGITS = ${MAX_RAW_DIGITS}`,
      `local MAX_SAFE_INTEGER = ${Number.MAX_SAFE_INTEGER}`,
      '-- Decimals of a printed multiplier (Last-Multiplier).',
      `local MULTIPLIER_DECIMALS = ${MULTIPLIER_DECIMALS}`,
      '-- Handled messages after which an id is forgotten; most unready processes remembered.',
      `local DEDUP_WINDOW = ${DEDUP_WINDOW}`,
      `local MAX_UNREADY = ${MAX_UNREADY}`,
      '-- Longest prompt a worker runs (bytes): AOS-Llama evaluates one 512-token batch.',
      `local MAX_PROMPT_BYTES = ${SETTING_BOUNDS.maxPromptBytes.max}`,
    );
  }
  if (parts.includes('tag')) out.push(luaBody('tag.lua').trimEnd());
  return `${out.join('\n')}\n`;
}

/**
 * A whole exported file: header comment lines, `NAME = <table>` globals (the baked-in
 * configuration), the prelude, the body.
 */
export function luaFile(options: {
  header: readonly string[];
  globals: readonly (readonly [string, string])[];
  prelude: readonly PreludePart[];
  body: string;
}): string {
  const header = options.header.map((line) => (line === '' ? '--' : `-- ${line}`)).join('\n');
  const globals = options.globals.map(([name, value]) => `${name} = ${value}`).join('\n');
  return `${header}\n\n${globals === '' ? '' : `${globals}\n\n`}${preludeLua(options.prelude)}\n${options.body}`;
}
