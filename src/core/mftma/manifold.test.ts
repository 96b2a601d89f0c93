 
// Stage 1 (spec §6): the per-manifold anchors and estimators against the reference fixtures,
// fed with the saved reduced points and t-vectors (fixture README check 2, here at 1e-6).
import { CASES, bytes, f32, f64 } from './testFixtures';
import { describe, expect, it } from 'vitest';
import { analyzeManifold, CASE_FAST, CASE_QP } from './manifold';
import { nnls } from './linalg';

interface CaseJson {
  P: number;
  M: number[];
  n_t: number;
  kappa: number;
  t_vectors: { D1: number[] };
  seed0_deterministic: {
    capacity_per_manifold: number[];
    radius_per_manifold: number[];
    dimension_per_manifold: number[];
    per_t_case_codes: number[][];
  };
}
const relErr = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

/** KKT conditions of min_{x ≥ 0} |A x − b|: x ≥ 0, and w = Aᵀ(b − A x) is 0 where x > 0, ≤ 0 elsewhere. */
function expectKkt(cols: Float64Array[], b: Float64Array, x: Float64Array, tol: number): void {
  const r = Float64Array.from(b);
  cols.forEach((c, j) => c.forEach((v, i) => (r[i] -= x[j] * v)));
  cols.forEach((c, j) => {
    const w = c.reduce((s, v, i) => s + v * r[i], 0);
    expect(x[j]).toBeGreaterThanOrEqual(0);
    if (x[j] > 0) expect(Math.abs(w)).toBeLessThan(tol);
    else expect(w).toBeLessThan(tol);
  });
}

describe('nnls', () => {
  it('solves a hand-checkable problem with an active bound', () => {
    // A = I (2×2), b = (1, −2): the unconstrained solution (1, −2) clips to (1, 0).
    const { x } = nnls([Float64Array.of(1, 0), Float64Array.of(0, 1)], Float64Array.of(1, -2), 2);
    expect(Array.from(x)).toEqual([1, 0]);
  });
  it('meets the KKT conditions on a random problem', () => {
    const m = 12;
    const n = 9;
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
    const cols = Array.from({ length: n }, () => Float64Array.from({ length: m }, rnd));
    const b = Float64Array.from({ length: m }, rnd);
    expectKkt(cols, b, nnls(cols, b, m).x, 1e-12);
  });
  it('meets the KKT conditions on 300 random problems, including more columns than rows and repeated columns', () => {
    // Exercises every branch of the growing QR: columns that leave the passive set (re-factor),
    // dependent entering columns (banned), and k reaching m. KKT certifies the optimum (convex).
    let seed = 11;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
    for (let trial = 0; trial < 300; trial++) {
      const m = 3 + (trial % 9);
      const n = 2 + ((trial * 7) % 14);
      const cols = Array.from({ length: n }, () => Float64Array.from({ length: m }, rnd));
      if (trial % 3 === 0 && n > 2) cols[n - 1] = Float64Array.from(cols[0]); // an exact duplicate
      const b = Float64Array.from({ length: m }, () => 3 * rnd());
      expectKkt(cols, b, nnls(cols, b, m).x, 1e-9);
    }
  });
});

describe('analyzeManifold with kappa > 0 (no fixture: check the QP optimality directly)', () => {
  it('v = t − λ s~ is feasible (s_μ·v ≤ −κ) and F = |t − v|²', () => {
    const name = 'mnist-noise-exemplars';
    const c = JSON.parse(bytes(name, 'case.json').toString('utf8')) as CaseJson;
    const m = c.M[0];
    const d1 = c.t_vectors.D1[0];
    const points = f64(name, 'reduced_sD1.f64').subarray(0, m * d1);
    const t = Float64Array.from(f32(name, 't_vectors.f32').subarray(0, c.n_t * d1));
    const kappa = 0.3;
    const est = analyzeManifold({ points, m, d1 }, t, c.n_t, { kappa });
    const base = analyzeManifold({ points, m, d1 }, t, c.n_t, { kappa: 0 });
    expect(est.alpha).toBeLessThan(base.alpha); // a margin makes separation harder
    let qp = 0;
    for (let k = 0; k < c.n_t; k++) {
      if (est.caseCodes[k] !== CASE_QP) continue;
      qp++;
      const tk = t.subarray(k * d1, (k + 1) * d1);
      const a = est.anchors.subarray(k * d1, (k + 1) * d1);
      const ts = tk.reduce((acc, v, i) => acc + v * a[i], 0);
      const ss = a.reduce((acc, v) => acc + v * v, 0);
      const lambda = (ts + kappa) / ss; // = Σz at the optimum
      const v = tk.map((x, i) => x - lambda * a[i]);
      for (let mu = 0; mu < m; mu++) {
        const sv = points.subarray(mu * d1, (mu + 1) * d1).reduce((acc, x, i) => acc + x * v[i], 0);
        expect(sv).toBeLessThanOrEqual(-kappa + 1e-9);
      }
      expect(est.perTF[k]).toBeCloseTo(lambda * lambda * ss, 10);
    }
    expect(qp).toBeGreaterThan(c.n_t / 2);
  });
});

