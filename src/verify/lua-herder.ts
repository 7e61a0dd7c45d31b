/**
 * A Lua herder running in a local AO network, driven message by message: what the conformance
 * tests compare with the model and what `herd verify` audits. Messages arrive from external
 * addresses (From = Owner, which aos trusts), and everything the herder sends leaves the network,
 * so each delivery's outbox is exactly the herder's reaction to that one message.
 */

import type { ModuleKey } from '../ao/modules.ts';
import type { LocalNetwork, LogEntry } from '../ao/network.ts';
import type { AoMessage, OutMessage } from '../model/messages.ts';
import type { AsyncHerder } from './run.ts';

/** Tags that aos and the relay add to every message; not part of the herder's protocol. */
const TRANSPORT_TAGS = new Set([
  'Data-Protocol',
  'Variant',
  'Type',
  'Reference',
  'From-Process',
  'From-Module',
  'Pushed-For',
]);

interface LuaHerderOptions {
  module: ModuleKey;
  /** The herder process's owner (the wallet allowed to Eval it). */
  owner: string;
  /** Lua evaluated before `lua`, e.g. globals a herder reads its settings from. */
  prelude?: string;
  lua: string;
  name?: string;
}

export class LuaHerder implements AsyncHerder {
  /** Lua errors raised while handling a message, with the message id (each rolled back). */
  readonly errors: { id: string; error: string }[] = [];
  /** Added to every trace timestamp: the network's clock never goes back across traces. */
  private timeBase = 0;

  private constructor(
    readonly net: LocalNetwork,
    readonly pid: string,
  ) {}

  static async spawn(net: LocalNetwork, options: LuaHerderOptions): Promise<LuaHerder> {
    const boot = options.prelude ? `${options.prelude}\n${options.lua}` : options.lua;
    const pid = await net.spawn({
      module: options.module,
      owner: options.owner,
      name: options.name ?? 'herder',
      boot,
    });
    return new LuaHerder(net, pid);
  }

  /** Starts a new trace: its timestamps are shifted to begin after everything so far. */
  startTrace(): void {
    this.timeBase = this.net.now + 1;
  }

  /** The timestamp the herder sees for a trace time. */
  shift(timestamp: number): number {
    return this.timeBase + timestamp;
  }

  async deliver(msg: AoMessage): Promise<OutMessage[]> {
    const at = this.shift(msg.timestamp);
    if (at > this.net.now) this.net.advanceTime(at - this.net.now);
    this.net.send({ id: msg.id, from: msg.from, target: this.pid, tags: msg.tags, data: msg.data ?? '' });
    const entry = await this.net.step();
    if (entry === undefined) throw new Error('the network delivered nothing');
    if (entry.error !== undefined) this.errors.push({ id: msg.id, error: entry.error });
    return this.outgoing(entry);
  }

  /** Evaluates Lua in the herder (as its owner) and returns the output. */
  async eval(lua: string): Promise<string> {
    return this.net.eval(this.pid, lua);
  }

  private outgoing(entry: LogEntry): OutMessage[] {
    if (entry.sent.length === 0) return [];
    const sent = new Set(entry.sent);
    const out: OutMessage[] = [];
    for (let i = this.net.log.length - 1; i >= 0 && out.length < sent.size; i--) {
      const e = this.net.log[i]!;
      if (e.kind === 'external' && sent.has(e.id)) out.push(toOutMessage(e));
    }
    return out.reverse();
  }
}

function toOutMessage(entry: LogEntry): OutMessage {
  const tags: Record<string, string> = {};
  for (const { name, value } of entry.tags) if (!TRANSPORT_TAGS.has(name)) tags[name] = value;
  return entry.data === '' ? { target: entry.to, tags } : { target: entry.to, tags, data: entry.data };
}
