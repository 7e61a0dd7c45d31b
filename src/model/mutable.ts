/** `T` with its fields writable: for code that fills a record in place (restoring, rebuilding). */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
