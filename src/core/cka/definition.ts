/**
 * CKA as an analysis (issue #20; Kornblith, Norouzi, Lee & Hinton, ICML 2019): on one
 * class-balanced sample, per model, (a) the layer × layer linear CKA on clean inputs, (b)
 * per layer CKA(clean activations, attacked activations of the same images): how much the
 * attack changes each layer's representation geometry; and in compare mode (c) A's layers ×
 * B's layers on clean inputs, and per layer both models have, A vs B on clean inputs and on
 * the images attacked against A and against B (both models see the same images, so the rows
 * stay paired). The attack is the attack panel's; ε = 0 means clean only (attacked = clean).
 *
 * Activations are tapped a few layers at a time (GROUP_BYTES), turned into n × n Gram
 * matrices at once and dropped: the matrices cost one Gram per layer and input set, then
 * inner products only (./cka.ts).
 */
import { collectActivations } from '../analysis/activations';
import { defineAnalysis } from '../analyses/define';
import { attackSample, jobSample, modelsOf, subProgress, tappedLayers, type Emit, type JobContext, type JobSample } from '../analyses/context';
import { attackSpecOf } from '../attacks/spec';
import { attackCost, layerSizes, type Cost } from '../analyses/estimate';
import type { AttackSpec } from '../attacks/types';
import type { LabModel } from '../model/model';
import { param } from '../schema';
import { JobCancelledError, LabError, type JobControl } from '../types';
import { ckaMatrix, ckaOfGrams, layerGram, type LayerGram } from './cka';

/** One model's CKA. Matrices are row-major nested arrays in `layers` order; NaN (JSON null) = undefined, see `notes`. */
export interface CkaModelResult {
  layers: string[];
  /** Layer × layer CKA on clean inputs (symmetric, 1 on the diagonal). */
  matrix: number[][];
  /** Per layer, CKA(clean, attacked activations of the same images); 1 when not attacked (ε = 0). */
  cleanVsAttacked: number[];
  /** Accuracy on the attacked images (null when not attacked). */
  robustAccuracy: number | null;
  /** Layers whose CKA is undefined, and why (a constant layer on these samples…). */
  notes: string[];
}

/** Compare mode: model A against model B on the same samples. */
export interface CkaCompareResult {
  layersA: string[];
  layersB: string[];
  /** A's layers × B's layers on clean inputs. */
  matrix: number[][];
  /** Layers both models have, in A's order, and CKA(A's, B's) per layer. */
  shared: string[];
  clean: number[];
  /** Both models on the images attacked against A; null when not attacked. */
  onAttackA: number[] | null;
  /** Both models on the images attacked against B; null when not attacked. */
  onAttackB: number[] | null;
}

export interface CkaResult {
  n: number;
  estimator: 'biased' | 'debiased';
  /** The attack ran (ε > 0); otherwise the attacked images are the clean ones. */
  attacked: boolean;
  attack: string;
  norm: string;
  eps: number;
  a: CkaModelResult | null;
  b: CkaModelResult | null;
  ab: CkaCompareResult | null;
}

/** Activations held at once while their Grams are made (float32 bytes); wider layer sets are tapped in groups. */
const GROUP_BYTES = 64 * 2 ** 20;

/** Consecutive layers whose activations together stay within the budget (a wider layer goes alone). */
export function layerGroups(layers: string[], sizes: number[], n: number, budget = GROUP_BYTES): string[][] {
  const groups: string[][] = [];
  let bytes = Infinity;
  layers.forEach((name, i) => {
    const b = 4 * n * sizes[i];
    if (bytes + b > budget) {
      groups.push([]);
      bytes = 0;
    }
    groups[groups.length - 1].push(name);
    bytes += b;
  });
  return groups;
}

interface Step {
  control: JobControl;
  next(label: string): JobControl;
}

/** Grams of every layer of `model` on one image set, tapping a group of layers at a time. */
async function gramsOn(model: LabModel, images: Float32Array, sample: JobSample, layers: string[], debiased: boolean, step: Step, label: string): Promise<LayerGram[]> {
  const n = sample.labels.length;
  const sizes = layers.map((name) => model.layers.find((l) => l.name === name)?.size ?? 0);
  const grams: LayerGram[] = [];
  for (const group of layerGroups(layers, sizes, n)) {
    const sub = step.next(`${label}${group.length === 1 ? `, ${group[0]}` : ''}`);
    const acts = await collectActivations(model, images, sample.shape, group, sub);
    for (let i = 0; i < group.length; i++) {
      if (step.control.signal?.aborted) throw new JobCancelledError();
      grams.push(layerGram(acts[i], n, { debiased }));
      acts[i] = new Float32Array(0); // drop the activations as soon as their Gram exists
    }
  }
  return grams;
}

function notesOf(layers: string[], sets: [string, LayerGram[]][]): string[] {
  const notes: string[] = [];
  layers.forEach((layer, i) => {
    for (const [what, grams] of sets) if (grams[i]?.reason) notes.push(`${layer} (${what}): ${grams[i].reason}`);
  });
  return notes;
}

