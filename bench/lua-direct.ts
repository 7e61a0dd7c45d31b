/**
 * Lua processes for the Lua benches, driven by direct handle() calls on their module instance
 * (src/ao/loader.ts): no scheduler, log, checkpoints or relay around the call, which would cost
 * more than the message itself and, with several processes in one run, move the cost of one
 * process's checkpoint (a large copy the JS heap collects later) onto another's figure. Each is
 * booted on the local network, then forked from its memory snapshot.
 */
import { type AoEnv, AoInstance, type AoMessage, type AoTag } from '../src/ao/loader.ts';
import { LocalNetwork } from '../src/ao/network.ts';

/** aos's colour codes around printed values. */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** The Timestamp of every message sent here (time stands still: no deadline passes). */
export const TIMESTAMP = 1_735_689_600_000;

/** The value below which a fraction `q` of `values` lies (0.5: the median). */
export const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length * q)]!;
};

export const median = (values: number[]): number => quantile(values, 0.5);

export class DirectProcess {
  private nonce = 0;
  private ids = 0;
  constructor(
    private readonly instance: AoInstance,
    private readonly env: AoEnv,
    private readonly name: string,
    private readonly owner: string,
  ) {}

  /** Handles one message; returns its id, the module's time for it (ms) and its output. */
  async send(
    from: string,
    tags: Record<string, string>,
    data = '',
  ): Promise<{ id: string; ms: number; output: string; sent: number }> {
    this.ids += 1;
    const id = `${this.name}-${this.ids}`.padEnd(43, '_');
    const tagArray: AoTag[] = [
      ...Object.entries(tags).map(([name, value]) => ({ name, value })),
      { name: 'Data-Protocol', value: 'ao' },
      { name: 'Variant', value: 'ao.TN.1' },
      { name: 'Type', value: 'Message' },
    ];
    const msg: AoMessage = {
      Id: id,
      Target: this.env.Process.Id,
      Owner: from,
      From: from,
      Tags: tagArray,
      Data: data,
      Timestamp: TIMESTAMP,
      'Block-Height': 1_580_000,
      Cron: false,
      Nonce: this.nonce++,
      Epoch: 0,
    };
    const outcome = await this.instance.call(msg, this.env);
    if (!outcome.ok) throw new Error(`${this.name}: handle() failed: ${outcome.error.message}`);
    if (outcome.result.Error !== undefined && outcome.result.Error !== null)
      throw new Error(`${this.name}: the process failed: ${JSON.stringify(outcome.result.Error)}`);
    const out = outcome.result.Output as { data?: unknown } | string | undefined;
    const output = typeof out === 'object' && out !== null ? String(out.data ?? '') : String(out ?? '');
    return {
      id,
      ms: outcome.ms,
      output: output.replace(ANSI_COLOUR, ''),
      sent: outcome.result.Messages?.length ?? 0,
    };
  }

  /** Evaluates Lua as an Eval from the owner; returns its output. */
  async eval(lua: string): Promise<string> {
    return (await this.send(this.owner, { Action: 'Eval' }, lua)).output;
  }

  /** The Lua heap, KiB. */
  async heapKiB(): Promise<number> {
    return Number(await this.eval("return tostring(collectgarbage('count'))"));
  }
}

/** `copies` processes of `module` booted with `boot` (an owner Eval), each named `${name}-${i}`. */
export async function bootDirect(options: {
  boot: string;
  owner: string;
  name: string;
  copies: number;
}): Promise<DirectProcess[]> {
  const envs = new Map<string, AoEnv>();
  const net = await LocalNetwork.create({
    seed: options.name,
    onCall: (pid, _msg, env) => envs.set(pid, env),
  });
  try {
    const pid = await net.spawn({ module: 'aos32', owner: options.owner, boot: options.boot });
    const { memory } = await net.snapshot(pid);
    const env = envs.get(pid)!;
    const processes: DirectProcess[] = [];
    for (let i = 0; i < options.copies; i++)
      processes.push(
        new DirectProcess(
          await AoInstance.create('aos32', { memory }),
          env,
          `${options.name}-${i}`,
          options.owner,
        ),
      );
    return processes;
  } finally {
    net.close();
  }
}
