/**
 * Do adversarially trained (AT) and standard (ST) networks agree on *which* images are
 * easy and on *how* they order the wrong classes? Seguin et al., "Understanding the
 * Logit Distributions of Adversarially-Trained Deep Neural Networks", §rank-order and
 * §class ordering, plus "which classes become the errors".
 *
 * Layout: logits n×K row-major Float32Array, labels Int32Array of length n.
 */
import { createRng, shuffleInPlace } from '../random';

/**
 * Spearman-style ranks 1..n (rank 1 = smallest value); ties receive the mean of the
 * ranks they span, so tied samples never count as a rank disagreement.
 */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && values[order[j + 1]] === values[order[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[order[t]] = r;
    i = j + 1;
  }
  return ranks;
}

export interface ClassRankOrder {
  label: number;
  /** Samples with this label. */
  n: number;
  /**
   * Fraction of the class's samples whose ranks under A and B differ by more than half
   * the possible range, |r_A − r_B| > (n − 1)/2. 0 for identical orderings; for
   * independent orderings about 1/4 (the chance two uniform ranks are > half apart).
   */
  fractionFar: number;
  /** Spearman's ρ = Pearson correlation of the average ranks; NaN if n < 2 or a model is constant. */
  spearman: number;
  /** Global sample indices of this class, in data order (the scatter's points). */
  indices: Int32Array;
  /** Average rank (1..n) of each of those samples under A and under B: the rank-order scatter. */
  rankA: Float64Array;
  rankB: Float64Array;
  /** Global indices of the "far" samples counted in fractionFar, so the UI can open them. */
  farIndices: Int32Array;
}

/**
 * Compare per-sample confidences of two models within each class (Seguin et al.: AT and
 * ST networks are confident on different images). `confA`/`confB` are any per-sample
 * scores, typically the softmax probability of the true class (see classConfidence).
 */
export function rankOrderByClass(
  confA: ArrayLike<number>,
  confB: ArrayLike<number>,
  labels: Int32Array,
  numClasses: number,
): ClassRankOrder[] {
  if (confA.length !== labels.length || confB.length !== labels.length) throw new Error('confA, confB and labels must have equal length');
  const out: ClassRankOrder[] = [];
  for (let c = 0; c < numClasses; c++) {
    const idx: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === c) idx.push(i);
    const n = idx.length;
    const ra = averageRanks(idx.map((i) => confA[i]));
    const rb = averageRanks(idx.map((i) => confB[i]));
    const half = (n - 1) / 2;
    const far: number[] = [];
    for (let t = 0; t < n; t++) if (Math.abs(ra[t] - rb[t]) > half) far.push(idx[t]);
    out.push({
      label: c,
      n,
      fractionFar: n > 0 ? far.length / n : NaN,
      spearman: pearson(ra, rb),
      indices: Int32Array.from(idx),
      rankA: ra,
      rankB: rb,
      farIndices: Int32Array.from(far),
    });
  }
  return out;
}

function pearson(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  if (n < 2) return NaN;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}

/** Classes of one logit row sorted by decreasing logit (lower index first on ties). */
export function classOrder(logits: Float32Array, numClasses: number, row: number): Int32Array {
  const o = row * numClasses;
  const order = Array.from({ length: numClasses }, (_, c) => c).sort((a, b) => logits[o + b] - logits[o + a] || a - b);
  return Int32Array.from(order);
}

export interface AverageOverlapOptions {
  /**
   * Drop the sample's true label from both rankings before comparing, so the measure
   * concerns only "the other classes" (needs labels). Default false. With it, k runs
   * 1..K−1.
   */
  excludeLabel?: boolean;
  labels?: Int32Array;
}

/**
 * Average overlap AO@k between the class rankings of two models, for k = 1..K (or
 * K−1 with excludeLabel). For one sample with rankings A and B (classes by decreasing
 * logit),
 *
 *     AO@k = (1/k) Σ_{d=1..k} |top-d(A) ∩ top-d(B)| / d,
 *
 * i.e. the mean over depths d ≤ k of the overlap fraction of the two top-d sets; it is 1
 * for identical rankings and weights disagreements near the top most. The returned
 * value at index k − 1 is AO@k averaged over samples. Note AO@K = (1/K)Σ_d overlap_d
 * is not 1 for different rankings even though the full sets coincide at d = K.
 *
 * `logitsB` rows are compared with `logitsA` rows of the same index; the
 * within-class permutation control (averageOverlapControl) breaks that pairing.
 */
export function averageOverlap(
  logitsA: Float32Array,
  logitsB: Float32Array,
  numClasses: number,
  opts: AverageOverlapOptions = {},
): Float64Array {
  if (logitsA.length !== logitsB.length) throw new Error('logitsA and logitsB must have the same shape');
  const n = logitsA.length / numClasses;
  const pairing = Int32Array.from({ length: n }, (_, i) => i);
  return averageOverlapPaired(logitsA, logitsB, numClasses, pairing, opts);
}

