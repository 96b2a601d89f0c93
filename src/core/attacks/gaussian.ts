/**
 * Gaussian noise, a baseline rather than an attack (spec attacks.md §1):
 * x = clip01(x0 + σ·N(0, I)), independent per pixel and sample, over R draws (the
 * reference uses R = 10). `eps` carries σ. Per sample the first draw that misclassifies is
 * returned (else the last draw); the accuracy averaged over all draws is reported too.
 * No gradient is taken.
 */
import * as tf from '@tensorflow/tfjs';
import { selectRows } from './common';
import type { BatchContext, BatchOutcome } from './types';

export const DEFAULT_NOISE_DRAWS = 10;

export async function gaussianBatch(ctx: BatchContext): Promise<BatchOutcome> {
  const [b, h, w, c] = ctx.x0.shape;
  const d = h * w * c;
  const draws = Math.max(1, ctx.spec.draws ?? DEFAULT_NOISE_DRAWS);
  let chosen = ctx.x0.clone();
  let firstStep = tf.fill([b], -1, 'int32') as tf.Tensor1D;
  let correctDraws = tf.zeros([b]) as tf.Tensor1D;
  for (let r = 0; r < draws; r++) {
    const noise = new Float32Array(b * d);
    for (let i = 0; i < noise.length; i++) noise[i] = ctx.rng.normal() * ctx.spec.eps;
    const next = tf.tidy(() => {
      const x = tf.clipByValue(tf.add(ctx.x0, tf.tensor4d(noise, [b, h, w, c])), 0, 1) as tf.Tensor4D;
      const wrong = tf.logicalAnd(ctx.active, tf.notEqual(tf.argMax(ctx.logits(x), 1), ctx.labels)) as tf.Tensor1D;
      const newly = tf.logicalAnd(wrong, tf.less(firstStep, 0)) as tf.Tensor1D;
      const keepLast = tf.logicalAnd(ctx.active, tf.less(firstStep, 0)) as tf.Tensor1D;
      return {
        chosen: selectRows(newly, x, selectRows(keepLast, x, chosen)),
        firstStep: tf.where(newly, tf.fill([b], r, 'int32'), firstStep) as tf.Tensor1D,
        correctDraws: tf.add(correctDraws, tf.cast(tf.logicalAnd(ctx.active, tf.logicalNot(wrong)), 'float32')) as tf.Tensor1D,
      };
    });
    tf.dispose([chosen, firstStep, correctDraws]);
    ({ chosen, firstStep, correctDraws } = next);
    ctx.onStep?.(r + 1);
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
  const correctFraction = tf.tidy(() => tf.div(correctDraws, draws) as tf.Tensor1D);
  correctDraws.dispose();
  return { adversarial: chosen, firstSuccessStep: firstStep, zeroGradient: tf.zeros([b], 'bool') as tf.Tensor1D, correctFraction };
}
