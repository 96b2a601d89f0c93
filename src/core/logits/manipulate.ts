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
import { classConfidence, histogram, perSampleLogits, sharedRange, type Histogram } from './summary';

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

/** Shannon entropy (nats) of softmax(row) for every row, computed stably. */
export function softmaxEntropy(logits: Float32Array, numClasses: number): Float64Array {
  const K = numClasses;
  const n = logits.length / K;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * K;
    let m = -Infinity;
    for (let c = 0; c < K; c++) m = Math.max(m, logits[o + c]);
    // H = log Z − Σ p_c (z_c − m), with Z = Σ exp(z_c − m); no exp overflows.
    let z = 0;
    let s = 0;
    for (let c = 0; c < K; c++) {
      const e = Math.exp(logits[o + c] - m);
      z += e;
      s += e * (logits[o + c] - m);
    }
    out[i] = Math.log(z) - s / z;
  }
  return out;
}

export interface ManipulationDistribution {
  /** null for the unmanipulated logits (the reference row). */
  manipulation: Manipulation | null;
  maxLogit: Histogram;
  gap: Histogram;
  /** Softmax entropy of the target vector, nats. */
  entropy: Histogram;
  /** Softmax probability of the true class (only with labels). */
  trueClassProbability: Histogram | null;
  /** Fraction of targets whose arg-max is the true class (only with labels). */
  topIsLabel: number | null;
}

/**
 * Distributions of the manipulated target vectors next to the original ones, on shared
 * bins. What to expect by construction: permuting below the top-k and correct-fix-1 only
 * move values between classes, so max logit, gap and entropy are unchanged and only the
 * label-related rows move; averaging the rest changes the entropy and, when k = 1, the
 * gap (the runner-up becomes the mean of the rest). Which rows move is the point of
 * Seguin et al.'s manipulation study (what information lives below the top-k).
 * Permutations use stream seed + t for the t-th manipulation, so rows are reproducible.
 */
export function manipulationDistributions(
  logits: Float32Array,
  numClasses: number,
  manipulations: Manipulation[],
  opts: { seed?: number; labels?: Int32Array; bins?: number } = {},
): ManipulationDistribution[] {
  const K = numClasses;
  const bins = opts.bins ?? 30;
  const sets: { manipulation: Manipulation | null; logits: Float32Array }[] = [{ manipulation: null, logits }];
  manipulations.forEach((m, t) => sets.push({ manipulation: m, logits: manipulateLogits(logits, K, m, { seed: (opts.seed ?? 0) + t, labels: opts.labels }) }));
  const stats = sets.map((s) => perSampleLogits(s.logits, K));
  const entropies = sets.map((s) => softmaxEntropy(s.logits, K));
  const m = sharedRange(stats.map((s) => s.maxLogit));
  const g = sharedRange(stats.map((s) => s.gap));
  const range = (r: { min: number; max: number }) => (Number.isFinite(r.min) ? { min: r.min, max: r.max } : {});
  return sets.map((s, t) => {
    let trueClassProbability: Histogram | null = null;
    let topIsLabel: number | null = null;
    if (opts.labels) {
      trueClassProbability = histogram(classConfidence(s.logits, K, opts.labels), { bins, min: 0, max: 1 });
      let hit = 0;
      stats[t].argmax.forEach((p, i) => (hit += p === opts.labels![i] ? 1 : 0));
      topIsLabel = hit / Math.max(1, opts.labels.length);
    }
    return {
      manipulation: s.manipulation,
      maxLogit: histogram(stats[t].maxLogit, { bins, ...range(m) }),
      gap: histogram(stats[t].gap, { bins, ...range(g) }),
      entropy: histogram(entropies[t], { bins, min: 0, max: Math.log(K) }),
      trueClassProbability,
      topIsLabel,
    };
  });
}
