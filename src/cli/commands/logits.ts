/**
 * `layerwise logits --model M [--compare M2] --data D [--attack A --norm N --eps E] [--epochs] --json`:
 * Seguin et al.'s logit analysis — max-logit, gap and confidence distributions (clean,
 * and adversarial on shared bins when an attack is given), per-sample confidence, robust
 * accuracy binned by clean gap with a Wilson band, which classes become the errors
 * (clean and adversarial predictions against the clean class-average logits), logit
 * manipulations, per-epoch summaries of the zoo snapshots (--epochs), and with --compare
 * the two-model rank-order scatter (with the far-rank sample indices) and AO@k with its
 * within-class permutation control.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { runAttack } from '../../core/attacks/runner';
import type { AttackName } from '../../core/attacks/types';
import type { Norm } from '../../core/attacks/common';
import {
  accuracyByGap,
  averageOverlap,
  averageOverlapControl,
  classConfidence,
  epochSummariesByModel,
  errorClassRanks,
  logitDistributions,
  manipulationDistributions,
  perSampleLogits,
  pooledFractionFar,
  rankOrderByClass,
  type Manipulation,
} from '../../core/logits';
import { checkInputCompatibility, type LabModel } from '../../core/model/model';
import { predictAll } from '../../core/model/predict';
import { LabError } from '../../core/types';
import { num, parse, print, str } from '../args';
import { sampleData } from '../common';
import { setupBackend } from '../../node/backend';
import { checkAttackable, openData, openModel } from '../../node/open';
import { PUBLIC_DIR } from '../../node/paths';

const BINS = 20;
const GAP_BINS = 8;

/** The manipulations reported by default: fix the top-1 or top-3 and destroy the rest, and correct-fix-1. */
const MANIPULATIONS: Manipulation[] = [
  { kind: 'fixPermute', k: 1 },
  { kind: 'fixAverage', k: 1 },
  { kind: 'fixPermute', k: 3 },
  { kind: 'fixAverage', k: 3 },
  { kind: 'correctFix1' },
];

