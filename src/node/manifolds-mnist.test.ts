// The MFTMA physics sanity check on real data: MNIST pixels read from public/data by the Node
// loader (kept out of src/core, whose tests do not depend on the Node layer).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { manifoldAnalysis } from '../core/mftma/mftma';
import { imagesMftmaInput, perturbManifoldImages, selectManifoldImages } from '../core/mftma/manifolds';
import { loadBuiltinDataset } from './images';
import { PUBLIC_DIR } from './paths';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('sanity: Gaussian exemplar manifolds of MNIST pixels (input layer)', () => {
  it('capacity falls and radius grows monotonically with σ; σ → 0 gives point manifolds (α → 2)', async () => {
    const ds = await loadBuiltinDataset('mnist-test', PUBLIC_DIR);
    const clean = await selectManifoldImages(ds, { kind: 'exemplar', p: 10, m: 20, seed: 0 });
    const sigmas = [0.0001, 0.001, 0.01, 0.1, 0.3, 1];
    const out: { capacity: number; radius: number }[] = [];
    for (const sigma of sigmas) {
      const set = await perturbManifoldImages(clean, { kind: 'gaussian', sigma }, 0);
      out.push(await manifoldAnalysis(imagesMftmaInput(set), { seed: 0, nT: 200 }));
    }
    for (let i = 1; i < out.length; i++) {
      expect(out[i].capacity).toBeLessThan(out[i - 1].capacity);
      expect(out[i].radius).toBeGreaterThan(out[i - 1].radius);
    }
    // A manifold of M identical points is a point: α = 2 at κ = 0 (Gardner 1988; Chung et al.
    // 2018, R → 0). With n_t = 200 over 10 manifolds the estimate's std is ~5%.
    expect(out[0].capacity).toBeGreaterThan(1.8);
    expect(out[0].capacity).toBeLessThan(2.2);
    // Clipping at 0 and 1 is homogeneous in σ for pixels at the bounds (most of MNIST), so for
    // small σ the radius scales linearly with σ.
    expect(out[1].radius / out[0].radius).toBeGreaterThan(9.5);
    expect(out[1].radius / out[0].radius).toBeLessThan(10.5);
    expect(out[sigmas.length - 1].capacity).toBeLessThan(0.2 * out[0].capacity);
  });
});
