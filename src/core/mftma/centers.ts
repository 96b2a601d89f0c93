/**
 * Center correlation and the low-rank common-center subspace of MFTMA (spec §2–§3).
 *
 * Cohen, Chung, Lee & Sompolinsky, Nat. Commun. 11, 746 (2020): manifold centers of real
 * networks are correlated, which the PRX 2018 theory (Chung, Lee & Sompolinsky) assumes away.
 * The reference removes a K-dimensional common subspace of the centers chosen so that the
 * residual centers are as decorrelated as possible, searching K and random restarts with a
 * conjugate-gradient optimiser on the Stiefel manifold (pymanopt 0.2.4 defaults, spec §3.4).
 * Selection quirks (restart kept by "stability", not cost; early stop after three increases)
 * are reproduced because the fixtures were produced by the code, not by the paper.
 */
import { createRng, type Rng } from '../random';
import { householderQR, symmetricEigenvalues } from './linalg';

/**
 * ρ(Z) = mean |cos(z_m, z_n)| over ordered off-diagonal pairs (spec §3.2); rows of the
 * p×q row-major matrix `z`. Implemented as (Σ_{m,n}|cos| − P)/(P(P−1)) like the reference, so
 * a zero row (NaN cosines) propagates as NaN, as it does there.
 */
export function centerCorrelation(z: Float64Array, p: number, q: number): number {
  const norms = new Float64Array(p);
  for (let m = 0; m < p; m++) {
    let s = 0;
    for (let j = 0; j < q; j++) s += z[m * q + j] * z[m * q + j];
    norms[m] = Math.sqrt(s);
  }
  let total = 0;
  for (let m = 0; m < p; m++) {
    for (let n = 0; n < p; n++) {
      let s = 0;
      for (let j = 0; j < q; j++) s += z[m * q + j] * z[n * q + j];
      total += Math.abs(s / (norms[m] * norms[n]));
    }
  }
  return (total - p) / (p * (p - 1));
}

/** Explained-variance threshold and offset of the maxK rule (spec §2). */
const EXPLAINED = 0.95;
const MAXK_OFFSET = 11;

/**
 * maxK from the centered centers' singular values (spec §2): (#k with e_k < 0.95) + 10, or 11.
 * `b` is P×N row-major (rows c_i − c̄); s_k² are the eigenvalues of B Bᵀ.
 */
export function chooseMaxK(b: Float64Array, p: number, n: number): number {
  const gram = new Float64Array(p * p);
  for (let i = 0; i < p; i++) for (let j = i; j < p; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += b[i * n + k] * b[j * n + k];
    gram[i * p + j] = s;
    gram[j * p + i] = s;
  }
  const ev = symmetricEigenvalues(gram, p).map((v) => Math.max(v, 0));
  const total = ev.reduce((a, v) => a + v, 0);
  let cum = 0;
  let below = 0;
  for (let k = 0; k < p; k++) {
    cum += ev[k];
    if (total > 0 && cum / total < EXPLAINED) below = k + 1;
    else break; // e_k is non-decreasing: the < 0.95 entries are a prefix
  }
  return below > 0 ? below - 1 + MAXK_OFFSET : MAXK_OFFSET;
}

/** Y (P×q), C = Y Yᵀ and its diagonal, shared by every cost evaluation of one search. */
export interface AlignmentProblem {
  y: Float64Array;
  p: number;
  q: number;
  gram: Float64Array;
  /** Scratch reused by every alignmentCost call (K ≤ q): the CG calls it thousands of times. */
  scratch: { c: Float64Array; c0: Float64Array; ratio: Float64Array; wcol: Float64Array; inner: Float64Array };
}

export function alignmentProblem(y: Float64Array, p: number, q: number): AlignmentProblem {
  const gram = new Float64Array(p * p);
  for (let i = 0; i < p; i++) for (let j = i; j < p; j++) {
    let s = 0;
    for (let k = 0; k < q; k++) s += y[i * q + k] * y[j * q + k];
    gram[i * p + j] = s;
    gram[j * p + i] = s;
  }
  const scratch = {
    c: new Float64Array(p * q),
    c0: new Float64Array(p),
    ratio: new Float64Array(p * p),
    wcol: new Float64Array(p),
    inner: new Float64Array(p * q),
  };
  return { y, p, q, gram, scratch };
}

