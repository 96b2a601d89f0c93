import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { clusteredData as data, relErr } from './test-helpers';
import { createFftRepulsion } from './fft';
import { autoEngine, createTsne, EXACT_MAX_N, runTsne } from './tsne';

beforeAll(async () => {
  await tf.setBackend('cpu');
});



describe('FFT-interpolation repulsion (FIt-SNE, spec §2.4 engine 2)', () => {
  it('two points 1 apart: F = ±w²·(y_i − y_j) = ±0.25, Z = 2·0.5 = 1', async () => {
    const f = createFftRepulsion();
    const y = tf.tensor2d([[0, 0], [1, 0]]);
    const { rep, z } = f.compute(y, await f.bounds(y));
    const r = rep.dataSync();
    expect(r[0]).toBeCloseTo(-0.25, 4);
    expect(r[2]).toBeCloseTo(0.25, 4);
    expect(Math.abs(r[1]) + Math.abs(r[3])).toBeLessThan(1e-4);
    expect(z.dataSync()[0]).toBeCloseTo(1, 3);
    tf.dispose([y, rep, z]);
    f.dispose();
  });

  it('gradient matches the exact tiled engine to ≤ 1e-2 relative error (α = 1 and 12); a coarse grid does not', async () => {
    const { x, y, n } = data(50, 4, 6, 4, 3); // 200 points, layout extent ≈ 12
    const before = tf.memory().numTensors;
    const exact = await createTsne(x, n, 6, { perplexity: 10, init: y, engine: 'exact' });
    const fft = await createTsne(x, n, 6, { perplexity: 10, init: y, engine: 'fft' });
    const coarse = await createTsne(x, n, 6, { perplexity: 10, init: y, engine: 'fft', fft: { intervalWidth: 4, minIntervals: 1 } });
    expect(exact.engine).toBe('exact');
    expect(fft.engine).toBe('fft');
    for (const alpha of [1, 12]) {
      const g = await exact.gradient(alpha);
      expect(relErr(await fft.gradient(alpha), g)).toBeLessThan(1e-2);
      // The check can fail: intervals 4 units wide interpolate the unit-scale kernel badly.
      expect(relErr(await coarse.gradient(alpha), g)).toBeGreaterThan(1e-2);
    }
    expect(Math.abs(await fft.kl() - await exact.kl()) / await exact.kl()).toBeLessThan(1e-2);
    exact.dispose();
    fft.dispose();
    coarse.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('auto picks exact up to EXACT_MAX_N and FFT above', async () => {
    expect(autoEngine(EXACT_MAX_N)).toBe('exact');
    expect(autoEngine(EXACT_MAX_N + 1)).toBe('fft');
    expect(autoEngine(10000)).toBe('fft');
  });

  it('a full FFT-engine run separates clusters, reports its engine, leaks no tensors', async () => {
    const { x, n, labels } = data(20, 3, 10, 1, 2);
    const before = tf.memory().numTensors;
    // A small learning rate keeps the layout within ~20 units, so a 20-interval grid stays accurate (and the test fast).
    const r = await runTsne(x, { n, d: 10 }, { perplexity: 8, seed: 3, nIter: 200, earlyExaggerationIter: 80, learningRate: 5, engine: 'fft', fft: { intervalWidth: 1, maxIntervals: 20 } });
    let ext = 0;
    for (const v of r.positions) ext = Math.max(ext, Math.abs(v));
    expect(ext).toBeLessThan(20);
    expect(tf.memory().numTensors).toBe(before);
    expect(r.engine).toBe('fft');
    expect(Number.isFinite(r.kl)).toBe(true);
    // Each point's nearest 2-D neighbour has its label.
    let ok = 0;
    for (let i = 0; i < n; i++) {
      let best = Infinity;
      let bj = -1;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const dd = (r.positions[2 * i] - r.positions[2 * j]) ** 2 + (r.positions[2 * i + 1] - r.positions[2 * j + 1]) ** 2;
        if (dd < best) [best, bj] = [dd, j];
      }
      if (labels[bj] === labels[i]) ok++;
    }
    expect(ok / n).toBeGreaterThan(0.95);
  }, 300_000);
});
