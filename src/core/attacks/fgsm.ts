/**
 * FGSM (Goodfellow, Shlens & Szegedy, ICLR 2015) and its L2 counterpart FGM.
 * L-inf: x = clip01(x0 + eps·sign(∇x CE)); L2: x = clip01(x0 + eps·g/max(‖g‖₂, 1e-12)).
 * One step of full size, no random start, no projection (the step has norm eps already;
 * spec attacks.md §2). A zero gradient coordinate gives a zero step.
 */
import * as tf from '@tensorflow/tfjs';
import { ascentDirection, lossGradAndLogits, l2PerSample, selectRows } from './common';
import type { BatchContext, BatchOutcome } from './types';

export function fgsmBatch(ctx: BatchContext): BatchOutcome {
  return tf.tidy(() => {
    const { grad, logits } = lossGradAndLogits(ctx.logits, ctx.x0, ctx.labels);
    logits.dispose(); // kept out of the gradient scope by lossGradAndLogits; unused here
    const step = tf.mul(ascentDirection(grad, ctx.spec.norm), ctx.spec.eps);
    const stepped = tf.clipByValue(tf.add(ctx.x0, step), 0, 1) as tf.Tensor4D;
    const adversarial = selectRows(ctx.active, stepped, ctx.x0);
    const fooled = tf.logicalAnd(ctx.active, tf.notEqual(tf.argMax(ctx.logits(adversarial), 1), ctx.labels));
    ctx.onStep?.(1);
    return {
      adversarial,
      firstSuccessStep: tf.where(fooled, tf.fill([ctx.x0.shape[0]], 1, 'int32'), tf.fill([ctx.x0.shape[0]], -1, 'int32')) as tf.Tensor1D,
      zeroGradient: tf.equal(l2PerSample(grad), 0) as tf.Tensor1D,
    };
  });
}
