/**
 * The MU's part of the local network: the messages it accepts and pushes, as the real MU signs
 * and tags them.
 *
 * - a message from an external wallet has `From = Owner = <wallet>`. aos drops a message only if
 *   `msg.From ~= msg.Owner` and neither is an authority, so signed wallet messages are trusted;
 *   only `Eval` (and the `On-Boot` boot handler) additionally require `From == process Owner`;
 * - a message from a process is relayed as the MU does: `Owner = <MU id>`, `From = <sender pid>`,
 *   plus `From-Process`, `From-Module` and, for what an evaluation sent, `Pushed-For` tags;
 * - a spawn carries the protocol tags and `Authority = <MU id>`, so aos trusts the MU.
 */
import type { AoOutMessage } from './loader.ts';
import { type ModuleKey, moduleId } from './modules.ts';
import { dataText } from './results.ts';
import { type AoTag, MESSAGE_TAGS, type TagsInput, tagValue, toTags, withDefaults } from './tags.ts';

/** A message the MU accepted (sent, relayed, or a cron tick), waiting for delivery. */
export interface PendingMessage {
  readonly id: string;
  readonly kind: 'message' | 'cron';
  readonly from: string;
  readonly owner: string;
  readonly target: string;
  readonly tags: readonly AoTag[];
  readonly data: string;
  readonly anchor?: string;
  /** Id of the message whose evaluation sent this one. */
  readonly cause?: string;
  /** Cron ticks: the boundary time they belong to. */
  readonly at?: number;
}

export interface SendInput {
  /** A process of this network (relayed: Owner = MU) or an external wallet (From = Owner). */
  from: string;
  target: string;
  tags?: TagsInput;
  data?: string;
  /** Override the signer (`Owner`), e.g. to test spoofing. */
  owner?: string;
  /** Reuse a message id, e.g. to model a duplicate delivery; fresh by default. */
  id?: string;
}

/** A process as the MU names it in the tags of what it relays. */
export interface Sender {
  readonly id: string;
  readonly module: ModuleKey;
}

/** The tags of a spawn: the protocol's (unless given), the caller's, and the MU as Authority. */
export function spawnTags(
  userTags: readonly AoTag[],
  spawn: { module: ModuleKey; scheduler: string; authority: string; name?: string; onBoot: boolean },
): AoTag[] {
  const base: AoTag[] = [
    { name: 'Data-Protocol', value: 'ao' },
    { name: 'Variant', value: 'ao.TN.1' },
    { name: 'Type', value: 'Process' },
    { name: 'Module', value: moduleId(spawn.module) },
    { name: 'Scheduler', value: spawn.scheduler },
  ];
  if (spawn.name !== undefined) base.push({ name: 'Name', value: spawn.name });
  if (spawn.onBoot) base.push({ name: 'On-Boot', value: 'Data' });
  return [
    ...base.filter((t) => tagValue(userTags, t.name) === undefined),
    ...userTags,
    { name: 'Authority', value: spawn.authority },
  ];
}

/** Who signs a message from `from`: the MU for a process, the wallet itself otherwise. */
export function signer(from: string, sender: Sender | undefined, muId: string, owner?: string): string {
  return owner ?? (sender ? muId : from);
}

/** A message handed to the MU (`net.send`), with id `id`; `sender` when `from` is a process. */
export function submitted(
  input: SendInput,
  id: string,
  sender: Sender | undefined,
  muId: string,
): PendingMessage {
  const tags = withDefaults(toTags(input.tags), MESSAGE_TAGS);
  if (sender) {
    tags.push(
      { name: 'From-Process', value: sender.id },
      { name: 'From-Module', value: moduleId(sender.module) },
    );
  }
  return {
    id,
    kind: 'message',
    from: input.from,
    owner: signer(input.from, sender, muId, input.owner),
    target: input.target,
    tags,
    data: input.data ?? '',
  };
}

/** One message of an evaluation's result, as the MU pushes it (caused by message `cause`). */
export function pushed(
  out: AoOutMessage,
  id: string,
  sender: Sender,
  muId: string,
  cause: string,
): PendingMessage {
  const tags: AoTag[] = [
    ...(out.Tags ?? []),
    { name: 'From-Process', value: sender.id },
    { name: 'From-Module', value: moduleId(sender.module) },
    { name: 'Pushed-For', value: cause },
  ];
  return {
    id,
    kind: 'message',
    from: sender.id,
    owner: muId,
    target: out.Target,
    tags,
    data: dataText(out.Data),
    ...(out.Anchor !== undefined ? { anchor: out.Anchor } : {}),
    cause,
  };
}
