/**
 * Optimisers with PyTorch's update rules (torch.optim, torch 1.13, single-tensor path), so a
 * recipe from a paper or from the zoo's trainer (tools/zoo/train.py) means the same here.
 * Weight decay is PyTorch's coupled L2 (g ← g + λ·p, applied to every parameter as
 * `model.parameters()` passes them, BatchNorm γ/β and biases included).
 *
 * SGD (Sutskever et al. 2013 for Nesterov's form):
 *   b ← g on the first step, else b ← μ·b + g;   d = g + μ·b (Nesterov) or b;   p ← p − lr·d
 * Adam (Kingma & Ba, ICLR 2015), written as PyTorch computes it:
 *   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;
 *   p ← p − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + ε)
 */
import * as tf from '@tensorflow/tfjs';

export type OptimizerName = 'sgd' | 'adam';

export interface OptimizerOptions {
  name: OptimizerName;
  momentum?: number;
  nesterov?: boolean;
  weightDecay?: number;
  /** Adam's β1, β2, ε (PyTorch defaults 0.9, 0.999, 1e-8). */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export interface Optimizer {
  /** Apply one update with learning rate `lr`; `grads` in the order of the variables. Disposes nothing it did not create. */
  step(grads: tf.Tensor[], lr: number): void;
  /** Steps taken. */
  readonly steps: number;
  dispose(): void;
}

export function createOptimizer(variables: tf.Variable[], opts: OptimizerOptions): Optimizer {
  const wd = opts.weightDecay ?? 0;
  const momentum = opts.momentum ?? 0;
  const nesterov = opts.nesterov ?? false;
  const beta1 = opts.beta1 ?? 0.9;
  const beta2 = opts.beta2 ?? 0.999;
  const eps = opts.epsilon ?? 1e-8;
  // Optimiser state as variables (not trainable), created lazily on the first step like PyTorch's.
  let first: tf.Variable[] = [];
  let second: tf.Variable[] = [];
  let t = 0;
  // β^t as running products: IEEE multiplications give the same bits in every engine, where `**` need not.
  let beta1Power = 1;
  let beta2Power = 1;
  const withDecay = (g: tf.Tensor, p: tf.Variable) => (wd !== 0 ? tf.add(g, tf.mul(p, wd)) : g);

  return {
    get steps() {
      return t;
    },
    step(grads, lr) {
      t++;
      beta1Power *= beta1;
      beta2Power *= beta2;
      tf.tidy(() => {
        variables.forEach((p, i) => {
          const g = withDecay(grads[i], p);
          if (opts.name === 'sgd') {
            let d = g;
            if (momentum !== 0) {
              if (t === 1) first[i] = tf.variable(g, false);
              else first[i].assign(tf.add(tf.mul(first[i], momentum), g));
              d = nesterov ? tf.add(g, tf.mul(first[i], momentum)) : first[i];
            }
            p.assign(tf.sub(p, tf.mul(d, lr)));
            return;
          }
          if (t === 1) {
            first[i] = tf.variable(tf.zerosLike(p), false);
            second[i] = tf.variable(tf.zerosLike(p), false);
          }
          first[i].assign(tf.add(tf.mul(first[i], beta1), tf.mul(g, 1 - beta1)));
          second[i].assign(tf.add(tf.mul(second[i], beta2), tf.mul(tf.square(g), 1 - beta2)));
          const bias1 = 1 - beta1Power;
          const bias2 = 1 - beta2Power;
          const denom = tf.add(tf.div(tf.sqrt(second[i]), Math.sqrt(bias2)), eps);
          p.assign(tf.sub(p, tf.mul(tf.div(first[i], denom), lr / bias1)));
        });
      });
    },
    dispose() {
      tf.dispose([...first, ...second]);
      first = [];
      second = [];
    },
  };
}