function averageOverlapPaired(
  logitsA: Float32Array,
  logitsB: Float32Array,
  K: number,
  pairing: Int32Array,
  opts: AverageOverlapOptions,
): Float64Array {
  const n = pairing.length;
  const exclude = opts.excludeLabel ?? false;
  if (exclude && (!opts.labels || opts.labels.length !== n)) throw new Error('excludeLabel needs one label per sample');
  const depth = exclude ? K - 1 : K;
  const sums = new Float64Array(depth);
  const inA = new Uint8Array(K);
  const inB = new Uint8Array(K);
  for (let i = 0; i < n; i++) {
    let a = classOrder(logitsA, K, i);
    let b = classOrder(logitsB, K, pairing[i]);
    if (exclude) {
      const y = opts.labels![i];
      a = a.filter((c) => c !== y);
      b = b.filter((c) => c !== y);
    }
    inA.fill(0);
    inB.fill(0);
    let common = 0;
    let running = 0; // Σ_{d' ≤ d} overlap_{d'} / d'
    for (let d = 1; d <= depth; d++) {
      const ca = a[d - 1];
      const cb = b[d - 1];
      inA[ca] = 1;
      inB[cb] = 1;
      if (ca === cb) common++;
      else {
        if (inB[ca]) common++;
        if (inA[cb]) common++;
      }
      running += common / d;
      sums[d - 1] += running / d;
    }
  }
  for (let d = 0; d < depth; d++) sums[d] /= Math.max(1, n);
  return sums;
}

/**
 * Permutation control for AO@k (Seguin et al.): model B's rows are shuffled among
 * samples of the same class before pairing, so the comparison keeps the class-level
 * ordering but loses any per-image agreement. If AO@k of the true pairing is close to
 * this control, the two models agree on classes, not on images. Seeded via random.ts.
 */
export function averageOverlapControl(
  logitsA: Float32Array,
  logitsB: Float32Array,
  labels: Int32Array,
  numClasses: number,
  seed: number,
  opts: Omit<AverageOverlapOptions, 'labels'> = {},
): Float64Array {
  const n = labels.length;
  if (logitsA.length !== n * numClasses || logitsB.length !== n * numClasses) throw new Error('logits do not match labels');
  const rng = createRng(seed);
  const pairing = new Int32Array(n);
  for (let c = 0; c < numClasses; c++) {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (labels[i] === c) idx.push(i);
    const shuffled = idx.slice();
    shuffleInPlace(shuffled, rng);
    idx.forEach((i, t) => (pairing[i] = shuffled[t]));
  }
  return averageOverlapPaired(logitsA, logitsB, numClasses, pairing, { ...opts, labels });
}

export interface ErrorClassRanks {
  /**
   * fraction[k − 1] = share of the incorrect predictions whose predicted class is the
   * k-th most likely *other* class of its true class's average logit vector, k = 1..K−1.
   */
  fraction: Float64Array;
  counts: Int32Array;
  /** Number of incorrect predictions. */
  errors: number;
  /** Per true class, the other classes by decreasing average logit. */
  orderByClass: Int32Array[];
}

/**
 * "Which classes become the errors" (Seguin et al.): for each class c average the logit
 * vectors of all samples labelled c, rank the other K − 1 classes by that average, and
 * for every misclassified sample of class c record the rank of its predicted class.
 * Mass concentrated at k = 1 means errors go to the class the model already considers
 * "nearest" on average. Predictions default to the arg-max of `logits`; pass
 * `predictions` to rank e.g. adversarial predictions against clean averages.
 */
export function errorClassRanks(
  logits: Float32Array,
  labels: Int32Array,
  numClasses: number,
  predictions?: Int32Array,
): ErrorClassRanks {
  const K = numClasses;
  const n = labels.length;
  if (logits.length !== n * K) throw new Error('logits do not match labels');
  const mean = new Float64Array(K * K);
  const count = new Int32Array(K);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    count[y]++;
    for (let c = 0; c < K; c++) mean[y * K + c] += logits[i * K + c];
  }
  const rankOf = new Int32Array(K * K).fill(-1); // rankOf[y*K + c] = 0-based rank of c among y's others
  const orderByClass: Int32Array[] = [];
  for (let y = 0; y < K; y++) {
    const others = Array.from({ length: K }, (_, c) => c).filter((c) => c !== y);
    others.sort((a, b) => mean[y * K + b] - mean[y * K + a] || a - b);
    others.forEach((c, r) => (rankOf[y * K + c] = r));
    orderByClass.push(Int32Array.from(others));
  }
  const counts = new Int32Array(K - 1);
  let errors = 0;
  for (let i = 0; i < n; i++) {
    let p: number;
    if (predictions) p = predictions[i];
    else {
      p = 0;
      for (let c = 1; c < K; c++) if (logits[i * K + c] > logits[i * K + p]) p = c;
    }
    if (p === labels[i]) continue;
    errors++;
    counts[rankOf[labels[i] * K + p]]++;
  }
  const fraction = Float64Array.from(counts, (v) => (errors > 0 ? v / errors : NaN));
  return { fraction, counts, errors, orderByClass };
}

/** Share of all samples (pooled over classes) whose A/B ranks are more than half the class's range apart. */
export function pooledFractionFar(byClass: ClassRankOrder[]): number {
  let far = 0;
  let n = 0;
  for (const c of byClass) {
    far += c.farIndices.length;
    n += c.n;
  }
  return n > 0 ? far / n : NaN;
}
