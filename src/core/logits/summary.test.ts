import { describe, expect, it } from 'vitest';
import { accuracyByGap, classConfidence, epochLogitSummaries, histogram, logitDistributions, perSampleLogits, wilsonInterval } from './summary';

describe('perSampleLogits', () => {
  it('gives max, gap, softmax confidence and argmax on hand-made rows', () => {
    // Row 0: [1, 3, 2] → max 3, gap 1, conf = 1 / (1 + e^-1 + e^-2).
    // Row 1: [2, 2, 0] → tie at the top: gap 0, argmax the lower index.
    const s = perSampleLogits(new Float32Array([1, 3, 2, 2, 2, 0]), 3);
    expect(Array.from(s.maxLogit)).toEqual([3, 2]);
    expect(Array.from(s.gap)).toEqual([1, 0]);
    expect(Array.from(s.argmax)).toEqual([1, 0]);
    expect(s.confidence[0]).toBeCloseTo(1 / (1 + Math.exp(-1) + Math.exp(-2)), 6);
    expect(s.confidence[1]).toBeCloseTo(1 / (2 + Math.exp(-2)), 6);
  });

  it('is stable for huge logits and rejects bad shapes', () => {
    const s = perSampleLogits(new Float32Array([1000, 0]), 2);
    expect(s.confidence[0]).toBe(1);
    expect(() => perSampleLogits(new Float32Array(5), 2)).toThrow();
  });

  it('classConfidence gives the softmax of the chosen class', () => {
    const p = classConfidence(new Float32Array([0, Math.log(3)]), 2, new Int32Array([0]));
    expect(p[0]).toBeCloseTo(0.25, 6);
  });
});

describe('histogram', () => {
  it('bins, mean, sd (n − 1) and biased sample skewness of [0, 0, 0, 1, 5]', () => {
    const h = histogram([0, 0, 0, 1, 5, NaN], { bins: 5 });
    expect(Array.from(h.counts)).toEqual([3, 1, 0, 0, 1]);
    expect(h.nonFinite).toBe(1);
    expect(h.n).toBe(5);
    expect(h.mean).toBeCloseTo(1.2, 10);
    // Σ(x − x̄)² = 18.8, Σ(x − x̄)³ = 49.68.
    expect(h.sd).toBeCloseTo(Math.sqrt(18.8 / 4), 10);
    expect(h.skewness).toBeCloseTo(49.68 / 5 / Math.pow(18.8 / 5, 1.5), 10);
    expect(h.skewness).toBeGreaterThan(0); // long right tail
  });

  it('symmetric data has zero skew; explicit bounds count outsiders', () => {
    const h = histogram([-2, -1, 0, 1, 2, 9], { bins: 4, min: -2, max: 2 });
    expect(h.outside).toBe(1);
    expect(Array.from(h.counts)).toEqual([1, 1, 1, 2]);
    expect(histogram([-1, 0, 1]).skewness).toBeCloseTo(0, 12);
    expect(Number.isNaN(histogram([3, 3]).skewness)).toBe(true);
  });
});

describe('wilsonInterval and accuracyByGap', () => {
  it('matches textbook Wilson bounds', () => {
    // 8/10: the standard example, (0.4902, 0.9433).
    const w = wilsonInterval(8, 10);
    expect(w.low).toBeCloseTo(0.4902, 4);
    expect(w.high).toBeCloseTo(0.9433, 4);
    const z = wilsonInterval(0, 10);
    expect(z.low).toBe(0);
    expect(z.high).toBeCloseTo(0.2775, 4);
  });

  it('bins robust accuracy by gap', () => {
    const bins = accuracyByGap([0.1, 0.2, 0.9, 1.0, Infinity], [0, 1, 1, 1, 1], { bins: 2, min: 0, max: 1 });
    expect(bins.map((b) => b.count)).toEqual([2, 2]);
    expect(bins.map((b) => b.accuracy)).toEqual([0.5, 1]);
    const w = wilsonInterval(2, 2);
    expect(bins[1].wilsonLow).toBe(w.low);
    expect(bins[1].wilsonLow).toBeCloseTo(0.3424, 3);
    expect(bins[1].wilsonHigh).toBe(1);
  });
});

describe('shared-bin distributions', () => {
  it('logitDistributions puts clean and adversarial on the same edges', () => {
    // Clean rows: max 3 (gap 2), max 1 (gap 1); adversarial rows: max 5 (gap 5), max 0 (gap 0).
    const clean = new Float32Array([3, 1, 0, 1, 0, 0]);
    const adv = new Float32Array([5, 0, 0, 0, 0, 0]);
    const [c, a] = logitDistributions([clean, adv], 3, 5);
    expect(Array.from(c.maxLogit.edges)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(a.maxLogit.edges)).toEqual(Array.from(c.maxLogit.edges));
    expect(Array.from(c.maxLogit.counts)).toEqual([0, 1, 0, 1, 0]);
    expect(Array.from(a.maxLogit.counts)).toEqual([1, 0, 0, 0, 1]);
    expect(Array.from(c.gap.edges)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Array.from(a.gap.counts)).toEqual([1, 0, 0, 0, 1]);
    expect(c.confidence.edges[0]).toBe(0);
    expect(c.confidence.edges[5]).toBe(1);
  });

  it('epochLogitSummaries sorts epochs and shares bins across them', () => {
    const e5 = new Float32Array([4, 0, 2, 0]); // max 4, 2; gaps 4, 2
    const e1 = new Float32Array([1, 0, 0, 0]); // max 1, 0; gaps 1, 0
    const s = epochLogitSummaries(
      [
        { epoch: 5, logits: e5 },
        { epoch: 1, logits: e1 },
      ],
      2,
      4,
    );
    expect(s.epochs.map((e) => e.epoch)).toEqual([1, 5]);
    expect(Array.from(s.maxLogitEdges)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(s.epochs[0].maxLogit.counts)).toEqual([1, 1, 0, 0]);
    expect(Array.from(s.epochs[1].maxLogit.counts)).toEqual([0, 0, 1, 1]);
    expect(s.epochs[1].gap.edges).toEqual(s.gapEdges);
    expect(s.epochs[1].gap.mean).toBe(3);
  });
});
