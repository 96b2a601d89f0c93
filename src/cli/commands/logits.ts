/**
 * `layerwise logits --model M [--compare M2] --data D [--attack A --eps E] --json`:
 * Seguin et al.'s logit analysis — max-logit and gap distributions (clean, and adversarial
 * when an attack is given), robust accuracy binned by clean gap, and with --compare the
 * two-model rank-order and AO@k comparison.
 */
import * as tf from '@tensorflow/tfjs';
import { runAttack } from '../../core/attacks/runner';
import type { AttackName } from '../../core/attacks/types';
import type { Norm } from '../../core/attacks/common';
import { accuracyByGap, averageOverlap, averageOverlapControl, classConfidence, errorClassRanks, histogram, perSampleLogits, rankOrderByClass } from '../../core/logits';
import { checkInputCompatibility, type LabModel } from '../../core/model/model';
import { predictAll } from '../../core/model/predict';
import { num, parse, print, str } from '../args';
import { openData, openModel, sampleData, setupBackend } from '../common';

async function analyse(model: LabModel, images: Float32Array, labels: Int32Array, shape: [number, number, number], attack: { name: AttackName; norm: Norm; eps: number; steps: number } | null, seed: number) {
  const clean = await predictAll(model, images, labels, shape);
  const k = model.numClasses;
  const stats = perSampleLogits(clean.logits, k);
  const out: Record<string, unknown> = {
    cleanAccuracy: clean.accuracy,
    maxLogit: histogram(stats.maxLogit, { bins: 20 }),
    gap: histogram(stats.gap, { bins: 20 }),
    errorClasses: errorClassRanks(clean.logits, labels, k).fraction,
  };
  let advLogits: Float32Array | null = null;
  if (attack) {
    const r = await runAttack(model.logits, { images, labels, shape }, { attack: attack.name, norm: attack.norm, eps: attack.eps, steps: attack.steps }, { seed });
    const adv = await predictAll(model, r.adversarial, labels, shape);
    advLogits = adv.logits;
    const advStats = perSampleLogits(adv.logits, k);
    const robustCorrect = Array.from(labels, (y, i) => (r.cleanPred[i] === y && r.advPred[i] === y ? 1 : 0));
    Object.assign(out, {
      attack,
      robustAccuracy: r.robustAccuracy,
      adversarialMaxLogit: histogram(advStats.maxLogit, { bins: 20 }),
      adversarialGap: histogram(advStats.gap, { bins: 20 }),
      robustAccuracyByCleanGap: accuracyByGap(stats.gap, robustCorrect, { bins: 8 }),
    });
  }
  return { out, logits: clean.logits, advLogits };
}

async function cmdLogits(args: string[]) {
  const v = parse(args, {
    model: { type: 'string' }, compare: { type: 'string' }, data: { type: 'string' }, n: { type: 'string' },
    attack: { type: 'string' }, norm: { type: 'string', default: 'linf' }, eps: { type: 'string' }, steps: { type: 'string' },
  });
  const backend = await setupBackend(v);
  const seed = num(v.seed, 'seed');
  const models = [await openModel(str(v.model, 'model'))];
  try {
    if (v.compare) models.push(await openModel(String(v.compare)));
    const ds = await openData(str(v.data, 'data'));
    for (const m of models) checkInputCompatibility(m, ds);
    const { data } = sampleData(ds, v.n === undefined ? 500 : num(v.n, 'n'), seed);
    const shape: [number, number, number] = [data.height, data.width, data.channels];
    const attack = v.attack
      ? { name: v.attack as AttackName, norm: v.norm as Norm, eps: num(v.eps, 'eps'), steps: num(v.steps, 'steps', 20) }
      : null;
    const results: Awaited<ReturnType<typeof analyse>>[] = [];
    for (const m of models) results.push(await analyse(m, data.images, data.labels, shape, attack, seed));
    const payload: Record<string, unknown> = { model: v.model, data: ds.id, n: data.n, seed, backend: backend.active, tfjs: tf.version.tfjs, models: results.map((r) => r.out) };
    if (results.length === 2) {
      const k = models[0].numClasses;
      const [a, b] = results;
      payload.comparison = {
        compare: v.compare,
        rankOrder: rankOrderByClass(classConfidence(a.logits, k, data.labels), classConfidence(b.logits, k, data.labels), data.labels, k),
        averageOverlap: Array.from(averageOverlap(a.logits, b.logits, k)),
        averageOverlapWithinClassPermuted: Array.from(averageOverlapControl(a.logits, b.logits, data.labels, k, seed)),
      };
    }
    const pct = (x: unknown) => `${(100 * (x as number)).toFixed(1)}%`;
    print(v.json as boolean, payload, () =>
      results
        .map((r, i) => {
          const o = r.out as { cleanAccuracy: number; maxLogit: { mean: number; skewness: number }; gap: { mean: number; skewness: number }; robustAccuracy?: number };
          return `${i === 0 ? v.model : v.compare}: clean ${pct(o.cleanAccuracy)}, max logit mean ${o.maxLogit.mean.toFixed(2)} (skew ${o.maxLogit.skewness.toFixed(2)}), gap mean ${o.gap.mean.toFixed(2)} (skew ${o.gap.skewness.toFixed(2)})${o.robustAccuracy !== undefined ? `, robust ${pct(o.robustAccuracy)}` : ''}`;
        })
        .join('\n'),
    );
  } finally {
    for (const m of models) m.dispose();
  }
}

export const logitsCommands: Record<string, (args: string[]) => Promise<void>> = { logits: cmdLogits };
