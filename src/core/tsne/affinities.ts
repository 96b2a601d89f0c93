/**
 * Exact kNN and sparse symmetric t-SNE affinities P (van der Maaten & Hinton 2008 §2;
 * specs/tsne.md §2.2–2.3).
 *
 * - kNN: exact brute force in float64, k = min(3·perplexity, N−1); ties broken by index so
 *   duplicate rows (ε = 0 makes every adversarial row equal its clean partner) stay deterministic.
 * - Calibration: per row, bisection on β_i so that the entropy of p_{j|i} ∝ exp(−β_i d²_ij)
 *   over the k neighbours equals log(perplexity) (tolerance 1e-5, ≤ 100 steps), distances
 *   shifted by the row minimum so exp never underflows for far-away rows.
 * - Symmetrise p_ij = (p_{j|i} + p_{i|j}) / 2N, stored as CSR with both directions, sorted by
 *   (i, j) so every later reduction runs in a fixed order.
 */
// Deterministic exp/log (detmath.ts): Math.exp/log differ in the last bit between Node's and
// Chromium's V8, and t-SNE amplifies a last-bit difference in P into a different layout, so the
// lab and the CLI would disagree on the same seed.
import { detExp, detLog } from '../detmath';
import { LabError } from '../types';
import { exactKnnTf } from './knn';

export interface KnnResult {
  k: number;
  /** N × k neighbour indices, nearest first. */
  indices: Int32Array;
  /** N × k squared Euclidean distances. */
  sqDistances: Float64Array;
}

/** Exact kNN of the given rows of x (n × d) among all n rows, self excluded. */
export function exactKnn(x: Float32Array | Float64Array, n: number, d: number, k: number, rows?: Int32Array): KnnResult {
  if (x.length !== n * d) throw new LabError(`knn: data has ${x.length} floats, expected ${n}·${d}`);
  if (k < 1 || k > n - 1) throw new LabError(`knn: k = ${k} must be in [1, ${n - 1}]`);
  const q = rows ?? Int32Array.from({ length: n }, (_, i) => i);
  const indices = new Int32Array(q.length * k);
  const sqDistances = new Float64Array(q.length * k);
  const dist = new Float64Array(n);
  const order = new Int32Array(n);
  for (let qi = 0; qi < q.length; qi++) {
    const i = q[qi];
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) {
        const t = x[i * d + c] - x[j * d + c];
        s += t * t;
      }
      dist[j] = s;
    }
    // Insertion into a sorted top-k buffer: O(n·k) worst case, fine for the exact oracle.
    let filled = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const dj = dist[j];
      if (filled === k && dj >= dist[order[k - 1]]) continue; // ≥: equal distance keeps lower index
      let pos = filled < k ? filled++ : k - 1;
      while (pos > 0 && dist[order[pos - 1]] > dj) {
        order[pos] = order[pos - 1];
        pos--;
      }
      order[pos] = j;
    }
    for (let t = 0; t < k; t++) {
      indices[qi * k + t] = order[t];
      sqDistances[qi * k + t] = dist[order[t]];
    }
  }
  return { k, indices, sqDistances };
}

/** Conditional p_{j|i} over each row's k neighbours (row-normalised), by bisection on β. */
export function calibrateRows(sqDistances: Float64Array, k: number, perplexity: number): { p: Float64Array; beta: Float64Array } {
  const rows = sqDistances.length / k;
  const p = new Float64Array(sqDistances.length);
  const beta = new Float64Array(rows);
  const target = detLog(perplexity);
  for (let r = 0; r < rows; r++) {
    const off = r * k;
    let dmin = Infinity;
    for (let t = 0; t < k; t++) dmin = Math.min(dmin, sqDistances[off + t]);
    let b = 1;
    let lo = 0;
    let hi = Infinity;
    for (let step = 0; step < 100; step++) {
      let z = 0;
      let wsum = 0;
      for (let t = 0; t < k; t++) {
        const e = detExp(-b * (sqDistances[off + t] - dmin));
        p[off + t] = e;
        z += e;
        wsum += e * (sqDistances[off + t] - dmin);
      }
      // H = log Z + β·E[d − d_min] (natural log, as log(perplexity)).
      const h = detLog(z) + (b * wsum) / z;
      for (let t = 0; t < k; t++) p[off + t] /= z;
      if (Math.abs(h - target) < 1e-5) break;
      if (h > target) {
        lo = b;
        b = hi === Infinity ? b * 2 : (lo + hi) / 2;
      } else {
        hi = b;
        b = (lo + hi) / 2;
      }
    }
    beta[r] = b;
  }
  return { p, beta };
}

