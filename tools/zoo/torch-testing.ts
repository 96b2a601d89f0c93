/**
 * What the PyTorch-backed tests in tools/zoo share: Debian's Python with torch, and reading
 * the little-endian binary arrays the Python side writes.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const PYTHON = '/usr/bin/python3';

/** Stop with what to install when /usr/bin/python3 cannot import torch. */
export function requireTorch(): void {
  const r = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) {
    throw new Error(
      `${PYTHON} cannot import torch (${(r.stderr || r.error?.message || '').trim().split('\n').pop()}); ` +
        'install it with: apt-get install -y python3-torch',
    );
  }
}

/** A file's bytes as their own ArrayBuffer (typed-array views need aligned offsets). */
export function readBytes(file: string): ArrayBuffer {
  const b = readFileSync(file);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

export const readF32 = (file: string) => new Float32Array(readBytes(file));
