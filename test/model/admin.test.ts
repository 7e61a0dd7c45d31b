/**
 * Owner administration (docs/design.md §2.9) from the owner's side: every administrative message is
 * answered once, to its sender; a refusal changes nothing and its X-Reason names what was wrong
 * (docs/protocol.md, "Refund and refusal reasons"); a success is Admin-Done with its effect, and an
 * X-Note when the effect is not the obvious one. Checked for random owner messages — valid and
 * invalid values, existing and unknown workers, idle and busy ones — on herders with revenue.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BoundedSetting, makeConfig, SETTING_BOUNDS } from '../../src/model/config.ts';
import {
  cloneHerderState,
  type HerderState,
  initialHerderState,
  stepInPlace,
} from '../../src/model/herder.ts';
import type { AoMessage, OutMessage } from '../../src/model/messages.ts';
import { AMOUNT_EDGES } from '../properties/arbitraries.ts';
import { UNIT_RUNS } from '../properties/harness.ts';

const TOKEN = 'TOKEN';
const OWNER = 'OWNER';
const WORKERS = ['W1', 'W2', 'W3'];
const PRICE = 1_000n;

/**
 * A herder with three workers, `answered` requests answered (revenue) and `running` running; the
 * owner has withdrawn `withdrawn` and asked for the first busy worker's removal if `draining`.
 */
function herderWith(answered: number, running: number, withdrawn: bigint, draining = false): HerderState {
  const state = initialHerderState(
    makeConfig({ token: TOKEN, owner: OWNER, baseFee: 10n, tokenFee: 1n, workers: WORKERS }),
  );
  let t = 1;
  for (let i = 0; i < answered + running; i++) {
    const out = stepInPlace(state, {
      id: `paid${i}`,
      from: TOKEN,
      timestamp: t++,
      tags: {
        Action: 'Credit-Notice',
        Sender: 'CLIENT',
        Quantity: String(PRICE),
        'X-Prompt': 'hi',
        'X-Tokens': '1',
      },
    });
    const worker = out[0]!.target;
    if (i < answered)
      stepInPlace(state, {
        id: `answer${i}`,
        from: worker,
        timestamp: t++,
        tags: { Action: 'Inference-Response', 'X-Request': `paid${i}` },
        data: 'ok',
      });
  }
  if (withdrawn > 0n) stepInPlace(state, owner('Withdraw', { Quantity: String(withdrawn) }, 'earlier'));
  const busy = [...state.herd.all()].find((w) => w.status === 'busy');
  if (draining && busy) stepInPlace(state, owner('Remove-Worker', { Worker: busy.id }, 'drain'));
  return state;
}

let counter = 0;
function owner(action: string, tags: Record<string, string> = {}, id = `admin${++counter}`): AoMessage {
  return { id, from: OWNER, timestamp: 10_000, tags: { Action: action, ...tags } };
}

const workerTag = fc.oneof(
  fc.constantFrom(...WORKERS, 'W9', TOKEN, '', 'not a process id', 'x'.repeat(65)),
  fc.constant(undefined),
);
const amountText = fc.oneof(
  fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String),
  fc.constantFrom(...AMOUNT_EDGES),
);
const countText = fc.oneof(
  fc.nat(5000).map(String),
  fc.constantFrom('510', '511', '65536', '65537', '86400000', '86400001'),
  fc.constantFrom('0', '', '-1', '2.5', 'unbounded', 'UNBOUNDED', '9007199254740991', '9007199254740992'),
);
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
/** A settings message, or one with none of its settings. */
const orNone = (arb: fc.Arbitrary<Record<string, string | undefined>>) =>
  fc.oneof({ weight: 5, arbitrary: arb }, { weight: 1, arbitrary: fc.constant({}) });

const adminMessage = fc.oneof(
  fc.record({
    action: fc.constantFrom('Add-Worker', 'Remove-Worker'),
    tags: fc.record({ Worker: workerTag }),
  }),
  fc.record({
    action: fc.constant('Set-Fees'),
    tags: orNone(fc.record({ 'Base-Fee': optional(amountText), 'Token-Fee': optional(amountText) })),
  }),
  fc.record({
    action: fc.constant('Set-Limits'),
    tags: orNone(
      fc.record({
        'Max-Tokens': optional(countText),
        'Max-Prompt-Bytes': optional(countText),
        'Max-Overtakes': optional(countText),
        'Timeout-Base': optional(countText),
        'Timeout-Per-Token': optional(countText),
        'Max-Attempts': optional(countText),
        'Max-Queue-Wait': optional(countText),
      }),
    ),
  }),
  fc.record({
    action: fc.constant('Withdraw'),
    tags: fc.record({
      // ALL: exactly what may be withdrawn, filled in by the property.
      Quantity: optional(fc.oneof(amountText, fc.constant('ALL'))),
      Recipient: optional(fc.constantFrom('TREASURY', '', 'not a process id', 'x'.repeat(65))),
    }),
  }),
  fc.record({ action: fc.constantFrom('Pause', 'Resume'), tags: fc.constant({}) }),
);

