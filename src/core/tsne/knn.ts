/**
 * Exact kNN on tfjs ops in row tiles (specs/tsne.md §2.2) — the large-N alternative to the
 * float64 CPU `exactKnn` in affinities.ts, with the same result.
 *
 * Brute force is the right tool here: N²·D = 5 GFLOP at N = 10k, D = 50 is one big matmul per
 * tile on a GPU (milliseconds) and ~1 s on WASM, needs no tuning, and is deterministic, which
 * an approximate index (NN-descent, Annoy) is not.
 *
 * Per tile of T rows: ‖a−b‖² = ‖a‖² + ‖b‖² − 2·a·bᵀ (one T × N matmul), then `tf.topk(−D², c)`.
 * Only T × N floats live at once (1024 × 10 000 × 4 B = 40 MB), never an N × N buffer.
 *
 * The float32 expansion loses ~1e-7·‖a‖² to cancellation, so near-ties can be misordered and
 * the row's own index need not come first. We therefore take c = k + 1 + margin candidates
 * per row from the GPU, then re-rank only those candidates on the CPU with float64 distances
 * and the (d², index) tie-break of `exactKnn`. The result is identical to `exactKnn` whenever
 * every true neighbour is among the candidates, i.e. unless more than `margin` float32 errors
 * push points across the k-th distance — a cost of N·c·D flops instead of N²·D.
 */
import * as tf from '@tensorflow/tfjs';
import { LabError } from '../types';
import type { KnnResult } from './affinities';

export interface TfKnnOptions {
  /** Rows per tile; T × N float32 distances live at once. Default 1024. */
  tileRows?: number;
  /** Extra float32 candidates per row re-ranked in float64. Default 16. */
  margin?: number;
  /** Only these query rows (e.g. the adversarial rows after an ε change); default all. */
  rows?: Int32Array;
}

/**
 * Exact kNN of (some) rows of x (n × d) among all n rows, self excluded; same contract as
 * exactKnn. Async: each tile's candidates come back with `await data()` (tfjs-webgpu's
 * dataSync reads through a canvas that returns zeros on software adapters).
 */
export async function exactKnnTf(x: Float32Array | Float64Array, n: number, d: number, k: number, opts: TfKnnOptions = {}): Promise<KnnResult> {
  if (x.length !== n * d) throw new LabError(`knn: data has ${x.length} floats, expected ${n}·${d}`);
  if (k < 1 || k > n - 1) throw new LabError(`knn: k = ${k} must be in [1, ${n - 1}]`);
  const q = opts.rows ?? Int32Array.from({ length: n }, (_, i) => i);
  const tileRows = Math.max(1, opts.tileRows ?? 1024);
  // c ≤ n: topk cannot ask for more columns than exist.
  const c = Math.min(n, k + 1 + Math.max(0, opts.margin ?? 16));
  const indices = new Int32Array(q.length * k);
  const sqDistances = new Float64Array(q.length * k);
  const x32 = x instanceof Float32Array ? x : Float32Array.from(x);
  const all = tf.tensor2d(x32, [n, d]);
  const norms = tf.tidy(() => tf.sum(tf.square(all), 1));
  const qIdx = tf.tensor1d(q, 'int32');
  const cand: [number, number][] = [];
  try {
    for (let t0 = 0; t0 < q.length; t0 += tileRows) {
      const t = Math.min(tileRows, q.length - t0);
      const top = tf.tidy(() => {
        const rows = qIdx.slice(t0, t);
        const a = tf.gather(all, rows);
        const na = tf.gather(norms, rows).expandDims(1);
        const d2 = tf.sub(tf.add(na, norms.expandDims(0)), tf.mul(2, tf.matMul(a, all, false, true)));
        return tf.topk(tf.neg(d2), c, true).indices;
      });
      const ids = (await top.data()) as Int32Array;
      top.dispose();
      for (let r = 0; r < t; r++) {
        const i = q[t0 + r];
        cand.length = 0;
        for (let s = 0; s < c; s++) {
          const j = ids[r * c + s];
          if (j === i) continue;
          let s2 = 0;
          for (let e = 0; e < d; e++) {
            const v = x[i * d + e] - x[j * d + e];
            s2 += v * v;
          }
          cand.push([s2, j]);
        }
        cand.sort((u, v) => u[0] - v[0] || u[1] - v[1]);
        for (let s = 0; s < k; s++) {
          indices[(t0 + r) * k + s] = cand[s][1];
          sqDistances[(t0 + r) * k + s] = cand[s][0];
        }
      }
    }
  } finally {
    tf.dispose([all, norms, qIdx]);
  }
  return { k, indices, sqDistances };
}
