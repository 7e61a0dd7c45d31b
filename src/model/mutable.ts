/**
 * Writing in place, for code that fills a state's parts again and again (restoring, rebuilding,
 * scratch): nothing here allocates once the objects have their size.
 */

/** `T` with its fields writable: for code that fills a record in place. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Empties `list` keeping its storage. Writing `length = 0` drops the storage (V8 gives the array
 * a fresh empty one), so that the next push allocates it again.
 */
export function emptyList(list: unknown[]): void {
  while (list.length > 0) list.pop();
}

/** Makes `own` hold `source`'s items: it shrinks by popping and grows by writing at its end. */
export function copyList<T>(own: T[], source: readonly T[]): void {
  while (own.length > source.length) own.pop();
  for (let i = 0; i < source.length; i++) own[i] = source[i]!;
}
