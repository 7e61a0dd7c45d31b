/** docs/protocol.md, generated from the protocol catalogue (src/model/protocol.ts) and the model. */
import { DEFAULT_CONFIG } from '../model/config.ts';
import { formatMultiplier, MULTIPLIER_DECIMALS, neededFee, words } from '../model/fees.ts';
import { Reason } from '../model/messages.ts';
import {
  type MessageSpec,
  messageSpec,
  type Party,
  PROTOCOL,
  REASONS,
  TAG_FORMATS,
} from '../model/protocol.ts';
import { MODEL_VERSION } from '../model/version.ts';
import { anchor, cell, code, fence, generatedHeader, table } from './markdown.ts';

const PARTIES: Readonly<Record<Party, string>> = {
  client: 'a process that pays for inference (usually through the client package)',
  token: 'the wrapped-AR token process (AO token blueprint): moves funds, sends Credit- and Debit-Notices',
  herder: 'takes payments, queues requests by priority, dispatches them to workers, answers or refunds',
  worker: 'an AOS-Llama process: loads a model through WeaveDrive and generates text for its herder',
  owner: 'the operator: the only process allowed to administer the herder',
  anyone: 'any process',
};

function parties(list: readonly Party[]): string {
  return list.join(' or ');
}

function heading(m: MessageSpec): string {
  return `${m.title}: ${m.action}`;
}

function messageSection(m: MessageSpec): string {
  const lines = [`### ${heading(m)}`, ''];
  lines.push(
    `**${parties(m.from)} → ${parties(m.to)}**, ${code(`Action=${m.action}`)} ([docs/design.md ${m.section}](design.md))`,
  );
  lines.push('');
  lines.push(`**When:** ${m.when}`);
  lines.push('');
  lines.push(`**Effect:** ${m.effect}`);
  lines.push('');
  if (m.tags.length === 0) lines.push('Tags: none besides `Action`.');
  else
    lines.push(
      table(
        ['tag', 'required', 'format', 'meaning'],
        m.tags.map((t) => [
          code(t.name),
          t.required ? 'yes' : 'no',
          `[${t.format}](#tag-formats)`,
          cell(t.value === undefined ? t.meaning : `${t.meaning}; always ${code(t.value)}`),
        ]),
      ),
    );
  if (m.atLeastOne !== undefined) {
    lines.push('');
    lines.push(`At least one of ${m.atLeastOne.map(code).join(', ')} must be present.`);
  }
  lines.push('');
  lines.push(`**Data:** ${m.data ?? 'none (ignored if present)'}.`);
  return lines.join('\n');
}

/** A worked fee example, computed by the model's own functions. */
function feeExample(): string {
  const prompt = 'Tell me a story about llamas, in 3 lines!';
  const tokens = 64;
  const needed = neededFee(DEFAULT_CONFIG, tokens, prompt);
  const n = words(prompt);
  const paid = needed + needed / 2n;
  return [
    `With the default fees (baseFee ${DEFAULT_CONFIG.baseFee}, tokenFee ${DEFAULT_CONFIG.tokenFee}), the prompt`,
    `${code(prompt)} has ${n} words (${code('Tell')}, ${code('me')}, …, ${code('3')}, ${code('lines')}),`,
    `so ${tokens} tokens need ${DEFAULT_CONFIG.baseFee} + ${DEFAULT_CONFIG.tokenFee} × (${tokens} + ${n}) = **${needed}**.`,
    `Paying ${paid} gives multiplier ${paid}/${needed}, reported as Last-Multiplier ${code(formatMultiplier({ paid, needed }))}.`,
  ].join('\n');
}

function lifeOfARequest(): string {
  const a = (key: string) => messageSpec(key).action;
  return fence(
    [
      'sequenceDiagram',
      '  participant C as Client',
      '  participant T as Token',
      '  participant H as Herder',
      '  participant W as Worker',
      `  C->>T: ${a('payment')} (Quantity, X-Prompt, X-Tokens, X-Reference)`,
      `  T->>H: ${a('credit-notice')} (Sender=C, Quantity, X- tags)`,
      '  alt invalid, underpaid or paused',
      `    H->>T: ${a('refund')} (Recipient=C, whole Quantity, X-Reason)`,
      '  else accepted: queued by multiplier',
      `    H->>W: ${a('inference')} (Tokens, X-Request, Data=prompt)`,
      '    alt answered in time',
      `      W->>H: ${a('inference-answer')} (X-Request, Data=text)`,
      `      H->>C: ${a('answer')} (X-Request, X-Reference, Data=text)`,
      '    else error or deadline passed',
      `      W-->>H: ${a('inference-error')} / silence`,
      `      H->>W: ${a('inference')} (another worker, up to maxAttempts)`,
      `      H->>T: ${a('refund')} (after maxAttempts)`,
      '    end',
      '  end',
    ].join('\n'),
    'mermaid',
  );
}

