/**
 * The model and a Lua herder in lockstep: every message goes to both, and their outboxes (and,
 * periodically, their books and queues) must be identical.
 */
import { isDeepStrictEqual } from 'node:util';
import type { ModuleKey } from '../../src/ao/modules.ts';
import { LocalNetwork } from '../../src/ao/network.ts';
import { herderLua } from '../../src/lua-export/herder.ts';
import type { HerdConfig } from '../../src/model/config.ts';
import { type HerderState, initialHerderState, stepInPlace } from '../../src/model/herder.ts';
import type { AoMessage, OutMessage } from '../../src/model/messages.ts';
import { LuaHerder } from '../../src/verify/lua-herder.ts';
import type { AsyncHerder } from '../../src/verify/run.ts';
import { OWNER } from '../../src/verify/scenario.ts';

export class Divergence extends Error {
  override name = 'Divergence';
}

const normalise = (out: readonly OutMessage[]) =>
  out.map((o) => ({ target: o.target, tags: { ...o.tags }, data: o.data ?? '' }));

/** One Lua herder process reused across traces (re-booted per trace with that trace's config). */
export class PairedHerder implements AsyncHerder {
  private model!: HerderState;
  delivered = 0;

  private constructor(readonly lua: LuaHerder) {}

  static async create(module: ModuleKey, config: HerdConfig): Promise<PairedHerder> {
    const net = await LocalNetwork.create({
      seed: `conformance-${module}`,
      startTime: 0,
      startBlockHeight: 0,
    });
    const lua = await LuaHerder.spawn(net, { module, owner: OWNER, lua: herderLua(config) });
    const paired = new PairedHerder(lua);
    paired.model = initialHerderState(config);
    lua.startTrace();
    return paired;
  }

  /** Starts a trace with a fresh herder state in both. */
  async reset(config: HerdConfig): Promise<void> {
    await this.lua.eval(`HerderState = nil\n${herderLua(config)}`);
    this.model = initialHerderState(config);
    this.lua.startTrace();
  }

  async deliver(msg: AoMessage): Promise<OutMessage[]> {
    const shifted = { ...msg, timestamp: this.lua.shift(msg.timestamp) };
    const expected = normalise(stepInPlace(this.model, shifted));
    const errors = this.lua.errors.length;
    const actual = normalise(await this.lua.deliver(msg));
    this.delivered++;
    if (this.lua.errors.length > errors)
      throw new Divergence(`Lua raised on ${JSON.stringify(msg)}: ${this.lua.errors.at(-1)!.error}`);
    if (!isDeepStrictEqual(actual, expected))
      throw new Divergence(
        `outboxes differ on ${JSON.stringify(msg)}\n  model: ${JSON.stringify(expected)}\n  lua:   ${JSON.stringify(actual)}`,
      );
    return expected;
  }

  /** Compares the books, queue length and worker statuses of both. */
  async compareState(): Promise<void> {
    const summary = JSON.parse(await this.lua.eval("return require('json').encode(HerderSummary())")) as {
      ledger: Record<string, string>;
      workers: Record<string, { status: string }>;
      queueLength: number;
      paused: boolean;
    };
    const ledger = Object.fromEntries(Object.entries(this.model.ledger).map(([k, v]) => [k, v.toString()]));
    const workers = Object.fromEntries([...this.model.herd.all()].map((w) => [w.id, w.status]));
    const luaWorkers = Object.fromEntries(Object.entries(summary.workers).map(([id, w]) => [id, w.status]));
    const expected = { ledger, workers, queueLength: this.model.queue.length, paused: this.model.paused };
    const actual = {
      ledger: summary.ledger,
      workers: luaWorkers,
      queueLength: summary.queueLength,
      paused: summary.paused,
    };
    if (!isDeepStrictEqual(actual, expected))
      throw new Divergence(
        `states differ\n  model: ${JSON.stringify(expected)}\n  lua:   ${JSON.stringify(actual)}`,
      );
  }
}
