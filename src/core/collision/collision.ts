/**
 * Algorithm 1 — Jacobian-based collision search (spec collision.md §2; Bhagoji, Cullina &
 * Zhao 2023, "A theoretical perspective on the robustness of feature extractors", as used by
 * "Evaluating the Adversarial Robustness of CNNs Layer by Layer").
 *
 * For g = A∘f and a pair (x, x′) it looks for (x̃, x̃′) with g(x̃) = g(x̃′) minimising
 * J = ‖x̃ − x‖² + ‖x̃′ − x′‖² (L2). Each step linearises the constraint at the current iterate
 * (J z = b with J = [J1, −J2]), mixes the iterate with the original pair, w = (1−α)z + α z_t,
 * and projects w onto the linearised constraint: z ← w − Jᵀ (J Jᵀ + λI)⁻¹ (J w − b). α decays
 * geometrically, so the fixed point satisfies the KKT conditions of the relaxed problem.
 *
 * Reported distance: d_rms = √(J/2) (primary edge distance), d_max = max(‖δ‖, ‖δ′‖) (certified
 * per-point budget). Both are UPPER bounds on the true collision distance: the problem is
 * non-convex and the returned point is merely feasible (spec §1, "Direction of the bounds").
 *
 * Numerics: g and its Jacobian come from a `CollisionMap` (tfjs in the lab: float32 forward
 * and m vector-Jacobian products); the iterate, the m×m solve and Jᵀy are float64 in JS.
 * Only M (m×m) and r (m) per pair are needed by the solve, and n0·m per point is small
 * (MNIST: 784·m floats), so forming Jᵀy in JS avoids one more upload and batched matmul.
 */
import { JobCancelledError, LabError, throwIfAborted, type JobControl } from '../types';
import { ridgeSolve } from './linalg';

/** g at each point and, when asked, the Jacobian rows (count × m × n0). */
export interface MapValue {
  g: Float64Array;
  jac?: Float64Array;
}

/** g : R^{n0} → R^m evaluated on a batch of points (sync for float64 JS maps, async for tfjs). */
export interface CollisionMap {
  n0: number;
  m: number;
  /**
   * `points` is count×n0 row-major. Returns g (count×m) and, if asked, the Jacobians
   * (count×m×n0, row k of point p at offset (p·m + k)·n0).
   */
  evaluate(points: Float64Array, count: number, withJacobian: boolean): MapValue | Promise<MapValue>;
}

export interface CollisionOptions {
  /** α_0, weight of the original pair in the first mixture. */
  alpha0?: number;
  /**
   * Geometric decay of α. 0.95 (with 600 iterations): γ = 0.9 is faster but lands 9 % above
   * the reference distance on one MLP fixture pair (pair 3, h1), outside the 1.02 rule.
   */
  gamma?: number;
  maxIter?: number;
  /**
   * Feasible iff ‖g(x̃) − g(x̃′)‖ ≤ feasTol · ‖g(x) − g(x′)‖. 1e-4 suits float32 maps; it must
   * stay ≥ 1e-5 there or the loop never stops (spec pitfall 4).
   */
  feasTol?: number;
  /** Stop when feasible and |J_{i+1} − J_i| ≤ objTol · J_{i+1} for `patience` iterations. */
  objTol?: number;
  patience?: number;
  /** Ridge on M = J Jᵀ relative to tr(M)/m (float32 default). */
  ridgeRel?: number;
  /**
   * OPTIONAL, NOT PART OF THE PAPER: clip both points to [lo, hi] (e.g. [0, 1] pixels) after
   * every step. This is a heuristic: the projection then no longer lands exactly on the
   * linearised constraint, and the result only describes collisions inside the box.
   */
  box?: [number, number] | null;
  /** Pairs run in lock-step per batch; 2·batchSize points per forward/backward pass. */
  batchSize?: number;
}

