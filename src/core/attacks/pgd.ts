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
 * One gradient per step for the whole batch (its forward also gives the predictions), no
 * other forward pass, per-sample state as tensors with masked updates, nothing read back
 * from the device inside the loop.
 */
import * as tf from '@tensorflow/tfjs';
import { JobCancelledError } from '../types';
import { ascentDirection, createProjector, l2PerSample, lossGradAndLogits, selectRows, yieldToEventLoop } from './common';
import type { Rng } from '../random';
import type { AttackSpec, BatchContext, BatchOutcome } from './types';

/**
 * Random start noise drawn from the seeded stream (backend-independent), added to x0 and
 * clipped to [0, 1]. Also the random start of adversarial training (src/core/train/methods.ts).
 */
export function randomStart(ctx: { x0: tf.Tensor4D; spec: Pick<AttackSpec, 'eps' | 'norm'>; rng: Rng }): tf.Tensor4D {
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

export async function pgdBatch(ctx: BatchContext): Promise<BatchOutcome> {
  const { spec } = ctx;
  const alpha = spec.stepSize ?? (2.5 * spec.eps) / Math.max(1, spec.steps);
  const batch = ctx.x0.shape[0];
  const projector = createProjector(ctx.x0, spec.eps, spec.norm);
  // The step size as a full-size tensor: same float32 product as a scalar, but a
  // same-shape multiply (scalar broadcasting is the slow path on the cpu and wasm backends).
  const alphaFull = tf.fill(ctx.x0.shape, alpha) as tf.Tensor4D;
  let x: tf.Tensor4D = spec.attack === 'pgd' ? randomStart(ctx) : tf.clone(ctx.x0);
  let firstAdv: tf.Tensor4D = tf.clone(ctx.x0);
  let firstStep: tf.Tensor1D = tf.fill([batch], -1, 'int32');
  let zeroGradient: tf.Tensor1D | null = null;
  try {
    // Iterates 0 … S−1 are checked here, on the logits of their gradient pass (one
    // forward per step). The final iterate S needs no gradient, and its check is the
    // runner's re-evaluation of the returned images, which holds it for every sample not
    // fooled before (the runner then records step S); a separate forward here would only
    // repeat that pass.
    for (let step = 0; step < spec.steps; step++) {
      if (ctx.signal?.aborted) throw new JobCancelledError();
      const { grad, logits } = lossGradAndLogits(ctx.logits, x, ctx.labels);
      const state = { x, firstAdv, firstStep };
      const next = tf.tidy(() => {
        const newlyFooled = tf.logicalAnd(
          tf.logicalAnd(ctx.active, tf.less(state.firstStep, 0)),
          tf.notEqual(tf.argMax(logits, 1), ctx.labels),
        ) as tf.Tensor1D;
        return {
          firstAdv: selectRows(newlyFooled, state.x, state.firstAdv),
          firstStep: tf.where(newlyFooled, tf.fill([batch], step, 'int32'), state.firstStep) as tf.Tensor1D,
          x: projector.project(tf.add(state.x, tf.mul(ascentDirection(grad, spec.norm), alphaFull)) as tf.Tensor4D),
        };
      });
      zeroGradient ??= tf.tidy(() => tf.equal(l2PerSample(grad), 0) as tf.Tensor1D);
      tf.dispose([grad, logits, x, firstAdv, firstStep]);
      ({ x, firstAdv, firstStep } = next);
      ctx.onStep?.(step + 1);
      await yieldToEventLoop();
    }
    const adversarial = tf.tidy(() => selectRows(tf.greaterEqual(firstStep, 0) as tf.Tensor1D, firstAdv, selectRows(ctx.active, x, ctx.x0)));
    tf.dispose([x, firstAdv]);
    return { adversarial, firstSuccessStep: firstStep, zeroGradient: zeroGradient ?? (tf.zeros([batch], 'bool') as tf.Tensor1D) };
  } catch (e) {
    tf.dispose([x, firstAdv, firstStep]);
    if (zeroGradient) zeroGradient.dispose();
    throw e;
  } finally {
    projector.dispose();
    alphaFull.dispose();
  }
}
