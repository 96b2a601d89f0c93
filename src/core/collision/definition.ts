/**
 * Collision search and the optimal adversarial loss as an analysis (issue #8; Pydi &
 * Jog, Bhagoji et al.): distances per pair by Algorithm 1 through a random projection of each
 * layer, the conflict graph per ε and its exact optimal log- and 0-1 loss, for A, B and further
 * zoo models on the same pairs and projections.
 */
import { defineAnalysis } from '../analyses/define';
import { tappedLayers } from '../analyses/context';
import type { LabModel } from '../model/model';
import { checkInputCompatibility } from '../model/model';
import { coerce, param } from '../schema';
import type { ImageDataset } from '../types';
import { LabError } from '../types';
import type { CollisionAnalysisResult } from './analysis';
import { collisionJob, type CollisionExtraModel, type CollisionJobResult } from './job';
import { INPUT_LAYER } from './maps';

const M_PARAM = param.int({ url: 'cm', label: 'Projection m', default: 5, min: 1, max: 200, step: 1, help: 'Rows of the random Gaussian projection A (m × n_j); the seed sweeps 3, 10, 30 (its preset uses 10).' });

/** `--m` of the CLI: one m, or the older list form `--m 3,10,30` (first = m, the rest = the m sweep; a later --m-sweep replaces it). */
export function applyLegacyM(text: string, own: Record<string, unknown>): void {
  const items = text.split(',').map((x) => x.trim());
  const ms = items.map((x) => {
    const { value, error } = /^\d+$/.test(x) ? coerce(M_PARAM, x) : { value: 0, error: 'not an integer' };
    if (error) throw new LabError(`--m must be an integer ≥ 1 and ≤ 200, or a comma list of them (the first is m, the rest the m sweep) (got "${text}")`);
    return value as number;
  });
  own.m = ms[0];
  if (ms.length > 1) own.mSweep = ms.slice(1);
}

/** The classes to pair: "all" or distinct class indices of the data, each with at least S samples. */
export function collisionClasses(classes: string[], perClass: number, ds: Pick<ImageDataset, 'id' | 'labels' | 'classNames'>): number[] | 'all' {
  const k = ds.classNames.length;
  const all = classes.length === 1 && classes[0] === 'all';
  const picked = all ? Array.from({ length: k }, (_, i) => i) : classes.map((c) => (/^\d+$/.test(c) ? Number(c) : NaN));
  const bad = classes.find((_, i) => !all && !(picked[i] < k));
  if (bad !== undefined || !picked.length) throw new LabError(`classes must be "all" or class indices 0…${k - 1} of ${ds.id} (got "${classes.join(',')}")`);
  // A pair search over fewer samples than asked for would quietly answer another question.
  const counts = new Array<number>(k).fill(0);
  for (const l of ds.labels) counts[l]++;
  for (const c of picked) if (counts[c] < perClass) throw new LabError(`per class ${perClass} is more than the ${counts[c]} samples of class ${c} in ${ds.id}`);
  return all ? 'all' : picked;
}

/** One model's table: the optimal log-loss / 0-1 loss per layer and ε, with m and the search's notes. */
function analysisText(r: CollisionAnalysisResult, name: string): string[] {
  const eps = r.layers[0]?.curve.eps ?? [];
  const w = 15;
  const s = r.settings;
  const lines = [
    `${name}: classes ${r.classes.join(',')}${r.approximate ? ' (more than two classes: pairwise dual-ascent fallback, approximate lower bound; no 0-1 loss)' : ''}, ${r.perClass} per class, ${r.pairI.length} cross-class pairs, ` +
      `m = ${s ? (s.projection === 'none' ? 'n_j (no projection)' : s.m) : '?'}, ${s?.numProjections ?? 0} projections${s?.box ? ', [0,1] box (heuristic, not in the paper)' : ''}, ${r.seconds.toFixed(1)} s`,
    `  optimal adversarial log-loss (nats, mean over projections) / 0-1 loss at ε (L2): lower bounds; ln 2 = ${Math.LN2.toFixed(4)}`,
    `  ${'layer'.padEnd(22)}${'m'.padStart(6)}  ` + eps.map((e) => `ε=${e}`.padStart(w)).join(''),
  ];
  for (const l of r.layers) {
    const infeasible = l.stats.reduce((a, x) => a + x.infeasible, 0);
    const cells = l.curve.eps.map((_, i) => `${l.curve.meanLogLoss[i].toFixed(4)}/${l.curve.meanZeroOne ? l.curve.meanZeroOne[i].toFixed(3) : '-'}`.padStart(w));
    const median = l.stats.length ? Math.round(l.stats.reduce((a, x) => a + x.medianIterations, 0) / l.stats.length) : 0;
    const note = l.exact ? ' exact' : `${l.projected ? ` ×${l.numProjections} proj` : ' A=I'}, median ${median} it${infeasible ? `, ${infeasible} infeasible` : ''}`;
    lines.push(`  ${l.layer.padEnd(22)}${String(l.m).padStart(6)}  ${cells.join('')} ${note}`);
  }
  return lines;
}

