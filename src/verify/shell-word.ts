/** A command-line argument quoted for a POSIX shell when it needs to be (printed commands users paste). */
export function shellWord(arg: string): string {
  return /^[A-Za-z0-9_./:,=@+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
