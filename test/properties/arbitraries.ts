/** The scenario arbitraries live with `herd verify`, which draws the same traces; re-exported here for the tests. */
export * from '../../src/verify/scenario.ts';