/** Calibration of Algorithm 1's gradient count against timed default runs in Chromium on WASM (e2e/estimates.spec.ts; Node: bench/estimates.ts). */
const COLLISION_GRADIENTS = 0.8;

export const collisionDefinition = defineAnalysis({
  kind: 'collision',
  title: 'Collisions',
  summary: 'collision distances per layer (Algorithm 1), conflict graphs per ε and their exact optimal log/0-1 loss',
  schema: {
    classes: param.list({ url: 'cc', label: 'Classes', default: ['3', '7'], help: 'A class pair (the seed: 3 vs 7), or more classes (approximate multi-class fallback); "all" for every class.' }),
    perClass: param.int({ url: 'cs', label: 'Per class S', default: 2, min: 2, max: 200, step: 1 }),
    m: M_PARAM,
    mSweep: param.numbers({ url: 'cms', flag: 'm-sweep', label: 'm sweep', default: [], min: 1, help: 'Extra projection sizes to compare (e.g. 3,30): the analysis reruns for each m and a chart shows the optimal loss against m per layer.' }),
    projections: param.int({ url: 'cN', label: 'Projections N', default: 1, min: 1, max: 50, step: 1, help: 'Losses are averaged over N projections (not distances).' }),
    projection: param.select({ url: 'cp', label: 'Projection', default: 'gaussian', options: [{ value: 'gaussian', label: 'random Gaussian A' }, { value: 'none', label: 'none (A = I; baseline, narrow layers only)' }] }),
    epsList: param.numbers({ url: 'ce', flag: 'eps-list', label: 'ε list', default: [0.5, 1, 1.5, 2, 2.5, 3, 4, 5], min: 0, help: 'Input-space L2 radii of the conflict graph.' }),
    iterations: param.int({ url: 'cit', flag: 'max-iter', label: 'Iterations', default: 60, min: 10, max: 5000, step: 10, help: 'Algorithm 1 iteration cap per pair (spec: 600). Fewer is faster; a pair that has not converged keeps its best feasible iterate, an upper bound on its distance.' }),
    gamma: param.number({ url: 'cg', label: 'Step decay γ', default: 0.95, min: 0.01, max: 0.999, step: 0.01, help: 'Algorithm 1’s geometric decay of the mixing weight α (spec: 0.95). Smaller is faster but may stop above the optimum.' }),
    edge: param.select({ url: 'ced', label: 'Edge rule', default: 'rms', options: [{ value: 'rms', label: 'd_rms = √(J/2) (the primary distance)' }, { value: 'max', label: 'd_max (the certified per-point budget)' }], help: 'Which distance of a pair the conflict graph thresholds at ε.' }),
    batch: param.int({ url: 'cb', label: 'Batch', default: 16, min: 1, max: 1024, step: 1, help: 'Pairs searched in lock-step (memory 2·B·m·n0 Jacobian floats); speed and memory only.' }),
    extra: param.list({ url: 'cx', flag: 'also', label: 'Also compare', default: [], help: 'Further zoo models (ids, comma-separated) run on the same pairs and projections, e.g. the PGD and TRADES twins next to the standard model: the seed compares three trainings side by side.' }),
    box: param.int({ url: 'cbox', label: '[0,1] box', default: 0, min: 0, max: 1, step: 1, help: 'NOT the seed paper: keep colliding points inside the pixel box (heuristic distances).' }),
  },
  uses: { layers: true },
  cliLegacy: {
    m: {
      help: 'also the older list form 3,10,30: the first is m, the rest the m sweep (unless --m-sweep gives it)',
      apply: (value, own) => applyLegacyM(String(value), own),
    },
    'no-projection': {
      boolean: true,
      help: 'the older switch for --projection none (A = I, the no-projection baseline)',
      apply: (_value, own) => {
        own.projection = 'none';
      },
    },
  },
  async run(ctx, params, control, emit) {
    const classes = collisionClasses(params.classes, params.perClass, ctx.dataset);
    // The input layer is always the first row (the exact baseline); "input" in --layers is that row.
    const requested = params.layers.filter((l) => l !== INPUT_LAYER);
    const inner = params.layers.length && !requested.length ? [] : tappedLayers(ctx.models.a, requested).filter((l) => l !== INPUT_LAYER);
    const layers = [INPUT_LAYER, ...inner];
    const owned: { dispose(): void }[] = [];
    try {
      const tapA = await ctx.resources.plainTap('a');
      if (tapA) owned.push(tapA);
      const tapB = ctx.models.b ? await ctx.resources.plainTap('b') : null;
      if (tapB) owned.push(tapB);
      const extras: CollisionExtraModel[] = [];
      const ids = [...new Set(params.extra)].filter((id) => id !== ctx.modelIds.a && id !== ctx.modelIds.b);
      for (const id of ids) {
        const model: LabModel = await ctx.resources.openModel(id);
        owned.push(model);
        checkInputCompatibility(model, ctx.dataset);
        const tap = await ctx.resources.plainTap(id);
        if (tap) owned.push(tap);
        extras.push({ id, model, tap: tap?.tap });
      }
      return await collisionJob(
        ctx,
        {
          layers, classes, perClass: params.perClass, m: params.m, projections: params.projections, projection: params.projection,
          epsList: params.epsList, box: params.box === 1, keepPoints: true, maxIter: params.iterations, mSweep: params.mSweep,
          gamma: params.gamma, batchSize: params.batch, edgeRule: params.edge,
        },
        { a: tapA?.tap, b: tapB?.tap, extras },
        control,
        emit,
      );
    } finally {
      for (const o of owned) o.dispose();
    }
  },
  cost(ctx, params) {
    const classes = collisionClasses(params.classes, params.perClass, ctx.dataset);
    const k = classes === 'all' ? ctx.dataset.classNames.length : classes.length;
    const pairs = ((k * (k - 1)) / 2) * params.perClass * params.perClass;
    const requested = params.layers.filter((l) => l !== INPUT_LAYER);
    const inner = params.layers.length && !requested.length ? [] : tappedLayers(ctx.models.a, requested).filter((l) => l !== INPUT_LAYER);
    const runs = 1 + params.mSweep.length;
    const models = [...(ctx.models.b ? (['a', 'b'] as const) : (['a'] as const)), ...new Set(params.extra.filter((id) => id !== ctx.modelIds.a && id !== ctx.modelIds.b))];
    // Algorithm 1: per inner layer, projection and pair, up to `iterations` steps, each the
    // Jacobian of the m projected outputs at both points (2m input gradients through the
    // layer's prefix of the network). The input layer is exact and cheap.
    return models.map((which) => ({
      which: which === 'b' ? ('b' as const) : ('a' as const),
      gradients: COLLISION_GRADIENTS * runs * inner.length * params.projections * pairs * params.iterations * 2 * params.m,
    }));
  },
  summarise(r: CollisionJobResult) {
    const lines: string[] = [];
    const runs = [['model A', r.a], ['model B', r.b], ...r.extra.map((e) => [e.id, e.result] as const)] as const;
    for (const [name, res] of runs) if (res) lines.push(...analysisText(res, name));
    // The sweep holds the main m too (printed above).
    for (const entry of r.sweep.filter((e) => e.m !== r.a?.settings?.m)) {
      for (const [name, res] of [['model A', entry.a], ['model B', entry.b]] as const) {
        if (res) lines.push(...analysisText(res, `m sweep, m = ${entry.m}, ${name}`));
      }
    }
    return lines.join('\n');
  },
});