const DIGITS = /^[0-9]+$/;
/** Digits without leading zeros: "0042" has 2 significant digits. */
const significant = (raw: string) => raw.replace(/^0+(?=.)/, '');

/** Why the owner's message must be refused, judged from its tags and the herder's state; or undefined. */
function expectedRefusal(
  state: HerderState,
  action: string,
  tags: Record<string, string>,
): RegExp | undefined {
  switch (action) {
    case 'Add-Worker': {
      const id = tags.Worker;
      if (id === undefined || id === '') return /^Worker tag is missing$/;
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) return /is not a process id/;
      if (id === TOKEN) return /the token cannot be a worker/;
      return undefined;
    }
    case 'Remove-Worker':
      return tags.Worker !== undefined && state.herd.get(tags.Worker)
        ? undefined
        : /^no such worker in the herd$/;
    case 'Set-Fees':
    case 'Set-Limits': {
      const present = Object.keys(tags);
      if (present.length === 0)
        return new RegExp(`^expected one of ${action === 'Set-Fees' ? 'Base-Fee, Token-Fee' : 'Max-Tokens'}`);
      for (const name of present) {
        const raw = tags[name]!;
        if (name === 'Max-Overtakes' && raw.toLowerCase() === 'unbounded') continue;
        if (!DIGITS.test(raw) || raw.length > 1000) return new RegExp(`^${name} is not a decimal integer$`);
        if (significant(raw).length > 78) return new RegExp(`^${name} has more than 78 digits$`);
        if (action === 'Set-Limits' && BigInt(raw) > BigInt(Number.MAX_SAFE_INTEGER))
          return new RegExp(`^${name} is too large$`);
      }
      const value = (name: string, current: bigint | number) =>
        tags[name] === undefined ? BigInt(current) : BigInt(tags[name]);
      const { config } = state;
      if (value('Base-Fee', config.baseFee) === 0n && value('Token-Fee', config.tokenFee) === 0n)
        return /cannot both be 0/;
      const bounded: [string, BoundedSetting][] = [
        ['Max-Tokens', 'maxTokens'],
        ['Max-Prompt-Bytes', 'maxPromptBytes'],
        ['Timeout-Base', 'timeoutBase'],
        ['Timeout-Per-Token', 'timeoutPerToken'],
        ['Max-Attempts', 'maxAttempts'],
        ['Max-Queue-Wait', 'maxQueueWait'],
      ];
      for (const [name, field] of bounded) {
        const { min, max } = SETTING_BOUNDS[field];
        const v = value(name, config[field]);
        if (v < BigInt(min) || v > BigInt(max))
          return new RegExp(`${field} must be an integer from ${min} to ${max}`);
      }
      return undefined;
    }
    case 'Withdraw': {
      const raw = tags.Quantity;
      if (raw === undefined) return /^Quantity is missing$/;
      if (!DIGITS.test(raw) || raw.length > 1000) return /^Quantity is not a decimal integer$/;
      if (significant(raw).length > 78) return /^Quantity has more than 78 digits$/;
      if (BigInt(raw) === 0n) return /^Quantity must be greater than zero$/;
      if (tags.Recipient && !/^[A-Za-z0-9_-]{1,64}$/.test(tags.Recipient))
        return /^Recipient must be a process id$/;
      const left = state.ledger.revenue - state.ledger.withdrawn;
      if (BigInt(raw) > left) return new RegExp(`^only ${left} of revenue can be withdrawn$`);
      return undefined;
    }
    default:
      return undefined;
  }
}

function defined(tags: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
}

