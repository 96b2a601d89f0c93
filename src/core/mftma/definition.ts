/**
 * Manifold capacity per layer as an analysis (issue #7; MFTMA, Chung, Lee & Sompolinsky
 * 2018; Cohen et al. 2020; Stephenson et al. 2021): class or exemplar manifolds under a σ/ε
 * ladder of Gaussian, uniform-ball or APGD-CE perturbations, model A and B.
 */
import { defineAnalysis } from '../analyses/define';
import { tappedLayers } from '../analyses/context';
import type { Norm } from '../attacks/common';
import { param } from '../schema';
import { mftmaAnalysis, type MftmaJobResult } from './job';

export const mftmaDefinition = defineAnalysis({
  kind: 'mftma',
  title: 'Manifolds',
  summary: 'manifold capacity, radius, dimension and center correlation per layer under a σ/ε ladder (MFTMA)',
  viewAliases: ['manifolds'],
  schema: {
    kind: param.select({ url: 'mfk', flag: 'manifolds', label: 'Manifolds', default: 'exemplar', options: [{ value: 'exemplar', label: 'exemplar (P images × M perturbations)' }, { value: 'class', label: 'class (P classes × M images)' }] }),
    perturb: param.select({ url: 'mfp', label: 'Perturbation', default: 'gaussian', options: [{ value: 'gaussian', label: 'Gaussian noise σ' }, { value: 'linf', label: 'uniform in the L∞ ball ε' }, { value: 'l2', label: 'uniform in the L2 ball ε' }, { value: 'attack', label: 'APGD-CE runs in the ball ε (norm from the attack panel)' }] }),
    ladder: param.numbers({ url: 'mfl', flag: 'sweep', label: 'σ / ε ladder', default: [0.0001, 0.01, 0.1, 0.3, 1], min: 0, help: 'One line per value; the seed’s σ ladder is 0.0001 … 1.0.' }),
    P: param.int({ url: 'mfP', label: 'P', default: 10, min: 2, max: 100, step: 1, help: 'Number of manifolds.' }),
    M: param.int({ url: 'mfM', label: 'M', default: 20, min: 2, max: 500, step: 1, help: 'Points per manifold.' }),
    maxDims: param.int({ url: 'mfd', label: 'Max dims', default: 5000, min: 50, max: 100000, step: 50, help: 'Wider layers are randomly projected to this many dimensions first (stated per layer).' }),
  },
  uses: { attack: true, layers: true },
  run(ctx, params, control, emit) {
    return mftmaAnalysis(ctx, { kind: params.kind, perturb: params.perturb, norm: params.attack.norm as Norm, ladder: params.ladder, p: params.P, m: params.M, layers: tappedLayers(ctx.models.a, params.layers), maxDims: params.maxDims }, control, emit);
  },
  summarise(r: MftmaJobResult) {
    const lines: string[] = [];
    for (const [name, points] of [['A', r.a], ['B', r.b]] as const) {
      if (!points) continue;
      lines.push(`model ${name}: layer, σ/ε → capacity α_M, radius R_M, dimension D_M, center correlation ρ`);
      for (const p of points) lines.push(`  ${String(p.layer).padEnd(24)} ${String(p.size).padEnd(8)} ${p.capacity.toFixed(4)}  ${p.radius.toFixed(4)}  ${p.dimension.toFixed(3)}  ${p.centerCorrelation.toFixed(4)}`);
    }
    return lines.join('\n');
  },
});
