import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import type { ModuleKey } from '../../ao/modules.ts';
import { AoEvalError } from '../../ao/network.ts';
import { type StatedSettings, statedFromConfig } from '../../audit/settings.ts';
import { isProcessId } from '../../model/config.ts';
import { SETTINGS, settingFlag } from '../../model/settings.ts';
import { checkHistory, LogFormatError, type LogReport, readHistory } from '../../verify/log.ts';
import { shellWord } from '../../verify/shell-word.ts';
import {
  type InvariantResult,
  parseReplayPath,
  type VerifyReport,
  verifyHerder,
} from '../../verify/verify.ts';
import { readConfigFile, readTextFile } from '../config-file.ts';
import { EXIT_CHECK_FAILED, emit, intOption, progressLines, showProgress, UserError } from '../output.ts';
import { addSettingOptions, type SettingFlagValues, settingsFromFlags } from '../setting-flags.ts';
import { threadsProblem } from './check.ts';

interface VerifyFlags extends SettingFlagValues {
  config?: string;
  token?: string;
  owner?: string;
  workers?: string;
  prelude?: string;
  module: ModuleKey;
  runs: number;
  seed?: number;
  path?: string;
  maxEvents: number;
  shrinkTime: number;
  threads?: number;
  log?: string;
  herder?: string;
  complete?: boolean;
  json?: boolean;
}

/** Flags that state a setting, in the order they are printed in a replay command. */
const SETTING_OPTIONS = [
  '--config',
  '--token',
  '--owner',
  '--workers',
  ...SETTINGS.map(settingFlag),
  '--prelude',
  '--module',
  '--runs',
  '--max-events',
];

/** What the herder is stated to implement: --config, then each flag over it. Nothing else. */
function statedSettings(flags: VerifyFlags): StatedSettings {
  const base: Partial<StatedSettings> = flags.config ? statedFromConfig(readConfigFile(flags.config)) : {};
  const token = flags.token ?? base.token;
  if (token === undefined)
    throw new UserError(
      'state the token the herder takes payments from: --token <process id> (or --config herd.json)',
    );
  if (!isProcessId(token)) throw new UserError(`--token ${JSON.stringify(token)} is not a process id`);
  let workers = base.workers ?? [];
  if (flags.workers !== undefined) {
    workers = flags.workers.split(',').map((w) => w.trim());
    if (workers.length === 0 || workers.some((w) => w === ''))
      throw new UserError('--workers needs a comma-separated list of worker process ids, none empty');
    const bad = workers.find((w) => !isProcessId(w));
    if (bad !== undefined) throw new UserError(`--workers: ${JSON.stringify(bad)} is not a process id`);
  }
  return {
    ...base,
    token,
    owner: flags.owner ?? base.owner,
    workers,
    ...settingsFromFlags(flags),
    // A herd config states a herder of our protocol, which acts on worker reports.
    workerReports: flags.config !== undefined,
  };
}

/** The command that replays a violation: this run's own setting flags, the seed and the path. */
function replayCommand(
  file: string,
  argv: readonly string[],
  replay: { seed: number; path: string },
): string {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    if (!SETTING_OPTIONS.includes(name)) continue;
    kept.push(arg.includes('=') ? arg : `${arg} ${shellWord(argv[i + 1] ?? '')}`);
    if (!arg.includes('=')) i++;
  }
  return ['herd verify', shellWord(file), ...kept, `--seed ${replay.seed}`, `--path ${replay.path}`].join(
    ' ',
  );
}

/** One line per invariant: held, violated (what broke) or not checked (what to state). */
function invariantLines(results: readonly InvariantResult[]): string[] {
  return results.map((r) => {
    const mark = r.status === 'violated' ? '✗' : r.status === 'held' ? '✓' : '–';
    const what =
      r.status === 'violated'
        ? (r.detail ?? 'violated')
        : r.status === 'held'
          ? 'held'
          : `not checked (state ${r.needs!.join(', ')})`;
    return `  ${mark} ${r.invariant.padEnd(18)} ${what}`;
  });
}

/** The last line of a report. */
function verdictLine(report: {
  results: readonly InvariantResult[];
  violated: readonly string[];
  notChecked: readonly string[];
}): string {
  const checked = report.results.filter((r) => r.status !== 'not-checked').length;
  return report.violated.length === 0
    ? `No violations of the ${checked} invariants checked${report.notChecked.length > 0 ? ` (${report.notChecked.length} not checked: state their settings)` : ''}.`
    : `${report.violated.length} invariant(s) violated: ${report.violated.join(', ')}`;
}