describe('owner administration', () => {
  it('refuses with a reason naming the problem and changes nothing, or does exactly what was asked', () => {
    fc.assert(
      fc.property(
        fc.nat(3),
        fc.nat(3),
        fc.bigInt({ min: 0n, max: 3_000n }),
        fc.boolean(),
        adminMessage,
        (answered, runningWanted, withdrawnWanted, draining, { action, tags: rawTags }) => {
          const running = Math.min(runningWanted, WORKERS.length);
          const withdrawn = withdrawnWanted > BigInt(answered) * PRICE ? 0n : withdrawnWanted;
          const state = herderWith(answered, running, withdrawn, draining);
          const tags = defined(rawTags);
          if (tags.Quantity === 'ALL') tags.Quantity = String(state.ledger.revenue - state.ledger.withdrawn);
          const before = cloneHerderState(state);
          const refusal = expectedRefusal(state, action, tags);
          const outbox = stepInPlace(state, owner(action, tags));
          const reply = outbox.find((m) => m.target === OWNER)!;
          expect(outbox.filter((m) => m.target === OWNER)).toHaveLength(1);
          expect(reply.tags['Admin-Action']).toBe(action);
          if (refusal !== undefined) {
            expect(reply.tags.Action).toBe('Admin-Refused');
            expect(reply.tags['X-Reason']).toMatch(refusal);
            expect(outbox).toEqual([reply]);
            expect(state.config).toEqual(before.config);
            expect(state.ledger).toEqual(before.ledger);
            expect(state.paused).toBe(before.paused);
            expect(workerView(state)).toEqual(workerView(before));
            return;
          }
          expect(reply.tags.Action).toBe('Admin-Done');
          expect('X-Reason' in reply.tags).toBe(false);
          checkEffect(before, state, action, tags, reply, outbox);
        },
      ),
      { numRuns: UNIT_RUNS },
    );
  });

  it('refuses every administrative Action from anyone but the owner, naming the rule', () => {
    fc.assert(
      fc.property(
        adminMessage,
        fc.constantFrom('MALLORY', 'W1', TOKEN, 'CLIENT'),
        ({ action, tags }, sender) => {
          const state = herderWith(1, 1, 0n);
          const before = cloneHerderState(state);
          const outbox = stepInPlace(state, { ...owner(action, defined(tags)), from: sender });
          expect(outbox).toEqual([
            {
              target: sender,
              tags: {
                Action: 'Admin-Refused',
                'Admin-Action': action,
                'X-Reason': 'Only the owner may administer the herder',
              },
            },
          ]);
          expect(state.config).toEqual(before.config);
          expect(state.ledger).toEqual(before.ledger);
          expect(workerView(state)).toEqual(workerView(before));
        },
      ),
      { numRuns: UNIT_RUNS },
    );
  });
});

function workerView(state: HerderState) {
  return [...state.herd.all()].map((w) => ({ id: w.id, status: w.status, draining: w.draining }));
}

function checkEffect(
  before: HerderState,
  after: HerderState,
  action: string,
  tags: Record<string, string>,
  reply: OutMessage,
  outbox: OutMessage[],
): void {
  const note = reply.tags['X-Note'];
  expect('X-Note' in reply.tags).toBe(note !== undefined);
  const others = outbox.filter((m) => m !== reply);
  switch (action) {
    case 'Add-Worker': {
      const id = tags.Worker!;
      const existing = before.herd.get(id);
      if (existing === undefined) {
        expect(note).toBeUndefined();
        expect(after.herd.get(id)?.status).toBe('idle');
      } else if (existing.draining) {
        expect(note).toBe('removal cancelled');
        expect(after.herd.get(id)?.draining).toBe(false);
      } else {
        expect(note).toBe('already in the herd');
        expect(workerView(after)).toEqual(workerView(before));
      }
      expect(others).toEqual([]);
      return;
    }
    case 'Remove-Worker': {
      const id = tags.Worker!;
      if (before.herd.get(id)!.status === 'busy') {
        expect(note).toBe('draining: leaves when its request ends');
        expect(after.herd.get(id)).toMatchObject({ status: 'busy', draining: true });
      } else {
        expect(note).toBeUndefined();
        expect(after.herd.get(id)).toBeUndefined();
      }
      expect(after.herd.size).toBe(before.herd.size - (note === undefined ? 1 : 0));
      expect(others).toEqual([]);
      return;
    }
    case 'Set-Fees':
    case 'Set-Limits': {
      expect(note).toBeUndefined();
      const fields: Record<string, [keyof HerderState['config'], (raw: string) => unknown]> = {
        'Base-Fee': ['baseFee', BigInt],
        'Token-Fee': ['tokenFee', BigInt],
        'Max-Tokens': ['maxTokens', Number],
        'Max-Prompt-Bytes': ['maxPromptBytes', Number],
        'Max-Overtakes': ['maxOvertakes', (raw) => (raw.toLowerCase() === 'unbounded' ? null : Number(raw))],
        'Timeout-Base': ['timeoutBase', Number],
        'Timeout-Per-Token': ['timeoutPerToken', Number],
        'Max-Attempts': ['maxAttempts', Number],
        'Max-Queue-Wait': ['maxQueueWait', Number],
      };
      const expected: Record<string, unknown> = { ...before.config };
      for (const [name, raw] of Object.entries(tags)) expected[fields[name]![0]] = fields[name]![1](raw);
      expect(after.config).toEqual(expected);
      expect(others).toEqual([]);
      return;
    }
    case 'Withdraw': {
      const quantity = BigInt(tags.Quantity!);
      expect(after.ledger).toEqual({ ...before.ledger, withdrawn: before.ledger.withdrawn + quantity });
      expect(others).toEqual([
        {
          target: TOKEN,
          tags: {
            Action: 'Transfer',
            Recipient: tags.Recipient || OWNER,
            Quantity: quantity.toString(),
            'X-Reason': 'Withdrawal',
          },
        },
      ]);
      return;
    }
    default:
      expect(after.paused).toBe(action === 'Pause');
      expect(others).toEqual([]);
  }
}
