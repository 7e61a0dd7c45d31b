/** The scenario arbitraries live with `herd verify`, which draws the same traces; re-exported here for the tests. */
export * from '../../src/verify/scenario.ts';

/**
 * Decimal texts at the edges of what the herder reads as an amount: zero, leading zeros, 78 and
 * 79 significant digits, 1,000 and 1,001 characters, and things that are not decimals at all.
 */
export const AMOUNT_EDGES: readonly string[] = [
  '0',
  '1',
  '007',
  '9'.repeat(78),
  `0${'9'.repeat(78)}`,
  '1'.repeat(79),
  `${'0'.repeat(90)}7`,
  `${'0'.repeat(999)}5`,
  '3'.repeat(1000),
  '2'.repeat(1001),
  '',
  '-5',
  '1.5',
  'ten',
  ' 7',
];
