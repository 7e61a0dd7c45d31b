import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createWeaveDrive,
  dataPathId,
  type EmscriptenFsNode,
  type EmscriptenFsStream,
  type WeaveDriveEvent,
  type WeaveDriveFs,
  type WeaveDriveModule,
} from '../../src/weavedrive/index.ts';

/** Just enough of the Emscripten FS: nodes by path, streams by fd. */
class FakeFs implements WeaveDriveFs {
  readonly nodes = new Map<string, EmscriptenFsNode>();
  readonly streams: (EmscriptenFsStream | undefined)[] = [undefined, undefined, undefined];
  analyzePath(path: string) {
    const node = this.nodes.get(path);
    return { exists: node !== undefined, object: node ?? null };
  }
  createFile(parent: string, name: string) {
    const path = `${parent}/${name}`;
    if (this.nodes.has(path)) throw new Error('EEXIST');
    const node: EmscriptenFsNode = {};
    this.nodes.set(path, node);
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

const dir = mkdtempSync(join(tmpdir(), 'herd-wd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const content = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff);
writeFileSync(join(dir, 'model-a'), content);
mkdirSync(join(dir, 'a-directory'));

function setup(chunkSize?: number) {
  const events: WeaveDriveEvent[] = [];
  const drive = createWeaveDrive({ modelsDir: dir, onEvent: (e) => events.push(e), chunkSize });
  const Module: WeaveDriveModule = { HEAPU8: new Uint8Array(4096) };
  const FS = new FakeFs();
  return { events, Module, FS, drive: () => drive(Module, FS) };
}

describe('local WeaveDrive', () => {
  it('accepts only /data/<one id-like segment>', () => {
    expect(dataPathId('/data/LvzF8XlR4vBS5ZHPP0HqPe1skCXwApwly3Bs5YuKGAc')).toBe(
      'LvzF8XlR4vBS5ZHPP0HqPe1skCXwApwly3Bs5YuKGAc',
    );
    expect(dataPathId('/data/model-a')).toBe('model-a');
    for (const bad of [
      '/data/',
      '/data/../etc/passwd',
      '/data/a/b',
      '/usr/local/share/lua/5.3/bit.lua',
      'data/x',
      '/data/..',
      '/data/.hidden',
      '/data/a b',
    ]) {
      expect(dataPathId(bad)).toBeNull();
    }
  });

  it('answers 0 for paths outside /data, missing files and directories', async () => {
    const { drive, events } = setup();
    expect(await drive().open('/usr/local/lib/lua/5.3/bit.so')).toBe(0);
    expect(await drive().open('/data/missing')).toBe(0);
    expect(await drive().open('/data/a-directory')).toBe(0);
    expect(await drive().open('/data/../model-a')).toBe(0);
    expect(events.map((e) => (e.kind === 'open' ? e.reason : e.kind))).toEqual([
      'not a /data/<id> path',
      'ENOENT',
      'not a regular file',
      'not a /data/<id> path',
    ]);
  });

  it('opens a real FS descriptor whose node reports the file size', async () => {
    const { drive, FS } = setup();
    const fd = await drive().open('/data/model-a');
    expect(fd).toBeGreaterThanOrEqual(3);
    expect(FS.getStream(fd)?.node.usedBytes).toBe(1000);
    // A second open of the same path reuses the FS node.
    const fd2 = await drive().open('/data/model-a');
    expect(fd2).not.toBe(fd);
    expect(FS.nodes.size).toBe(1);
    expect(drive().close(fd)).toBe(0);
    expect(drive().close(BigInt(fd2))).toBe(0);
    expect(FS.getStream(fd)).toBeUndefined();
  });

  it('reads at the stream position with BigInt pointers, in chunks, into the current heap', async () => {
    const { drive, FS, Module, events } = setup(64);
    const fd = await drive().open('/data/model-a');
    expect(await drive().read(BigInt(fd), 100n, 10n)).toBe(10);
    expect(Module.HEAPU8.subarray(100, 110)).toEqual(content.subarray(0, 10));
    // The heap is replaced (memory growth): the next read must land in the new one.
    Module.HEAPU8 = new Uint8Array(8192);
    FS.getStream(fd)!.position = 500;
    expect(await drive().read(fd, 5000n, 300n)).toBe(300);
    expect(Module.HEAPU8.subarray(5000, 5300)).toEqual(content.subarray(500, 800));
    expect(FS.getStream(fd)!.position).toBe(800);
    // Past the end: a short read.
    expect(await drive().read(fd, 0n, 1000n)).toBe(200);
    expect(await drive().read(fd, 0n, 10n)).toBe(0);
    expect(events.filter((e) => e.kind === 'read').map((e) => (e.kind === 'read' ? e.returned : 0))).toEqual([
      10, 300, 200, 0,
    ]);
    // Unknown descriptors read nothing.
    expect(await drive().read(99, 0n, 10n)).toBe(0);
  });

  it('refuses a chunk size that fs.readSync cannot take', () => {
    expect(() => createWeaveDrive({ modelsDir: dir, chunkSize: 2 ** 31 })).toThrow(/chunkSize/);
    expect(() => createWeaveDrive({ modelsDir: dir, chunkSize: 0 })).toThrow(/chunkSize/);
  });
});