/** Symmetric sparse P in CSR form (both directions stored), Σ p_ij = 1. */
export interface SparseP {
  n: number;
  /** Row pointers, length n + 1. */
  rowPtr: Int32Array;
  /** Edge source i (expanded from rowPtr, for gathers). */
  rows: Int32Array;
  cols: Int32Array;
  vals: Float64Array;
}

/**
 * p_ij = (p_{j|i} + p_{i|j}) / 2N from row-conditional neighbour lists, as CSR sorted by
 * (i, j). Counting sort by row, then a typed-array sort of each row's (column, slot) keys:
 * ~20× faster than a hash map at N = 2,500 (it dominated the warm start's P update). Each
 * p_ij has at most two contributions (j in i's list, i in j's list), so the sum is exact
 * whatever the order.
 */
export function symmetrise(n: number, k: number, indices: Int32Array, pCond: Float64Array): SparseP {
  const scale = 1 / (2 * n);
  const start = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      start[i + 1]++;
      start[indices[i * k + t] + 1]++;
    }
  }
  for (let i = 0; i < n; i++) start[i + 1] += start[i];
  const total = start[n];
  const rawCols = new Int32Array(total);
  const rawVals = new Float64Array(total);
  const cursor = Int32Array.from(start.subarray(0, n));
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < k; t++) {
      const j = indices[i * k + t];
      const v = pCond[i * k + t] * scale;
      rawCols[cursor[i]] = j;
      rawVals[cursor[i]++] = v;
      rawCols[cursor[j]] = i;
      rawVals[cursor[j]++] = v;
    }
  }
  const rowPtr = new Int32Array(n + 1);
  const cols = new Int32Array(total);
  const vals = new Float64Array(total);
  let widest = 0;
  for (let i = 0; i < n; i++) widest = Math.max(widest, start[i + 1] - start[i]);
  const keys = new Float64Array(widest);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const s0 = start[i];
    const len = start[i + 1] - s0;
    // key = column · widest + slot: exact in float64, sorts by column then slot.
    for (let q = 0; q < len; q++) keys[q] = rawCols[s0 + q] * widest + q;
    const row = keys.subarray(0, len).sort();
    let last = -1;
    for (let q = 0; q < len; q++) {
      const slot = row[q] % widest;
      const j = rawCols[s0 + slot];
      if (j === last) {
        vals[m - 1] += rawVals[s0 + slot];
      } else {
        cols[m] = j;
        vals[m++] = rawVals[s0 + slot];
        last = j;
      }
    }
    rowPtr[i + 1] = m;
  }
  const rows = new Int32Array(m);
  for (let i = 0; i < n; i++) rows.fill(i, rowPtr[i], rowPtr[i + 1]);
  return { n, rowPtr, rows, cols: cols.slice(0, m), vals: vals.slice(0, m) };
}

/**
 * The whole §2.2–2.3 pipeline: exact kNN (k = min(3·perplexity, N−1)), calibration,
 * symmetrisation. Async because the tfjs kNN reads its tiles back with `await data()`.
 */
