/**
 * Linear centred kernel alignment (CKA; Kornblith, Norouzi, Lee & Hinton, "Similarity of
 * Neural Network Representations Revisited", ICML 2019). For representations X (n × p) and
 * Y (n × q) of the same n inputs, with centred columns,
 *
 *   CKA(X, Y) = ‖YᵀX‖_F² / (‖XᵀX‖_F ‖YᵀY‖_F)
 *             = ⟨HKH, HLH⟩_F / (‖HKH‖_F ‖HLH‖_F),   K = XXᵀ, L = YYᵀ, H = I − 11ᵀ/n,
 *
 * the second being HSIC with linear kernels, normalised (⟨XXᵀ, YYᵀ⟩ = tr(XXᵀYYᵀ) = ‖YᵀX‖_F²,
 * and HKH = X_c X_cᵀ for the column-centred X_c). It is 1 when Y = cXQ + 1bᵀ for an orthogonal
 * Q and a scalar c ≠ 0 (the same geometry up to rotation, isotropic scale and translation),
 * and in [0, 1] always.
 *
 * The debiased variant replaces HSIC by its unbiased estimator (Song, Smola, Gretton, Bedo &
 * Borgwardt, "Feature Selection via Dependence Maximization", JMLR 2012), as Nguyen, Raghu &
 * Kornblith ("Do Wide and Deep Networks Learn the Same Things?", ICLR 2021) do for small
 * samples: the biased estimator is inflated when n is small against the width (two unrelated
 * wide random layers score well above 0). It is computed on U-centred Gram matrices (Székely &
 * Rizzo 2014), which equals Song et al.'s formula; it can be slightly negative and needs n ≥ 4.
 *
 * Pure TypeScript, inputs row-major Float32Array / Float64Array, every sum in float64. A
 * layer with no variance over the sample (a constant or dead layer) or with non-finite
 * values gives NaN with a reason, never a throw.
 */

export type Rows = Float32Array | Float64Array;

export interface CkaValue {
  /** CKA, or NaN when it is undefined (see `reason`). */
  value: number;
  reason: string | null;
}

export interface CkaOptions {
  /** Unbiased HSIC (Song et al. 2012) instead of the plug-in estimator. */
  debiased?: boolean;
}

/** Columns centred per block of this many: bounds the float64 copy at n × 256 values. */
const BLOCK = 256;
/**
 * A layer counts as constant when its centred sum of squares is below this fraction of its
 * raw sum of squares (a relative spread under 1e-10; float32 activations resolve 6e-8):
 * rounding in the column means must not turn a constant layer into noise with CKA ≠ NaN.
 */
const CONSTANT_RELATIVE = 1e-20;

