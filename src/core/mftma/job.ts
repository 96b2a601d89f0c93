/**
 * MFTMA job (issue #7; Chung, Lee & Sompolinsky 2018; Cohen et al. 2020): per layer,
 * manifold capacity, radius, dimension and center correlation of class or exemplar
 * manifolds over a σ (Gaussian) or ε (ball / attack) ladder, for model A and, in compare
 * mode, model B on the same manifolds. Per-layer results stream as they finish.
 */
import type { Norm } from '../attacks/common';
import { mftmaSweep, type LayerMftmaResult, type ManifoldKind, type Perturbation, type SweepAccuracy } from '../mftma/manifolds';
import { JobCancelledError, LabError, type JobControl } from '../types';
import { modelsOf, subProgress, type Emit, type JobContext } from '../analyses/context';

export interface MftmaJobParams {
  kind: ManifoldKind;
  /** 'attack': APGD-CE runs in the ball; 'pgd': PGD runs (both with a random start). */
  perturb: 'gaussian' | 'linf' | 'l2' | 'attack' | 'pgd';
  /** Attack manifolds: the attack's norm. */
  norm: Norm;
  /** σ / ε values; 0 = the clean manifolds (class manifolds only). */
  ladder: number[];
  p: number;
  m: number;
  layers: string[];
  maxDims: number;
  /** Attack manifolds: iterations per run; 0 or absent = the attack's default (APGD-CE 100, PGD 40). */
  steps?: number;
  /** MFTMA margin κ (default 0), Gaussian samples n_t (200), center-search restarts (10). */
  kappa?: number;
  nT?: number;
  nReps?: number;
}

/**
 * A layer × ladder point: the summary numbers and the per-manifold capacity, radius and
 * dimension (P numbers each), without the rest of the per-manifold detail (keeps the transfer small).
 */
export type MftmaPoint = Omit<LayerMftmaResult, 'result'> & { capacityPerManifold: number[]; radiusPerManifold: number[]; dimensionPerManifold: number[] };

export interface MftmaJobResult {
  a: MftmaPoint[];
  b: MftmaPoint[] | null;
  /** Each model's accuracy on the manifold points: clean (size 0), then per ladder value. */
  accuracy: { a: SweepAccuracy[]; b: SweepAccuracy[] | null };
  ladder: number[];
  layers: string[];
}

function perturbation(params: MftmaJobParams, size: number): Perturbation {
  const steps = params.steps ? { steps: params.steps } : {};
  switch (params.perturb) {
    case 'gaussian':
      return { kind: 'gaussian', sigma: size };
    case 'linf':
      return { kind: 'linf', eps: size };
    case 'l2':
      return { kind: 'l2', eps: size };
    case 'attack':
      return { kind: 'attack', attack: 'apgd-ce', norm: params.norm, eps: size, ...steps };
    case 'pgd':
      return { kind: 'attack', attack: 'pgd', norm: params.norm, eps: size, ...steps };
    default:
      throw new LabError(`unknown perturbation "${params.perturb as string}"`);
  }
}

export async function mftmaAnalysis(ctx: JobContext, params: MftmaJobParams, control: JobControl = {}, emit: Emit<MftmaJobResult> = () => undefined): Promise<MftmaJobResult> {
  if (!params.ladder.length) throw new LabError('the σ/ε ladder is empty');
  const models = modelsOf(ctx);
  const result: MftmaJobResult = { a: [], b: ctx.models.b ? [] : null, accuracy: { a: [], b: ctx.models.b ? [] : null }, ladder: params.ladder, layers: params.layers };
  try {
    for (let i = 0; i < models.length; i++) {
      const { which, model } = models[i];
      const layers = params.layers.filter((name) => model.layers.some((l) => l.name === name));
      const sink = which === 'a' ? result.a : (result.b as MftmaPoint[]);
      const accuracy = which === 'a' ? result.accuracy.a : (result.accuracy.b as SweepAccuracy[]);
      await mftmaSweep(
        model,
        ctx.dataset,
        {
          kind: params.kind, p: params.p, m: params.m, seed: ctx.seed,
          // The kind of perturbation; each ladder value sets its size (0: none).
          perturbation: perturbation(params, params.ladder.find((x) => x > 0) ?? 1),
          ladder: params.ladder, layers,
          analysis: { maxDims: params.maxDims, kappa: params.kappa, nT: params.nT, nReps: params.nReps, seed: ctx.seed },
        },
        subProgress(control, i, models.length, `model ${which.toUpperCase()}`),
        ({ result: detail, ...point }) => {
          sink.push({
            ...point,
            capacityPerManifold: detail.manifolds.map((x) => x.alpha),
            radiusPerManifold: detail.manifolds.map((x) => x.radius),
            dimensionPerManifold: detail.manifolds.map((x) => x.dimension),
          });
          emit(result);
        },
        (acc) => {
          accuracy.push(acc);
          emit(result);
        },
      );
    }
  } catch (e) {
    if (e instanceof JobCancelledError) throw new JobCancelledError(result);
    throw e;
  }
  return result;
}
