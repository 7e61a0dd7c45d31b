/**
 * The local network's ids: 43-character base64url strings, a function of the seed alone.
 * Named addresses (wallets, the MU, the SU) are SHA-256 digests of the seed and a label; process
 * and message ids mix a seed-derived key with a counter. The same seed and the same sequence of
 * calls give the same ids.
 */
import { createHash } from 'node:crypto';
import { base64url43 } from './modules.ts';

export class IdMint {
  private counter = 0;
  private readonly words = new Uint32Array(8);
  private readonly buffer = Buffer.alloc(32);

  constructor(readonly seed: string) {
    const key = createHash('sha256').update(`${seed}\u0000ids`).digest();
    for (let i = 0; i < 8; i++) this.words[i] = key.readUInt32LE(i * 4);
  }

  /** The address named `label` (e.g. 'mu', 'wallet:alice'). */
  named(label: string): string {
    return base64url43(createHash('sha256').update(`${this.seed}\u0000${label}`).digest());
  }

  /**
   * A fresh id: 8 words, each a bijective mix (Murmur3's finaliser) of a seed-derived word and
   * the counter, so ids are distinct for 2^32 calls and cost ~1 µs (a SHA-256 per id cost
   * ~15 µs, over 1 % of a message).
   */
  next(): string {
    this.counter += 1;
    const c = Math.imul(this.counter, 0x9e3779b1);
    const out = this.buffer;
    for (let i = 0; i < 8; i++) {
      let h = (this.words[i]! ^ c) >>> 0;
      h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
      h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
      out.writeUInt32LE((h ^ (h >>> 16)) >>> 0, i * 4);
    }
    return out.toString('base64url', 0, 32).slice(0, 43);
  }
}

/** Whether `id` has the shape of a process or message id. */
export function isAoId(id: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(id);
}