describe('analyzeManifold vs reference fixtures (saved reduced data and t-vectors)', () => {
  for (const name of CASES) {
    it(`${name}: per-t F, anchors, alpha, R, D`, () => {
      const c = JSON.parse(bytes(name, 'case.json').toString('utf8')) as CaseJson;
      const reduced = f64(name, 'reduced_sD1.f64');
      const tAll = Float64Array.from(f32(name, 't_vectors.f32'));
      const anchorsRef = f64(name, 'anchors.f64');
      const fRef = f64(name, 'per_t_F.f64');
      const ref = c.seed0_deterministic;
      let pOff = 0;
      let tOff = 0;
      const worst = { alpha: 0, radius: 0, dimension: 0, F: 0, Fmixed: 0, anchor: 0 };
      for (let i = 0; i < c.P; i++) {
        const m = c.M[i];
        const d1 = c.t_vectors.D1[i];
        const points = reduced.subarray(pOff, pOff + m * d1);
        const t = tAll.subarray(tOff, tOff + c.n_t * d1);
        const est = analyzeManifold({ points, m, d1 }, t, c.n_t, { kappa: c.kappa });
        worst.alpha = Math.max(worst.alpha, relErr(est.alpha, ref.capacity_per_manifold[i]));
        worst.radius = Math.max(worst.radius, relErr(est.radius, ref.radius_per_manifold[i]));
        worst.dimension = Math.max(worst.dimension, relErr(est.dimension, ref.dimension_per_manifold[i]));
        for (let k = 0; k < c.n_t; k++) {
          const fr = fRef[i * c.n_t + k];
          if (fr > 1e-6) worst.F = Math.max(worst.F, relErr(est.perTF[k], fr));
          // 1e-6 relative plus 1e-10 absolute: in balls manifold 5, t 184 the anchor rests on one
          // point with Σz = 1.1e-3 and cvxopt's interior-point answer (accurate to ~1e-10 in v,
          // spec §11) is 7e-6 relative off in F = 2.9e-6; the NNLS answer there is exact
          // (S^T v ≤ 0 to the last bit, F = |t − v|²). The absolute term absorbs exactly that.
          worst.Fmixed = Math.max(worst.Fmixed, Math.abs(est.perTF[k] - fr) / (1e-6 * fr + 1e-10));
          const code = ref.per_t_case_codes[i][k];
          // Fast path is decided by the same max-projection test; QP vs interior must agree too.
          expect(est.caseCodes[k] === CASE_FAST).toBe(code === CASE_FAST);
          if (code === CASE_QP) expect(est.caseCodes[k]).toBe(CASE_QP);
        }
        for (let j = 0; j < c.n_t * d1; j++) worst.anchor = Math.max(worst.anchor, Math.abs(est.anchors[j] - anchorsRef[tOff + j]));
        pOff += m * d1;
        tOff += c.n_t * d1;
      }
      console.info(`[mftma stage1] ${name}`, JSON.stringify(worst));
      expect(worst.alpha).toBeLessThan(1e-6);
      expect(worst.radius).toBeLessThan(1e-6);
      expect(worst.dimension).toBeLessThan(1e-6);
      expect(worst.Fmixed).toBeLessThan(1);
      expect(worst.anchor).toBeLessThan(1e-4);
    });
  }
});
