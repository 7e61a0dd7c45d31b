/**
 * `herd verify --log`: the invariants over a recorded history. A live trace of the original
 * fixture, written out as JSON lines, is judged as the live run judged it; the history `herd demo
 * --log` records of the exported herder breaks nothing; bad input is one line and exit 2.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toJsonLines, traceHistory } from '../../src/ao/message-log.ts';
import { LocalNetwork } from '../../src/ao/network.ts';
import { type StatedSettings, statedFlags } from '../../src/audit/settings.ts';
import { inferHerder, parseHistory, readHistory } from '../../src/verify/log.ts';
import { LuaHerder } from '../../src/verify/lua-herder.ts';
import { runTraceAsync, type TraceRun } from '../../src/verify/run.ts';
import { traceSpec, WORKER_POOL } from '../../src/verify/scenario.ts';
import { scenarioConfig } from '../../src/verify/verify.ts';
import { DEFAULT_CAST } from '../../src/verify/world.ts';
import { herd } from '../cli-harness.ts';
import { ORIGINAL_STATED, originalHerderLua } from '../fixtures/original.ts';

const dir = mkdtempSync(join(tmpdir(), 'herd-log-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const originalStated: StatedSettings = { ...ORIGINAL_STATED, maxOvertakes: null };
const originalFlags = statedFlags(originalStated);

const distinct = (names: readonly string[]) => [...new Set(names)].sort();

describe('a live trace of the original, recorded and checked again', () => {
  let net: LocalNetwork;
  let herder: LuaHerder;
  /** A trace on which the live auditor found several invariants violated. */
  let run: TraceRun;
  let log: string;

  beforeAll(async () => {
    const config = scenarioConfig(originalStated);
    const cast = {
      ...DEFAULT_CAST,
      token: config.token,
      owner: config.owner,
      workers: [...config.workers, ...WORKER_POOL.filter((w) => !config.workers.includes(w))],
    };
    net = await LocalNetwork.create({ seed: 'log-test', startTime: 0, startBlockHeight: 0 });
    herder = await LuaHerder.spawn(net, { module: 'aos32', owner: config.owner, lua: originalHerderLua });
    const booted = await net.snapshot(herder.pid);
    // The first of a fixed sample of scenarios on which the original breaks several invariants.
    const specs = fc.sample(traceSpec({ config: fc.constant(config), maxEvents: 25 }), {
      numRuns: 40,
      seed: 11,
    });
    for (const spec of specs) {
      await net.restore(herder.pid, booted);
      herder.startTrace();
      const attempt = await runTraceAsync(herder, spec, { cast, stated: originalStated });
      if (distinct(attempt.violations.map((v) => v.invariant)).length >= 3) {
        run = attempt;
        break;
      }
    }
    expect(run, 'no sampled trace broke three invariants').toBeDefined();
    log = file('original.jsonl', toJsonLines(traceHistory(run.log, herder.pid)));
  }, 300_000);
  afterAll(() => net?.close());

  it('reports the invariants the live run reported on that trace, each with its history', async () => {
    const live = distinct(run.violations.map((v) => v.invariant));
    const { code, stdout, stderr } = await herd(
      'verify',
      '--log',
      log,
      '--herder',
      herder.pid,
      ...originalFlags,
      '--complete',
      '--json',
    );
    expect(stderr).toBe('');
    expect(code).toBe(1);
    const report = JSON.parse(stdout);
    expect(distinct(report.violated)).toEqual(live);
    expect(report.delivered).toBe(run.log.length);
    for (const r of report.results.filter((x: { status: string }) => x.status === 'violated')) {
      const first = run.violations.find((v) => v.invariant === r.invariant)!;
      expect(r.detail).toBe(first.detail);
      expect(r.trace.length).toBe(first.step < 0 ? run.log.length : first.step + 1);
    }
  });

  it('infers the herder, and without --complete notes live requests instead of judging them', async () => {
    const lines = parseHistory(readFileSync(log, 'utf8'));
    expect(inferHerder(lines)).toBe(herder.pid);
    const { code, stdout } = await herd('verify', '--log', log, ...originalFlags);
    expect(code).toBe(1);
    expect(stdout).toContain(`herder ${herder.pid}`);
    expect(stdout).toContain('possibly cut off');
    expect(stdout).toMatch(/── [a-z-]+: the history up to the violation \(\d+ messages\) ──/);
  });

  it('reads back exactly the messages and outboxes the live auditor observed', () => {
    const { steps } = readHistory(readFileSync(log, 'utf8'), herder.pid);
    const plain = (m: { data?: string }) =>
      m.data === undefined || m.data === '' ? { ...m, data: undefined } : m;
    const strip = (x: object) => JSON.parse(JSON.stringify(x));
    expect(strip(steps.map((s) => ({ msg: plain(s.msg), outbox: s.outbox.map(plain) })))).toEqual(
      strip(run.log.map((s) => ({ msg: plain(s.msg), outbox: s.outbox.map(plain) }))),
    );
  });

  it('reads tags given as arrays of {name, value}, as gateways give them', async () => {
    const arrays = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((line) => {
        const r = JSON.parse(line);
        return JSON.stringify({
          ...r,
          Timestamp: String(r.Timestamp),
          Tags: Object.entries(r.Tags).map(([name, value]) => ({ name, value })),
        });
      })
      .join('\n');
    const a = readHistory(readFileSync(log, 'utf8'));
    const b = readHistory(arrays);
    expect(b.herder).toBe(a.herder);
    expect(b.steps).toEqual(a.steps);
  });
});

