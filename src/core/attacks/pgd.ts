/**
 * BIM / PGD (Kurakin et al. 2017; Madry et al., ICLR 2018), L-inf and L2.
 *
 * L-inf step: x ← clip01(clip_[x0−eps, x0+eps](x + α·sign(g))).
 * L2 step:    x ← P(x + α·g/max(‖g‖₂, 1e-12)), P = rescale into the ball, then clip01.
 * Random start (PGD; BIM has none): L-inf U(−eps, eps) per coordinate; L2 a Gaussian
 * direction scaled to radius r·eps with r ~ U(0, 1) (spec attacks.md §3–4).
 *
 * Unlike the references, which return the final iterate, we keep per sample the first
 * iterate that misclassifies (the random start counts as iterate 0). A point is broken if
 * any iterate broke it; this can only lower robust accuracy (spec §3, "better practice").
 * One gradient per step for the whole batch, per-sample state as tensors with masked
 * updates, nothing read back from the device inside the loop.
 */
import * as tf from '@tensorflow/tfjs';
import { JobCancelledError } from '../types';
import { ascentDirection, l2PerSample, lossGradAndLogits, project, selectRows } from './common';
import type { BatchContext, BatchOutcome } from './types';

/** Random start noise drawn from the seeded stream (backend-independent). */
function randomStart(ctx: BatchContext): tf.Tensor4D {
  const [b, h, w, c] = ctx.x0.shape;
  const d = h * w * c;
  const noise = new Float32Array(b * d);
  const { eps, norm } = ctx.spec;
  for (let i = 0; i < b; i++) {
    if (norm === 'linf') {
      for (let j = 0; j < d; j++) noise[i * d + j] = (2 * ctx.rng.next() - 1) * eps;
    } else {
      let sq = 0;
      for (let j = 0; j < d; j++) {
        const v = ctx.rng.normal();
        noise[i * d + j] = v;
        sq += v * v;
      }
      const scale = (ctx.rng.next() * eps) / Math.max(Math.sqrt(sq), 1e-12);
      for (let j = 0; j < d; j++) noise[i * d + j] *= scale;
    }
  }
  return tf.tidy(() => tf.clipByValue(tf.add(ctx.x0, tf.tensor4d(noise, [b, h, w, c])), 0, 1) as tf.Tensor4D);
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export async function pgdBatch(ctx: BatchContext): Promise<BatchOutcome> {
  const { spec } = ctx;
  const alpha = spec.stepSize ?? (2.5 * spec.eps) / Math.max(1, spec.steps);
  const batch = ctx.x0.shape[0];
  let x: tf.Tensor4D = spec.attack === 'pgd' ? randomStart(ctx) : tf.clone(ctx.x0);
  let firstAdv: tf.Tensor4D = tf.clone(ctx.x0);
  let firstStep: tf.Tensor1D = tf.fill([batch], -1, 'int32');
  let zeroGradient: tf.Tensor1D | null = null;
  try {
    for (let step = 0; step <= spec.steps; step++) {
      if (ctx.signal?.aborted) throw new JobCancelledError();
      const last = step === spec.steps;
      // Gradient only where another step follows; the final iterate needs logits alone.
      const { grad, logits } = last
        ? { grad: null, logits: ctx.logits(x) }
        : lossGradAndLogits(ctx.logits, x, ctx.labels);
      const newlyFooled = tf.tidy(
        () =>
          tf.logicalAnd(
            tf.logicalAnd(ctx.active, tf.less(firstStep, 0)),
            tf.notEqual(tf.argMax(logits, 1), ctx.labels),
          ) as tf.Tensor1D,
      );
      const nextFirstAdv = selectRows(newlyFooled, x, firstAdv);
      const nextFirstStep = tf.tidy(() => tf.where(newlyFooled, tf.fill([batch], step, 'int32'), firstStep) as tf.Tensor1D);
      if (grad && zeroGradient === null) zeroGradient = tf.tidy(() => tf.equal(l2PerSample(grad), 0) as tf.Tensor1D);
      const nextX = grad
        ? tf.tidy(() => project(tf.add(x, tf.mul(ascentDirection(grad, spec.norm), alpha)) as tf.Tensor4D, ctx.x0, spec.eps, spec.norm))
        : null;
      tf.dispose([logits, newlyFooled, firstAdv, firstStep]);
      if (grad) grad.dispose();
      firstAdv = nextFirstAdv;
      firstStep = nextFirstStep;
      if (nextX) {
        x.dispose();
        x = nextX;
      }
      if (!last) {
        ctx.onStep?.(step + 1);
        await yieldToEventLoop();
      }
    }
    const adversarial = tf.tidy(() => selectRows(tf.greaterEqual(firstStep, 0) as tf.Tensor1D, firstAdv, selectRows(ctx.active, x, ctx.x0)));
    tf.dispose([x, firstAdv]);
    return { adversarial, firstSuccessStep: firstStep, zeroGradient: zeroGradient ?? (tf.zeros([batch], 'bool') as tf.Tensor1D) };
  } catch (e) {
    tf.dispose([x, firstAdv, firstStep]);
    if (zeroGradient) zeroGradient.dispose();
    throw e;
  }
}
