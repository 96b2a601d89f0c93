/**
 * Shared fixtures of the t-SNE tests: clustered data with a matching 2-D layout, relative
 * error of two vectors, and the 10-NN label agreement of an embedding.
 */
import { createRng } from '../random';

/** c Gaussian clusters in d dims (centres 10 apart on the axes), and a 2-D layout of c blobs of radius ~`spread`. */
export function clusteredData(perCluster: number, c: number, d: number, spread: number, seed: number) {
  const rng = createRng(seed);
  const n = perCluster * c;
  const x = new Float32Array(n * d);
  const y = new Float32Array(n * 2);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = i % c;
    labels[i] = k;
    for (let j = 0; j < d; j++) x[i * d + j] = rng.normal() + (j === k ? 10 : 0);
    y[2 * i] = spread * (Math.cos((2 * Math.PI * k) / c) + 0.3 * rng.normal());
    y[2 * i + 1] = spread * (Math.sin((2 * Math.PI * k) / c) + 0.3 * rng.normal());
  }
  return { x, y, n, labels };
}

/** ‖a − b‖ / ‖b‖. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
}

/** Fraction of the k nearest 2-D neighbours that share the point's label, averaged. */
export function knnLabelAgreement(y: Float32Array, labels: Int32Array, k = 10): number {
  const n = labels.length;
  let agree = 0;
  for (let i = 0; i < n; i++) {
    const ds: [number, number][] = [];
    for (let j = 0; j < n; j++) if (j !== i) ds.push([(y[2 * i] - y[2 * j]) ** 2 + (y[2 * i + 1] - y[2 * j + 1]) ** 2, j]);
    ds.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (let t = 0; t < k; t++) if (labels[ds[t][1]] === labels[i]) agree++;
  }
  return agree / (n * k);
}
