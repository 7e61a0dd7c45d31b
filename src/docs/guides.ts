/**
 * The guides (docs/guides/): prose written in src/docs/guides/*.md, with `{{block}}` lines that
 * are filled from the code — the config keys and defaults, command options, protocol tables, fee
 * examples computed by the model, and real `herd simulate` output — so that they cannot drift.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INVARIANT_NAMES, INVARIANTS } from '../audit/invariants.ts';
import { DEFAULT_CONFIG, type HerdConfig } from '../model/config.ts';
import { formatMultiplier, neededFee, words } from '../model/fees.ts';
import { Reason } from '../model/messages.ts';
import { messageSpec, PROTOCOL, REASONS } from '../model/protocol.ts';
import { SETTINGS, type Setting, type SettingName, settingToJson } from '../model/settings.ts';
import { runSimulation } from '../simulate/engine.ts';
import { rateForLoad, type SimulationOptions, simulationOptions } from '../simulate/options.ts';
import { formatResult, formatSweep } from '../simulate/report.ts';
import { runSweep } from '../simulate/sweep.ts';
import { commandReference, commandTable } from './commands.ts';
import { invariantCoverage } from './invariants-page.ts';
import { cell, code, fence, generatedHeader, table } from './markdown.ts';

export const GUIDES = ['operators', 'clients', 'auditors'] as const;

/** What each key of herd.json besides the settings means (the settings' rows are in the settings table). */
export const CONFIG_KEYS: Readonly<Record<Exclude<keyof HerdConfig, SettingName>, string>> = {
  token: 'the wAR token process: the only accepted source of Credit-Notices',
  owner: 'the operator: the only sender allowed to administer the herder',
  workers: 'worker process ids registered at start, in order',
};

/** A setting's meaning in the config-keys table: its kind and bounds said in words. */
function settingMeaning(spec: Setting): string {
  if (spec.kind === 'amount') return `${spec.meaning} (token units, decimal string)`;
  if (spec.kind === 'bound') return `${spec.meaning}; \`null\` = pure priority`;
  return `${spec.meaning} (${spec.min} to ${spec.max.toLocaleString('en-US')})`;
}

/** The example runs shown in the operators' guide, and the command lines that produce them. */
export const SIMULATE_EXAMPLE = {
  args: ['--requests', '5000', '--workers', '8', '--load', '0.85'],
  options(): SimulationOptions {
    const base = simulationOptions({ requests: 5_000, workers: 8 });
    return { ...base, rate: rateForLoad(base, 0.85) };
  },
};

export const SWEEP_EXAMPLE = {
  args: ['--requests', '3000', '--workers', '8', '--load', '0.85', '--sweep-workers', '6:12:1'],
  sizes: [6, 7, 8, 9, 10, 11, 12],
  options(): SimulationOptions {
    const base = simulationOptions({ requests: 3_000, workers: 8 });
    return { ...base, rate: rateForLoad(base, 0.85) };
  },
};

function configKeys(): string {
  const row = (key: string, meaning: string, value: string) => [code(key), cell(meaning), value];
  return table(
    ['key', 'meaning', 'default'],
    [
      row('token', CONFIG_KEYS.token, 'required'),
      row('owner', CONFIG_KEYS.owner, 'required'),
      ...SETTINGS.map((s) =>
        row(s.name, settingMeaning(s), code(JSON.stringify(settingToJson(s, s.default)))),
      ),
      row('workers', CONFIG_KEYS.workers, code(JSON.stringify(DEFAULT_CONFIG.workers))),
    ],
  );
}

function tagTable(key: string): string {
  const m = messageSpec(key);
  return table(
    ['tag', 'required', 'meaning'],
    [
      [code('Action'), 'yes', code(m.action)],
      ...m.tags.map((t) => [
        code(t.name),
        t.required ? 'yes' : 'no',
        cell(t.value === undefined ? t.meaning : `${t.meaning}; always ${code(t.value)}`),
      ]),
    ],
  );
}

function adminMessages(): string {
  return table(
    ['Action', 'tags', 'effect'],
    PROTOCOL.filter((m) => m.from.length === 1 && m.from[0] === 'owner' && m.to.includes('herder')).map(
      (m) => [
        code(m.action),
        m.tags.length === 0
          ? '—'
          : m.tags.map((t) => (t.required ? code(t.name) : `[${code(t.name)}]`)).join(', '),
        cell(m.effect),
      ],
    ),
  );
}

function infoFields(): string {
  return table(
    ['Info-Response tag', 'meaning'],
    messageSpec('info-response').tags.map((t) => [code(t.name), cell(t.meaning)]),
  );
}

function refundReasons(): string {
  return table(
    ['X-Reason', 'when'],
    (Object.keys(Reason) as (keyof typeof Reason)[])
      .filter((key) => Reason[key] !== Reason.NotOwner && Reason[key] !== Reason.Withdrawal)
      .map((key) => [code(Reason[key]), cell(REASONS[key])]),
  );
}

function feeFormula(): string {
  return [
    fence(
      ['needed     = baseFee + tokenFee × (tokens + words(prompt))', 'multiplier = Quantity / needed'].join(
        '\n',
      ),
    ),
    '',
    '`words(prompt)` counts maximal runs of ASCII letters and digits: ' +
      ['Tell me a story', 'llama-3.2 rocks!', '¿qué tal?']
        .map((p) => `${code(p)} has ${words(p)}`)
        .join(', ') +
      '. All amounts are whole token units, computed exactly (no floating point), so a client and the herder ' +
      'always agree on the fee. Pay at least `needed`; anything above buys priority.',
  ].join('\n');
}

