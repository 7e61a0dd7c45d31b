import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import type { ModuleKey } from '../../ao/modules.ts';
import { type HerdConfig, makeConfig } from '../../model/config.ts';
import { OBSERVABLE_INVARIANTS, type VerifyReport, verifyHerder } from '../../verify/verify.ts';
import { readConfigFile, readTextFile } from '../config-file.ts';
import { emit, intOption, showProgress, UserError } from '../output.ts';

interface VerifyFlags {
  config?: string;
  token?: string;
  owner?: string;
  workers?: string;
  baseFee?: string;
  tokenFee?: string;
  prelude?: string;
  module: ModuleKey;
  runs: number;
  seed?: number;
  path?: string;
  maxEvents: number;
  shrinkTime: number;
  json?: boolean;
}

/** The settings the herder is expected to implement, from --config or the individual flags. */
function expectedConfig(flags: VerifyFlags): HerdConfig {
  if (flags.config) return readConfigFile(flags.config);
  try {
    return makeConfig({
      token: flags.token ?? 'TOKEN',
      owner: flags.owner ?? 'OWNER',
      workers: (flags.workers ?? 'W1,W2')
        .split(',')
        .map((w) => w.trim())
        .filter(Boolean),
      ...(flags.baseFee ? { baseFee: BigInt(flags.baseFee) } : {}),
      ...(flags.tokenFee ? { tokenFee: BigInt(flags.tokenFee) } : {}),
      maxOvertakes: null,
    });
  } catch (err) {
    throw new UserError((err as Error).message);
  }
}

function render(report: VerifyReport, file: string): string {
  const lines = [
    `herd verify ${file}: ${report.runs} scenario traces, ${report.messages} messages, ${report.module}, seed ${report.seed}, ${(report.durationMs / 1000).toFixed(1)} s`,
    '',
  ];
  for (const r of report.results)
    lines.push(
      `  ${r.violated ? '✗' : '✓'} ${r.invariant.padEnd(18)} ${r.violated ? (r.detail ?? 'violated') : 'held'}`,
    );
  for (const r of report.results.filter((x) => x.violated && x.trace)) {
    lines.push('', `── ${r.invariant}: shortest trace found (${r.traceLength} messages) ──`, r.trace!);
    if (r.replay) lines.push(`  replay: herd verify ${file} --seed ${r.replay.seed} --path ${r.replay.path}`);
  }
  if (report.luaErrors.length > 0) {
    lines.push('', 'Lua errors raised by the herder (each message rolled back, as a real CU does):');
    for (const e of report.luaErrors) lines.push(`  ${e.count}× ${e.message}`);
  }
  lines.push(
    '',
    report.violated.length === 0
      ? `No violations of the ${OBSERVABLE_INVARIANTS.length} observable invariants.`
      : `${report.violated.length} invariant(s) violated: ${report.violated.join(', ')}`,
  );
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('verify')
    .description('check any Lua herder against the protocol invariants, black-box, by messages alone')
    .argument('<herder.lua>', 'the herder source to check')
    .option(
      '-c, --config <file>',
      'the settings the herder should implement (token, owner, workers, fees, limits, timeouts)',
    )
    .option('--token <id>', 'token process id the herder expects (if hard-coded in its source)', undefined)
    .option('--owner <id>', 'owner the herder expects')
    .option('--workers <ids>', 'comma-separated worker ids the herder starts with (default W1,W2)')
    .option('--base-fee <amount>', 'base fee the herder charges')
    .option('--token-fee <amount>', 'fee per token and prompt word')
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
    .option('--shrink-time <ms>', 'time limit for shrinking each violation', intOption(0), 60_000)
    .option('--json', 'print one JSON document')
    .addHelpText(
      'after',
      `
Invariants checked: ${OBSERVABLE_INVARIANTS.join(', ')}.
Exit code 1 when any is violated.

Examples:
  $ herd verify build/herder.lua --config herd.json
  $ herd verify their-herder.lua --token <id> --workers <id1>,<id2> --base-fee 100 --token-fee 10`,
    )
    .action(async (file: string, flags: VerifyFlags) => {
      if (flags.path !== undefined && flags.seed === undefined)
        throw new UserError('--path needs the --seed it was printed with');
      const lua = readTextFile(file, 'herder');
      const prelude = flags.prelude ? readTextFile(flags.prelude, 'prelude') : undefined;
      const config = expectedConfig(flags);
      const progress = showProgress(flags);
      const report = await verifyHerder({
        lua,
        ...(prelude ? { prelude } : {}),
        module: flags.module,
        config,
        runs: flags.runs,
        ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
        ...(flags.path !== undefined ? { path: flags.path } : {}),
        maxEvents: flags.maxEvents,
        shrinkTimeMs: flags.shrinkTime,
        ...(progress
          ? {
              onProgress: (e: { phase: string; done: number; total: number; invariant?: string }) =>
                process.stderr.write(
                  `\r${e.phase === 'explore' ? `exploring ${e.done}/${e.total} traces` : `shrinking ${e.invariant}…`}`.padEnd(
                    60,
                  ),
                ),
            }
          : {}),
      });
      if (progress) process.stderr.write(`${'\r'.padEnd(61)}\r`);
      emit(report, flags, (r) => render(r, resolve(file)));
      if (report.violated.length > 0) process.exitCode = 1;
    });
}
