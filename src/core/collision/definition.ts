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
import { param } from '../schema';
import { collisionJob, type CollisionExtraModel, type CollisionJobResult } from './job';
import { INPUT_LAYER } from './maps';

export const collisionDefinition = defineAnalysis({
  kind: 'collision',
  title: 'Collisions',
  summary: 'collision distances per layer (Algorithm 1), conflict graphs per ε and their exact optimal log/0-1 loss',
  schema: {
    classes: param.list({ url: 'cc', label: 'Classes', default: ['3', '7'], help: 'A class pair (the seed: 3 vs 7), or more classes (approximate multi-class fallback); "all" for every class.' }),
    perClass: param.int({ url: 'cs', label: 'Per class S', default: 10, min: 2, max: 200, step: 1 }),
    m: param.int({ url: 'cm', label: 'Projection m', default: 10, min: 1, max: 200, step: 1, help: 'Rows of the random Gaussian projection A (m × n_j).' }),
    mSweep: param.numbers({ url: 'cms', flag: 'm-sweep', label: 'm sweep', default: [], min: 1, help: 'Extra projection sizes to compare (e.g. 3,30): the analysis reruns for each m and a chart shows the optimal loss against m per layer.' }),
    projections: param.int({ url: 'cN', label: 'Projections N', default: 3, min: 1, max: 50, step: 1, help: 'Losses are averaged over N projections (not distances).' }),
    projection: param.select({ url: 'cp', label: 'Projection', default: 'gaussian', options: [{ value: 'gaussian', label: 'random Gaussian A' }, { value: 'none', label: 'none (A = I; baseline, narrow layers only)' }] }),
    epsList: param.numbers({ url: 'ce', flag: 'eps-list', label: 'ε list', default: [0.5, 1, 1.5, 2, 2.5, 3, 4, 5], min: 0, help: 'Input-space L2 radii of the conflict graph.' }),
    iterations: param.int({ url: 'cit', flag: 'max-iter', label: 'Iterations', default: 600, min: 10, max: 5000, step: 10, help: 'Algorithm 1 iteration cap per pair (spec: 600). Fewer is faster; a pair that has not converged keeps its best feasible iterate, an upper bound on its distance.' }),
    extra: param.list({ url: 'cx', flag: 'also', label: 'Also compare', default: [], help: 'Further zoo models (ids, comma-separated) run on the same pairs and projections, e.g. the PGD and TRADES twins next to the standard model: the seed compares three trainings side by side.' }),
    box: param.int({ url: 'cbox', label: '[0,1] box', default: 0, min: 0, max: 1, step: 1, help: 'NOT the seed paper: keep colliding points inside the pixel box (heuristic distances).' }),
  },
  uses: { layers: true },
  async run(ctx, params, control, emit) {
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
      const classes = params.classes.length === 1 && params.classes[0] === 'all' ? 'all' : params.classes.map(Number).filter((v) => Number.isInteger(v) && v >= 0);
      const layers = [INPUT_LAYER, ...tappedLayers(ctx.models.a, params.layers).filter((l) => l !== INPUT_LAYER)];
      return await collisionJob(
        ctx,
        {
          layers, classes: classes === 'all' || classes.length ? classes : [3, 7], perClass: params.perClass, m: params.m, projections: params.projections, projection: params.projection,
          epsList: params.epsList, box: params.box === 1, keepPoints: true, maxIter: params.iterations, mSweep: params.mSweep,
        },
        { a: tapA?.tap, b: tapB?.tap, extras },
        control,
        emit,
      );
    } finally {
      for (const o of owned) o.dispose();
    }
  },
  summarise(r: CollisionJobResult) {
    const lines: string[] = [];
    const runs = [['A', r.a], ['B', r.b], ...r.extra.map((e) => [e.id, e.result] as const)] as const;
    for (const [name, res] of runs) {
      if (!res) continue;
      lines.push(`${name}: ${res.pairI.length} pairs of classes ${res.classes.join(', ')}${res.approximate ? ' (approximate multi-class)' : ''}`);
      lines.push(`  layer                     ε → optimal log-loss (nats) / 0-1 loss, mean over ${res.settings?.numProjections ?? 0} projections`);
      for (const l of res.layers) lines.push(`  ${l.layer.padEnd(24)} ${l.curve.eps.map((e, k) => `${e}: ${l.curve.meanLogLoss[k].toFixed(4)}${l.curve.meanZeroOne ? `/${l.curve.meanZeroOne[k].toFixed(3)}` : ''}`).join('  ')}`);
    }
    return lines.join('\n');
  },
});
