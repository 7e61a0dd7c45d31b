import { beforeAll, describe, expect, it } from 'vitest';
import { LocalNetwork } from '../../src/ao/network.ts';
import { luaString, TOKEN_MAX_DIGITS, tokenLua } from '../../src/lua-export/token.ts';
import { MODEL_VERSION } from '../../src/model/version.ts';
import { tagMap, withAction } from './helpers.ts';

describe('tokenLua()', () => {
  it('is deterministic, headed, and versioned', () => {
    const lua = tokenLua();
    expect(lua).toBe(tokenLua());
    expect(lua.startsWith('-- llama-herder token\n')).toBe(true);
    expect(lua).toContain(`-- model version: ${MODEL_VERSION}`);
    expect(lua).toContain("require('.bint')(512)");
    expect(tokenLua({ name: 'Test "Coin"\n' })).toContain('TOKEN_CONFIG = { name = "Test \\"Coin\\"\\n",');
  });

  it('escapes any string into a Lua literal', () => {
    expect(luaString('a\\b"c')).toBe('"a\\\\b\\"c"');
    expect(luaString('é\u0000')).toBe('"\\195\\169\\000"');
  });
});

describe('token in aos32', () => {
  let net: LocalNetwork;
  let owner: string;
  let token: string;
  let a: string;
  let b: string;

  const balance = async (account: string): Promise<bigint> => {
    const dry = await net.dryRun(token, { from: account, tags: { Action: 'Balance' } });
    const reply = dry.messages[0]!;
    expect(tagMap(reply.tags).Balance).toBe(reply.data);
    expect(tagMap(reply.tags).Account).toBe(account);
    return BigInt(reply.data);
  };
  const transfer = async (from: string, tags: Record<string, string>) => {
    const id = net.send({ from, target: token, tags: { Action: 'Transfer', ...tags } });
    await net.deliverAll();
    return id;
  };

  beforeAll(async () => {
    net = await LocalNetwork.create({ seed: 'token32' });
    owner = net.wallet('owner');
    token = await net.spawn({ module: 'aos32', owner, name: 'token', boot: tokenLua() });
    a = await net.spawn({ module: 'aos32', owner, name: 'a' });
    b = await net.spawn({ module: 'aos32', owner, name: 'b' });
  });

  it('mints for the owner only', async () => {
    net.send({ from: owner, target: token, tags: { Action: 'Mint', Recipient: a, Quantity: '1000' } });
    net.send({ from: a, target: token, tags: { Action: 'Mint', Recipient: a, Quantity: '5' } });
    await net.deliverAll();
    expect(await balance(a)).toBe(1000n);
    const [confirmation] = withAction(net, 'Mint-Confirmation', owner);
    expect(tagMap(confirmation!.tags)).toMatchObject({ Recipient: a, Quantity: '1000' });
    const [refusal] = withAction(net, 'Mint-Error', a);
    expect(tagMap(refusal!.tags).Error).toMatch(/Only the owner/);
  });

  it('transfers between processes with Debit-Notice and Credit-Notice carrying the X- tags', async () => {
    const id = await transfer(a, {
      Recipient: b,
      Quantity: '250',
      'X-Prompt': 'Hello there',
      'X-Tokens': '16',
      'x-lower': 'kept as sent',
      Other: 'not copied',
    });
    expect(await balance(a)).toBe(750n);
    expect(await balance(b)).toBe(250n);
    const [debit] = withAction(net, 'Debit-Notice', a);
    const [credit] = withAction(net, 'Credit-Notice', b);
    expect(debit).toMatchObject({ from: token, owner: net.muId, cause: id });
    expect(credit).toMatchObject({ from: token, owner: net.muId, cause: id });
    expect(debit!.error).toBeUndefined();
    const debitTags = tagMap(debit!.tags);
    const creditTags = tagMap(credit!.tags);
    expect(debitTags).toMatchObject({
      Recipient: b,
      Quantity: '250',
      'X-Prompt': 'Hello there',
      'X-Tokens': '16',
    });
    expect(creditTags).toMatchObject({
      Sender: a,
      Quantity: '250',
      'X-Prompt': 'Hello there',
      'X-Tokens': '16',
    });
    expect(creditTags['x-lower']).toBe('kept as sent');
    expect(creditTags.Other).toBeUndefined();
    expect(debit!.sent).toEqual([]);
  });

  it('reads tag names case-insensitively', async () => {
    await transfer(b, { recipient: a, quantity: '50', 'X-Reference': 'r1' });
    expect(await balance(b)).toBe(200n);
    expect(withAction(net, 'Credit-Notice', a).map((e) => tagMap(e.tags)['X-Reference'])).toContain('r1');
  });

  it('answers Transfer-Error and moves nothing when the balance is short or the input is bad', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ Recipient: b, Quantity: '100000' }, /Insufficient Balance/],
      [{ Recipient: b, Quantity: '0' }, /greater than 0/],
      [{ Recipient: b, Quantity: '-5' }, /decimal digits/],
      [{ Recipient: b, Quantity: '1.5' }, /decimal digits/],
      [{ Recipient: b }, /decimal digits/],
      [{ Quantity: '1' }, /Recipient/],
      [{ Recipient: b, Quantity: '9'.repeat(TOKEN_MAX_DIGITS + 1) }, /too large/],
    ];
    for (const [tags, reason] of cases) {
      const before = withAction(net, 'Transfer-Error', a).length;
      const id = await transfer(a, { ...tags, 'X-Reference': 'bad' });
      const errors = withAction(net, 'Transfer-Error', a);
      expect(errors).toHaveLength(before + 1);
      const error = tagMap(errors.at(-1)!.tags);
      expect(error['Message-Id']).toBe(id);
      expect(error.Error).toMatch(reason);
      expect(error['X-Reference']).toBe('bad');
    }
    expect(await balance(a)).toBe(800n);
    expect(await balance(b)).toBe(200n);
  });

  it('sends no notices when Cast is set', async () => {
    const credits = withAction(net, 'Credit-Notice').length;
    const debits = withAction(net, 'Debit-Notice').length;
    await transfer(a, { Recipient: b, Quantity: '1', Cast: 'true' });
    expect(withAction(net, 'Credit-Notice')).toHaveLength(credits);
    expect(withAction(net, 'Debit-Notice')).toHaveLength(debits);
    expect(await balance(b)).toBe(201n);
  });

  it('keeps huge amounts exact (beyond 2^200)', async () => {
    const big = 2n ** 200n + 12_345n;
    const part = 2n ** 150n + 1n;
    net.send({
      from: owner,
      target: token,
      tags: { Action: 'Mint', Recipient: a, Quantity: big.toString() },
    });
    await net.deliverAll();
    await transfer(a, { Recipient: b, Quantity: part.toString() });
    expect(await balance(a)).toBe(799n + big - part);
    expect(await balance(b)).toBe(201n + part);
    const [credit] = withAction(net, 'Credit-Notice', b).slice(-1);
    expect(tagMap(credit!.tags).Quantity).toBe(part.toString());
    // The supply is capped below 10^150: a mint beyond is refused, nothing wraps.
    net.send({
      from: owner,
      target: token,
      tags: { Action: 'Mint', Recipient: a, Quantity: (10n ** 150n - 1n).toString() },
    });
    await net.deliverAll();
    expect(tagMap(withAction(net, 'Mint-Error', owner).at(-1)!.tags).Error).toMatch(/exceed/);
    expect(await balance(a)).toBe(799n + big - part);
  });

  it('answers Balances, Info and Total-Supply', async () => {
    const balances = JSON.parse(
      (await net.dryRun(token, { from: a, tags: { Action: 'Balances' } })).messages[0]!.data,
    );
    expect(Object.values(balances as Record<string, string>).reduce((s, v) => s + BigInt(v), 0n)).toBe(
      1000n + 2n ** 200n + 12_345n,
    );
    const info = tagMap((await net.dryRun(token, { from: a, tags: { Action: 'Info' } })).messages[0]!.tags);
    expect(info).toMatchObject({ Name: 'Wrapped AR', Ticker: 'wAR', Denomination: '12' });
    expect(info['Total-Supply']).toBe((1000n + 2n ** 200n + 12_345n).toString());
    const supply = await net.dryRun(token, { from: a, tags: { Action: 'Total-Supply' } });
    expect(supply.messages[0]!.data).toBe(info['Total-Supply']);
  });
});