/**
 * cost(V) = ½ Σ_{m,n} cos(r_m, r_n)², r = residual of y after removing span(V) (spec §3.3),
 * and its Euclidean gradient (q×K) when `grad` is given.
 */
export function alignmentCost(prob: AlignmentProblem, v: Float64Array, kDim: number, grad?: Float64Array): number {
  const { y, p, q, gram, scratch } = prob;
  const c = scratch.c; // c = Y V (p×K)
  c.fill(0, 0, p * kDim);
  for (let m = 0; m < p; m++) for (let j = 0; j < q; j++) {
    const ymj = y[m * q + j];
    if (ymj === 0) continue;
    for (let a = 0; a < kDim; a++) c[m * kDim + a] += ymj * v[j * kDim + a];
  }
  const c0 = scratch.c0;
  for (let m = 0; m < p; m++) {
    let s = 0;
    for (let a = 0; a < kDim; a++) s += c[m * kDim + a] * c[m * kDim + a];
    c0[m] = gram[m * p + m] - s;
  }
  let cost = 0;
  const ratio = grad ? scratch.ratio : null; // A/W
  const wcol = grad ? scratch.wcol.fill(0) : null; // ((A⊙A)/(W⊙W)) c0
  for (let m = 0; m < p; m++) {
    for (let n = 0; n < p; n++) {
      let s = 0;
      for (let a = 0; a < kDim; a++) s += c[m * kDim + a] * c[n * kDim + a];
      const amn = gram[m * p + n] - s;
      const w = c0[m] * c0[n];
      cost += (amn * amn) / w;
      if (ratio && wcol) {
        ratio[m * p + n] = amn / w;
        wcol[m] += ((amn * amn) / (w * w)) * c0[n];
      }
    }
  }
  cost *= 0.5;
  if (grad && ratio && wcol) {
    // G = Yᵀ( −2 (A⊘W) c + 2 diag(wcol) c )
    const inner = scratch.inner;
    for (let m = 0; m < p; m++) {
      for (let a = 0; a < kDim; a++) {
        let s = 0;
        for (let n = 0; n < p; n++) s += ratio[m * p + n] * c[n * kDim + a];
        inner[m * kDim + a] = -2 * s + 2 * wcol[m] * c[m * kDim + a];
      }
    }
    grad.fill(0);
    for (let m = 0; m < p; m++) for (let j = 0; j < q; j++) {
      const ymj = y[m * q + j];
      if (ymj === 0) continue;
      for (let a = 0; a < kDim; a++) grad[j * kDim + a] += ymj * inner[m * kDim + a];
    }
  }
  return cost;
}

// ---- Stiefel manifold St(q, K) helpers (pymanopt 0.2.4 semantics, spec §3.4) ----

