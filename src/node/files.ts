/** Node file adapters for the CLI, tools and Node tests (core stays free of fs): model files in, result files out. */
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { readSync } from 'node:fs';
import path from 'node:path';
import type { ReadModelFile } from '../core/model/artifacts';
import type { ByteSource } from '../core/onnx/stream';
import { escapeControl } from '../core/text';
import { UsageError } from './errors';

/**
 * A ReadModelFile that resolves names relative to the folder of `modelJsonPath` and refuses
 * any name that resolves outside it (the validator refuses `..` already; this holds even for
 * a name it did not see).
 */
export function nodeModelReader(modelJsonPath: string): { name: string; read: ReadModelFile; open(rel: string): Promise<FileSource> } {
  const dir = path.dirname(path.resolve(modelJsonPath));
  const inside = (rel: string) => {
    const full = path.resolve(dir, rel);
    if (full !== dir && !full.startsWith(dir + path.sep)) throw new Error(`"${rel}" lies outside the model's folder`);
    return full;
  };
  return {
    name: path.basename(modelJsonPath),
    read: async (rel) => {
      // A view, not a copy: a Buffer is a Uint8Array already (an ONNX file of 146 MB would
      // otherwise be held twice while it loads).
      const buf = await readFile(inside(rel));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    },
    open: async (rel) => openFileSource(inside(rel)),
  };
}

/** A file open for ranged reads; close it when done. */
export type FileSource = ByteSource & { close(): Promise<void> };

/**
 * A file as a ByteSource (src/core/onnx/stream.ts): each read is a positioned read into a
 * fresh array of exactly that length, so an ONNX weight read this way is used in place.
 */
export async function openFileSource(file: string): Promise<FileSource> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    return {
      size,
      read: async (offset, length) => {
        const out = new Uint8Array(length);
        // Synchronous positioned reads: a model load makes a few hundred of them (each weight,
        // the structure between weights), and each asynchronous one waits for a libuv thread,
        // which on a busy machine cost more wall time than the reads themselves.
        for (let done = 0; done < length; ) {
          const bytesRead = readSync(fh.fd, out, done, length - done, offset + done);
          if (bytesRead === 0) throw new Error(`${path.basename(file)} ends at byte ${offset + done}, before ${offset + length}`);
          done += bytesRead;
        }
        return out;
      },
      close: () => fh.close(),
    };
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** Longest a check of the --out location may take: a path on a stuck network mount must not hang the CLI. */
export const OUT_CHECK_TIMEOUT_MS = 5_000;

/**
 * Make sure `file` can be written, before any compute: create its missing folders one level
 * at a time (Node's recursive mkdir loops forever under /proc), refuse a parent that is a
 * file, and create the file itself. One line on failure, exit 2.
 */
export async function prepareOutFile(file: string, option: string): Promise<void> {
  const full = path.resolve(file);
  const fail = (why: string) => new UsageError(`--${option} ${escapeControl(file)}: ${why}`);
  const work = async () => {
    const missing: string[] = [];
    let dir = path.dirname(full);
    for (;;) {
      const s = await stat(dir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));
      if (s) {
        if (!s.isDirectory()) throw fail(`${escapeControl(dir)} is not a folder`);
        break;
      }
      missing.unshift(dir);
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
    for (const d of missing) await mkdir(d).catch((e: NodeJS.ErrnoException) => Promise.reject(fail(`cannot create the folder ${escapeControl(d)} (${e.code ?? e.message})`)));
    const s = await stat(full).catch(() => null);
    if (s?.isDirectory()) throw fail('is a folder');
    const handle = await open(full, 'w').catch((e: NodeJS.ErrnoException) => Promise.reject(fail(`cannot be written (${e.code ?? e.message})`)));
    await handle.close();
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(fail(`no answer from the file system within ${OUT_CHECK_TIMEOUT_MS / 1000} s`)), OUT_CHECK_TIMEOUT_MS)));
  try {
    await Promise.race([work().catch((e) => Promise.reject(e instanceof UsageError ? e : fail((e as Error).message))), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
