/**
 * The timing half of backend 'auto' (the decision itself is `chooseBackend` in backend.ts,
 * pure and unit-tested): a few milliseconds of the lab's typical work on the active tfjs
 * backend. Every lab job is forward passes plus input gradients of a small image model at a
 * small batch (FGSM, PGD steps, layer activations), so the probe is exactly that: the shape of
 * the zoo's MNIST-small network (conv 4×4/2 → relu → conv 4×4 → relu → dense) at batch 8 on
 * 28×28×1, forward plus the gradient of the loss with respect to the input.
 *
 * At this size the cost is dominated by per-op dispatch, which is what separates backends in
 * practice: a software GPU adapter (SwiftShader) runs each kernel as a CPU shader emulation and
 * is 30–50× slower than WASM here, while a real GPU wins once the batch grows.
 */
import * as tf from '@tensorflow/tfjs';
import { crossEntropyPerSample } from './attacks/common';

/** Images per probe step: the lab's default sample (16) split in two, the batch size its jobs see. */
export const PROBE_BATCH = 8;
/**
 * Longest one backend's probe may take (warm-up included) before it counts as too slow: a
 * backend that needs longer for one step of the smallest model cannot run the lab interactively,
 * and start-up must not wait on it.
 */
export const PROBE_CAP_MS = 400;
/** Timed steps after the warm-up; the median is kept (one GC pause or compositor frame is not the backend). */
export const PROBE_TIMED_STEPS = 3;
/** Stop timing early once this much time went into timed steps: a slow backend needs no three samples to lose. */
const PROBE_TIMED_BUDGET_MS = 100;

export type ProbeTiming = { ok: true; msPerStep: number; steps: number; warmupMs: number } | { ok: false; elapsedMs: number };

/** Deterministic weights without an RNG: moderate values, so no CPU path meets denormals and skews the time. */
function fixedTensor(shape: number[], scale: number, phase: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = scale * Math.sin(1.7 * i + phase);
  return tf.tensor(v, shape);
}

const TIMED_OUT = Symbol('timed out');

/**
 * Time the probe workload on the active backend. The first step is a warm-up (shader
 * compilation and WASM/JIT tiering are start-up costs, not throughput) and is not counted.
 * The whole probe gives up after `capMs`; a step still running on a GPU then finishes in the
 * background and disposes its own result. Tensors created here are all disposed.
 */
export async function timeProbeWorkload(capMs = PROBE_CAP_MS, now: () => number = () => performance.now()): Promise<ProbeTiming> {
  const started = now();
  const [x, w1, w2, w3, labels] = tf.tidy(() => [
    fixedTensor([PROBE_BATCH, 28, 28, 1], 0.5, 0).add(0.5) as tf.Tensor4D,
    fixedTensor([4, 4, 1, 16], 0.3, 1) as tf.Tensor4D,
    fixedTensor([4, 4, 16, 32], 0.1, 2) as tf.Tensor4D,
    fixedTensor([14 * 14 * 32, 10], 0.02, 3) as tf.Tensor2D,
    tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'),
  ]);
  const lossOf = (input: tf.Tensor) => {
    const h1 = tf.relu(tf.conv2d(input as tf.Tensor4D, w1, 2, 'same'));
    const h2 = tf.relu(tf.conv2d(h1, w2, 1, 'same'));
    const logits = tf.matMul(tf.reshape(h2, [PROBE_BATCH, 14 * 14 * 32]), w3);
    // The attacks' own loss (summed cross-entropy), so the probe runs the kernels they run.
    return tf.sum(crossEntropyPerSample(logits as tf.Tensor2D, labels as tf.Tensor1D));
  };
  const inputGradient = tf.grad(lossOf);
  const step = async () => {
    const g = tf.tidy(() => inputGradient(x));
    try {
      await g.data();
    } finally {
      g.dispose();
    }
  };
  const withinCap = async (p: Promise<void>): Promise<void | typeof TIMED_OUT> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cap = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, started + capMs - now()))));
    try {
      return await Promise.race([p, cap]);
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    if ((await withinCap(step())) === TIMED_OUT || now() - started > capMs) return { ok: false, elapsedMs: now() - started };
    const warmupMs = now() - started;
    const times: number[] = [];
    const timedFrom = now();
    while (times.length < PROBE_TIMED_STEPS) {
      const t0 = now();
      if ((await withinCap(step())) === TIMED_OUT) break;
      const t = now() - t0;
      if (now() - started > capMs) break;
      times.push(t);
      if (now() - timedFrom > PROBE_TIMED_BUDGET_MS) break;
    }
    if (!times.length) return { ok: false, elapsedMs: now() - started };
    times.sort((a, b) => a - b);
    return { ok: true, msPerStep: times[(times.length - 1) >> 1], steps: times.length, warmupMs };
  } finally {
    tf.dispose([x, w1, w2, w3, labels]);
  }
}
