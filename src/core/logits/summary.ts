/**
 * Per-sample logit statistics and their distributions.
 *
 * Seguin et al., "Understanding the Logit Distributions of Adversarially-Trained Deep
 * Neural Networks": adversarially trained (AT) networks have lower maximum logits and
 * smaller logit gaps (max − second max) than standard (ST) ones, and the gap
 * distribution of AT models is positively skewed. Large gaps predict robustness only
 * for AT models, which is why we bin robust accuracy by gap with a confidence band.
 *
 * Layout: logits are n×K row-major Float32Array (sample i, class c at i*K + c).
 */

export interface PerSampleLogits {
  /** max_c z_ic */
  maxLogit: Float32Array;
  /** max − second max; 0 when the top two tie. */
  gap: Float32Array;
  /** Softmax probability of the arg-max class (computed stably by subtracting the max). */
  confidence: Float32Array;
  /** Arg-max class; the lowest index wins a tie. */
  argmax: Int32Array;
}

function checkShape(logits: Float32Array, numClasses: number): number {
  if (!Number.isInteger(numClasses) || numClasses < 2) throw new Error('numClasses must be an integer ≥ 2');
  if (logits.length % numClasses !== 0) throw new Error(`logits length ${logits.length} is not a multiple of ${numClasses}`);
  return logits.length / numClasses;
}

/** Max logit, logit gap, softmax confidence and prediction for every sample. */
export function perSampleLogits(logits: Float32Array, numClasses: number): PerSampleLogits {
  const n = checkShape(logits, numClasses);
  const K = numClasses;
  const maxLogit = new Float32Array(n);
  const gap = new Float32Array(n);
  const confidence = new Float32Array(n);
  const argmax = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * K;
    let best = 0;
    for (let c = 1; c < K; c++) if (logits[o + c] > logits[o + best]) best = c;
    let second = -Infinity;
    for (let c = 0; c < K; c++) if (c !== best && logits[o + c] > second) second = logits[o + c];
    const m = logits[o + best];
    // Softmax of the winner = 1 / Σ exp(z_c − max): never overflows.
    let denom = 0;
    for (let c = 0; c < K; c++) denom += Math.exp(logits[o + c] - m);
    maxLogit[i] = m;
    gap[i] = m - second;
    confidence[i] = 1 / denom;
    argmax[i] = best;
  }
  return { maxLogit, gap, confidence, argmax };
}

/** Softmax probability each sample gives to a chosen class (e.g. its label). */
export function classConfidence(logits: Float32Array, numClasses: number, classes: Int32Array): Float32Array {
  const n = checkShape(logits, numClasses);
  if (classes.length !== n) throw new Error('one class per sample required');
  const K = numClasses;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * K;
    let m = -Infinity;
    for (let c = 0; c < K; c++) m = Math.max(m, logits[o + c]);
    let denom = 0;
    for (let c = 0; c < K; c++) denom += Math.exp(logits[o + c] - m);
    out[i] = Math.exp(logits[o + classes[i]] - m) / denom;
  }
  return out;
}

export interface HistogramOptions {
  /** Number of equal-width bins (default 30, enough to see skew on a few thousand samples). */
  bins?: number;
  /** Lower edge; default the minimum of the finite values. */
  min?: number;
  /** Upper edge; default the maximum of the finite values. Values equal to it go in the last bin. */
  max?: number;
}

export interface Histogram {
  /** bins + 1 edges. */
  edges: Float64Array;
  counts: Int32Array;
  /** Finite values that fell outside [min, max] (only possible with explicit bounds). */
  outside: number;
  /** Non-finite values, ignored everywhere. */
  nonFinite: number;
  /** Number of finite values the moments are computed from. */
  n: number;
  mean: number;
  /** Sample standard deviation with divisor n − 1 (NaN when n < 2). */
  sd: number;
  /**
   * Sample skewness g1 = m3 / m2^(3/2), with central moments m_r = (1/n) Σ (x − x̄)^r
   * (the "biased" moment estimator, as in scipy.stats.skew(bias=True)). Positive when
   * the right tail is longer, as for AT logit gaps. NaN when n < 2 or all values equal.
   */
  skewness: number;
}