export async function computeP(
  x: Float32Array | Float64Array,
  n: number,
  d: number,
  perplexity = 30,
  knnEngine: 'cpu' | 'tfjs' = 'cpu',
): Promise<SparseP & { knn: KnnResult; pCond: Float64Array }> {
  if (n < 2) throw new LabError(`t-SNE needs at least 2 points, got ${n}`);
  const k = Math.min(Math.floor(3 * perplexity), n - 1);
  // Perplexity cannot exceed the neighbour count; clamp so the bisection has a solution.
  const perp = Math.min(perplexity, Math.max(1, k));
  // Both give the same lists (knn.ts re-ranks its float32 candidates in float64).
  const knn = knnEngine === 'tfjs' ? await exactKnnTf(x, n, d, k) : exactKnn(x, n, d, k);
  const { p } = calibrateRows(knn.sqDistances, k, perp);
  return { ...symmetrise(n, k, knn.indices, p), knn, pCond: p };
}

/**
 * Incremental P after some rows changed (spec §2.6 warm start: when ε moves only the
 * adversarial rows change). Changed rows get a fresh exact kNN row; an unchanged row merges
 * its cached list with the changed rows as candidates, unless a changed row was among its
 * neighbours (then its list may need points beyond the cache and is recomputed exactly).
 * Only rows whose neighbour list changed are re-calibrated. The result equals computeP on
 * the new data (same ties, same float64 distances) at a fraction of the cost.
 */
export async function updateP(
  prev: { knn: KnnResult; pCond: Float64Array },
  x: Float32Array | Float64Array,
  n: number,
  d: number,
  perplexity: number,
  changed: Int32Array,
  knnEngine: 'cpu' | 'tfjs' = 'cpu',
): Promise<SparseP & { knn: KnnResult; pCond: Float64Array; recalibrated: number }> {
  const k = prev.knn.k;
  const perp = Math.min(perplexity, Math.max(1, k));
  const isChanged = new Uint8Array(n);
  for (const r of changed) isChanged[r] = 1;
  const indices = Int32Array.from(prev.knn.indices);
  const sqDistances = Float64Array.from(prev.knn.sqDistances);
  const pCond = Float64Array.from(prev.pCond);
  const full: number[] = [];
  const dirty = new Uint8Array(n);
  const sq = (i: number, j: number) => {
    let s = 0;
    for (let c = 0; c < d; c++) {
      const t = x[i * d + c] - x[j * d + c];
      s += t * t;
    }
    return s;
  };
  for (let i = 0; i < n; i++) {
    if (isChanged[i]) {
      full.push(i);
      continue;
    }
    let hit = false;
    for (let t = 0; t < k && !hit; t++) hit = isChanged[indices[i * k + t]] === 1;
    if (hit) {
      full.push(i);
      continue;
    }
    // Merge the cached list with the changed rows, ordered by (d², index) like exactKnn.
    const cand: [number, number][] = [];
    for (let t = 0; t < k; t++) cand.push([sqDistances[i * k + t], indices[i * k + t]]);
    for (const j of changed) cand.push([sq(i, j), j]);
    cand.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let same = true;
    for (let t = 0; t < k; t++) {
      if (cand[t][1] !== indices[i * k + t]) same = false;
      indices[i * k + t] = cand[t][1];
      sqDistances[i * k + t] = cand[t][0];
    }
    if (!same) dirty[i] = 1;
  }
  if (full.length > 0) {
    const fullRows = Int32Array.from(full);
    const fresh = knnEngine === 'tfjs' ? await exactKnnTf(x, n, d, k, { rows: fullRows }) : exactKnn(x, n, d, k, fullRows);
    full.forEach((i, q) => {
      indices.set(fresh.indices.subarray(q * k, (q + 1) * k), i * k);
      sqDistances.set(fresh.sqDistances.subarray(q * k, (q + 1) * k), i * k);
      dirty[i] = 1;
    });
  }
  let recalibrated = 0;
  for (let i = 0; i < n; i++) {
    if (!dirty[i]) continue;
    recalibrated++;
    const { p } = calibrateRows(sqDistances.subarray(i * k, (i + 1) * k), k, perp);
    pCond.set(p, i * k);
  }
  const knn = { k, indices, sqDistances };
  return { ...symmetrise(n, k, indices, pCond), knn, pCond, recalibrated };
}