describe('token in aos64 (Title-Cased tag names)', () => {
  it('transfers and forwards X- tags under their Title-Cased names', async () => {
    const net = await LocalNetwork.create({ seed: 'token64' });
    const owner = net.wallet('owner');
    const token = await net.spawn({ module: 'aos64', owner, name: 'token', boot: tokenLua() });
    const a = await net.spawn({ module: 'aos64', owner, name: 'a' });
    const b = await net.spawn({ module: 'aos64', owner, name: 'b' });
    net.send({
      from: owner,
      target: token,
      tags: { Action: 'Mint', Recipient: a, Quantity: (2n ** 100n).toString() },
    });
    await net.deliverAll();
    const id = net.send({
      from: a,
      target: token,
      tags: {
        action: 'Transfer',
        recipient: b,
        quantity: '7',
        'x-prompt': 'Hi',
        'X-TOKENS': '3',
        'Model-ID': 'm',
      },
    });
    await net.deliverAll();
    const [credit] = withAction(net, 'Credit-Notice', b);
    expect(credit).toMatchObject({ from: token, cause: id });
    const tags = tagMap(credit!.tags);
    expect(tags).toMatchObject({ Sender: a, Quantity: '7', 'X-Prompt': 'Hi', 'X-Tokens': '3' });
    expect(tags['Model-Id']).toBeUndefined();
    const [debit] = withAction(net, 'Debit-Notice', a);
    expect(tagMap(debit!.tags)).toMatchObject({ Recipient: b, Quantity: '7', 'X-Prompt': 'Hi' });
    const dry = await net.dryRun(token, { from: a, tags: { Action: 'Balance' } });
    expect(BigInt(dry.messages[0]!.data)).toBe(2n ** 100n - 7n);
    net.close();
  });
});

