import { describe, expect, it } from 'vitest';
import { createRng } from '../random';
import { layerDependency } from './layers';

describe('layer dependency', () => {
  it('probes decode separable clean layers, fail on scrambled "adversarial" ones, and MI follows', () => {
    const rng = createRng(3);
    const n = 240;
    const k = 3;
    const labels = Int32Array.from({ length: n }, (_, i) => i % k);
    // Layer A: class means on a triangle (0,0), (4,0), (0,4) — not collinear, which a
    // least-squares probe cannot separate (the middle class is masked); B: a noisy linear image of A.
    const a = new Float32Array(n * 2);
    const b = new Float32Array(n * 2);
    const scrambled = new Float32Array(n * 2);
    for (let i = 0; i < n; i++) {
      a[2 * i] = (labels[i] === 1 ? 4 : 0) + rng.normal() * 0.5;
      a[2 * i + 1] = (labels[i] === 2 ? 4 : 0) + rng.normal() * 0.5;
      b[2 * i] = a[2 * i] + 0.1 * rng.normal();
      b[2 * i + 1] = -a[2 * i + 1] + 0.1 * rng.normal();
      scrambled[2 * i] = rng.normal() * 4;
      scrambled[2 * i + 1] = rng.normal() * 4;
    }
    const [la, lb] = layerDependency(
      [
        { name: 'a', size: 2, clean: a, adversarial: a },
        { name: 'b', size: 2, clean: b, adversarial: scrambled },
      ],
      labels,
      k,
      0,
    );
    expect(la.probeCleanAccuracy).toBeGreaterThan(0.95);
    expect(la.probeHeldOutAdversarialAccuracy).toBe(la.probeHeldOutCleanAccuracy);
    expect(lb.probeHeldOutCleanAccuracy).toBeGreaterThan(0.95);
    expect(lb.probeHeldOutAdversarialAccuracy!).toBeLessThan(0.6);
    // I(layer; y) ≤ log 3 and near it for separable classes; scrambled layer carries ~none.
    expect(la.labelMi).toBeGreaterThan(0.8 * Math.log(3));
    expect(lb.labelMiAdversarial!).toBeLessThan(0.2);
    expect(la.conditionalMiWithPrevious).toBeNull();
    // B copies A within each class (plus small noise): high conditional MI; scrambled: ~0.
    expect(lb.conditionalMiWithPrevious!).toBeGreaterThan(1);
    expect(Math.abs(lb.conditionalMiWithPreviousAdversarial!)).toBeLessThan(0.2);
    // Unconditionally B also shares the class structure with A, so I(A;B) ≥ I(A;B|y) ≈ large.
    expect(la.miWithPrevious).toBeNull();
    expect(lb.miWithPrevious!).toBeGreaterThan(1);
    expect(Math.abs(lb.miWithPreviousAdversarial!)).toBeLessThan(0.2);
    // Gaussian MI: B = (A₁, −A₂) + small noise is linear in A, so the linear estimator sees it
    // too; within a class the 0.1-noise copy of unit-0.5-sd features gives
    // 2·(−½ log(1 − ρ²)) with ρ² = 0.25/0.26 → ≈ 3.26 nats.
    expect(lb.gaussianConditionalMiWithPrevious!).toBeGreaterThan(2.5);
    expect(lb.gaussianConditionalMiWithPrevious!).toBeLessThan(4);
    expect(Math.abs(lb.gaussianConditionalMiWithPreviousAdversarial!)).toBeLessThan(0.1);
    expect(lb.gaussianMiWithPrevious!).toBeGreaterThan(lb.gaussianConditionalMiWithPrevious!);
    expect(lb.probeFeatures).toBe(2);
    expect(lb.probeProjected).toBe(false);
  });

  it('projects wide layers before probing and still decodes separable classes', () => {
    const rng = createRng(4);
    const n = 150;
    const d = 300;
    const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
    // Class c raises features [100c, 100c + 100) by 1: spread thinly over many features.
    const x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = (Math.floor(j / 100) === labels[i] ? 1 : 0) + rng.normal();
    const [r] = layerDependency([{ name: 'wide', size: d, clean: x }], labels, 3, 1, {}, { maxProbeFeatures: 32, ksg: { maxSamples: 150 } });
    expect(r.probeProjected).toBe(true);
    expect(r.probeFeatures).toBe(32);
    expect(r.probeHeldOutCleanAccuracy).toBeGreaterThan(0.9);
    expect(r.probeHeldOutAdversarialAccuracy).toBeNull();
  });
});
