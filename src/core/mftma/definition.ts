/**
 * Manifold capacity per layer as an analysis (issue #7; MFTMA, Chung, Lee & Sompolinsky
 * 2018; Cohen et al. 2020; Stephenson et al. 2021): class or exemplar manifolds under a σ/ε
 * ladder of Gaussian, uniform-ball or random-start attack perturbations, model A and B.
 */
import { defineAnalysis } from '../analyses/define';
import { attackCost, layerSizes, type Cost } from '../analyses/estimate';
import type { LabModel } from '../model/model';
import { tappedLayers } from '../analyses/context';
import type { Norm } from '../attacks/common';
import { param } from '../schema';
import { LabError } from '../types';
import { mftmaAnalysis, type MftmaJobParams, type MftmaJobResult, type MftmaPoint } from './job';

const PERTURB_FORMS = 'gaussian, linf, l2, attack (APGD-CE), pgd, or kind:size as in gaussian:0.1, linf:0.1, l2:1, attack:apgd-ce:0.3[:linf|l2], attack:pgd:0.3, none';

/**
 * `--perturb` of the CLI: a schema value (`gaussian`), or the older kind:size form, which
 * also sets the ladder to that one size (a later `--sweep` replaces it) and, for attacks, the
 * norm; `none` is the clean manifolds (ladder [0]).
 */
export function applyLegacyPerturb(text: string, own: Record<string, unknown>, attack: Record<string, unknown>): void {
  const parts = text.split(':');
  const bad = (why?: string) => new LabError(why ? `--perturb ${text}: ${why}` : `--perturb must be ${PERTURB_FORMS} (got "${text}")`);
  const size = (s: string | undefined) => {
    if (s === undefined) return;
    if (!/^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s) || !(Number(s) > 0)) throw bad('the size must be a number > 0');
    own.ladder = [Number(s)];
  };
  switch (parts[0]) {
    case 'none':
      if (parts.length > 1) throw bad();
      own.ladder = [0];
      return;
    case 'gaussian':
    case 'linf':
    case 'l2':
    case 'pgd':
      if (parts.length > 2) throw bad();
      own.perturb = parts[0];
      size(parts[1]);
      return;
    case 'attack': {
      if (parts.length === 1) {
        own.perturb = 'attack';
        return;
      }
      const which = parts[1];
      if (which !== 'apgd-ce' && which !== 'pgd') throw bad('manifold attacks need a random start: attack:apgd-ce:ε or attack:pgd:ε');
      const norm = parts[3];
      if (parts.length > 4 || (norm !== undefined && norm !== 'linf' && norm !== 'l2')) throw bad();
      own.perturb = which === 'pgd' ? 'pgd' : 'attack';
      size(parts[2]);
      if (norm) attack.norm = norm;
      return;
    }
    default:
      throw bad();
  }
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** Calibration of the capacity's operation count against timed default runs in Chromium on WASM (e2e/estimates.spec.ts; Node: bench/estimates.ts). */
const MFTMA_OPS = 130;