function render(report: VerifyReport, file: string, argv: readonly string[]): string {
  const lines = [
    `herd verify ${file}: ${report.runs} scenario traces, ${report.messages} messages, ${report.module}, seed ${report.seed}, ${(report.durationMs / 1000).toFixed(1)} s`,
    '',
  ];
  lines.push(...invariantLines(report.results));
  for (const r of report.results.filter((x) => x.status === 'violated' && x.traceText)) {
    lines.push(
      '',
      `── ${r.invariant}: shortest trace found (${r.traceLength} messages), confirmed by replay ──`,
      r.traceText!,
    );
    if (r.replay) lines.push(`  replay: ${replayCommand(file, argv, r.replay)}`);
  }
  if (report.luaErrors.length > 0) {
    lines.push('', 'Lua errors raised by the herder (each message rolled back, as a real CU does):');
    for (const e of report.luaErrors) lines.push(`  ${e.count}× ${e.message}`);
  }
  if (report.hints.length > 0) {
    lines.push('', 'Hints:');
    for (const hint of report.hints) lines.push(`  ${hint}`);
  }
  lines.push('', verdictLine(report));
  return lines.join('\n');
}

/** A recorded history's report: the same invariant lines and traces as a live run's. */
function renderLog(report: LogReport): string {
  const lines = [
    `herd verify --log ${report.log}: herder ${report.herder}, ${report.delivered} messages to it and ${report.sent} from it, ${report.complete ? 'stated complete' : 'possibly cut off'}, ${(report.durationMs / 1000).toFixed(1)} s`,
    '',
    ...invariantLines(report.results),
  ];
  for (const r of report.results.filter((x) => x.status === 'violated' && x.traceText))
    lines.push(
      '',
      `── ${r.invariant}: the history up to the violation (${r.traceLength} messages) ──`,
      r.traceText!,
    );
  if (report.live.length > 0) {
    const shown = report.live
      .slice(0, 10)
      .map((r) => `  ${r.id} ${r.status}${r.worker ? ` on ${r.worker}` : ''}`);
    if (report.live.length > 10) shown.push(`  … ${report.live.length - 10} more`);
    lines.push(
      '',
      report.complete
        ? `Requests still live at the end of the history (${report.live.length}):`
        : `Note: ${report.live.length} request(s) still live at the end of the history, not judged since a recorded history may be cut off (--complete checks them):`,
      ...shown,
    );
  }
  if (report.hints.length > 0) lines.push('', 'Hints:', ...report.hints.map((h) => `  ${h}`));
  lines.push('', verdictLine(report));
  return lines.join('\n');
}

/** Flags that choose or drive scenario traces: meaningless for a recorded history. */
const TRACE_ONLY = ['prelude', 'module', 'runs', 'seed', 'path', 'maxEvents', 'shrinkTime'] as const;

/** `herd verify --log FILE`: the invariants over a recorded history. */
function verifyLog(file: string | undefined, flags: VerifyFlags, command: Command): void {
  const log = flags.log!;
  if (file !== undefined)
    throw new UserError(
      `give a herder's Lua file or --log ${log}, not both: --log checks a recorded history and runs no Lua`,
    );
  for (const key of TRACE_ONLY)
    if (command.getOptionValueSource(key) === 'cli') {
      const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      throw new UserError(
        `${flag} drives scenario traces; a --log history is checked as recorded: drop ${flag}`,
      );
    }
  if (flags.herder !== undefined && flags.herder.trim() === '')
    throw new UserError("--herder needs the herder's process id");
  const stated = statedSettings(flags);
  const text = readTextFile(log, 'log');
  let history: ReturnType<typeof readHistory>;
  try {
    history = readHistory(text, flags.herder?.trim());
  } catch (err) {
    if (err instanceof LogFormatError) throw new UserError(`--log ${log}: ${err.message}`);
    throw err;
  }
  const report = checkHistory(history, { stated, complete: flags.complete ?? false, log });
  emit(report, flags, renderLog);
  if (report.violated.length > 0) process.exitCode = EXIT_CHECK_FAILED;
}

