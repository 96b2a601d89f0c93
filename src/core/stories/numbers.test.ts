/** Live numbers on tiny results whose answers can be checked by hand. */
import { describe, expect, it } from 'vitest';
import { chanceEps, earliestChance, fillText, medianCollision, gapEnds, halfAccuracyEps, largestDrop, liveValues, LIVE_NUMBERS, mftmaAt, overlapSeries, smallestValue, type StoryResults } from './numbers';
import type { TsneJobResult } from '../tsne/job';
import type { CollisionAnalysisResult } from '../collision/analysis';
import type { LogitsJobResult } from '../logits/job';
import type { MftmaPoint } from '../mftma/job';
import type { DependencyJobResult } from '../dependency/job';

const series = (values: number[]) => values.map((value, i) => ({ layer: `l${i}`, value }));

/** A t-SNE result with one overlap value per layer (seed mean only where `seedMeans` gives one). */
function tsne(overlaps: number[], seedMeans: (number | null)[] = [], robust = 0.25): TsneJobResult {
  return {
    which: 'a', eps: 0.3, cleanAccuracy: 1, robustAccuracy: robust, init: 'pca',
    indices: new Int32Array(), labels: new Int32Array(), cleanPred: new Int32Array(), advPred: new Int32Array(),
    layers: overlaps.map((v, i) => ({
      layer: ['conv1', 'relu', 'fc1', 'fc2'][i], done: true, positions: new Float32Array(), iteration: 1, totalIterations: 1, kl: 0, pcaDims: 2, start: 'cold',
      overlap: { value: v, reason: null, successRestricted: null, count: 10, successCount: 10 },
      overlapSeeds: seedMeans[i] === undefined ? null : ({ mean: seedMeans[i], sd: 0, n: 3, values: [], successRestricted: { mean: null, sd: null, n: 0, values: [] } }),
      overlapPca: null,
    })),
  } as TsneJobResult;
}


/** A collision layer with its per-projection pair distances and mean optimal log-loss over ε = 0.5, 1, 1.5, 2. */
const collisionLayer = (layer: string, distances: number[][], loss: number[], complete = true) =>
  ({ layer, complete, distances: distances.map((d) => Float64Array.from(d)), curve: { eps: [0.5, 1, 1.5, 2], meanLogLoss: loss } }) as unknown as CollisionAnalysisResult['layers'][number];