export const mftmaDefinition = defineAnalysis({
  kind: 'mftma',
  title: 'Manifolds',
  summary: 'manifold capacity, radius, dimension and center correlation per layer under a σ/ε ladder (MFTMA)',
  viewAliases: ['manifolds'],
  schema: {
    kind: param.select({ url: 'mfk', flag: 'manifolds', label: 'Manifolds', default: 'exemplar', options: [{ value: 'exemplar', label: 'exemplar (P images × M perturbations)' }, { value: 'class', label: 'class (P classes × M images)' }] }),
    perturb: param.select({
      url: 'mfp', label: 'Perturbation', default: 'gaussian',
      options: [
        { value: 'gaussian', label: 'Gaussian noise σ' },
        { value: 'linf', label: 'uniform in the L∞ ball ε' },
        { value: 'l2', label: 'uniform in the L2 ball ε' },
        { value: 'attack', label: 'APGD-CE runs in the ball ε (norm from the attack panel)' },
        { value: 'pgd', label: 'PGD runs in the ball ε (random start; norm from the attack panel)' },
      ],
    }),
    ladder: param.numbers({ url: 'mfl', flag: 'sweep', label: 'σ / ε ladder', default: [0.0001, 0.01, 0.1, 0.3, 1], min: 0, help: 'One line per value; the seed’s σ ladder is 0.0001 … 1.0; 0 = the clean manifolds (class manifolds only).' }),
    P: param.int({ url: 'mfP', flag: 'P', label: 'P', default: 10, min: 2, max: 100, step: 1, help: 'Number of manifolds.' }),
    M: param.int({ url: 'mfM', flag: 'M', label: 'M', default: 20, min: 2, max: 500, step: 1, help: 'Points per manifold.' }),
    maxDims: param.int({ url: 'mfd', label: 'Max dims', default: 5000, min: 50, max: 100000, step: 50, help: 'Wider layers are reduced first: exactly to the span of their points (at most 2,000 points), else randomly projected to this many dimensions (stated per layer).' }),
    attackSteps: param.int({ url: 'mfs', flag: 'attack-steps', label: 'Attack steps', default: 0, min: 0, max: 1000, step: 1, help: 'Attack manifolds: iterations per run; 0 = the attack’s default (APGD-CE 100, PGD 40).' }),
    kappa: param.number({ url: 'mfka', label: 'Margin κ', default: 0, min: 0, max: 100, step: 0.1, help: 'Margin of the capacity (0: plain linear separability, the reference default).' }),
    nT: param.int({ url: 'mfnt', flag: 'nt', label: 'n_t', default: 100, min: 1, max: 10000, step: 10, help: 'Gaussian samples per manifold in the capacity estimate (reference: 200; 100 keeps the default run under a minute on a laptop CPU).' }),
    nReps: param.int({ url: 'mfr', flag: 'reps', label: 'Center restarts', default: 10, min: 1, max: 100, step: 1, help: 'Restarts per rank in the search of the common center subspace (reference: 10).' }),
  },
  // Its σ/ε ladder replaces the attack panel's ε (the norm and the attack are read).
  uses: { attack: true, layers: true, eps: false },
  cliLegacy: {
    perturb: {
      help: `also the older kind:size form (gaussian:0.1, linf:0.1, l2:1, attack:apgd-ce:0.3[:linf|l2], attack:pgd:0.3, none = clean): the ladder is that one size unless --sweep gives it`,
      apply: (value, own, attack) => applyLegacyPerturb(String(value), own, attack),
    },
  },
  run(ctx, params, control, emit) {
    const job: MftmaJobParams = {
      kind: params.kind, perturb: params.perturb, norm: params.attack.norm as Norm, ladder: params.ladder, p: params.P, m: params.M,
      layers: tappedLayers(ctx.models.a, params.layers), maxDims: params.maxDims, steps: params.attackSteps, kappa: params.kappa, nT: params.nT, nReps: params.nReps,
    };
    return mftmaAnalysis(ctx, job, control, emit);
  },
  cost(ctx, params) {
    const points = params.P * params.M;
    const models = ctx.models.b ? (['a', 'b'] as const) : (['a'] as const);
    const cost: Cost = [];
    for (const which of models) {
      const model = which === 'a' ? ctx.models.a : (ctx.models.b as LabModel);
      const sizes = layerSizes(model, tappedLayers(ctx.models.a, params.layers).filter((l) => model.layers.some((x) => x.name === l)));
      for (const size of params.ladder) {
        if ((params.perturb === 'attack' || params.perturb === 'pgd') && size > 0) {
          const attack = params.perturb === 'attack' ? 'apgd-ce' : 'pgd';
          cost.push(attackCost({ attack, norm: params.attack.norm as Norm, eps: size, steps: params.attackSteps || (attack === 'pgd' ? 40 : 100) }, points, ctx.dataset.classNames.length, which));
        }
        cost.push({ which, forwards: points });
        // Per layer: the capacity's n_t Gaussian draws per manifold, each a small QP over the
        // manifold's M points in D′ dimensions, and the centre-subspace search's restarts.
        for (const layerSize of sizes) {
          const dims = Math.min(layerSize, params.maxDims, points);
          cost.push({ which, operations: MFTMA_OPS * params.P * (params.nT * params.M * dims + params.nReps * dims * dims) });
        }
      }
    }
    return cost;
  },
  summarise(r: MftmaJobResult, params) {
    const sizeName = params.perturb === 'gaussian' ? 'σ' : 'ε';
    const what = params.perturb === 'attack' ? `APGD-CE ${params.attack.norm}` : params.perturb === 'pgd' ? `PGD ${params.attack.norm}` : params.perturb;
    const lines = [`${params.kind} manifolds, P = ${params.P} × M = ${params.M}, ${what} (κ ${params.kappa}, n_t ${params.nT})`];
    const size = (s: number) => (s === 0 ? 'clean' : `${sizeName} ${s}`);
    for (const [name, points, accuracy] of [['A', r.a, r.accuracy.a], ['B', r.b, r.accuracy.b]] as const) {
      if (!points) continue;
      lines.push(`model ${name}: capacity α_M, radius R_M, dimension D_M, center correlation ρ, K per layer and ${sizeName}`);
      const byLayer = new Map<string, MftmaPoint[]>();
      for (const p of points) byLayer.set(p.layer, [...(byLayer.get(p.layer) ?? []), p]);
      for (const [layer, ps] of byLayer) {
        const proj = ps[0].projection;
        lines.push(`  ${layer} (N = ${ps[0].width}${proj ? (proj.kind === 'span' ? `, reduced exactly to the ${proj.toDims}-dimensional span of its points` : `, randomly projected to ${proj.toDims}`) : ''})`);
        for (const p of ps) {
          lines.push(
            `    ${size(p.size).padEnd(12)} capacity ${p.capacity.toFixed(5)}  radius ${p.radius.toFixed(4)}  dimension ${p.dimension.toFixed(3)}  ρ ${p.centerCorrelation.toFixed(4)}  K ${p.k}` +
              (p.attackSuccessRate !== undefined ? `  misclassified ${pct(p.attackSuccessRate)}` : ''),
          );
        }
      }
      // Clean first, then per ladder value (a ladder value 0 is the clean points again).
      const shown = accuracy?.filter((a, i) => i === 0 || a.size !== 0) ?? [];
      if (shown.length) lines.push(`  accuracy on the manifold points: ${shown.map((a) => `${size(a.size)} ${pct(a.accuracy)}`).join(', ')}`);
    }
    return lines.join('\n');
  },
});