export function register(program: Command): void {
  const command = program
    .command('verify')
    .description('check any Lua herder against the protocol invariants, black-box, by messages alone')
    .argument('[herder.lua]', 'the herder source to check (none with --log)')
    .option(
      '-c, --config <file>',
      'the settings the herder should implement (token, owner, workers, fees, limits, timeouts)',
    )
    .option(
      '--token <id>',
      'token process id the herder takes Credit-Notices from (required without --config)',
    )
    .option('--owner <id>', 'owner the herder takes administration from')
    .option('--workers <ids>', 'comma-separated worker ids the herder starts with');
  // The herder's settings as it states them: above our bounds too (its limits are its own).
  addSettingOptions(command, { upper: false })
    .option('--prelude <file>', 'Lua evaluated before the herder (e.g. to set its configuration globals)')
    .addOption(
      new Option('--module <module>', 'AOS module to run it in')
        .choices(['aos32', 'aos64', 'llama'])
        .default('aos32'),
    )
    .option('--runs <n>', 'scenario traces to run', intOption(1), 100)
    .option('--seed <n>', 'random seed (printed; replays a run)', intOption(0))
    .option('--path <path>', 'replay one counterexample (with --seed), as printed by a failing run')
    .option('--max-events <n>', 'events per scenario trace', intOption(1), 40)
    .option(
      '--shrink-time <ms>',
      'time limit for the whole shrinking phase (all violations, shrunk side by side)',
      intOption(0),
      60_000,
    )
    .option(
      '--log <file>',
      'check a recorded history of a herder instead (JSON lines, one message into or out of it each; no Lua file)',
    )
    .option('--herder <id>', 'with --log: the herder process id (default: inferred from the log)')
    .option(
      '--complete',
      'with --log: the history is complete, so a request still live at its end is lost (default: cut off, noted)',
    )
    .option(
      '--threads <n>',
      'run the traces on n threads, at most the number of cores (default: that many)',
      intOption(1),
    )
    .option('--json', 'print one JSON document (traces as arrays of messages)')
    .addHelpText(
      'after',
      `
Every invariant whose settings are stated is checked; the others are reported "not checked",
never guessed. A herder in the original's dialect (no X-Request tag) is followed by content.
Each violation is shrunk and replayed before it is printed. Exit code 1 when any is violated.
With --log FILE, the same invariants over a herder's recorded history instead (JSON lines: Id,
From, Target, Timestamp, Tags, Data; format in docs/guides/auditors.md), stated the same way.

Examples:
  $ herd verify build/herder.lua --config herd.json
  $ herd verify their-herder.lua --token <id> --workers <id1>,<id2> --base-fee 1 --token-fee 1 \\
      --max-overtakes unbounded
  $ herd verify their-herder.lua --token <id> --seed 42 --path 17:3:0   (replay a printed trace)
  $ herd verify --log history.jsonl --config herd.json --herder <id>     (a recorded history)`,
    )
    .action(async (file: string | undefined, flags: VerifyFlags, command: Command) => {
      if (flags.log !== undefined) return verifyLog(file, flags, command);
      if (flags.herder !== undefined || flags.complete)
        throw new UserError(`${flags.herder !== undefined ? '--herder' : '--complete'} goes with --log FILE`);
      if (file === undefined)
        throw new UserError(
          "missing required argument 'herder.lua' (or --log FILE to check a recorded history)",
        );
      if (flags.path !== undefined && flags.seed === undefined)
        throw new UserError('--path needs the --seed it was printed with');
      const replay = flags.path === undefined ? undefined : parseReplayPath(flags.path);
      if (flags.path !== undefined && replay === undefined)
        throw new UserError(
          `--path ${JSON.stringify(flags.path)} is not a path printed by herd verify (numbers separated by colons)`,
        );
      if (replay && replay.run >= flags.runs)
        throw new UserError(
          `--path ${flags.path} names trace ${replay.run}, but only ${flags.runs} are generated: give the --runs printed with it`,
        );
      const threads = flags.threads ?? availableParallelism();
      const tooMany = threadsProblem(threads);
      if (tooMany !== undefined) throw new UserError(tooMany);
      const lua = readTextFile(file, 'herder');
      const prelude = flags.prelude ? readTextFile(flags.prelude, 'prelude') : undefined;
      const stated = statedSettings(flags);
      const argv = process.argv.slice(2);
      const bar = showProgress(flags);
      const lines = progressLines('verify');
      let report: VerifyReport;
      try {
        report = await verifyHerder({
          lua,
          ...(prelude ? { prelude } : {}),
          module: flags.module,
          stated,
          runs: flags.runs,
          ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
          ...(flags.path !== undefined ? { path: flags.path } : {}),
          maxEvents: flags.maxEvents,
          shrinkTimeMs: flags.shrinkTime,
          threads,
          onProgress: (e) => {
            const status =
              e.phase === 'explore' ? `exploring ${e.done}/${e.total} traces` : `shrinking ${e.invariant}…`;
            lines.update(status);
            if (bar) process.stderr.write(`\r${status}`.padEnd(60));
          },
        });
      } catch (err) {
        if (err instanceof AoEvalError)
          throw new UserError(`${file} does not load in ${flags.module}: ${firstLuaError(err.message)}`);
        throw err;
      } finally {
        lines.stop();
        if (bar) process.stderr.write(`${'\r'.padEnd(61)}\r`);
      }
      emit(report, flags, (r) => render(r, resolve(file), argv));
      if (report.violated.length > 0) process.exitCode = EXIT_CHECK_FAILED;
    });
}

function firstLuaError(message: string): string {
  const line = message
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /\[string |error|expected|unexpected/i.test(l));
  return (line ?? message.split('\n')[0] ?? message).slice(0, 200);
}
