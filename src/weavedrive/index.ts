/**
 * A local WeaveDrive: serves `/data/<id>` to an ao-loader instance from files in a directory.
 *
 * ao-loader calls `Module.WeaveDrive(Module, FS)` afresh for every `open`, `read` and `close`
 * coming from the C side (llama.cpp's model loader, or anything else that opens `/data/...`),
 * so all state lives in this module, keyed by the loader's `Module` object.
 *
 * Contract (as the wasm64 llama.wasm module expects it):
 * - `open(path)` returns a real file descriptor of the module's virtual FS (≥ 3) whose node
 *   reports the host file's size, or **0** when the path is not `/data/<id>` or the file does not
 *   exist (Lua's `require` probes many paths; a non-number answer makes ao-loader throw inside an
 *   async callback, which leaves the `handle()` promise unsettled).
 * - `read(fd, ptr, length)` copies host bytes at the stream position into `Module.HEAPU8`
 *   (re-read on every call: memory growth replaces the view), advances the position and returns
 *   the count. Pointer and length arrive as BigInt in wasm64.
 * - `close(fd)` closes the host file and the FS stream.
 *
 * With `fallbackId`, a transaction id with no file of its own is served from that file instead.
 *
 * Nothing here throws into the WebAssembly side: errors become 0 (open/read) so the caller sees
 * an empty or missing file instead of a stuck promise.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of the Emscripten `Module` object this drive uses. */
export interface WeaveDriveModule {
  HEAPU8: Uint8Array;
}

/** A node of the Emscripten in-memory FS. */
export interface EmscriptenFsNode {
  usedBytes?: number;
  [key: string]: unknown;
}

/** An open stream of the Emscripten FS. */
export interface EmscriptenFsStream {
  fd: number;
  position: number;
  node: EmscriptenFsNode;
}

/** The parts of the Emscripten `FS` object this drive uses. */
export interface WeaveDriveFs {
  analyzePath(path: string): { exists: boolean; object: EmscriptenFsNode | null };
  createFile(
    parent: string,
    name: string,
    properties: { isDevice: boolean; contents: null },
    canRead: boolean,
    canWrite: boolean,
  ): EmscriptenFsNode;
  open(path: string, flags: string): EmscriptenFsStream;
  getStream(fd: number): EmscriptenFsStream | undefined;
  close(stream: EmscriptenFsStream): void;
}

/** What `Module.WeaveDrive(Module, FS)` must return. */
export interface WeaveDriveHandlers {
  open(filename: string): Promise<number>;
  read(fd: number | bigint, dstPtr: number | bigint, length: number | bigint): Promise<number>;
  close(fd: number | bigint): number;
}

/** The function passed to ao-loader as its `WeaveDrive` option. */
export type WeaveDrive = (Module: WeaveDriveModule, FS: WeaveDriveFs) => WeaveDriveHandlers;

/** One event of the drive's activity (for tests and diagnostics). */
export type WeaveDriveEvent =
  | { kind: 'open'; path: string; fd: number; size?: number; reason?: string }
  | { kind: 'read'; fd: number; position: number; requested: number; returned: number }
  | { kind: 'close'; fd: number };

export interface WeaveDriveOptions {
  /** Directory holding the model files, each named by its id. */
  modelsDir: string;
  /** Largest single host read (bytes); defaults to 64 MiB (`fs.readSync` refuses > 2 GiB). */
  chunkSize?: number;
  /** Called for every open / read / close. */
  onEvent?: (event: WeaveDriveEvent) => void;
  /**
   * Serve this file of `modelsDir` for any 43-character id (an Arweave transaction id) that has
   * no file of its own, e.g. so that worker code hard-coding some model id loads a local model.
   * Other names (such as the paths Lua's `require` probes) are never redirected. Default: none.
   */
  fallbackId?: string;
}

/** An Arweave transaction id: what a model id is. */
const TX_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Names accepted after `/data/`: one path segment of id-like characters. */
const ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,254}$/;

interface OpenFile {
  hostFd: number;
  size: number;
}

/** Resolves a `/data/<id>` path to the id, or `null` for anything else. */
export function dataPathId(filename: string): string | null {
  const m = /^\/data\/([^/]+)$/.exec(filename);
  if (!m) return null;
  const id = m[1]!;
  if (!ID_PATTERN.test(id) || id.includes('..')) return null;
  return id;
}

