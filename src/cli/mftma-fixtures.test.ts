// `layerwise mftma` in replay mode on the MFTMA reference fixtures (src/core/mftma/fixtures):
// with the saved t-vectors and center subspace it reproduces the reference numbers. (The
// core's own end-to-end test of the same fixtures is src/core/mftma/mftma.test.ts.)
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { mftmaCommands } from './commands/mftma';

const fixture = (name: string, file: string) => fileURLToPath(new URL(`../core/mftma/fixtures/${name}/${file}`, import.meta.url));
const relErr = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('CLI command', () => {
  it('mftma --json replays a fixture with injected t-vectors and center subspace', async () => {
    const path = (f: string) => fixture('mnist-noise-exemplars', f);
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    try {
      await mftmaCommands.mftma(['--input', path('input.f32'), '--header', path('case.json'), '--t-vectors', path('t_vectors.f32'), '--center-subspace', path('center_subspace_V11.f64'), '--json']);
    } finally {
      spy.mockRestore();
    }
    const got = JSON.parse(out) as { capacity: number; K: number; centerCorrelation: number };
    const ref = (JSON.parse(readFileSync(path('case.json'), 'utf8')) as { seed0_deterministic: { K: number; capacity: number; center_correlation: number } }).seed0_deterministic;
    expect(got.K).toBe(ref.K);
    expect(relErr(got.capacity, ref.capacity)).toBeLessThan(1e-6);
    expect(Math.abs(got.centerCorrelation - ref.center_correlation)).toBeLessThan(1e-9);
  });
  it('mftma rejects a header that does not match the input size', async () => {
    await expect(mftmaCommands.mftma(['--input', fixture('balls', 'input.f32'), '--header', fixture('mnist-pixels', 'case.json'), '--json'])).rejects.toThrow(/expected .* float32 values/);
  });
});
