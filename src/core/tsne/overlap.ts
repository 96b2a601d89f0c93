/**
 * The t-SNE overlap metric of Valentim, Antunes & Lourenço (arXiv 2406.14073), exactly as
 * specs/tsne.md §3 defines it for the lab.
 *
 * For one layer, with Y the embedding of M clean images x_i and their adversarial versions x̃_i:
 *   S   = { i : ŷ(x_i) = y_i }                          (misclassified clean images excluded)
 *   r_i = min { ‖Y(x_i) − Y(x_j)‖ : j clean, y_j ≠ y_i } (nearest clean image of another class)
 *   a_i = ‖Y(x_i) − Y(x̃_i)‖                             (clean-to-adversarial distance)
 *   Overlap = |{ i ∈ S : a_i < r_i }| / |S|             (strict inequality)
 *
 * Distances are Euclidean in whatever space the points live in, so the same function gives
 * the 2-D t-SNE value and the 50-D PCA baseline of §3 (b). Undefined cases (|S| = 0, or no
 * clean image of another class so r_i = +∞) return `value: null` with a reason — the UI shows
 * "n/a", never 0 or 1. Cost O(M²·dim): one masked min per clean image.
 */
import { LabError } from '../types';

/** Why a metric value is undefined (spec §3 edge cases). */
export type OverlapUndefinedReason =
  /** |S| = 0: no correctly classified clean image (or, for the restricted variant, no successful attack). */
  | 'empty'
  /** No clean image of another class exists, so r_i = +∞: undefined for the layer, not 1. */
  | 'single-class';

export interface OverlapInput {
  /** Row-major points, `dim` floats per row (2-D embedding or 50-D PCA rows). */
  points: Float32Array | Float64Array;
  dim: number;
  /** Row index of clean image i (explicit index map: spec §2.1, never assume ordering). */
  cleanRows: Int32Array;
  /** Row index of the adversarial partner of clean image i. Same length as `cleanRows`. */
  advRows: Int32Array;
  /** True label y_i of pair i. */
  labels: Int32Array;
  /** Model prediction on the clean image, ŷ(x_i). */
  cleanPred: Int32Array;
  /** Model prediction on the adversarial image, ŷ(x̃_i); enables the attack-success-restricted variant. */
  advPred?: Int32Array;
}

export interface OverlapOptions {
  /**
   * Spec §3 step 1 "choice": whether misclassified clean images still count as "clean
   * images of other classes" when computing r_i. Default true (they stay in the embedding).
   */
  misclassifiedInReference?: boolean;
  /**
   * Spec §3 step 2 "choice": which label decides "another class" for the reference points.
   * 'true' (default) uses y_j; 'predicted' uses ŷ(x_j). For i ∈ S both coincide.
   */
  referenceLabel?: 'true' | 'predicted';
}

export interface OverlapValue {
  /** Overlap fraction in [0, 1], or null when undefined (shown as "n/a"). */
  value: number | null;
  reason: OverlapUndefinedReason | null;
  /** |{ i in the set : a_i < r_i }|. */
  overlapping: number;
  /** Size of the set the fraction is over (|S|, or |S ∩ successful| for the variant). */
  count: number;
}

export interface OverlapResult extends OverlapValue {
  /** The attack-success-restricted variant (i ∈ S with ŷ(x̃_i) ≠ y_i); null without `advPred`. */
  successRestricted: OverlapValue | null;
  /** Per pair: a_i (NaN for i ∉ S). */
  a: Float64Array;
  /** Per pair: r_i (NaN for i ∉ S; +Infinity when no clean image of another class exists). */
  r: Float64Array;
  /** Per pair: 1 if i ∈ S and a_i < r_i. */
  overlaps: Uint8Array;
  /** Per pair: 1 if i ∈ S. */
  inS: Uint8Array;
}

