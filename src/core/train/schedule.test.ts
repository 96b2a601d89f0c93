import { describe, expect, it } from 'vitest';
import { epsFraction, learningRate } from './schedule';

describe('learning-rate schedules', () => {
  it('constant, step, cosine and one-cycle at known points of a 100-step run', () => {
    expect([0, 50, 99].map((s) => learningRate('constant', 0.1, s, 100))).toEqual([0.1, 0.1, 0.1]);
    expect([0, 49, 50, 74, 75, 99].map((s) => learningRate('step', 1, s, 100))).toEqual([1, 1, 0.1, 0.1, 0.01, 0.01]);
    expect(learningRate('cosine', 2, 0, 100)).toBe(2);
    expect(learningRate('cosine', 2, 50, 100)).toBeCloseTo(1, 12);
    expect(learningRate('cosine', 2, 100, 100)).toBeCloseTo(0, 12);
    // One-cycle: 0 at the start, the peak at 40 %, back to 0 at the end, linear between.
    expect(learningRate('onecycle', 0.2, 0, 100)).toBe(0);
    expect(learningRate('onecycle', 0.2, 20, 100)).toBeCloseTo(0.1, 12);
    expect(learningRate('onecycle', 0.2, 40, 100)).toBeCloseTo(0.2, 12);
    expect(learningRate('onecycle', 0.2, 70, 100)).toBeCloseTo(0.1, 12);
    expect(learningRate('onecycle', 0.2, 100, 100)).toBe(0);
  });

  it('ramps ε linearly per step over the ramp epochs, then holds it', () => {
    // 2 epochs of 10 steps: step 0 has 1/20 of ε, step 19 all of it.
    expect(epsFraction(0, 2, 10)).toBeCloseTo(0.05, 12);
    expect(epsFraction(9, 2, 10)).toBeCloseTo(0.5, 12);
    expect(epsFraction(19, 2, 10)).toBe(1);
    expect(epsFraction(500, 2, 10)).toBe(1);
    expect(epsFraction(0, 0, 10)).toBe(1);
  });
});
