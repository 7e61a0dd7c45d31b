/**
 * The one Lua string escaper of the exported Lua: any JS string as a Lua string literal that
 * evaluates to its UTF-8 bytes.
 */

/**
 * A double-quoted Lua literal of `value`'s UTF-8 bytes: printable ASCII as is (quote and
 * backslash escaped), `\n` `\r` `\t` by name, every other byte as a three-digit decimal escape
 * (three digits always, so a digit that follows can never extend it: "\0" + "1" is not "\01").
 */
export function luaString(value: string): string {
  let out = '"';
  for (const byte of Buffer.from(value, 'utf8')) {
    if (byte === 0x22) out += '\\"';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x0d) out += '\\r';
    else if (byte === 0x09) out += '\\t';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${byte.toString().padStart(3, '0')}`;
  }
  return `${out}"`;
}