function dist(points: Float32Array | Float64Array, dim: number, p: number, q: number): number {
  let s = 0;
  const bp = p * dim;
  const bq = q * dim;
  for (let k = 0; k < dim; k++) {
    const d = points[bp + k] - points[bq + k];
    s += d * d;
  }
  return Math.sqrt(s);
}

function summarise(mask: Uint8Array, overlaps: Uint8Array, r: Float64Array): OverlapValue {
  let count = 0;
  let overlapping = 0;
  let infinite = false;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    count++;
    overlapping += overlaps[i];
    if (r[i] === Infinity) infinite = true;
  }
  if (count === 0) return { value: null, reason: 'empty', overlapping: 0, count: 0 };
  // r_i = +∞ means "another class" does not exist; a ratio would silently read as 1.
  if (infinite) return { value: null, reason: 'single-class', overlapping, count };
  return { value: overlapping / count, reason: null, overlapping, count };
}

/** The overlap metric (spec §3) and its attack-success-restricted variant. */
export function tsneOverlap(input: OverlapInput, opts: OverlapOptions = {}): OverlapResult {
  const { points, dim, cleanRows, advRows, labels, cleanPred, advPred } = input;
  const misclassifiedInReference = opts.misclassifiedInReference ?? true;
  const referenceLabel = opts.referenceLabel ?? 'true';
  const m = cleanRows.length;
  if (advRows.length !== m || labels.length !== m || cleanPred.length !== m || (advPred && advPred.length !== m)) {
    throw new LabError(`overlap: cleanRows, advRows, labels and predictions must all have ${m} entries`);
  }
  if (!(dim >= 1) || points.length % dim !== 0) throw new LabError(`overlap: points length ${points.length} is not a multiple of dim ${dim}`);
  const nRows = points.length / dim;
  for (let i = 0; i < m; i++) {
    if (cleanRows[i] < 0 || cleanRows[i] >= nRows || advRows[i] < 0 || advRows[i] >= nRows) {
      throw new LabError(`overlap: pair ${i} points outside the ${nRows} rows`);
    }
  }

  const inS = new Uint8Array(m);
  for (let i = 0; i < m; i++) inS[i] = cleanPred[i] === labels[i] ? 1 : 0;
  const refLabel = referenceLabel === 'true' ? labels : cleanPred;

  const a = new Float64Array(m).fill(NaN);
  const r = new Float64Array(m).fill(NaN);
  const overlaps = new Uint8Array(m);
  for (let i = 0; i < m; i++) {
    if (!inS[i]) continue;
    const yi = labels[i];
    let best = Infinity;
    for (let j = 0; j < m; j++) {
      if (j === i || refLabel[j] === yi) continue;
      if (!misclassifiedInReference && !inS[j]) continue;
      const d = dist(points, dim, cleanRows[i], cleanRows[j]);
      if (d < best) best = d;
    }
    r[i] = best;
    a[i] = dist(points, dim, cleanRows[i], advRows[i]);
    // Strict: a tie, and in particular a duplicate with r_i = 0, never overlaps.
    overlaps[i] = a[i] < best ? 1 : 0;
  }

  const main = summarise(inS, overlaps, r);
  let successRestricted: OverlapValue | null = null;
  if (advPred) {
    const succ = new Uint8Array(m);
    for (let i = 0; i < m; i++) succ[i] = inS[i] && advPred[i] !== labels[i] ? 1 : 0;
    successRestricted = summarise(succ, overlaps, r);
  }
  return { ...main, successRestricted, a, r, overlaps, inS };
}

/** Mean ± sample sd over seeds (spec §3: report ≥ 3 cold-start seeds); undefined values are skipped. */
export function overlapAcrossSeeds(values: (number | null)[]): { mean: number | null; sd: number | null; n: number } {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return { mean: null, sd: null, n: 0 };
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  if (v.length < 2) return { mean, sd: null, n: v.length };
  const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) * (x - mean), 0) / (v.length - 1));
  return { mean, sd, n: v.length };
}