describe('reading a history', () => {
  it('a message the herder sends itself is in its outbox first, then a delivery', () => {
    const H = 'H'.repeat(43);
    const text = [
      { Id: 'a', From: 'OWNER', Target: H, Timestamp: 5, Tags: { Action: 'Tick' } },
      { Id: 'b', From: H, Target: H, Timestamp: 5, Tags: { Action: 'Self' } },
      { Id: 'b', From: H, Target: H, Timestamp: 6, Tags: { Action: 'Self' }, Data: 'x' },
    ]
      .map((r) => JSON.stringify(r))
      .join('\n');
    const { herder, steps } = readHistory(text);
    expect(herder).toBe(H);
    expect(steps.map((s) => [s.msg.id, s.outbox.length])).toEqual([
      ['a', 1],
      ['b', 0],
    ]);
    expect(steps[1]!.msg).toEqual({ id: 'b', from: H, timestamp: 6, tags: { Action: 'Self' }, data: 'x' });
  });

  it('ignores transport tags and keeps the first of a repeated tag', () => {
    const line = JSON.stringify({
      Id: 'a',
      From: 'T',
      Target: 'H',
      Timestamp: '7',
      Tags: [
        { name: 'Data-Protocol', value: 'ao' },
        { name: 'Action', value: 'Credit-Notice' },
        { name: 'Action', value: 'Other' },
        { name: 'Pushed-For', value: 'z' },
      ],
    });
    const { steps } = readHistory(line, 'H');
    expect(steps[0]!.msg).toEqual({ id: 'a', from: 'T', timestamp: 7, tags: { Action: 'Credit-Notice' } });
  });
});

describe('a history recorded by herd demo --log', () => {
  it('breaks no invariant, checked with the demo herder’s own settings', async () => {
    const path = join(dir, 'demo.jsonl');
    const demo = await herd('demo', '--log', path, '--json');
    expect(demo.code, demo.stderr).toBe(0);
    const result = JSON.parse(demo.stdout);
    expect(result.log.path).toBe(path);
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines.length).toBe(result.log.messages);
    // The printed command states every setting of the demo's config, as given in the result.
    const args: string[] = result.log.verify.replace(/^herd /, '').split(' ');
    expect(args).toEqual(
      expect.arrayContaining(['--token', result.config.token, '--owner', result.config.owner]),
    );
    expect(args).toContain('--base-fee');
    const { code, stdout, stderr } = await herd(...args, '--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.herder).toBe(result.processes.herder);
    expect(report.violated).toEqual([]);
    expect(report.live).toEqual([]);
    expect(report.results.filter((r: { status: string }) => r.status === 'held').length).toBeGreaterThan(8);
  }, 120_000);
});