export interface CkaJobParams {
  n: number;
  /** Requested layers ([] = each model's feature layers). */
  layers: string[];
  /** null: not attacked (ε = 0). */
  spec: AttackSpec | null;
  debiased: boolean;
}

export async function ckaAnalysis(ctx: JobContext, params: CkaJobParams, control: JobControl = {}, emit: Emit<CkaResult> = () => undefined): Promise<CkaResult> {
  const sample = jobSample(ctx.dataset, params.n, ctx.seed);
  const models = modelsOf(ctx);
  const spec = params.spec;
  const result: CkaResult = {
    n: sample.labels.length, estimator: params.debiased ? 'debiased' : 'biased', attacked: !!spec,
    attack: spec?.attack ?? 'none', norm: spec?.norm ?? '', eps: spec?.eps ?? 0, a: null, b: null, ab: null,
  };
  // Model B taps the chosen layers it has, or (none chosen) its own feature layers.
  const layersOf = models.map(({ which, model }) => {
    if (which === 'a' || !params.layers.length) return tappedLayers(model, params.layers);
    const own = params.layers.filter((name) => model.layers.some((l) => l.name === name));
    if (!own.length) throw new LabError(`model B has none of the chosen layers`);
    return own;
  });
  if (!layersOf[0].length) throw new LabError('choose at least one layer');
  // Progress: one unit per attack and per tapped layer group of each image set.
  const sets = spec ? models.length + 1 : 1;
  const total = (spec ? models.length : 0) + models.reduce((s, { model }, m) => s + sets * layerGroups(layersOf[m], layersOf[m].map((name) => model.layers.find((l) => l.name === name)?.size ?? 0), sample.labels.length).length, 0);
  let unit = 0;
  const step: Step = { control, next: (label) => subProgress(control, Math.min(unit++, total - 1), total, label) };
  try {
    // Each model attacked on the same samples with the same seed (as every analysis does).
    const attacked: { images: Float32Array; robustAccuracy: number }[] = [];
    if (spec) {
      for (const { which } of models) {
        const r = await attackSample(ctx, which, sample, spec, step.next(`model ${which.toUpperCase()}: attack`));
        attacked.push({ images: r.adversarial, robustAccuracy: r.robustAccuracy });
      }
    }
    const grams: { clean: LayerGram[]; attacked: LayerGram[][] }[] = [];
    for (let m = 0; m < models.length; m++) {
      const { which, model } = models[m];
      const W = which.toUpperCase();
      const layers = layersOf[m];
      const clean = await gramsOn(model, sample.images, sample, layers, params.debiased, step, `model ${W}: clean`);
      // On the images attacked against each model (its own first): the A vs B rows need both.
      const onAttacks: LayerGram[][] = [];
      for (let k = 0; k < attacked.length; k++) onAttacks.push(await gramsOn(model, attacked[k].images, sample, layers, params.debiased, step, `model ${W}: attacked against ${models[k].which.toUpperCase()}`));
      const own = spec ? onAttacks[m] : clean;
      grams.push({ clean, attacked: onAttacks });
      result[which] = {
        layers,
        matrix: ckaMatrix(clean),
        cleanVsAttacked: layers.map((_, i) => ckaOfGrams(clean[i], own[i]).value),
        robustAccuracy: spec ? attacked[m].robustAccuracy : null,
        notes: notesOf(layers, spec ? [['clean', clean], ['attacked', own]] : [['clean', clean]]),
      };
      emit(result);
    }
    if (models.length === 2) {
      const [la, lb] = layersOf;
      const shared = la.filter((name) => lb.includes(name));
      const pairs = (ga: LayerGram[], gb: LayerGram[]) => shared.map((name) => ckaOfGrams(ga[la.indexOf(name)], gb[lb.indexOf(name)]).value);
      const [ga, gb] = grams;
      result.ab = {
        layersA: la, layersB: lb, matrix: ckaMatrix(ga.clean, gb.clean), shared,
        clean: pairs(ga.clean, gb.clean),
        onAttackA: spec ? pairs(ga.attacked[0], gb.attacked[0]) : null,
        onAttackB: spec ? pairs(ga.attacked[1], gb.attacked[1]) : null,
      };
      emit(result);
    }
  } catch (e) {
    if (e instanceof JobCancelledError) throw new JobCancelledError(result);
    throw e;
  }
  control.onProgress?.({ fraction: 1, message: 'done' });
  return result;
}

const f3 = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '  n/a' : v.toFixed(3));

/** A matrix with numbered columns (layer names are long): rows "[i] name", then one column per [j]. */
function matrixText(rows: string[], cols: string[], m: number[][]): string[] {
  const w = Math.max(...rows.map((r, i) => `[${i + 1}] ${r}`.length), 8);
  const lines = [`${''.padEnd(w + 2)}${cols.map((_, j) => `[${j + 1}]`.padStart(7)).join('')}`];
  rows.forEach((r, i) => lines.push(`  ${`[${i + 1}] ${r}`.padEnd(w)}${m[i].map((v) => f3(v).padStart(7)).join('')}`));
  return lines;
}

