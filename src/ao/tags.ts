/**
 * AO message tags: the tag shape, the one case-insensitive lookup, and the plumbing tags every
 * message of the local network carries.
 */

/** A message tag, as modules, units and aoconnect all carry it. */
export interface AoTag {
  name: string;
  value: string;
}

/** Tags as a list, or as a `{ name: value }` record (insertion order). */
export type TagsInput = readonly AoTag[] | Readonly<Record<string, string>>;

/** A fresh tag list from either form. */
export function toTags(input: TagsInput | undefined): AoTag[] {
  if (!input) return [];
  if (Array.isArray(input)) return (input as readonly AoTag[]).map((t) => ({ name: t.name, value: t.value }));
  return Object.entries(input as Record<string, string>).map(([name, value]) => ({ name, value }));
}

/** First tag of that name, compared case-insensitively (aos 2.0.6 Title-Cases tag names). */
export function tagValue(tags: readonly AoTag[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return tags.find((t) => t.name.toLowerCase() === lower)?.value;
}

/** `tags` followed by each default whose name they do not already carry. */
export function withDefaults(tags: readonly AoTag[], defaults: readonly AoTag[]): AoTag[] {
  const out = [...tags];
  for (const d of defaults)
    if (tagValue(out, d.name) === undefined) out.push({ name: d.name, value: d.value });
  return out;
}

/** The protocol tags of an ordinary message (`Type=Message`). */
export const MESSAGE_TAGS: readonly AoTag[] = [
  { name: 'Data-Protocol', value: 'ao' },
  { name: 'Variant', value: 'ao.TN.1' },
  { name: 'Type', value: 'Message' },
];

/** An owner `Eval` of some Lua: the message tags and `Action=Eval`. */
export const EVAL_TAGS: readonly AoTag[] = [...MESSAGE_TAGS, { name: 'Action', value: 'Eval' }];