describe('bad input: one line, exit 2', () => {
  const TOKEN = 'T'.repeat(43);
  const HERDER = 'H'.repeat(43);
  const credit = { Id: 'c1', From: TOKEN, Target: HERDER, Timestamp: 1, Tags: { Action: 'Credit-Notice' } };
  const good = file('good.jsonl', `${JSON.stringify(credit)}\n`);
  const cases: [string, string[], RegExp][] = [
    ['a herder file and --log', ['herder.lua', '--log', good, '--token', TOKEN], /not both/],
    [
      'a missing log',
      ['--log', join(dir, 'none.jsonl'), '--token', TOKEN],
      /cannot read log .*none\.jsonl: ENOENT/,
    ],
    ['no token', ['--log', good], /state the token/],
    ['an empty log', ['--log', file('empty.jsonl', '\n\n'), '--token', TOKEN], /has no messages/],
    [
      'a line that is not JSON',
      ['--log', file('bad.jsonl', `${JSON.stringify(credit)}\n{"Id": "x",\n`), '--token', TOKEN],
      /line 2: not JSON/,
    ],
    [
      'a line without From',
      [
        '--log',
        file('nofrom.jsonl', `${JSON.stringify({ ...credit, From: undefined })}\n`),
        '--token',
        TOKEN,
      ],
      /line 1: From is missing/,
    ],
    [
      'bad tags',
      [
        '--log',
        file('tags.jsonl', `${JSON.stringify({ ...credit, Tags: [{ name: 'Action' }] })}\n`),
        '--token',
        TOKEN,
      ],
      /line 1: Tags\[0\] is not \{"name": string, "value": string\}/,
    ],
    [
      'a bad timestamp',
      [
        '--log',
        file('time.jsonl', `${JSON.stringify({ ...credit, Timestamp: 'soon' })}\n`),
        '--token',
        TOKEN,
      ],
      /line 1: Timestamp is "soon"/,
    ],
    [
      'an unknown herder',
      ['--log', good, '--token', TOKEN, '--herder', 'X'.repeat(43)],
      /no message of the log is from or to --herder X+/,
    ],
    [
      'a herder that cannot be inferred',
      [
        '--log',
        file(
          'two.jsonl',
          `${JSON.stringify(credit)}\n${JSON.stringify({ ...credit, Id: 'c2', From: 'A', Target: 'B' })}\n`,
        ),
        '--token',
        TOKEN,
      ],
      /cannot tell the herder: .*give --herder/,
    ],
    [
      'a message neither to nor from the herder',
      [
        '--log',
        file(
          'other.jsonl',
          `${JSON.stringify(credit)}\n${JSON.stringify({ ...credit, Id: 'c2', Target: 'B' })}\n`,
        ),
        '--token',
        TOKEN,
        '--herder',
        HERDER,
      ],
      /line 2: message c2 is from T+ to B, neither to nor from the herder/,
    ],
    [
      'an outbox before any delivery',
      [
        '--log',
        file('first.jsonl', `${JSON.stringify({ ...credit, From: HERDER, Target: TOKEN })}\n`),
        '--token',
        TOKEN,
        '--herder',
        HERDER,
      ],
      /line 1: message c1 is from the herder, but no message to the herder comes before it/,
    ],
    [
      'a scenario flag with --log',
      ['--log', good, '--token', TOKEN, '--runs', '5'],
      /--runs drives scenario traces/,
    ],
    [
      '--complete without --log',
      ['herder.lua', '--token', TOKEN, '--complete'],
      /--complete goes with --log/,
    ],
    [
      'neither a herder nor a log',
      ['--token', TOKEN],
      /missing required argument 'herder\.lua' \(or --log FILE/,
    ],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const { code, stdout, stderr } = await herd('verify', ...args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(message);
  });

  it('a good line still reads: one delivery, checked', async () => {
    const { code, stdout } = await herd('verify', '--log', good, '--token', TOKEN, '--json');
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ herder: HERDER, delivered: 1, sent: 0, complete: false });
  });

  it('herd demo --log to a file that cannot be written', async () => {
    const { code, stderr } = await herd('demo', '--log', join(dir, 'no', 'such', 'dir.jsonl'));
    expect(code).toBe(2);
    expect(stderr).toMatch(/^herd: cannot write --log .*dir\.jsonl: ENOENT\n$/);
  });
});