describe('tag names as handlers see them', () => {
  const sent = {
    'Model-ID': '1',
    'X-Prompt': '2',
    'x-lower': '3',
    'lower-case': '4',
    ALLCAPS: '5',
    under_score: '6',
    'Content-Type': 'text/plain',
  };
  const echo = `Handlers.add('echo', function(m) return m.Tags.Action == 'Echo' end, function(m)
  local names = {}
  for name in pairs(m.Tags) do table.insert(names, name) end
  table.sort(names)
  ao.send({ Target = m.From, Data = table.concat(names, ',') })
end)`;

  for (const [module, expected] of [
    [
      'aos32',
      'ALLCAPS,Action,Content-Type,Data-Protocol,Model-ID,Type,Variant,X-Prompt,lower-case,under_score,x-lower',
    ],
    [
      'aos64',
      'Action,Allcaps,Content-Type,Data-Protocol,Lower-Case,Model-Id,Type,Under-Score,Variant,X-Lower,X-Prompt',
    ],
  ] as const) {
    it(`${module}`, async () => {
      const net = await LocalNetwork.create({ seed: `tags-${module}` });
      const owner = net.wallet('owner');
      const user = net.wallet('user');
      const pid = await net.spawn({ module, owner, boot: echo });
      net.send({ from: user, target: pid, tags: { Action: 'Echo', ...sent } });
      await net.deliverAll();
      expect(net.messagesTo(user)[0]?.data).toBe(expected);
      net.close();
    });
  }
});
