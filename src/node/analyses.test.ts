/**
 * The lab's analysis jobs on a real zoo model (mnist-small-st, with its adversarially
 * trained twin as model B), tiny sizes: shapes, streamed partials, compare mode, and a
 * flat tensor count.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LabModel } from '../core/model/model';
import type { ImageDataset } from '../core/types';
import { collisionJob } from '../core/collision/job';
import { dependencyAnalysis } from '../core/dependency/job';
import { layerwiseTsne, TsneSession } from '../core/tsne/job';
import { logitAnalysis } from '../core/logits/job';
import { mftmaAnalysis } from '../core/mftma/job';
import { robustnessCurve } from '../core/curve/curve';
import type { JobContext } from '../core/analyses/context';
import { openMnistTwins } from './testing';

let a: LabModel;
let b: LabModel;
let ds: ImageDataset;

beforeAll(async () => {
  ({ a, b, ds } = await openMnistTwins());
}, 60_000);

const ctx = (compare: boolean): JobContext => ({ models: { a, b: compare ? b : null }, dataset: ds, seed: 3 });

describe('analysis jobs', () => {
  it('robustness curve: accuracy falls with ε, B (AT) above A (ST), partials stream, tensors flat', async () => {
    const before = tf.memory().numTensors;
    const partials: number[] = [];
    const r = await robustnessCurve(ctx(true), { spec: { attack: 'fgsm', norm: 'linf', steps: 1 }, epsList: [0.2, 0, 0.1], n: 30 }, {}, (p) => partials.push(p.done));
    expect(tf.memory().numTensors).toBe(before);
    expect(r.a.points.map((p) => p.eps)).toEqual([0, 0.1, 0.2]);
    expect(partials).toEqual([1, 2, 3, 4, 5, 6]);
    expect(r.a.points[2].robustAccuracy).toBeLessThan(r.a.points[0].robustAccuracy);
    expect(r.b!.points[2].robustAccuracy).toBeGreaterThan(r.a.points[2].robustAccuracy);
    // Broken-at ε is a ladder value (or 0 / ∞) for every sample.
    for (const v of r.a.brokenAt) expect([0, 0.1, 0.2, Infinity]).toContain(v);
    expect(r.a.perClass).toHaveLength(10);
  }, 120_000);

  it('t-SNE job: positions per layer, overlap in [0,1] or n/a, warm start on ε change', async () => {
    const session = new TsneSession();
    const params = { spec: { attack: 'fgsm' as const, norm: 'linf' as const, eps: 0.1, steps: 1 }, layers: ['relu_2'], n: 30, perplexity: 10, iterations: 60, seeds: 2, mode: 'joint' as const };
    const before = tf.memory().numTensors;
    const cold = await layerwiseTsne(ctx(false), params, session);
    const e = cold.layers[0];
    expect(e.positions).toHaveLength(4 * 30);
    expect(e.start).toBe('cold');
    expect(e.overlapSeeds?.n).toBe(2);
    if (e.overlap?.value !== null) expect(e.overlap!.value).toBeGreaterThanOrEqual(0);
    const warm = await layerwiseTsne(ctx(false), { ...params, spec: { ...params.spec, eps: 0.2 } }, session);
    expect(warm.layers[0].start).toBe('warm-joint');
    // Clean rows start where they were: the warm layout is related to the cold one.
    expect(warm.layers[0].positions.every(Number.isFinite)).toBe(true);
    session.dispose();
    // Without the session (a replaced worker), the shown positions still give a warm start.
    const fromScreen = await layerwiseTsne(ctx(false), { ...params, spec: { ...params.spec, eps: 0.2 }, warmFrom: { relu_2: cold.layers[0].positions } }, null);
    expect(fromScreen.layers[0].start).toBe('warm-joint');
    expect(fromScreen.layers[0].totalIterations).toBe(50);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('logits job: shared bins for A and B, compare with AO@k, epoch summaries', async () => {
    const r = await logitAnalysis(ctx(true), { n: 50, spec: { attack: 'fgsm', norm: 'linf', eps: 0.2, steps: 1 }, bins: 10 }, [{ epoch: 1, model: a }, { epoch: 2, model: b }]);
    expect(Array.from(r.a!.clean.maxLogit.edges)).toEqual(Array.from(r.b!.adversarial!.maxLogit.edges));
    // Seguin et al.: the AT model's max logits are lower.
    expect(r.b!.clean.maxLogit.mean).toBeLessThan(r.a!.clean.maxLogit.mean);
    expect(r.compare!.aok).toHaveLength(10);
    expect(r.compare!.aok[9]).toBeCloseTo(r.compare!.aok[9], 6);
    expect(r.epochs!.map((e) => e.model)).toEqual(['A']);
    expect(r.epochs![0].summaries.epochs.map((x) => x.epoch)).toEqual([1, 2]);
  }, 120_000);

  it('logits job: snapshots of A and B share bins, and the trained model closes each ridgeline', async () => {
    const snaps = [
      { epoch: 1, model: b, which: 'b' as const },
      { epoch: 1, model: a, which: 'a' as const },
    ];
    const before = tf.memory().numTensors;
    const r = await logitAnalysis(ctx(true), { n: 40, spec: null, bins: 8, finalEpochs: { a: 6, b: 1 } }, snaps);
    expect(tf.memory().numTensors).toBe(before);
    expect(r.epochs!.map((e) => e.model)).toEqual(['A', 'B']);
    const [ea, eb] = r.epochs!;
    // A: its epoch-1 snapshot (here model A itself) and the final model at epoch 6 are the same logits.
    expect(ea.summaries.epochs.map((x) => x.epoch)).toEqual([1, 6]);
    expect(Array.from(ea.summaries.epochs[0].gap.counts)).toEqual(Array.from(ea.summaries.epochs[1].gap.counts));
    // B: the final epoch (1) is already a snapshot, so no extra row.
    expect(eb.summaries.epochs.map((x) => x.epoch)).toEqual([1]);
    expect(Array.from(ea.summaries.gapEdges)).toEqual(Array.from(eb.summaries.gapEdges));
    // Every row counts all 40 samples.
    for (const e of r.epochs!) for (const x of e.summaries.epochs) expect(x.gap.counts.reduce((s, c) => s + c, 0)).toBe(40);
  }, 120_000);

  it('dependency job: a probe per layer, clean above attacked on the standard model', async () => {
    const r = await dependencyAnalysis(ctx(false), { n: 100, layers: ['relu_1', 'fc2'], spec: { attack: 'fgsm', norm: 'linf', eps: 0.2, steps: 1 } });
    expect(r.a!.layers.map((l) => l.layer)).toEqual(['relu_1', 'fc2']);
    const last = r.a!.layers[1];
    expect(last.probeHeldOutAdversarialAccuracy!).toBeLessThan(last.probeHeldOutCleanAccuracy);
    expect(r.a!.prefix).toHaveLength(2);
  }, 120_000);

  it('MFTMA job: capacity per layer and ladder value, A and B', async () => {
    const r = await mftmaAnalysis(ctx(true), { kind: 'class', perturb: 'gaussian', norm: 'linf', ladder: [0.01, 1], p: 3, m: 8, layers: ['fc2'], maxDims: 5000, nT: 50 });
    expect(r.a).toHaveLength(2);
    expect(r.b).toHaveLength(2);
    // Accuracy on the 24 manifold points next to the capacities: clean, then per σ; σ = 1
    // noise (clipped to the pixel box) costs the standard model most of its accuracy.
    expect(r.accuracy.a.map((x) => x.size)).toEqual([0, 0.01, 1]);
    expect(r.accuracy.b!.map((x) => x.size)).toEqual([0, 0.01, 1]);
    expect(r.accuracy.a[0].accuracy).toBeGreaterThan(0.9);
    expect(r.accuracy.a[2].accuracy).toBeLessThan(r.accuracy.a[0].accuracy - 0.2);
    expect(r.a[0].capacity).toBeGreaterThan(0);
    expect(Number.isFinite(r.a[0].radius)).toBe(true);
  }, 120_000);

  it('collision job with an m sweep: one entry per m (sorted, main m included), same pairs, losses in [0, log 2]', async () => {
    const before = tf.memory().numTensors;
    const r = await collisionJob(ctx(false), {
      layers: ['input', 'fc2'], classes: [3, 7], perClass: 2, m: 10, projections: 1, projection: 'gaussian', epsList: [1, 3, 6], box: false, keepPoints: false, maxIter: 60, mSweep: [3, 10],
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.sweep.map((e) => e.m)).toEqual([3, 10]);
    expect(r.sweep[1].a).toBe(r.a);
    const small = r.sweep[0].a!;
    expect(Array.from(small.pairI)).toEqual(Array.from(r.a!.pairI));
    for (const l of small.layers) {
      for (const v of l.curve.meanLogLoss) {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual(Math.log(2) + 1e-9);
      }
    }
    // Real distances: distinct-class images need a non-zero perturbation to collide.
    for (const l of small.layers) for (const d of l.distances[0]) expect(d).toBeGreaterThan(0.05);
  }, 240_000);

  it('collision job with an extra model: same pairs, and its results equal running it as model B', async () => {
    const params = { layers: ['input', 'fc2'], classes: [3, 7], perClass: 2, m: 4, projections: 1, projection: 'gaussian' as const, epsList: [1, 3], box: false, keepPoints: true, maxIter: 40 };
    const before = tf.memory().numTensors;
    const withExtra = await collisionJob(ctx(false), params, { extras: [{ id: 'at-twin', model: b }] });
    expect(tf.memory().numTensors).toBe(before);
    const asB = await collisionJob(ctx(true), params);
    expect(withExtra.b).toBeNull();
    expect(withExtra.extra.map((e) => e.id)).toEqual(['at-twin']);
    const x = withExtra.extra[0].result!;
    expect(Array.from(x.sampleIndices)).toEqual(Array.from(withExtra.a!.sampleIndices));
    expect(x.layers.map((l) => l.layer)).toEqual(['input', 'fc2']);
    for (let li = 0; li < x.layers.length; li++) {
      expect(Array.from(x.layers[li].distances[0])).toEqual(Array.from(asB.b!.layers[li].distances[0]));
      expect(x.layers[li].points?.[0].xTilde.length).toBe(x.pairI.length * 784);
    }
    // A model with another number of classes is refused before any work.
    const fake = { ...b, numClasses: 3 } as LabModel;
    await expect(collisionJob(ctx(false), params, { extras: [{ id: 'odd', model: fake }] })).rejects.toThrow(/odd has 3 classes/);
  }, 240_000);
});