export function ckaSummary(r: CkaResult): string {
  const what = r.attacked ? `${r.attack} ${r.norm === 'linf' ? 'L∞' : 'L2'} ε=${r.eps}` : 'ε = 0: attacked = clean';
  const lines = [`linear CKA${r.estimator === 'debiased' ? ' (debiased: unbiased HSIC)' : ''}, ${r.n} samples, ${what}`];
  for (const [name, m] of [['A', r.a], ['B', r.b]] as const) {
    if (!m) continue;
    lines.push('', `model ${name}${m.robustAccuracy === null ? '' : ` (robust accuracy ${(100 * m.robustAccuracy).toFixed(2)}%)`}`);
    const w = Math.max(22, ...m.layers.map((l) => l.length + 2));
    lines.push(`  ${'layer'.padEnd(w)}clean vs attacked`);
    m.layers.forEach((l, i) => lines.push(`  ${l.padEnd(w)}${f3(m.cleanVsAttacked[i]).padStart(17)}`));
    lines.push(`  layer × layer CKA, clean inputs:`);
    lines.push(...matrixText(m.layers, m.layers, m.matrix).map((s) => `  ${s}`));
    for (const note of m.notes) lines.push(`  n/a: ${note}`);
  }
  if (r.ab) {
    const ab = r.ab;
    lines.push('', 'A vs B, same-named layers');
    const w = Math.max(22, ...ab.shared.map((l) => l.length + 2));
    lines.push(`  ${'layer'.padEnd(w)}    clean  on A's attack  on B's attack`);
    ab.shared.forEach((l, i) => lines.push(`  ${l.padEnd(w)}${f3(ab.clean[i]).padStart(9)}${f3(ab.onAttackA?.[i]).padStart(15)}${f3(ab.onAttackB?.[i]).padStart(15)}`));
    if (!ab.shared.length) lines.push('  (no layer names in common)');
    lines.push(`  A's layers (rows) × B's layers (columns), clean inputs; columns: ${ab.layersB.map((l, j) => `[${j + 1}] ${l}`).join(', ')}`);
    lines.push(...matrixText(ab.layersA, ab.layersB, ab.matrix).map((s) => `  ${s}`));
  }
  return lines.join('\n');
}

/** Calibration of the Gram and HSIC operation count against timed default runs in Chromium on WASM (e2e/estimates.spec.ts; Node: bench/estimates.ts). */
const CKA_OPS = 1;

export const ckaDefinition = defineAnalysis({
  kind: 'cka',
  title: 'CKA',
  summary: 'linear centred kernel alignment (Kornblith et al. 2019): layer × layer similarity, each layer clean vs attacked, model A vs B',
  schema: {
    n: param.int({ url: 'kn', label: 'Samples', default: 300, min: 10, max: 1000, step: 10, help: 'Class-balanced images; every layer holds an n × n Gram matrix per image set (8·n² bytes: 2 MB at 500).' }),
    estimator: param.select({
      url: 'kest', label: 'Estimator', default: 'biased',
      options: [
        { value: 'biased', label: 'linear CKA (Kornblith et al. 2019)' },
        { value: 'debiased', label: 'debiased (unbiased HSIC; Nguyen et al. 2021)' },
      ],
      help: 'With few samples against wide layers the plain estimator is inflated (unrelated wide layers score well above 0); the debiased one is not, and can be slightly negative.',
    }),
  },
  uses: { attack: true, layers: true },
  cost(ctx, params) {
    const n = Math.min(params.n, ctx.dataset.n);
    const spec = params.attack.eps > 0 ? attackSpecOf(params.attack) : null;
    const models = ctx.models.b ? (['a', 'b'] as const) : (['a'] as const);
    // Image sets per model: clean, and each model's adversarial images (B's attack on A too).
    const sets = spec ? models.length + 1 : 1;
    const cost: Cost = [];
    for (const which of models) {
      const model = which === 'a' ? ctx.models.a : (ctx.models.b as LabModel);
      if (spec) cost.push(attackCost(spec, n, ctx.dataset.classNames.length, which));
      cost.push({ which, forwards: sets * n });
      // One n × n Gram matrix per layer and image set (n² · size), then HSIC between all pairs (n² each).
      const sizes = layerSizes(model, tappedLayers(model, params.layers));
      const gram = sizes.reduce((s, size) => s + n * n * size, 0);
      cost.push({ which, operations: CKA_OPS * sets * (gram + sizes.length * sizes.length * models.length * n * n) });
    }
    return cost;
  },
  run(ctx, params, control, emit) {
    const spec = params.attack.eps > 0 ? attackSpecOf(params.attack) : null;
    return ckaAnalysis(ctx, { n: params.n, layers: params.layers, spec, debiased: params.estimator === 'debiased' }, control, emit);
  },
  summarise: (r: CkaResult) => ckaSummary(r),
});