describe('live numbers', () => {
  it('largestDrop: the layer with the largest fall from the one before, skipping non-finite values', () => {
    expect(largestDrop(series([0.9, 0.8, 0.3, 0.2]))).toEqual({ layer: 'l2', from: 0.8, to: 0.3 });
    expect(largestDrop(series([0.9, NaN, 0.3]))).toEqual({ layer: 'l2', from: 0.9, to: 0.3 });
    expect(largestDrop(series([0.2, 0.5, 0.9]))).toBeNull();
    expect(largestDrop(series([0.5]))).toBeNull();
    expect(smallestValue(series([0.4, NaN, 0.1]))).toBe(0.1);
  });

  it('t-SNE: the overlap drop of Valentim et al. from the seed mean when all seeds ran, else the shown layout', () => {
    const r = tsne([0.97, 0.9, 0.1, 0.05], [0.96, null, undefined as unknown as null]);
    // conv1 uses its seed mean 0.96; relu's mean is null, so its shown value 0.9; fc1, fc2 have no seed stats.
    expect(overlapSeries(r).map((s) => s.value)).toEqual([0.96, 0.9, 0.1, 0.05]);
    const results: StoryResults = { 'tsne-a': r };
    expect(LIVE_NUMBERS.tsneDropLayerA.compute(results)).toBe('fc1');
    expect(LIVE_NUMBERS.tsneDropFromA.compute(results)).toBe('90%');
    expect(LIVE_NUMBERS.tsneDropToA.compute(results)).toBe('10%');
    expect(LIVE_NUMBERS.tsneLastOverlapA.compute(results)).toBe('5%');
    expect(LIVE_NUMBERS.tsneMinOverlapA.compute(results)).toBe('5%');
    expect(LIVE_NUMBERS.tsneRobustAccA.compute(results)).toBe('25%');
    // Model B's numbers read B's run, which has not arrived.
    expect(LIVE_NUMBERS.tsneDropLayerB.compute(results)).toBeNull();
  });

  it('collisions: median distance per layer, the ε of chance, the earliest hidden layer, per model', () => {
    const ln2 = Math.LN2;
    // Pairs averaged over projections first: (1+3)/2 = 2, (2+2)/2 = 2, (5+7)/2 = 6, (9+∞)/2 = ∞ → median (2 + 6)/2 = 4.
    expect(medianCollision(collisionLayer('x', [[1, 2, 5, 9], [3, 2, 7, Infinity]], [0, 0, 0, 0]))).toBe(4);
    expect(medianCollision(collisionLayer('x', [[0.3, 0.1, 0.2]], [0, 0, 0, 0]))).toBe(0.2);
    expect(medianCollision(collisionLayer('x', [[0.3, 0.1, 0.2]], [0, 0, 0, 0], false))).toBeNull();
    expect(chanceEps(collisionLayer('x', [[1]], [0, 0.35, ln2, ln2]))).toBe(1.5);
    expect(chanceEps(collisionLayer('x', [[1]], [0, 0.35, 0.48, 0.6]))).toBeNull();
    const input = collisionLayer('input', [[4.6, 4.6, 5.9, 5]], [0, 0, 0, 0]);
    const a = { layers: [input, collisionLayer('relu_1', [[0.7, 0.6, 0.5, 0.3]], [0.35, ln2, ln2, ln2]), collisionLayer('relu_3', [[0.5, 0.9, 0.7, 0.6]], [ln2, ln2, ln2, ln2])] } as unknown as CollisionAnalysisResult;
    const b = { layers: [input, collisionLayer('relu_1', [[1.2, 1.2, 1, 1]], [0, 0.35, ln2, ln2]), collisionLayer('relu_3', [[1.6, 2.4, 1.6, 1.5]], [0, 0, 0, ln2])] } as unknown as CollisionAnalysisResult;
    // The input baseline never counts; the earlier layer wins a tie.
    expect(earliestChance(a)).toEqual({ layer: 'relu_3', eps: 0.5 });
    expect(earliestChance(b)).toEqual({ layer: 'relu_1', eps: 1.5 });
    expect(earliestChance({ layers: [input, collisionLayer('relu_1', [[1]], [ln2, ln2, ln2, ln2], false)] } as unknown as CollisionAnalysisResult)).toBeNull();
    const results: StoryResults = { collision: { a, b, extra: [{ id: 'trades', result: null }], shape: [28, 28, 1], images: null, sweep: [] } };
    expect(LIVE_NUMBERS.collisionInputMedianA.compute(results)).toBe('4.80');
    expect(LIVE_NUMBERS.collisionFirstLayerA.compute(results)).toBe('relu_1');
    expect(LIVE_NUMBERS.collisionFirstMedianA.compute(results)).toBe('0.55');
    expect(LIVE_NUMBERS.collisionLastLayerA.compute(results)).toBe('relu_3');
    expect(LIVE_NUMBERS.collisionLastMedianA.compute(results)).toBe('0.65');
    expect(LIVE_NUMBERS.collisionChanceEpsA.compute(results)).toBe('0.5');
    expect(LIVE_NUMBERS.collisionChanceLayerB.compute(results)).toBe('relu_1');
    expect(LIVE_NUMBERS.collisionChanceEpsB.compute(results)).toBe('1.5');
    expect(LIVE_NUMBERS.collisionLastMedianB.compute(results)).toBe('1.60');
    // 1.6 / 0.65 = 2.46
    expect(LIVE_NUMBERS.collisionLastRatioB.compute(results)).toBe('2.5');
    // The extra model has not run yet.
    expect(LIVE_NUMBERS.collisionLastMedianExtra.compute(results)).toBeNull();
  });

  it('curve: the first ε where robust accuracy is at most half the clean one', () => {
    const pts = [0, 0.1, 0.2, 0.3].map((eps, i) => ({ eps, cleanAccuracy: 0.9, robustAccuracy: [0.9, 0.6, 0.45, 0.1][i], zeroGradientFraction: 0 }));
    expect(halfAccuracyEps(pts)).toBe(0.2);
    expect(halfAccuracyEps(pts.slice(0, 2))).toBeNull();
  });

  it('logits: gap-binned robustness ends, means and training snapshots', () => {
    const bin = (count: number, correct: number) => ({ low: 0, high: 1, count, correct, accuracy: count ? correct / count : NaN, wilsonLow: 0, wilsonHigh: 1 });
    const model = { cleanAccuracy: 1, robustAccuracy: 0.5, clean: { maxLogit: { mean: 7.64 }, gap: { mean: 5.95 } }, robustByGap: [bin(0, 0), bin(4, 1), bin(5, 3), bin(2, 2), bin(0, 0)] };
    expect(gapEnds(model as never)).toEqual({ low: 0.25, high: 1 });
    const results: StoryResults = {
      logits: { a: model, b: null, epochs: [{ model: 'A', summaries: { epochs: [{ epoch: 1, maxLogit: { mean: 8 } }, { epoch: 6, maxLogit: { mean: 16.2 } }] } }] } as unknown as LogitsJobResult,
    };
    expect(LIVE_NUMBERS.logitsMaxMeanA.compute(results)).toBe('7.6');
    expect(LIVE_NUMBERS.logitsGapMeanA.compute(results)).toBe('6.0');
    expect(LIVE_NUMBERS.logitsLowGapRobustA.compute(results)).toBe('25%');
    expect(LIVE_NUMBERS.logitsEpochFirstA.compute(results)).toBe('1');
    expect(LIVE_NUMBERS.logitsEpochLastMaxA.compute(results)).toBe('16.2');
    expect(LIVE_NUMBERS.logitsEpochLastB.compute(results)).toBeNull();
  });

  it('MFTMA: capacity and radius at the first/last layer and the smallest/largest ladder value', () => {
    const p = (layer: string, size: number, capacity: number, radius: number) => ({ layer, size, capacity, radius }) as MftmaPoint;
    const a = [p('conv1', 0.0001, 0.05, 1), p('fc1', 0.0001, 0.4, 0.8), p('conv1', 0.3, 0.04, 1.5), p('fc1', 0.3, 0.2, 1.2)];
    expect(mftmaAt(a, 'largest').map((x) => x.layer)).toEqual(['conv1', 'fc1']);
    const results: StoryResults = { mftma: { a, b: null, accuracy: { a: [], b: null }, ladder: [0.0001, 0.3], layers: ['conv1', 'fc1'] } };
    expect(LIVE_NUMBERS.mftmaCapLastA.compute(results)).toBe('0.40');
    expect(LIVE_NUMBERS.mftmaCapLastNoisyA.compute(results)).toBe('0.20');
    expect(LIVE_NUMBERS.mftmaRadiusFirstA.compute(results)).toBe('1.50');
    expect(LIVE_NUMBERS.mftmaLargestA.compute(results)).toBe('0.30');
    expect(LIVE_NUMBERS.mftmaCapFirstB.compute(results)).toBeNull();
  });

  it('dependency: where the clean − adversarial probe gap widens most, and the last layer', () => {
    const l = (layer: string, clean: number, adv: number | null) => ({ layer, probeHeldOutCleanAccuracy: clean, probeHeldOutAdversarialAccuracy: adv, labelMi: 2, labelMiAdversarial: 1.5 });
    const results: StoryResults = { dependency: { n: 100, a: { layers: [l('conv1', 0.9, 0.85), l('relu_1', 0.95, 0.8), l('fc1', 0.97, 0.3), l('fc2', 0.98, 0.1)], prefix: [], cleanAccuracy: 1, robustAccuracy: 0 }, b: null } as unknown as DependencyJobResult };
    // Gaps 0.05, 0.15, 0.67, 0.88: the widening is largest into fc1 (+0.52).
    expect(LIVE_NUMBERS.depGapLayerA.compute(results)).toBe('fc1');
    expect(LIVE_NUMBERS.depProbeAdvLastA.compute(results)).toBe('10%');
    expect(LIVE_NUMBERS.depLabelMiAdvLastA.compute(results)).toBe('1.50');
    expect(LIVE_NUMBERS.depRobustAccA.compute(results)).toBe('0%');
  });

  it('slice: what the attack did to the strip', () => {
    const shift = (layer: string, mean: number) => ({ layer, mean });
    const a = { cleanAccuracy: 1, robustAccuracy: 0.25, success: Uint8Array.from([1, 1, 0, 1]), shifts: [shift('conv1', 0.14), shift('relu', NaN), shift('fc1', 0.4), shift('fc2', 0.3)] };
    const results = { slice: { eps: 0.1, a, b: null } } as unknown as StoryResults;
    expect(LIVE_NUMBERS.sliceFooled.compute(results)).toBe('3');
    expect(LIVE_NUMBERS.sliceCount.compute(results)).toBe('4');
    expect(LIVE_NUMBERS.sliceMaxShiftLayer.compute(results)).toBe('fc1');
    expect(LIVE_NUMBERS.sliceFirstShift.compute(results)).toBe('0.14');
    expect(LIVE_NUMBERS.sliceRobustAccB.compute(results)).toBeNull();
  });

  it('fills a text, with … for a number not computed yet', () => {
    const results: StoryResults = { 'tsne-a': tsne([0.9, 0.2]) };
    const text = 'Falls at {tsneDropLayerA} to {tsneDropToA}; B: {tsneDropLayerB}.';
    const values = liveValues(text, results);
    expect(values).toEqual({ tsneDropLayerA: 'relu', tsneDropToA: '20%', tsneDropLayerB: null });
    expect(fillText(text, values)).toBe('Falls at relu to 20%; B: ….');
  });
});