/** JSON-friendly copy: typed arrays become plain arrays (JSON.stringify would make them objects). */
function plain(v: unknown): unknown {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

interface AttackSpec {
  name: AttackName;
  norm: Norm;
  eps: number;
  steps: number;
}

async function analyse(model: LabModel, images: Float32Array, labels: Int32Array, shape: [number, number, number], attack: AttackSpec | null, seed: number) {
  const clean = await predictAll(model, images, labels, shape);
  const k = model.numClasses;
  const stats = perSampleLogits(clean.logits, k);
  const out: Record<string, unknown> = {
    cleanAccuracy: clean.accuracy,
    perSample: { maxLogit: stats.maxLogit, gap: stats.gap, confidence: stats.confidence, prediction: stats.argmax },
    errorClasses: errorClassRanks(clean.logits, labels, k).fraction,
    errorClassRanks: errorClassRanks(clean.logits, labels, k),
    manipulations: manipulationDistributions(clean.logits, k, MANIPULATIONS, { seed, labels, bins: BINS }),
  };
  let advLogits: Float32Array | null = null;
  if (attack) {
    const r = await runAttack(model.logits, { images, labels, shape }, { attack: attack.name, norm: attack.norm, eps: attack.eps, steps: attack.steps }, { seed });
    const adv = await predictAll(model, r.adversarial, labels, shape);
    advLogits = adv.logits;
    const advStats = perSampleLogits(adv.logits, k);
    const [dc, da] = logitDistributions([clean.logits, adv.logits], k, BINS);
    const robustCorrect = Array.from(labels, (y, i) => (r.cleanPred[i] === y && r.advPred[i] === y ? 1 : 0));
    Object.assign(out, {
      attack,
      robustAccuracy: r.robustAccuracy,
      // Clean and adversarial histograms share their bins so the UI can overlay them.
      maxLogit: dc.maxLogit,
      gap: dc.gap,
      confidence: dc.confidence,
      adversarialMaxLogit: da.maxLogit,
      adversarialGap: da.gap,
      adversarialConfidence: da.confidence,
      adversarialPerSample: { maxLogit: advStats.maxLogit, gap: advStats.gap, confidence: advStats.confidence, prediction: advStats.argmax },
      robustAccuracyByCleanGap: accuracyByGap(stats.gap, robustCorrect, { bins: GAP_BINS }),
      // Where do the attack's errors land, ranked against the CLEAN class-average logits?
      adversarialErrorClassRanks: errorClassRanks(clean.logits, labels, k, advStats.argmax),
    });
  } else {
    const [dc] = logitDistributions([clean.logits], k, BINS);
    Object.assign(out, { maxLogit: dc.maxLogit, gap: dc.gap, confidence: dc.confidence });
  }
  return { out, logits: clean.logits, advLogits };
}

/** A zoo model's snapshots and epoch count (public/models/index.json), e.g. mnist-small-st at epochs 1, 2, 5, 6. */
function zooSnapshots(id: string): { snapshots: { epoch: number; id: string }[]; epochs?: number } {
  const file = path.join(PUBLIC_DIR, 'models', 'index.json');
  if (!existsSync(file)) return { snapshots: [] };
  const index = JSON.parse(readFileSync(file, 'utf8'));
  const entries: { id: string; epochs?: number; snapshots?: { epoch: number; id: string }[] }[] = Array.isArray(index) ? index : index.models;
  const entry = entries.find((e) => e.id === id);
  return { snapshots: entry?.snapshots ?? [], epochs: entry?.epochs };
}

async function cmdLogits(args: string[]) {
  const v = parse(args, {
    model: { type: 'string' }, compare: { type: 'string' }, data: { type: 'string' }, n: { type: 'string' },
    attack: { type: 'string' }, norm: { type: 'string', default: 'linf' }, eps: { type: 'string' }, steps: { type: 'string' },
    epochs: { type: 'boolean' },
  });
  const backend = await setupBackend(v);
  const seed = num(v.seed, 'seed');
  const models = [await openModel(str(v.model, 'model'))];
  try {
    if (v.compare) models.push(await openModel(String(v.compare)));
    const ds = await openData(str(v.data, 'data'));
    for (const m of models) checkInputCompatibility(m, ds);
    if (v.attack) checkAttackable(ds);
    const { data, indices } = sampleData(ds, v.n, seed, 500);
    const shape: [number, number, number] = [data.height, data.width, data.channels];
    const attack = v.attack
      ? { name: v.attack as AttackName, norm: v.norm as Norm, eps: num(v.eps, 'eps'), steps: num(v.steps, 'steps', 20) }
      : null;
    const results: Awaited<ReturnType<typeof analyse>>[] = [];
    for (const m of models) results.push(await analyse(m, data.images, data.labels, shape, attack, seed));
    const k = models[0].numClasses;
    const payload: Record<string, unknown> = {
      model: v.model, data: ds.id, n: data.n, seed, backend: backend.active, tfjs: tf.version.tfjs,
      // Per-sample arrays are in this order; sampleIndices maps them back to the dataset.
      sampleIndices: indices, labels: data.labels,
      models: results.map((r) => r.out),
    };
    if (results.length === 2) {
      const [a, b] = results;
      const rankOrder = rankOrderByClass(classConfidence(a.logits, k, data.labels), classConfidence(b.logits, k, data.labels), data.labels, k);
      const [da, db] = logitDistributions([a.logits, b.logits], k, BINS);
      payload.comparison = {
        compare: v.compare,
        // Rank-order scatter per class: confidence in the true class, ranked within the class.
        rankOrder,
        fractionFar: pooledFractionFar(rankOrder),
        farIndices: rankOrder.flatMap((c) => Array.from(c.farIndices)),
        averageOverlap: averageOverlap(a.logits, b.logits, k),
        averageOverlapWithinClassPermuted: averageOverlapControl(a.logits, b.logits, data.labels, k, seed),
        averageOverlapExcludingLabel: averageOverlap(a.logits, b.logits, k, { excludeLabel: true, labels: data.labels }),
        averageOverlapExcludingLabelWithinClassPermuted: averageOverlapControl(a.logits, b.logits, data.labels, k, seed, { excludeLabel: true }),
        // Model A vs model B distributions on shared bins (ST vs AT overlay).
        sharedBins: { a: da, b: db },
      };
    }
    if (v.epochs) {
      // Every model with zoo snapshots (the seed's Figure 1 sets ST and AT side by side), each
      // closed by the trained model at its final epoch, on bins shared by all rows.
      const ids = [String(v.model), ...(v.compare ? [String(v.compare)] : [])];
      const perModel: { model: string; rows: { epoch: number; logits: Float32Array }[] }[] = [];
      for (let i = 0; i < ids.length; i++) {
        const { snapshots, epochs } = zooSnapshots(ids[i]);
        if (!snapshots.length) continue;
        const rows: { epoch: number; logits: Float32Array }[] = [];
        for (const s of snapshots) {
          const m = await openModel(s.id);
          try {
            checkInputCompatibility(m, ds);
            rows.push({ epoch: s.epoch, logits: (await predictAll(m, data.images, data.labels, shape)).logits });
          } finally {
            m.dispose();
          }
        }
        if (epochs !== undefined && !rows.some((r) => r.epoch === epochs)) rows.push({ epoch: epochs, logits: results[i].logits });
        perModel.push({ model: ids[i], rows });
      }
      if (perModel.length === 0) throw new LabError(`--epochs: ${ids.map((id) => `"${id}"`).join(' and ')} ${ids.length > 1 ? 'have' : 'has'} no snapshots in public/models/index.json`);
      payload.epochs = epochSummariesByModel(perModel, k, BINS);
    }
    const pct = (x: unknown) => `${(100 * (x as number)).toFixed(1)}%`;
    print(v.json as boolean, plain(payload), () => {
      const lines = results.map((r, i) => {
        const o = r.out as { cleanAccuracy: number; maxLogit: { mean: number; skewness: number }; gap: { mean: number; skewness: number }; robustAccuracy?: number };
        return `${i === 0 ? v.model : v.compare}: clean ${pct(o.cleanAccuracy)}, max logit mean ${o.maxLogit.mean.toFixed(2)} (skew ${o.maxLogit.skewness.toFixed(2)}), gap mean ${o.gap.mean.toFixed(2)} (skew ${o.gap.skewness.toFixed(2)})${o.robustAccuracy !== undefined ? `, robust ${pct(o.robustAccuracy)}` : ''}`;
      });
      const c = payload.comparison as { fractionFar: number; averageOverlap: Float64Array; averageOverlapWithinClassPermuted: Float64Array } | undefined;
      if (c) {
        const at = (xs: Float64Array) => [1, 3, 5, k].map((kk) => `@${kk} ${xs[kk - 1].toFixed(3)}`).join(' ');
        lines.push(`far-rank fraction ${c.fractionFar.toFixed(3)}; AO ${at(c.averageOverlap)}; permuted control ${at(c.averageOverlapWithinClassPermuted)}`);
      }
      return lines.join('\n');
    });
  } finally {
    for (const m of models) m.dispose();
  }
}

export const logitsCommands: Record<string, (args: string[]) => Promise<void>> = { logits: cmdLogits };