/** Creates a WeaveDrive serving `/data/<id>` from `<modelsDir>/<id>`. */
export function createWeaveDrive(options: WeaveDriveOptions): WeaveDrive {
  const chunkSize = options.chunkSize ?? 64 * 1024 * 1024;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > 0x7fffffff) {
    throw new Error(`chunkSize must be an integer in [1, 2^31), got ${chunkSize}`);
  }
  const emit = options.onEvent ?? (() => {});
  const fallback = options.fallbackId;
  if (fallback !== undefined && dataPathId(`/data/${fallback}`) === null) {
    throw new Error(`fallbackId must be a file name of id characters, got ${JSON.stringify(fallback)}`);
  }
  /** The host file behind `/data/<id>`: its own, else the fallback for a transaction id. */
  const hostName = (id: string): string => {
    if (fallback === undefined || !TX_ID_PATTERN.test(id)) return id;
    return existsSync(join(options.modelsDir, id)) ? id : fallback;
  };
  /** Open host files per loader instance (each instance has its own FS and descriptors). */
  const openFiles = new WeakMap<object, Map<number, OpenFile>>();

  const filesOf = (module: object): Map<number, OpenFile> => {
    let files = openFiles.get(module);
    if (!files) {
      files = new Map();
      openFiles.set(module, files);
    }
    return files;
  };

  return (Module, FS) => {
    const files = filesOf(Module);

    const open = async (filename: string): Promise<number> => {
      const id = dataPathId(String(filename));
      if (id === null) {
        emit({ kind: 'open', path: String(filename), fd: 0, reason: 'not a /data/<id> path' });
        return 0;
      }
      let hostFd: number;
      let size: number;
      try {
        hostFd = openSync(join(options.modelsDir, hostName(id)), 'r');
        const st = fstatSync(hostFd);
        if (!st.isFile()) {
          closeSync(hostFd);
          emit({ kind: 'open', path: filename, fd: 0, reason: 'not a regular file' });
          return 0;
        }
        size = st.size;
      } catch (err) {
        emit({ kind: 'open', path: filename, fd: 0, reason: (err as NodeJS.ErrnoException).code ?? 'error' });
        return 0;
      }
      try {
        const path = `/data/${id}`;
        const existing = FS.analyzePath(path);
        const node = existing.exists && existing.object ? existing.object : createNode(FS, id);
        // Without a size the C side sees an empty file and aborts the load.
        Object.defineProperty(node, 'usedBytes', { configurable: true, get: () => size });
        const stream = FS.open(path, 'r');
        files.set(stream.fd, { hostFd, size });
        emit({ kind: 'open', path, fd: stream.fd, size });
        return stream.fd;
      } catch (err) {
        closeSync(hostFd);
        emit({ kind: 'open', path: filename, fd: 0, reason: `FS error: ${(err as Error).message ?? err}` });
        return 0;
      }
    };

    const read = async (fdArg: number | bigint, dstArg: number | bigint, lengthArg: number | bigint) => {
      const fd = Number(fdArg);
      const file = files.get(fd);
      const stream = FS.getStream(fd);
      if (!file || !stream) return 0;
      const start = stream.position;
      const requested = Number(lengthArg);
      let dst = Number(dstArg);
      let remaining = Math.max(0, Math.min(requested, file.size - start));
      let done = 0;
      try {
        while (remaining > 0) {
          const n = Math.min(remaining, chunkSize);
          // Read the heap view afresh: a memory growth during the load replaces the buffer.
          const heap = Module.HEAPU8;
          const got = readSync(file.hostFd, heap, dst, n, start + done);
          if (got <= 0) break;
          done += got;
          dst += got;
          remaining -= got;
        }
      } catch {
        // A host read error ends the read short; the C side then sees a truncated file.
      }
      stream.position = start + done;
      emit({ kind: 'read', fd, position: start, requested, returned: done });
      return done;
    };

    const close = (fdArg: number | bigint): number => {
      const fd = Number(fdArg);
      const file = files.get(fd);
      if (file) {
        files.delete(fd);
        try {
          closeSync(file.hostFd);
        } catch {
          // already closed
        }
      }
      const stream = FS.getStream(fd);
      if (stream) {
        try {
          FS.close(stream);
        } catch {
          // the C side may have closed it
        }
      }
      emit({ kind: 'close', fd });
      return 0;
    };

    return { open, read, close };
  };
}

function createNode(FS: WeaveDriveFs, id: string): EmscriptenFsNode {
  return FS.createFile('/data', id, { isDevice: false, contents: null }, true, false);
}