export function protocolPage(): string {
  const out: string[] = [];
  out.push(
    generatedHeader('src/model/protocol.ts (checked against the model by test/docs/protocol.test.ts)'),
  );
  out.push('');
  out.push('# Protocol reference');
  out.push('');
  out.push(
    `Model version ${MODEL_VERSION}. Every message below is taken from the protocol catalogue, which the ` +
      'tests hold to the model: every message the model herder and worker send in random traces matches ' +
      'an entry (Action, tags, formats), and every Action the model knows is listed. The protocol is ' +
      'wire-compatible with the original Llama-Herder: the same Actions and tags, with additions ' +
      '(administration, `X-Request`, `X-Reason`, `X-Needed`, the extra Info fields).',
  );
  out.push('');
  out.push(
    'Tag names are written exactly as shown; on receipt they are matched ignoring case (aos may Title-Case ' +
      'them, e.g. `Model-ID` arrives as `Model-Id`). Amounts are decimal strings of any size; the herder ' +
      'keeps books on amounts of up to 78 digits.',
  );
  out.push('');
  out.push('## Processes');
  out.push('');
  out.push(
    table(
      ['process', 'role'],
      Object.entries(PARTIES).map(([p, role]) => [p, role]),
    ),
  );
  out.push('');
  out.push('## Fees and priority');
  out.push('');
  out.push(
    fence(
      [
        'needed     = baseFee + tokenFee × (tokens + words(prompt))',
        'multiplier = Quantity / needed          (exact rational, compared by cross-multiplication)',
      ].join('\n'),
    ),
  );
  out.push('');
  out.push(
    '`words` counts maximal runs of ASCII letters and digits (Lua `%w+` in the C locale). A payment below ' +
      '`needed` is refunded with `X-Needed`. Waiting requests are served highest multiplier first, first come ' +
      'first served among equal multipliers, and no request is overtaken by more than `maxOvertakes` later ' +
      'arrivals. `Last-Multiplier` in Info-Response is the multiplier of the last dispatched request, ' +
      `truncated to ${MULTIPLIER_DECIMALS} decimals with trailing zeros dropped.`,
  );
  out.push('');
  out.push(feeExample());
  out.push('');
  out.push('## A request’s life');
  out.push('');
  out.push(lifeOfARequest());
  out.push('');
  out.push(
    'Each accepted request ends exactly once: one answer forwarded or one refund. A worker is held until it ' +
      'answers or its deadline `now + timeoutBase + timeoutPerToken × tokens` passes (checked on every ' +
      'incoming message, Cron ticks included); a timed-out worker gets no work until it answers again, and ' +
      'a late answer is never forwarded.',
  );
  out.push('');
  out.push(
    'Worked examples, each a fixed script of messages run through the model with every event a step ' +
      'reported: [A request’s life, step by step](lifecycle.md).',
  );
  out.push('');
  out.push('## Messages at a glance');
  out.push('');
  out.push(
    table(
      ['message', 'Action', 'from → to', 'when'],
      PROTOCOL.map((m) => [
        `[${m.title}](#${anchor(heading(m))})`,
        code(m.action),
        `${parties(m.from)} → ${parties(m.to)}`,
        cell(m.when),
      ]),
    ),
  );
  out.push('');
  out.push('## Messages');
  out.push('');
  out.push(PROTOCOL.map(messageSection).join('\n\n'));
  out.push('');
  out.push('## Tag formats');
  out.push('');
  out.push(
    table(
      ['format', 'shape'],
      Object.entries(TAG_FORMATS).map(([name, f]) => [name, cell(f.description)]),
    ),
  );
  out.push('');
  out.push('## Refund and refusal reasons');
  out.push('');
  out.push(
    table(
      ['X-Reason', 'meaning'],
      (Object.keys(Reason) as (keyof typeof Reason)[]).map((key) => [code(Reason[key]), cell(REASONS[key])]),
    ),
  );
  out.push('');
  out.push(
    `Worker errors are refunded as “${Reason.AttemptsExhausted} after N attempt(s): worker error: <the worker’s ` +
      'X-Reason>”, “…: worker failed” or “…: worker timed out”. Administrative refusals carry the problem ' +
      'with the owner’s values (e.g. “Worker tag is missing”, “only 120 of revenue can be withdrawn”).',
  );
  out.push('');
  return out.join('\n');
}
