/**
 * Robustness curve (issue #5): robust accuracy of one attack over an ε ladder, per-sample
 * "broken at" ε (the smallest ladder ε at which the attack succeeded), its distribution per
 * class, and gradient-masking warnings from the spec's sanity checks (attacks.md): accuracy
 * that does not decrease with ε, many zero gradients.
 *
 * Per-sample values are shared with the other views (sorting the image strip).
 */
import type { AttackSpec } from '../attacks/types';
import { JobCancelledError, LabError, type JobControl } from '../types';
import { attackSample, jobSample, modelsOf, subProgress, type Emit, type JobContext } from '../analyses/context';

export interface CurveParams {
  spec: Omit<AttackSpec, 'eps'>;
  epsList: number[];
  n: number;
}

export interface CurvePoint {
  eps: number;
  cleanAccuracy: number;
  robustAccuracy: number;
  /** Gaussian noise: accuracy averaged over draws. */
  meanDrawAccuracy?: number;
  zeroGradientFraction: number;
}

export interface ClassSummary {
  cls: number;
  /** Clean-correct samples of the class. */
  count: number;
  /** Quartiles of the broken-at ε over clean-correct samples (Infinity = never broken on the ladder). */
  q25: number;
  median: number;
  q75: number;
}

export interface ModelCurve {
  points: CurvePoint[];
  /** Smallest ladder ε at which the sample was misclassified; 0 = misclassified clean; Infinity = never. */
  brokenAt: Float64Array;
  /** Minimum-norm attacks (DeepFool…): the smallest perturbation norm found per sample. */
  minimalNorm: Float32Array | null;
  perClass: ClassSummary[];
  warnings: string[];
}

export interface CurveResult {
  spec: Omit<AttackSpec, 'eps'>;
  indices: Int32Array;
  labels: Int32Array;
  a: ModelCurve;
  b: ModelCurve | null;
  /** Points done so far for a streamed partial. */
  done: number;
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  if (sorted[lo] === sorted[hi]) return sorted[lo];
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function perClassSummary(values: ArrayLike<number>, labels: Int32Array, cleanCorrect: Uint8Array, numClasses: number): ClassSummary[] {
  const out: ClassSummary[] = [];
  for (let c = 0; c < numClasses; c++) {
    const v: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === c && cleanCorrect[i]) v.push(values[i]);
    v.sort((x, y) => x - y);
    out.push({ cls: c, count: v.length, q25: quantile(v, 0.25), median: quantile(v, 0.5), q75: quantile(v, 0.75) });
  }
  return out;
}

/** The spec's sanity checks that one ladder can reveal (attacks.md, "sanity checks"). */
export function curveWarnings(points: CurvePoint[], attack: string): string[] {
  const w: string[] = [];
  const sorted = [...points].sort((x, y) => x.eps - y.eps);
  for (let i = 1; i < sorted.length; i++) {
    // Tolerate one sample of noise on small samples.
    if (sorted[i].robustAccuracy > sorted[i - 1].robustAccuracy + 1e-9 && attack !== 'gaussian') {
      w.push(`robust accuracy rises from ${(100 * sorted[i - 1].robustAccuracy).toFixed(1)}% at ε=${sorted[i - 1].eps} to ${(100 * sorted[i].robustAccuracy).toFixed(1)}% at ε=${sorted[i].eps}: a stronger attack should never do worse — gradient masking or too few steps`);
      break;
    }
  }
  const big = sorted.filter((p) => p.eps > 0);
  const last = big[big.length - 1];
  if (last && attack !== 'gaussian' && last.eps >= 0.5 && last.robustAccuracy > 0.1) {
    w.push(`${(100 * last.robustAccuracy).toFixed(1)}% still robust at ε=${last.eps}: at such a radius any image can be changed into another — suspect gradient masking`);
  }
  const zg = Math.max(0, ...big.map((p) => p.zeroGradientFraction));
  // Any, as AutoAttack's zero-gradient check: one unmoved sample already makes its robustness unproven.
  if (zg > 0) w.push(`${(100 * zg).toFixed(zg < 0.1 ? 1 : 0)}% of attacked samples had an exactly zero input gradient or were left unperturbed: the attack cannot move them (gradient masking, saturated softmax, a non-differentiable layer or a broken kernel)`);
  return w;
}

export async function robustnessCurve(ctx: JobContext, params: CurveParams, control: JobControl = {}, emit: Emit<CurveResult> = () => undefined): Promise<CurveResult> {
  const epsList = [...new Set(params.epsList)].sort((x, y) => x - y);
  if (!epsList.length) throw new LabError('the ε ladder is empty');
  if (epsList.some((e) => !(e >= 0))) throw new LabError(`ε values must be ≥ 0 (got ${epsList.join(', ')})`);
  const sample = jobSample(ctx.dataset, params.n, ctx.seed);
  const n = sample.labels.length;
  const models = modelsOf(ctx);
  const numClasses = ctx.dataset.classNames.length;
  const fresh = (): ModelCurve => ({ points: [], brokenAt: new Float64Array(n).fill(Infinity), minimalNorm: null, perClass: [], warnings: [] });
  const result: CurveResult = { spec: params.spec, indices: sample.indices, labels: sample.labels, a: fresh(), b: ctx.models.b ? fresh() : null, done: 0 };
  const total = models.length * epsList.length;
  let step = 0;
  try {
    for (const { which } of models) {
      const curve = result[which] as ModelCurve;
      let cleanCorrect = new Uint8Array(n);
      for (const eps of epsList) {
        const spec = { ...params.spec, eps } as AttackSpec;
        const r = await attackSample(ctx, which, sample, spec, subProgress(control, step, total, `${which.toUpperCase()} ${spec.attack} ε=${eps}`));
        cleanCorrect = Uint8Array.from(r.cleanPred, (p, i) => (p === sample.labels[i] ? 1 : 0));
        const zero = r.zeroGradient.reduce((s, v) => s + v, 0);
        curve.points.push({ eps, cleanAccuracy: r.cleanAccuracy, robustAccuracy: r.robustAccuracy, meanDrawAccuracy: r.meanDrawAccuracy, zeroGradientFraction: zero / Math.max(1, cleanCorrect.reduce((s, v) => s + v, 0)) });
        for (let i = 0; i < n; i++) {
          if (!cleanCorrect[i]) curve.brokenAt[i] = 0;
          else if (r.success[i] && eps < curve.brokenAt[i]) curve.brokenAt[i] = eps;
        }
        if (r.minimalNorm) curve.minimalNorm = r.minimalNorm;
        curve.perClass = perClassSummary(curve.minimalNorm ?? curve.brokenAt, sample.labels, cleanCorrect, numClasses);
        curve.warnings = curveWarnings(curve.points, spec.attack);
        step++;
        result.done = step;
        emit(result);
      }
    }
  } catch (e) {
    if (e instanceof JobCancelledError) throw new JobCancelledError(result);
    throw e;
  }
  return result;
}