function widthOf(x: Rows, n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: sample count must be a positive integer (got ${n})`);
  const p = x.length / n;
  if (!Number.isInteger(p)) throw new Error(`${what}: ${x.length} values are not n = ${n} rows`);
  return p;
}

interface Centring {
  means: Float64Array;
  /** Why the layer has no CKA (null: fine). */
  reason: string | null;
}

/** Column means in float64, and whether the layer is usable at all. */
function centring(x: Rows, n: number, p: number, minSamples: number): Centring {
  const means = new Float64Array(p);
  for (let i = 0; i < n; i++) {
    const row = i * p;
    for (let k = 0; k < p; k++) means[k] += x[row + k];
  }
  for (let k = 0; k < p; k++) means[k] /= n;
  let raw = 0;
  let centred = 0;
  for (let i = 0; i < n; i++) {
    const row = i * p;
    for (let k = 0; k < p; k++) {
      const v = x[row + k];
      const c = v - means[k];
      raw += v * v;
      centred += c * c;
    }
  }
  let reason: string | null = null;
  if (!Number.isFinite(raw) || !Number.isFinite(centred)) reason = 'non-finite values';
  else if (n < minSamples) reason = `needs at least ${minSamples} samples (got ${n})`;
  else if (p === 0 || centred <= CONSTANT_RELATIVE * raw) reason = 'constant over the samples (no variance after centring)';
  return { means, reason };
}

/** Columns [c0, c1) of X, centred, into `out` as an n × (c1 − c0) row-major block. */
function centredBlock(x: Rows, n: number, p: number, means: Float64Array, c0: number, c1: number, out: Float64Array): void {
  const b = c1 - c0;
  for (let i = 0; i < n; i++) {
    const row = i * p;
    for (let k = 0; k < b; k++) out[i * b + k] = x[row + c0 + k] - means[c0 + k];
  }
}

/** X with centred columns as a float64 copy (the feature form; it only runs on narrow layers). */
function centredCopy(x: Rows, n: number, p: number, means: Float64Array): Float64Array {
  const out = new Float64Array(n * p);
  centredBlock(x, n, p, means, 0, p, out);
  return out;
}

/**
 * The centred Gram matrix HKH = X_c X_cᵀ (n × n, float64), built over column blocks so only
 * n × 256 centred values are held at a time; its row sums are 0. Centring the features
 * before the product (rather than HKH from the raw K) keeps a large common offset from
 * cancelling catastrophically.
 */
function centredGramOf(x: Rows, n: number, p: number, means: Float64Array): Float64Array {
  const gram = new Float64Array(n * n);
  const buf = new Float64Array(n * Math.min(BLOCK, Math.max(1, p)));
  for (let c0 = 0; c0 < p; c0 += BLOCK) {
    const c1 = Math.min(p, c0 + BLOCK);
    const b = c1 - c0;
    centredBlock(x, n, p, means, c0, c1, buf);
    for (let i = 0; i < n; i++) {
      const ri = i * b;
      for (let j = 0; j <= i; j++) {
        const rj = j * b;
        let s = 0;
        for (let k = 0; k < b; k++) s += buf[ri + k] * buf[rj + k];
        gram[i * n + j] += s;
      }
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) gram[j * n + i] = gram[i * n + j];
  return gram;
}

/**
 * U-centring (Székely & Rizzo 2014) in place: zero diagonal, and with r_i the row sums of
 * the zero-diagonal K and S their total, K̃_ij − r_i/(n−2) − r_j/(n−2) + S/((n−1)(n−2)) off
 * the diagonal. ⟨Ũ_K, Ũ_L⟩ / (n(n−3)) is Song et al.'s unbiased HSIC. It removes every
 * term of the form a_i + a_j, so starting from the centred Gram gives the same matrix as
 * from the raw one.
 */
function uCentre(gram: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) gram[i * n + i] = 0;
  const m = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += gram[i * n + j];
    m[i] = s / (n - 2);
    total += s;
  }
  const shift = total / (2 * (n - 1) * (n - 2));
  for (let i = 0; i < n; i++) m[i] -= shift;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) gram[i * n + j] -= m[i] + m[j];
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** A layer's Gram matrix, ready to pair with any other layer's on the same samples. */
export interface LayerGram {
  n: number;
  /** Centred (or U-centred when debiased) n × n Gram; empty when the layer is degenerate. */
  gram: Float64Array;
  /** ⟨gram, gram⟩_F. */
  self: number;
  debiased: boolean;
  reason: string | null;
}

/**
 * The Gram matrix of one layer's activations (n rows), computed once: a layer × layer CKA
 * matrix of L layers then costs L Grams (n²·p/2 multiply-adds each) and L² inner products
 * (n² each), and the activations can be dropped as soon as their Gram exists.
 */
export function layerGram(x: Rows, n: number, opts: CkaOptions = {}): LayerGram {
  const p = widthOf(x, n, 'layerGram');
  const debiased = !!opts.debiased;
  const c = centring(x, n, p, debiased ? 4 : 2);
  if (c.reason) return { n, gram: new Float64Array(0), self: NaN, debiased, reason: c.reason };
  const gram = centredGramOf(x, n, p, c.means);
  if (debiased) uCentre(gram, n);
  const self = dot(gram, gram);
  // Debiased: a layer can be non-constant yet have a zero U-centred Gram (n = 4 with a rank-1 pattern).
  if (!(self > 0)) return { n, gram: new Float64Array(0), self: NaN, debiased, reason: 'no dependence left after U-centring' };
  return { n, gram, self, debiased, reason: null };
}

/** CKA of two layers from their Grams (the same samples, the same estimator). */
export function ckaOfGrams(a: LayerGram, b: LayerGram): CkaValue {
  if (a.n !== b.n) throw new Error(`CKA needs the same samples (n = ${a.n} vs ${b.n})`);
  if (a.debiased !== b.debiased) throw new Error('CKA of a biased and a debiased Gram');
  if (a.reason || b.reason) return { value: NaN, reason: a.reason ?? b.reason };
  // √(ab) rather than √a·√b: for a = b it is exactly a (IEEE sqrt of a rounded square), so CKA(X, X) = 1 exactly.
  return { value: dot(a.gram, b.gram) / Math.sqrt(a.self * b.self), reason: null };
}

/**
 * CKA of every row layer with every column layer, from Grams computed once. Without
 * `cols`, the symmetric layer × layer matrix of `rows` (each pair computed once, mirrored).
 * Undefined entries are NaN; the Grams carry the reasons.
 */
export function ckaMatrix(rows: LayerGram[], cols?: LayerGram[]): number[][] {
  const symmetric = !cols;
  const c = cols ?? rows;
  const out = rows.map(() => new Array<number>(c.length).fill(NaN));
  for (let i = 0; i < rows.length; i++) {
    for (let j = 0; j < c.length; j++) {
      if (symmetric && j > i) break;
      const v = ckaOfGrams(rows[i], c[j]).value;
      out[i][j] = v;
      if (symmetric) out[j][i] = v;
    }
  }
  return out;
}

/** Multiply-adds of the two exact forms for one pair (n samples, widths p and q). */
export function ckaCosts(n: number, p: number, q: number): { feature: number; gram: number } {
  return {
    // YᵀX (p·q entries) and the symmetric XᵀX, YᵀY (p(p+1)/2, q(q+1)/2 entries), n terms each.
    feature: n * (p * q + (p * (p + 1)) / 2 + (q * (q + 1)) / 2),
    // The symmetric Grams (n(n+1)/2 entries, p resp. q terms each) and ⟨K, L⟩ plus the two norms (3n²).
    gram: ((n * (n + 1)) / 2) * (p + q) + 3 * n * n,
  };
}

/** ‖AᵀB‖_F² for column-centred A (n × p) and B (n × q), accumulated row by row in float64. */
function crossFrobenius2(a: Float64Array, p: number, b: Float64Array, q: number, n: number, symmetric: boolean): number {
  const c = new Float64Array(p * q);
  for (let i = 0; i < n; i++) {
    const ra = i * p;
    const rb = i * q;
    for (let s = 0; s < p; s++) {
      const v = a[ra + s];
      if (v === 0) continue;
      const row = s * q;
      // AᵀA is symmetric: its upper triangle (t ≥ s) suffices.
      for (let t = symmetric ? s : 0; t < q; t++) c[row + t] += v * b[rb + t];
    }
  }
  let sum = 0;
  for (let s = 0; s < p; s++) {
    for (let t = symmetric ? s : 0; t < q; t++) {
      const v = c[s * q + t];
      sum += symmetric && t !== s ? 2 * v * v : v * v;
    }
  }
  return sum;
}

/**
 * Linear CKA of X (n × p) and Y (n × q), rows the same n inputs. The two forms are equal;
 * which one runs is a matter of cost (`ckaCosts`): the feature form's cross term YᵀX has
 * p·q entries of n terms, the Gram form's ⟨K, L⟩ has n² entries after Grams of n²·(p + q)/2
 * work. Narrow layers (dense layers, logits: p, q ≲ n) are cheaper in feature space; wide
 * ones (convolutional maps with thousands of features on a few hundred samples) are cheaper,
 * and far smaller in memory (n² instead of p² or p·q), as n × n Grams. The debiased estimator
 * is defined on Grams, so it always takes the Gram form.
 */
export function linearCka(x: Rows, y: Rows, n: number, opts: CkaOptions & { form?: 'auto' | 'feature' | 'gram' } = {}): CkaValue & { form: 'feature' | 'gram' } {
  const p = widthOf(x, n, 'linearCka X');
  const q = widthOf(y, n, 'linearCka Y');
  const cost = ckaCosts(n, p, q);
  const form = opts.debiased ? 'gram' : opts.form === 'feature' || opts.form === 'gram' ? opts.form : cost.feature <= cost.gram ? 'feature' : 'gram';
  if (form === 'gram') return { ...ckaOfGrams(layerGram(x, n, opts), layerGram(y, n, opts)), form };
  const cx = centring(x, n, p, 2);
  const cy = centring(y, n, q, 2);
  if (cx.reason || cy.reason) return { value: NaN, reason: cx.reason ?? cy.reason, form };
  const xc = centredCopy(x, n, p, cx.means);
  const yc = centredCopy(y, n, q, cy.means);
  const xy = crossFrobenius2(xc, p, yc, q, n, false);
  const xx = crossFrobenius2(xc, p, xc, p, n, true);
  const yy = crossFrobenius2(yc, q, yc, q, n, true);
  return { value: xy / Math.sqrt(xx * yy), reason: null, form };
}