function inner(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Tangent projection at X: U − X sym(Xᵀ U). */
function project(x: Float64Array, u: Float64Array, q: number, k: number): Float64Array {
  const xtu = new Float64Array(k * k);
  for (let i = 0; i < q; i++) for (let a = 0; a < k; a++) {
    const xia = x[i * k + a];
    for (let b = 0; b < k; b++) xtu[a * k + b] += xia * u[i * k + b];
  }
  const out = Float64Array.from(u);
  for (let i = 0; i < q; i++) for (let b = 0; b < k; b++) {
    let s = 0;
    for (let a = 0; a < k; a++) s += x[i * k + a] * 0.5 * (xtu[a * k + b] + xtu[b * k + a]);
    out[i * k + b] -= s;
  }
  return out;
}

/**
 * QR retraction with diag(R) > 0: the Q factor of X + s·η. X + s·η is within a step of an
 * orthonormal matrix, so modified Gram–Schmidt is as accurate here as Householder (the
 * positive-diagonal Q is unique) and several times cheaper on these q×K (≤ 9×8) matrices,
 * which the CG line search retracts thousands of times per search.
 */
function retract(x: Float64Array, step: Float64Array, scale: number, q: number, k: number): Float64Array {
  const y = new Float64Array(q * k);
  for (let i = 0; i < y.length; i++) y[i] = x[i] + scale * step[i];
  for (let a = 0; a < k; a++) {
    let n2 = 0;
    for (let i = 0; i < q; i++) n2 += y[i * k + a] * y[i * k + a];
    const inv = 1 / Math.sqrt(n2);
    for (let i = 0; i < q; i++) y[i * k + a] *= inv;
    for (let b = a + 1; b < k; b++) {
      let d = 0;
      for (let i = 0; i < q; i++) d += y[i * k + a] * y[i * k + b];
      for (let i = 0; i < q; i++) y[i * k + b] -= d * y[i * k + a];
    }
  }
  return y;
}

/** Random point: Q of the QR of a q×K standard-normal matrix (pymanopt's Stiefel.rand). */
export function randomStiefel(rng: Rng, q: number, k: number): Float64Array {
  const a = new Float64Array(q * k);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  return householderQR(a, q, k).q as Float64Array;
}

export interface StiefelCgOptions {
  maxIterations?: number;
  minGradNorm?: number;
  minStepSize?: number;
}

export interface StiefelCgResult {
  v: Float64Array;
  cost: number;
  iterations: number;
  gradNorm: number;
  stop: 'gradient' | 'step' | 'iterations';
}

/**
 * Hestenes–Stiefel nonlinear CG on St(q, K) with pymanopt 0.2.4's adaptive line search
 * (spec §3.4): first trial 1/|d|, then the remembered α; halve while the Armijo test with
 * constant ½ fails, at most 10 times; reject the step if it does not decrease the cost.
 * Defaults are pymanopt's (1000 iterations, |grad| < 1e-6, step < 1e-10); the tolerances the
 * reference passes are ignored by pymanopt, so we ignore them too.
 */
export function stiefelCg(prob: AlignmentProblem, start: Float64Array, kDim: number, opts: StiefelCgOptions = {}): StiefelCgResult {
  const maxIterations = opts.maxIterations ?? 1000;
  const minGradNorm = opts.minGradNorm ?? 1e-6;
  const minStepSize = opts.minStepSize ?? 1e-10;
  const q = prob.q;
  const eg = new Float64Array(q * kDim);
  let x = start;
  let cost = alignmentCost(prob, x, kDim, eg);
  let grad = project(x, eg, q, kDim);
  let gradNorm = Math.sqrt(inner(grad, grad));
  let desc = grad.map((g) => -g);
  let oldAlpha: number | null = null;
  let iterations = 0;
  let stop: StiefelCgResult['stop'] = 'iterations';
  for (;;) {
    if (gradNorm < minGradNorm) {
      stop = 'gradient';
      break;
    }
    if (iterations >= maxIterations) {
      stop = 'iterations';
      break;
    }
    let df0 = inner(grad, desc);
    if (df0 >= 0) {
      desc = grad.map((g) => -g);
      df0 = -gradNorm * gradNorm;
    }
    // Adaptive line search (pymanopt LineSearchAdaptive: contraction ½, sufficient decrease ½, 10 tries).
    const normD = Math.sqrt(inner(desc, desc));
    let alpha: number = oldAlpha ?? 1 / normD;
    let newX = retract(x, desc, alpha, q, kDim);
    let newCost = alignmentCost(prob, newX, kDim);
    let evals = 1;
    while (newCost > cost + 0.5 * alpha * df0 && evals <= 10) {
      alpha *= 0.5;
      newX = retract(x, desc, alpha, q, kDim);
      newCost = alignmentCost(prob, newX, kDim);
      evals++;
    }
    if (!(newCost <= cost)) {
      alpha = 0;
      newX = x;
      newCost = cost;
    }
    const stepSize = alpha * normD;
    oldAlpha = evals === 2 ? alpha : 2 * alpha;
    iterations++;
    if (stepSize < minStepSize) {
      // pymanopt accepts the (tiny) step, then stops at the next stopping check.
      x = newX;
      cost = newCost;
      stop = 'step';
      break;
    }
    alignmentCost(prob, newX, kDim, eg);
    const newGrad = project(newX, eg, q, kDim);
    const newGradNorm = Math.sqrt(inner(newGrad, newGrad));
    // Vector transport by projection onto the new tangent space.
    const oldGrad = project(newX, grad, q, kDim);
    const oldDesc = project(newX, desc, q, kDim);
    const diff = newGrad.map((g, i) => g - oldGrad[i]);
    const denom = inner(diff, oldDesc);
    const beta = denom !== 0 ? Math.max(0, inner(newGrad, diff) / denom) : 0;
    desc = newGrad.map((g, i) => -g + beta * oldDesc[i]);
    x = newX;
    cost = newCost;
    grad = newGrad;
    gradNorm = newGradNorm;
  }
  return { v: x, cost, iterations, gradNorm, stop };
}

/** Residual Y − Y V Vᵀ (P×q). */
export function removeSubspace(y: Float64Array, p: number, q: number, v: Float64Array, kDim: number): Float64Array {
  const out = Float64Array.from(y);
  for (let m = 0; m < p; m++) {
    const coef = new Float64Array(kDim);
    for (let j = 0; j < q; j++) for (let a = 0; a < kDim; a++) coef[a] += y[m * q + j] * v[j * kDim + a];
    for (let j = 0; j < q; j++) {
      let s = 0;
      for (let a = 0; a < kDim; a++) s += coef[a] * v[j * kDim + a];
      out[m * q + j] -= s;
    }
  }
  return out;
}

/** min over rows of |residual row| / |original row| (spec §3.4 "stability"). */
function stability(y: Float64Array, r: Float64Array, p: number, q: number): number {
  let best = Infinity;
  for (let m = 0; m < p; m++) {
    let a = 0;
    let b = 0;
    for (let j = 0; j < q; j++) {
      a += r[m * q + j] * r[m * q + j];
      b += y[m * q + j] * y[m * q + j];
    }
    best = Math.min(best, Math.sqrt(a) / Math.sqrt(b));
  }
  return best;
}

export interface CenterSearchOptions {
  /** Restarts per rank (reference default 10; its analyze() helper uses 1). */
  nReps?: number;
  /** Seed of the restarts' random starting points. */
  seed?: number;
  /** Upper bound on K before the small-P guard (from chooseMaxK). */
  maxK: number;
  /** Stiefel CG settings; defaults are pymanopt 0.2.4's (spec §3.4). */
  cg?: StiefelCgOptions;
  /**
   * Awaited after each rank K: report progress, yield to the event loop so an abort can land,
   * and throw (e.g. JobCancelledError) to stop the search.
   */
  onRank?: (k: number, kMax: number) => void | Promise<void>;
}

export interface CenterSearchResult {
  /** Selected rank K* (0 when no rank could be searched, e.g. P = 2). */
  k: number;
  /** q×K* orthonormal basis in the coordinates of Y. */
  v: Float64Array;
  /** res[K] for K = 1.. (the search curve). */
  residualCorrelation: number[];
  /** min(maxK, P − 2): the small-P guard of spec §8. */
  maxKUsed: number;
}

/**
 * Rank loop of spec §3.4–3.5 over Y (P×q, q = P − 1). Runs K = 1..min(maxK, P−2) (small-P
 * guard, spec §8: at K = P−1 the residual vanishes and the cost is 0/0), keeping for each K
 * the restart with the largest stability, and returns the argmin of the residual correlation.
 */
export async function searchCommonCenters(y: Float64Array, p: number, q: number, opts: CenterSearchOptions): Promise<CenterSearchResult> {
  const nReps = opts.nReps ?? 10;
  const rng = createRng(opts.seed ?? 0);
  const maxKUsed = Math.max(0, Math.min(opts.maxK, p - 2));
  const prob = alignmentProblem(y, p, q);
  const cg: StiefelCgOptions = opts.cg ?? {};
  const res: number[] = [];
  const kept: Float64Array[] = [];
  for (let k = 1; k <= maxKUsed; k++) {
    let bestStab = 0;
    let bestV: Float64Array | null = null;
    for (let rep = 0; rep < nReps; rep++) {
      const start = randomStiefel(rng, q, k);
      const { v } = stiefelCg(prob, start, k, cg);
      const stab = stability(y, removeSubspace(y, p, q, v, k), p, q);
      if (stab > bestStab || bestV === null) {
        // The reference starts from 0 with a strict ">"; taking the first restart when all are
        // NaN/0 only avoids an undefined V, it does not change which restart wins otherwise.
        if (stab > bestStab) bestStab = stab;
        bestV = v;
      }
    }
    const v = bestV as Float64Array;
    kept.push(v);
    res.push(centerCorrelation(removeSubspace(y, p, q, v, k), p, q));
    await opts.onRank?.(k, maxKUsed);
    const n = res.length;
    if (k > 4 && res[n - 1] > res[n - 2] && res[n - 2] > res[n - 3] && res[n - 3] > res[n - 4]) break;
  }
  if (res.length === 0) return { k: 0, v: new Float64Array(0), residualCorrelation: [], maxKUsed };
  let arg = 0;
  for (let i = 1; i < res.length; i++) if (res[i] < res[arg]) arg = i;
  return { k: arg + 1, v: kept[arg], residualCorrelation: res, maxKUsed };
}
