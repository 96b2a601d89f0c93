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

/**
 * Sign ties: coordinates where float32 rounding alone can flip sign(∂CE/∂x), so FGSM may
 * step either way; they are counted and reported, not compared. Per sample, with g64
 * PyTorch's float64 gradient and e = max |g32 − g64| its own float32 error:
 *   tie  ⇔  |g64| ≤ max(TIE_REL · max|g64|, TIE_ERR · e).
 * The second term matters for very confident samples (CE ≲ 1e-5, most of the MNIST
 * ones): the logit gradient softmax − onehot then cancels in float32 (1 − p_y is below
 * float32's resolution at 1), PyTorch's own float32 gradient is off by up to 100 % of its
 * max (measured on mnist-small-st), every coordinate becomes a tie and FGSM's direction
 * on that sample is rounding noise in any float32 implementation. TIE_ERR = 8: tfjs sums
 * in another order than PyTorch, and its gradient was seen 4-8× further from float64.
 */
export const TIE_REL = 1e-5;
export const TIE_ERR = 8;

/** Per coordinate: 1 where FGSM's sign is a float32 tie by the rule above; samples of `d` values each. */
export function tieMask(g32: Float32Array, g64: Float64Array, d: number): Uint8Array {
  const tie = new Uint8Array(g32.length);
  for (let i = 0; i < g32.length / d; i++) {
    let gmax = 0;
    let err = 0;
    for (let j = i * d; j < (i + 1) * d; j++) {
      gmax = Math.max(gmax, Math.abs(g64[j]));
      err = Math.max(err, Math.abs(g32[j] - g64[j]));
    }
    const bound = Math.max(TIE_REL * gmax, TIE_ERR * err);
    for (let j = i * d; j < (i + 1) * d; j++) tie[j] = Math.abs(g64[j]) <= bound ? 1 : 0;
  }
  return tie;
}