/** Fixed-bin histogram of the finite values plus mean, sd and skewness. */
export function histogram(values: ArrayLike<number>, opts: HistogramOptions = {}): Histogram {
  const bins = opts.bins ?? 30;
  if (!Number.isInteger(bins) || bins < 1) throw new Error('bins must be a positive integer');
  let lo = Infinity;
  let hi = -Infinity;
  let n = 0;
  let sum = 0;
  let nonFinite = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      nonFinite++;
      continue;
    }
    n++;
    sum += v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const min = opts.min ?? (n > 0 ? lo : 0);
  let max = opts.max ?? (n > 0 ? hi : 1);
  if (!(max > min)) max = min + 1; // all values equal: one unit-wide range keeps edges distinct
  const edges = new Float64Array(bins + 1);
  for (let b = 0; b <= bins; b++) edges[b] = min + ((max - min) * b) / bins;
  const counts = new Int32Array(bins);
  const mean = n > 0 ? sum / n : NaN;
  let m2 = 0;
  let m3 = 0;
  let outside = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    const d = v - mean;
    m2 += d * d;
    m3 += d * d * d;
    if (v < min || v > max) {
      outside++;
      continue;
    }
    const b = Math.min(bins - 1, Math.floor(((v - min) / (max - min)) * bins));
    counts[b]++;
  }
  const sd = n >= 2 ? Math.sqrt(m2 / (n - 1)) : NaN;
  const skewness = n >= 2 && m2 > 0 ? m3 / n / Math.pow(m2 / n, 1.5) : NaN;
  return { edges, counts, outside, nonFinite, n, mean, sd, skewness };
}

/** z for a two-sided 95% normal interval. */
const Z95 = 1.959963984540054;

/**
 * Wilson score interval for a binomial proportion k/n. Chosen over the normal
 * ("Wald") interval because it stays inside [0, 1] and is sensible for bins with few
 * samples or accuracy near 0 or 1 — typical of the tails of a gap histogram.
 */
export function wilsonInterval(k: number, n: number, z = Z95): { low: number; high: number } {
  if (n <= 0) return { low: NaN, high: NaN };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z / denom) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export interface GapAccuracyBin {
  low: number;
  high: number;
  count: number;
  correct: number;
  /** correct / count; NaN for an empty bin. */
  accuracy: number;
  /** Wilson 95% band; NaN for an empty bin. */
  wilsonLow: number;
  wilsonHigh: number;
}

/**
 * Robust accuracy as a function of the clean logit gap (Seguin et al.: for AT models a
 * large gap predicts that the sample survives the attack). `robustCorrect[i]` is 1 when
 * sample i is still classified correctly under attack. Bins are equal-width over the
 * finite gaps (or the given range); non-finite gaps are skipped.
 */
export function accuracyByGap(
  gap: ArrayLike<number>,
  robustCorrect: ArrayLike<number | boolean>,
  opts: HistogramOptions = {},
): GapAccuracyBin[] {
  if (gap.length !== robustCorrect.length) throw new Error('gap and robustCorrect lengths differ');
  const h = histogram(gap, opts);
  const bins = h.counts.length;
  const min = h.edges[0];
  const max = h.edges[bins];
  const count = new Int32Array(bins);
  const correct = new Int32Array(bins);
  for (let i = 0; i < gap.length; i++) {
    const v = gap[i];
    if (!Number.isFinite(v) || v < min || v > max) continue;
    const b = Math.min(bins - 1, Math.floor(((v - min) / (max - min)) * bins));
    count[b]++;
    if (robustCorrect[i]) correct[b]++;
  }
  const out: GapAccuracyBin[] = [];
  for (let b = 0; b < bins; b++) {
    const w = wilsonInterval(correct[b], count[b]);
    out.push({
      low: h.edges[b],
      high: h.edges[b + 1],
      count: count[b],
      correct: correct[b],
      accuracy: count[b] > 0 ? correct[b] / count[b] : NaN,
      wilsonLow: w.low,
      wilsonHigh: w.high,
    });
  }
  return out;
}

