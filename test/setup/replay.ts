/**
 * Replays a property failure from what fast-check printed: `HERD_FC_SEED=<seed>` (and, to go
 * straight to the shrunk case, `HERD_FC_PATH=<path>`) with `-t '<test name>'`.
 */
import fc from 'fast-check';

const seed = process.env.HERD_FC_SEED;
const path = process.env.HERD_FC_PATH;
if (seed !== undefined && seed !== '')
  fc.configureGlobal({ seed: Number(seed), ...(path ? { path, endOnFailure: true } : {}) });
