/**
 * The WeaveDrive's `fallbackId`: a transaction id with no file of its own is served from the
 * fallback file (so that worker code hard-coding a model id loads the herd's model); an id with
 * its own file keeps it, and other names are never redirected.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createWeaveDrive,
  type EmscriptenFsNode,
  type EmscriptenFsStream,
  type WeaveDriveFs,
} from '../../src/weavedrive/index.ts';

class FakeFs implements WeaveDriveFs {
  readonly nodes = new Map<string, EmscriptenFsNode>();
  readonly streams: (EmscriptenFsStream | undefined)[] = [undefined, undefined, undefined];
  analyzePath(path: string) {
    const node = this.nodes.get(path);
    return { exists: node !== undefined, object: node ?? null };
  }
  createFile(parent: string, name: string) {
    const node: EmscriptenFsNode = {};
    this.nodes.set(`${parent}/${name}`, node);
    return node;
  }
  open(path: string) {
    const node = this.nodes.get(path);
    if (!node) throw new Error('ENOENT');
    const stream = { fd: this.streams.length, position: 0, node };
    this.streams.push(stream);
    return stream;
  }
  getStream(fd: number) {
    return this.streams[fd];
  }
  close(stream: EmscriptenFsStream) {
    this.streams[stream.fd] = undefined;
  }
}

const dir = mkdtempSync(join(tmpdir(), 'herd-wd-fallback-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MODEL = 'M'.repeat(43);
const OWN = 'O'.repeat(43);
writeFileSync(join(dir, MODEL), new Uint8Array(100).fill(1));
writeFileSync(join(dir, OWN), new Uint8Array(30).fill(2));

describe('WeaveDrive fallbackId', () => {
  it('serves the fallback for an unknown transaction id, a file of its own otherwise', async () => {
    const drive = createWeaveDrive({ modelsDir: dir, fallbackId: MODEL });
    const Module = { HEAPU8: new Uint8Array(256) };
    const FS = new FakeFs();
    const unknown = 'u'.repeat(43);
    const fd = await drive(Module, FS).open(`/data/${unknown}`);
    expect(fd).toBeGreaterThanOrEqual(3);
    expect(FS.getStream(fd)?.node.usedBytes).toBe(100);
    expect(await drive(Module, FS).read(fd, 0n, 200n)).toBe(100);
    expect(Module.HEAPU8[0]).toBe(1);
    const own = await drive(Module, FS).open(`/data/${OWN}`);
    expect(FS.getStream(own)?.node.usedBytes).toBe(30);
    // Not transaction ids: never redirected (Lua's require probes such names).
    expect(await drive(Module, FS).open('/data/missing.lua')).toBe(0);
    expect(await drive(Module, FS).open(`/data/${'u'.repeat(42)}`)).toBe(0);
  });

  it('without it, an unknown id is missing; a fallback must be a file name', async () => {
    const drive = createWeaveDrive({ modelsDir: dir });
    expect(await drive({ HEAPU8: new Uint8Array(8) }, new FakeFs()).open(`/data/${'u'.repeat(43)}`)).toBe(0);
    expect(() => createWeaveDrive({ modelsDir: dir, fallbackId: '../x' })).toThrow(/fallbackId/);
  });
});