export const BROWSER_DEFAULTS: Required<Omit<CollisionOptions, 'box'>> & { box: null } = {
  alpha0: 1,
  gamma: 0.95,
  maxIter: 600,
  feasTol: 1e-4,
  objTol: 1e-6,
  patience: 3,
  ridgeRel: 1e-6,
  box: null,
  // Memory budget: a batch holds 2B·m·n0 Jacobian floats (16 pairs, m = 10, MNIST: 1 MB) and
  // batching ~10 pairs already gives most of the ~4× saving reported in spec §7.
  batchSize: 16,
};

export interface CollisionResult {
  count: number;
  n0: number;
  /** √(J/2) per pair. */
  dRms: Float64Array;
  /** max(‖δ‖, ‖δ′‖) per pair. */
  dMax: Float64Array;
  /** J = ‖δ‖² + ‖δ′‖² per pair. */
  objective: Float64Array;
  /** ‖g(x̃) − g(x̃′)‖ / ‖g(x) − g(x′)‖ at the returned point (0 if g(x) = g(x′)). */
  relResidual: Float64Array;
  /** 1 if the returned point met feasTol; otherwise it is the last iterate (treat as no edge). */
  feasible: Uint8Array;
  iterations: Int32Array;
  bestIteration: Int32Array;
  /** count×n0 row-major. */
  xTilde: Float64Array;
  xPrimeTilde: Float64Array;
}

function sqDist(a: Float64Array, ao: number, b: ArrayLike<number>, bo: number, n: number): number {
  let s = 0;
  for (let j = 0; j < n; j++) {
    const d = a[ao + j] - b[bo + j];
    s += d * d;
  }
  return s;
}

/**
 * Runs Algorithm 1 on `count` pairs (x[i], x′[i]), each n0 = map.n0 long, row-major.
 * Cancelling throws JobCancelledError with the result so far (pairs of unfinished batches
 * hold their current iterate, marked by `iterations` = 0).
 */
