/**
 * Logit manipulations (Seguin et al., "Understanding the Logit Distributions of
 * Adversarially-Trained Deep Neural Networks"): to ask which part of the logit vector
 * carries information (e.g. as distillation targets), keep the top-k logits and destroy
 * the structure of the rest, either by permuting the remaining values among the
 * remaining classes or by replacing them with their mean. "Correct-fix-1" puts the
 * largest logit on the true class.
 *
 * All functions are pure: they return new vectors and never modify their input.
 */
import { createRng, shuffleInPlace, type Rng } from '../random';

/** Indices by decreasing value; lower index first on ties (deterministic). */
function descending(v: ArrayLike<number>): number[] {
  return Array.from({ length: v.length }, (_, c) => c).sort((a, b) => v[b] - v[a] || a - b);
}

function checkK(k: number, K: number): void {
  if (!Number.isInteger(k) || k < 0 || k > K) throw new Error(`k must be an integer in [0, ${K}]`);
}

/**
 * Fix the top-k logits (value and class) and randomly permute the other K − k values
 * among the other K − k classes. The multiset of values, hence the softmax entropy, is
 * unchanged; only which non-top classes get which value is lost.
 */
export function fixTopKPermute(v: Float32Array, k: number, rng: Rng): Float32Array {
  checkK(k, v.length);
  const order = descending(v);
  const rest = order.slice(k);
  const values = rest.map((c) => v[c]);
  shuffleInPlace(values, rng);
  const out = new Float32Array(v);
  rest.forEach((c, t) => (out[c] = values[t]));
  return out;
}

/**
 * Fix the top-k logits and set every other logit to the mean of those others, which
 * removes all ordering information below rank k while keeping the mean logit.
 */
export function fixTopKAverage(v: Float32Array, k: number): Float32Array {
  checkK(k, v.length);
  const rest = descending(v).slice(k);
  const out = new Float32Array(v);
  if (rest.length === 0) return out;
  let s = 0;
  for (const c of rest) s += v[c];
  const m = s / rest.length;
  for (const c of rest) out[c] = m;
  return out;
}

/**
 * Correct-fix-1: swap the true class's logit with the maximum logit, so the true class
 * is top-1 with the model's own max value and every other class keeps its value except
 * the former winner, which takes the true class's old value. Unchanged when the model
 * is already correct.
 */
export function correctFix1(v: Float32Array, label: number): Float32Array {
  if (!Number.isInteger(label) || label < 0 || label >= v.length) throw new Error('label out of range');
  const top = descending(v)[0];
  const out = new Float32Array(v);
  out[label] = v[top];
  out[top] = v[label];
  return out;
}

export type Manipulation = { kind: 'fixPermute'; k: number } | { kind: 'fixAverage'; k: number } | { kind: 'correctFix1' };

/**
 * Apply one manipulation to every row of an n×K logit matrix, returning a new matrix of
 * manipulated target vectors. `seed` drives the permutations (one stream for the whole
 * matrix, so the result is reproducible); `labels` is required for correctFix1.
 */
export function manipulateLogits(
  logits: Float32Array,
  numClasses: number,
  manipulation: Manipulation,
  opts: { seed?: number; labels?: Int32Array } = {},
): Float32Array {
  const K = numClasses;
  if (logits.length % K !== 0) throw new Error('logits length is not a multiple of numClasses');
  const n = logits.length / K;
  const out = new Float32Array(logits.length);
  const rng = createRng(opts.seed ?? 0);
  if (manipulation.kind === 'correctFix1' && (!opts.labels || opts.labels.length !== n)) throw new Error('correctFix1 needs one label per sample');
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * K, (i + 1) * K);
    let m: Float32Array;
    if (manipulation.kind === 'fixPermute') m = fixTopKPermute(row, manipulation.k, rng);
    else if (manipulation.kind === 'fixAverage') m = fixTopKAverage(row, manipulation.k);
    else m = correctFix1(row, opts.labels![i]);
    out.set(m, i * K);
  }
  return out;
}
