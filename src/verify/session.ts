/**
 * One herder booted in its own local AO network, running scenario traces one at a time, each from
 * the memory (and the network clock) it had right after booting: what `herd verify` runs in the
 * main thread (`--threads 1`) and in each of its worker threads (pool.ts). A trace's outcome
 * depends on the trace alone, never on the traces run before it, so any thread may run any trace.
 */
import type { ModuleKey } from '../ao/modules.ts';
import { LocalNetwork, type ProcessSnapshot } from '../ao/network.ts';
import type { StatedSettings } from '../audit/settings.ts';
import { LuaHerder } from './lua-herder.ts';
import { runTraceAsync, type TraceRun } from './run.ts';
import type { TraceSpec } from './scenario.ts';
import type { Cast } from './world.ts';

/** What a session needs to boot its herder and audit its traces (structured-cloneable). */
export interface SessionSetup {
  readonly lua: string;
  readonly prelude?: string;
  readonly module: ModuleKey;
  readonly owner: string;
  readonly cast: Cast;
  readonly stated: StatedSettings;
}

/** A trace's run, with the Lua errors the herder raised during it (the error lines). */
export interface TraceOutcome extends TraceRun {
  readonly luaErrors: readonly string[];
}

export class HerderSession {
  private constructor(
    private readonly setup: SessionSetup,
    private readonly net: LocalNetwork,
    private readonly herder: LuaHerder,
    private readonly booted: ProcessSnapshot,
  ) {}

  /** Boots the herder (an AoEvalError when its Lua does not load) and snapshots it. */
  static async boot(setup: SessionSetup): Promise<HerderSession> {
    const net = await LocalNetwork.create({ seed: 'verify', startTime: 0, startBlockHeight: 0 });
    try {
      const herder = await LuaHerder.spawn(net, {
        module: setup.module,
        owner: setup.owner,
        lua: setup.lua,
        ...(setup.prelude ? { prelude: setup.prelude } : {}),
      });
      return new HerderSession(setup, net, herder, await net.snapshot(herder.pid));
    } catch (err) {
      net.close();
      throw err;
    }
  }

  /** Runs one trace from the booted state: memory written back in place, clock wound back. */
  async run(spec: TraceSpec): Promise<TraceOutcome> {
    await this.net.restore(this.herder.pid, this.booted, { inPlace: true, rewind: true });
    this.herder.startTrace();
    const errorsBefore = this.herder.errors.length;
    const run = await runTraceAsync(this.herder, spec, { cast: this.setup.cast, stated: this.setup.stated });
    const luaErrors = this.herder.errors.slice(errorsBefore).map(({ error }) => luaErrorLine(error));
    this.herder.errors.length = 0;
    return { ...run, luaErrors };
  }

  close(): void {
    this.net.close();
  }
}

/** The Lua error itself ("[string ...]:N: ..."), not the warnings printed around it. */
function luaErrorLine(error: string): string {
  const lines = error.split('\n').map((line) => line.trim());
  return (
    lines.find((line) => line.startsWith('[string ')) ??
    lines.find((line) => line !== '' && !line.startsWith('WARNING')) ??
    lines[0]!
  );
}