export async function findCollisions(x: ArrayLike<number>, xPrime: ArrayLike<number>, map: CollisionMap, opts: CollisionOptions = {}, control: JobControl = {}): Promise<CollisionResult> {
  const o = { ...BROWSER_DEFAULTS, ...opts };
  const { n0, m } = map;
  const count = x.length / n0;
  if (!Number.isInteger(count) || xPrime.length !== x.length) throw new LabError(`collision search: x and x′ must both be count×${n0}`);
  if (!(o.gamma > 0 && o.gamma < 1) || !(o.alpha0 > 0 && o.alpha0 <= 1)) throw new LabError('collision search: need 0 < γ < 1 and 0 < α0 ≤ 1');
  const res: CollisionResult = {
    count,
    n0,
    dRms: new Float64Array(count),
    dMax: new Float64Array(count),
    objective: new Float64Array(count),
    relResidual: new Float64Array(count),
    feasible: new Uint8Array(count),
    iterations: new Int32Array(count),
    bestIteration: new Int32Array(count),
    xTilde: new Float64Array(count * n0),
    xPrimeTilde: new Float64Array(count * n0),
  };
  const batch = Math.max(1, Math.floor(o.batchSize));
  for (let start = 0; start < count; start += batch) {
    const end = Math.min(count, start + batch);
    await runBatch(x, xPrime, map, o, res, start, end, (f) => control.onProgress?.({ fraction: (start + f * (end - start)) / count, message: `collision search: pairs ${start + 1}–${end} of ${count}` }), control.signal);
  }
  control.onProgress?.({ fraction: 1, message: 'collision search done' });
  return res;

  async function runBatch(
    xs: ArrayLike<number>,
    xps: ArrayLike<number>,
    g: CollisionMap,
    opt: typeof o,
    out: CollisionResult,
    from: number,
    to: number,
    progress: (f: number) => void,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const B = to - from;
    // State, float64: current iterate (init: both points at the midpoint) and best feasible one.
    const xt = new Float64Array(B * n0);
    const xpt = new Float64Array(B * n0);
    const x0 = new Float64Array(B * n0);
    const xp0 = new Float64Array(B * n0);
    for (let i = 0; i < B * n0; i++) {
      x0[i] = xs[from * n0 + i];
      xp0[i] = xps[from * n0 + i];
      xt[i] = xpt[i] = 0.5 * (x0[i] + xp0[i]);
    }
    const bestJ = new Float64Array(B).fill(Infinity);
    const prevJ = new Float64Array(B).fill(NaN);
    const stall = new Int32Array(B);
    const scale = new Float64Array(B);
    const lastRel = new Float64Array(B).fill(Infinity);
    const active: number[] = [];
    {
      const both = new Float64Array(2 * B * n0);
      both.set(x0, 0);
      both.set(xp0, B * n0);
      const { g: g0 } = await g.evaluate(both, 2 * B, false);
      for (let b = 0; b < B; b++) {
        scale[b] = Math.sqrt(sqDist(g0, b * m, g0, (B + b) * m, m));
        if (scale[b] > 0) active.push(b);
        else record(b, x0, xp0, 0, 0, 0); // g(x) = g(x′): the pair itself collides, d = 0.
      }
    }

    function record(b: number, xa: Float64Array, xb: Float64Array, J: number, rel: number, iter: number): void {
      const c = from + b;
      out.xTilde.set(xa.subarray(b * n0, (b + 1) * n0), c * n0);
      out.xPrimeTilde.set(xb.subarray(b * n0, (b + 1) * n0), c * n0);
      const dx = Math.sqrt(sqDist(xa, b * n0, x0, b * n0, n0));
      const dxp = Math.sqrt(sqDist(xb, b * n0, xp0, b * n0, n0));
      out.objective[c] = J;
      out.dRms[c] = Math.sqrt(J / 2);
      out.dMax[c] = Math.max(dx, dxp);
      out.relResidual[c] = rel;
      out.feasible[c] = rel <= opt.feasTol ? 1 : 0;
      out.bestIteration[c] = iter;
    }

    /** Looks at iterate `iter` of pair b given g at both points; true when converged. */
    function observe(b: number, g1: Float64Array, o1: number, g2: Float64Array, o2: number, iter: number): boolean {
      const rel = Math.sqrt(sqDist(g1, o1, g2, o2, m)) / scale[b];
      const J = sqDist(xt, b * n0, x0, b * n0, n0) + sqDist(xpt, b * n0, xp0, b * n0, n0);
      out.iterations[from + b] = iter;
      lastRel[b] = rel;
      const feasible = rel <= opt.feasTol;
      // Keep the best feasible iterate, not the last (spec pitfall 10: oscillation at kinks).
      if (feasible && J < bestJ[b]) {
        bestJ[b] = J;
        record(b, xt, xpt, J, rel, iter);
      }
      if (feasible && Math.abs(J - prevJ[b]) <= opt.objTol * J) stall[b]++;
      else stall[b] = 0;
      prevJ[b] = J;
      return stall[b] >= opt.patience;
    }

    let alpha = opt.alpha0;
    const [lo, hi] = opt.box ?? [-Infinity, Infinity];
    const w1 = new Float64Array(n0);
    const w2 = new Float64Array(n0);
    const rhs = new Float64Array(m);
    const M = new Float64Array(m * m);
    for (let iter = 0; iter < opt.maxIter && active.length; iter++) {
      if (signal?.aborted) {
        for (const b of active) if (!(bestJ[b] < Infinity)) record(b, xt, xpt, NaN, lastRel[b], iter);
        throw new JobCancelledError(out);
      }
      const nA = active.length;
      const pts = new Float64Array(2 * nA * n0);
      active.forEach((b, i) => {
        pts.set(xt.subarray(b * n0, (b + 1) * n0), i * n0);
        pts.set(xpt.subarray(b * n0, (b + 1) * n0), (nA + i) * n0);
      });
      const { g: gv, jac } = await g.evaluate(pts, 2 * nA, true);
      if (!jac) throw new Error('collision map returned no Jacobian');
      const still: number[] = [];
      active.forEach((b, i) => {
        if (observe(b, gv, i * m, gv, (nA + i) * m, iter)) return;
        still.push(b);
        const j1 = i * m * n0;
        const j2 = (nA + i) * m * n0;
        const bo = b * n0;
        // w = (1 − α) z + α z_t: project the mixture, not z (spec pitfall 2).
        for (let j = 0; j < n0; j++) {
          w1[j] = (1 - alpha) * xt[bo + j] + alpha * x0[bo + j];
          w2[j] = (1 - alpha) * xpt[bo + j] + alpha * xp0[bo + j];
        }
        // r = J w − b with b = (g2 − g1) + J1 x̃ − J2 x̃′, i.e. r = J1(w1 − x̃) − J2(w2 − x̃′) − (g2 − g1).
        for (let k = 0; k < m; k++) {
          let s = -(gv[(nA + i) * m + k] - gv[i * m + k]);
          for (let j = 0; j < n0; j++) s += jac[j1 + k * n0 + j] * (w1[j] - xt[bo + j]) - jac[j2 + k * n0 + j] * (w2[j] - xpt[bo + j]);
          rhs[k] = s;
        }
        // M = J1 J1ᵀ + J2 J2ᵀ (m×m): never the 2n0×2n0 projector.
        for (let k = 0; k < m; k++) {
          for (let l = 0; l <= k; l++) {
            let s = 0;
            for (let j = 0; j < n0; j++) s += jac[j1 + k * n0 + j] * jac[j1 + l * n0 + j] + jac[j2 + k * n0 + j] * jac[j2 + l * n0 + j];
            M[k * m + l] = M[l * m + k] = s;
          }
        }
        const y = ridgeSolve(M, rhs, m, opt.ridgeRel);
        // x̃ ← w1 − J1ᵀ y, x̃′ ← w2 + J2ᵀ y. A zero Jacobian (all units dead) leaves z = w.
        for (let j = 0; j < n0; j++) {
          let a = w1[j];
          let c = w2[j];
          if (y) {
            for (let k = 0; k < m; k++) {
              a -= jac[j1 + k * n0 + j] * y[k];
              c += jac[j2 + k * n0 + j] * y[k];
            }
          }
          xt[bo + j] = Math.min(hi, Math.max(lo, a));
          xpt[bo + j] = Math.min(hi, Math.max(lo, c));
        }
      });
      active.length = 0;
      active.push(...still);
      alpha *= opt.gamma;
      if (iter % 10 === 9) {
        progress((iter + 1) / opt.maxIter);
        // Yield so an abort posted to a worker can be seen between chunks of iterations.
        await new Promise((r) => setTimeout(r, 0));
        throwIfAborted(signal, out);
      }
    }
    if (active.length) {
      // Out of iterations: evaluate the last update, then fall back to the last iterate.
      const nA = active.length;
      const pts = new Float64Array(2 * nA * n0);
      active.forEach((b, i) => {
        pts.set(xt.subarray(b * n0, (b + 1) * n0), i * n0);
        pts.set(xpt.subarray(b * n0, (b + 1) * n0), (nA + i) * n0);
      });
      const { g: gv } = await g.evaluate(pts, 2 * nA, false);
      active.forEach((b, i) => {
        observe(b, gv, i * m, gv, (nA + i) * m, opt.maxIter);
        if (!(bestJ[b] < Infinity)) {
          const J = sqDist(xt, b * n0, x0, b * n0, n0) + sqDist(xpt, b * n0, xp0, b * n0, n0);
          record(b, xt, xpt, J, lastRel[b], opt.maxIter);
        }
      });
    }
  }
}