/** Finite min and max of several arrays together (NaN, NaN when none is finite). */
export function sharedRange(arrays: ArrayLike<number>[]): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (const a of arrays)
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  return min <= max ? { min, max } : { min: NaN, max: NaN };
}

export interface LogitDistributions {
  maxLogit: Histogram;
  gap: Histogram;
  confidence: Histogram;
}

/**
 * Max-logit, gap and softmax-confidence histograms of several logit matrices (e.g. clean
 * and adversarial, or ST and AT) on *shared* bins, so the UI can overlay them and a
 * shift between them is not an artefact of different bin edges. Confidence always uses
 * [0, 1].
 */
export function logitDistributions(logitSets: Float32Array[], numClasses: number, bins = 30): LogitDistributions[] {
  const stats = logitSets.map((l) => perSampleLogits(l, numClasses));
  const m = sharedRange(stats.map((s) => s.maxLogit));
  const g = sharedRange(stats.map((s) => s.gap));
  const range = (r: { min: number; max: number }) => (Number.isFinite(r.min) ? { min: r.min, max: r.max } : {});
  return stats.map((s) => ({
    maxLogit: histogram(s.maxLogit, { bins, ...range(m) }),
    gap: histogram(s.gap, { bins, ...range(g) }),
    confidence: histogram(s.confidence, { bins, min: 0, max: 1 }),
  }));
}

export interface EpochLogits {
  epoch: number;
  /** n×K row-major logits of the snapshot at this epoch, on the same samples for every epoch. */
  logits: Float32Array;
}

export interface EpochSummary {
  epoch: number;
  maxLogit: Histogram;
  gap: Histogram;
}

export interface EpochSummaries {
  /** Sorted by epoch. */
  epochs: EpochSummary[];
  /** The shared edges every epoch's histograms use (one ridgeline row per epoch). */
  maxLogitEdges: Float64Array;
  gapEdges: Float64Array;
}

/**
 * Per-epoch max-logit and gap histograms for zoo training snapshots, on bins shared by
 * all epochs so they stack as a ridgeline. Seguin et al. follow how the logit
 * distributions of ST and AT models drift during training (max logits and gaps grow
 * for ST, stay compressed for AT); shared bins make that drift readable.
 */
export function epochLogitSummaries(snapshots: EpochLogits[], numClasses: number, bins = 30): EpochSummaries {
  const sorted = snapshots.slice().sort((a, b) => a.epoch - b.epoch);
  const dists = logitDistributions(
    sorted.map((s) => s.logits),
    numClasses,
    bins,
  );
  const epochs = sorted.map((s, i) => ({ epoch: s.epoch, maxLogit: dists[i].maxLogit, gap: dists[i].gap }));
  const empty = histogram([], { bins });
  return {
    epochs,
    maxLogitEdges: epochs[0]?.maxLogit.edges ?? empty.edges,
    gapEdges: epochs[0]?.gap.edges ?? empty.edges,
  };
}

/**
 * Per-epoch summaries of several models on one set of bins (the seed's Figure 1 compares ST
 * and AT training side by side, so A's and B's ridgelines must share their axes). Rows keep
 * their model's order and are sorted by epoch within it.
 */
export function epochSummariesByModel<M>(models: { model: M; rows: EpochLogits[] }[], numClasses: number, bins = 30): { model: M; summaries: EpochSummaries }[] {
  const all = models.flatMap((m) => m.rows);
  // Rows are numbered in order so the shared summary keeps it; real epochs go back on below.
  const shared = epochLogitSummaries(all.map((r, i) => ({ epoch: i, logits: r.logits })), numClasses, bins);
  let at = 0;
  return models.map((m) => ({
    model: m.model,
    summaries: {
      epochs: m.rows.map((r) => ({ ...shared.epochs[at++], epoch: r.epoch })).sort((u, v) => u.epoch - v.epoch),
      maxLogitEdges: shared.maxLogitEdges,
      gapEdges: shared.gapEdges,
    },
  }));
}
