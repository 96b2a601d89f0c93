import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linearModel } from '../testing';
import type { LabModel } from '../model/model';
import { createProjector, project, rowMask, selectRows, yieldToEventLoop } from './common';
import { runAttack } from './runner';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('step helpers', () => {
  it('the precomputed projector equals project() element for element (L-inf and L2)', () => {
    const before = tf.memory().numTensors;
    const x0 = tf.tensor4d([0, 0.02, 0.5, 0.97, 1, 0.3, 0.7, 0.05], [2, 2, 2, 1]);
    // Points inside, outside the ball, outside the box, and both.
    const x = tf.tensor4d([-0.3, 0.1, 0.52, 1.4, 0.8, 0.31, 0.2, 0.06], [2, 2, 2, 1]);
    for (const norm of ['linf', 'l2'] as const) {
      for (const eps of [0, 0.05, 0.3]) {
        const p = createProjector(x0, eps, norm);
        const fast = tf.tidy(() => Array.from(p.project(x).dataSync()));
        const ref = tf.tidy(() => Array.from(project(x, x0, eps, norm).dataSync()));
        p.dispose();
        expect(fast).toEqual(ref);
      }
    }
    tf.dispose([x0, x]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rowMask broadcasts a per-sample mask; selectRows picks whole rows', () => {
    const before = tf.memory().numTensors;
    const mask = tf.tensor1d([true, false, true], 'bool') as tf.Tensor1D;
    const a = tf.ones([3, 2, 1, 1]);
    const b = tf.zeros([3, 2, 1, 1]);
    expect(tf.tidy(() => Array.from(rowMask(mask, [3, 2, 1, 1]).dataSync()))).toEqual([1, 1, 0, 0, 1, 1]);
    expect(tf.tidy(() => Array.from(selectRows(mask, a, b).dataSync()))).toEqual([1, 1, 0, 0, 1, 1]);
    tf.dispose([mask, a, b]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('yieldToEventLoop lets timers run', async () => {
    let fired = false;
    setTimeout(() => (fired = true), 0);
    for (let i = 0; i < 200 && !fired; i++) await yieldToEventLoop();
    expect(fired).toBe(true);
  });
});

describe('forward passes per attack (no extra passes in the step loop)', () => {
  let model: LabModel;
  let calls = 0;
  const counted = (x: tf.Tensor4D) => {
    calls++;
    return model.logits(x);
  };
  beforeAll(() => {
    // z1 − z0 = 2a − b − 0.25.
    model = linearModel([1, 2, 1], [[0, 2], [0, -1]], [0, -0.25]);
  });
  afterAll(() => model.dispose());
  const input = { images: new Float32Array([0.3, 0.5, 0.6, 0.2, 0.1, 0.9]), labels: new Int32Array([0, 1, 0]), shape: [1, 2, 1] as [number, number, number] };

  it('PGD: the clean pass, one forward (inside the gradient) per step, the re-evaluation', async () => {
    for (const steps of [1, 7]) {
      calls = 0;
      await runAttack(counted, input, { attack: 'pgd', norm: 'linf', eps: 0.1, steps }, { seed: 1 });
      expect(calls).toBe(1 + steps + 1);
    }
  });

  it('APGD-CE: the clean pass, the start point, one per iteration, the re-evaluation', async () => {
    calls = 0;
    await runAttack(counted, input, { attack: 'apgd-ce', norm: 'linf', eps: 0.1, steps: 9 }, { seed: 1 });
    expect(calls).toBe(1 + 1 + 9 + 1);
  });

  it('BIM records a success at the final iterate S, found by the re-evaluation', async () => {
    // From (0.3, 0.5) each step of 0.02 along (+, −) adds 0.06 to the margin −0.15: the
    // first misclassified iterate is the third.
    const one = { images: new Float32Array([0.3, 0.5]), labels: new Int32Array([0]), shape: [1, 2, 1] as [number, number, number] };
    const at = async (steps: number) => runAttack(model.logits, one, { attack: 'bim', norm: 'linf', eps: 0.1, steps, stepSize: 0.02 }, { seed: 1 });
    const [two, three, five] = [await at(2), await at(3), await at(5)];
    expect([two.success[0], two.firstSuccessStep[0]]).toEqual([0, -1]);
    expect([three.success[0], three.firstSuccessStep[0]]).toEqual([1, 3]);
    expect([five.success[0], five.firstSuccessStep[0]]).toEqual([1, 3]);
    expect(Array.from(five.adversarial)).toEqual(Array.from(three.adversarial));
  });
});
