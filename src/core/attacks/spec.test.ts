import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearModel } from '../testing';
import type { LabModel } from '../model/model';
import { attackSchema, defaults, type AttackValues } from '../schema';
import { runAttack } from './runner';
import { attackSpecOf, stepSizeNote } from './spec';

const panel = (over: Partial<AttackValues>): AttackValues => ({ ...defaults(attackSchema), ...over });

describe('the step size the lab shows', () => {
  it('spells out the auto rule with its value when α is 0', () => {
    // 2.5 · 0.3 / 10 = 0.075 (Madry et al.).
    expect(stepSizeNote(panel({ attack: 'pgd', eps: 0.3, steps: 10, stepSize: 0 }))).toBe('α auto = 2.5·ε/steps = 2.5·0.3/10 = 0.075');
    expect(stepSizeNote(panel({ attack: 'bim', eps: 0.1, steps: 5, stepSize: 0 }))).toBe('α auto = 2.5·ε/steps = 2.5·0.1/5 = 0.05');
  });

  it('shows an explicit α and what auto would be', () => {
    expect(stepSizeNote(panel({ attack: 'pgd', eps: 0.3, steps: 10, stepSize: 0.01 }))).toBe('α = 0.01 (auto would be 2.5·ε/steps = 2.5·0.3/10 = 0.075)');
  });

  it('says nothing for attacks the α field does not drive', () => {
    for (const attack of ['fgsm', 'apgd-ce', 'gaussian', 'deepfool'] as const) expect(stepSizeNote(panel({ attack }))).toBeNull();
  });

  describe('is the step the runner takes', () => {
    let model: LabModel;
    beforeAll(async () => {
      await tf.setBackend('cpu');
      model = linearModel([1, 2, 1], [[0, 2], [0, -1]], [0, -0.25]);
    });
    afterAll(() => model.dispose());

    it('PGD with α = 0 records 2.5·ε/steps', async () => {
      const values = panel({ attack: 'pgd', eps: 0.2, steps: 4, stepSize: 0 });
      const r = await runAttack(model.logits, { images: new Float32Array([0.3, 0.5]), labels: new Int32Array([0]), shape: [1, 2, 1] }, attackSpecOf(values), { seed: 1 });
      expect(r.spec.stepSize).toBeCloseTo(0.125, 12);
      expect(stepSizeNote(values)).toBe('α auto = 2.5·ε/steps = 2.5·0.2/4 = 0.125');
    });
  });
});