function feeExample(): string {
  const rows: string[][] = [];
  for (const [prompt, tokens] of [
    ['Hi', 16],
    ['Tell me a story about llamas', 64],
    ['Summarise the AO whitepaper in five bullet points, for a newcomer.', 256],
  ] as const) {
    const needed = neededFee(DEFAULT_CONFIG, tokens, prompt);
    const double = 2n * needed;
    rows.push([
      code(prompt),
      String(words(prompt)),
      String(tokens),
      code(needed.toString()),
      `${code(double.toString())} → ${formatMultiplier({ paid: double, needed })}`,
    ]);
  }
  return [
    `At the default fees (baseFee ${DEFAULT_CONFIG.baseFee}, tokenFee ${DEFAULT_CONFIG.tokenFee}), computed by the model:`,
    '',
    table(['prompt', 'words', 'tokens', 'needed', 'paying double → multiplier'], rows),
  ].join('\n');
}

function luaPaymentExample(): string {
  const prompt = 'Tell me a story about llamas';
  const tokens = 64;
  const needed = neededFee(DEFAULT_CONFIG, tokens, prompt);
  return fence(
    [
      `-- needed = ${DEFAULT_CONFIG.baseFee} + ${DEFAULT_CONFIG.tokenFee} × (${tokens} tokens + ${words(prompt)} words) = ${needed}`,
      'Send({',
      '  Target = WAR_TOKEN,',
      '  Action = "Transfer",',
      '  Recipient = HERDER,',
      `  Quantity = "${needed}",`,
      `  ["X-Prompt"] = "${prompt}",`,
      `  ["X-Tokens"] = "${tokens}",`,
      '  ["X-Reference"] = "story-1",',
      '})',
    ].join('\n'),
    'lua',
  );
}

function clientPackage(root: string): string {
  const files = readdirSync(join(root, 'src/lua-export')).filter((f) => /client/i.test(f));
  return `The package is generated with the herder by \`herd export\` (from ${files.map((f) => code(`src/lua-export/${f}`)).join(', ')}).`;
}

function invariantList(): string {
  return INVARIANT_NAMES.map((name) => `- **${name}**: ${INVARIANTS[name]}`).join('\n');
}

async function verifyInvariants(root: string): Promise<string> {
  const coverage = await invariantCoverage(root);
  const checked = coverage.filter((c) => c.verify).map((c) => `**${c.name}**`);
  const inside = coverage.filter((c) => c.verify === false).map((c) => `**${c.name}**`);
  return (
    `${checked.join(', ')}.` +
    (inside.length === 0
      ? ''
      : ` (${inside.join(' and ')} need the herder’s internal state and are checked on the model only.)`)
  );
}

async function seededDefects(root: string): Promise<string> {
  const coverage = await invariantCoverage(root);
  const rows = coverage.flatMap((c) => c.defects.map((d) => [cell(d), `**${c.name}**`]));
  if (rows.length === 0)
    throw new Error('no seeded defect found for the auditors’ guide (see invariantCoverage)');
  return table(['planted defect', 'caught by'], rows);
}

function simulateExample(): string {
  const result = runSimulation(SIMULATE_EXAMPLE.options());
  return fence(
    `$ herd simulate ${SIMULATE_EXAMPLE.args.join(' ')}\n${formatResult(result, { timing: false })}`,
  );
}

function sweepExample(): string {
  const options = SWEEP_EXAMPLE.options();
  const points = runSweep(options, SWEEP_EXAMPLE.sizes);
  return fence(`$ herd simulate ${SWEEP_EXAMPLE.args.join(' ')}\n${formatSweep(points, { timing: false })}`);
}

/** Fills one `{{block}}` line. */
async function block(name: string, root: string): Promise<string> {
  const [kind, arg] = name.split(':') as [string, string | undefined];
  switch (kind) {
    case 'commands':
      return commandTable();
    case 'options':
      return commandReference(arg!);
    case 'config-keys':
      return configKeys();
    case 'simulate-example':
      return simulateExample();
    case 'sweep-example':
      return sweepExample();
    case 'admin-messages':
      return adminMessages();
    case 'info-fields':
      return infoFields();
    case 'payment-tags':
      return tagTable('payment');
    case 'answer-tags':
      return tagTable('answer');
    case 'refund-tags':
      return tagTable('refund');
    case 'refund-reasons':
      return refundReasons();
    case 'fee-formula':
      return feeFormula();
    case 'fee-example':
      return feeExample();
    case 'lua-payment-example':
      return luaPaymentExample();
    case 'client-package':
      return clientPackage(root);
    case 'deploy-guide':
      return (
        'A full walkthrough of `herd deploy` (wallet, modules, resuming an interrupted deploy): ' +
        '[Deploying a herd](deploying.md).'
      );
    case 'invariant-list':
      return invariantList();
    case 'verify-invariants':
      return verifyInvariants(root);
    case 'seeded-defects':
      return seededDefects(root);
    default:
      throw new Error(`unknown block {{${name}}} in a guide template`);
  }
}

/** The guide template's text. */
export function guideTemplate(name: (typeof GUIDES)[number]): string {
  return readFileSync(new URL(`./guides/${name}.md`, import.meta.url), 'utf8');
}

/** One guide with every block filled in. */
export async function guidePage(name: (typeof GUIDES)[number], root: string): Promise<string> {
  const template = guideTemplate(name);
  const parts: string[] = [generatedHeader(`src/docs/guides/${name}.md`), ''];
  for (const line of template.split('\n')) {
    const match = /^\{\{([a-z-]+(?::[a-z-]+)?)\}\}$/.exec(line.trim());
    parts.push(match === null ? line : await block(match[1]!, root));
  }
  return parts.join('\n');
}
