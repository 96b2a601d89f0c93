/**
 * Trainable architectures as a tiny layer graph: one description drives the seeded
 * initialisation, the training forward pass (plain tfjs ops on tf.Variables, NHWC) and the
 * Keras topology the lab's loader reads back (export.ts). Layer names and padding follow the
 * zoo's exporter (tools/zoo/export.py), so a model trained here looks like a zoo model in
 * every view: `conv1.pad` + a 'valid' Conv2D wherever PyTorch's symmetric padding is not
 * tfjs's 'same' (stride > 1 or an even kernel), `stage2.block1.shortcut.conv`, and so on.
 *
 * Architectures (input H×W×C from the data):
 *  - mlp: flatten → fc 256 → ReLU → fc 256 → ReLU → fc classes (a plain baseline).
 *  - small: the zoo's MNIST small CNN (Gowal et al. 2018, "small"; tools/zoo/models.py MnistSmall).
 *  - medium: the zoo's medium CNN (Gowal et al. 2018, "medium"; models.py Medium).
 *  - resnet: ResNet-8 (He et al. 2016, section 4.2 with n = 1): a 3×3 16-channel stem with
 *    BatchNorm, one basic block per stage at 16/32/64 channels (stride 2 into stages 2 and 3,
 *    1×1 conv + BN projection shortcuts, "option B"), global average pooling, fc.
 *
 * Initialisation is PyTorch's default (torch 1.13 nn.Conv2d / nn.Linear reset_parameters:
 * kaiming_uniform_(a=√5), i.e. U(−1/√fan_in, 1/√fan_in), for weights and biases; BatchNorm
 * γ = 1, β = 0, running mean 0, running variance 1), so a run here starts where the zoo's
 * trainer would. Each tensor draws from its own stream, deriveSeed(seed, 'init:<weight name>'),
 * so a change to one layer does not shift another's initial weights.
 */
import * as tf from '@tensorflow/tfjs';
import { convInputGradient } from '../model/kernel-fixes';
import { createRng, deriveSeed } from '../random';
import { LabError } from '../types';
import { batchNormInference, batchNormTrain, BN_EPSILON, type BatchStats } from './batchnorm';

export type ArchName = 'mlp' | 'small' | 'medium' | 'resnet';
export const ARCH_NAMES: readonly ArchName[] = ['mlp', 'small', 'medium', 'resnet'];

/** One node of the graph; `input`/`inputs` name earlier nodes ('input' is the image). */
export type ArchNode =
  | { kind: 'conv'; name: string; input: string; filters: number; kernel: number; stride: number; pad: number; bias: boolean }
  | { kind: 'bn'; name: string; input: string }
  | { kind: 'relu'; name: string; input: string }
  | { kind: 'flatten'; name: string; input: string }
  | { kind: 'dense'; name: string; input: string; units: number }
  | { kind: 'add'; name: string; inputs: [string, string] }
  | { kind: 'gap'; name: string; input: string };

export interface ArchSpec {
  name: ArchName;
  /** [H, W, C] of the images. */
  inputShape: [number, number, number];
  numClasses: number;
  nodes: ArchNode[];
}

/** PyTorch's symmetric padding equals tfjs's 'same' only for stride 1 and an odd kernel with pad (k−1)/2. */
export function isSamePadding(node: { kernel: number; stride: number; pad: number }): boolean {
  return node.stride === 1 && node.kernel % 2 === 1 && node.pad === (node.kernel - 1) / 2;
}

/** Build the node list of an architecture for images of `inputShape` and `numClasses` classes. */
export function buildArch(name: ArchName, inputShape: [number, number, number], numClasses: number): ArchSpec {
  const nodes: ArchNode[] = [];
  // Keras-style unique activation names (relu, relu_1, …) as the exporter writes them.
  const used = new Map<string, number>();
  const unique = (base: string) => {
    const k = used.get(base) ?? 0;
    used.set(base, k + 1);
    return k === 0 ? base : `${base}_${k}`;
  };
  let last = 'input';
  const conv = (n: string, filters: number, kernel: number, stride: number, pad: number, bias = true, input = last) => {
    nodes.push({ kind: 'conv', name: n, input, filters, kernel, stride, pad, bias });
    return n;
  };
  const relu = (prefix = '', input = last) => {
    const n = unique(`${prefix}relu`);
    nodes.push({ kind: 'relu', name: n, input });
    return n;
  };
  const dense = (n: string, units: number) => {
    nodes.push({ kind: 'dense', name: n, input: last, units });
    return n;
  };
  const bn = (n: string, input: string) => {
    nodes.push({ kind: 'bn', name: n, input });
    return n;
  };
  const flatten = () => {
    nodes.push({ kind: 'flatten', name: 'flatten', input: last });
    return 'flatten';
  };
  switch (name) {
    case 'mlp':
      last = flatten();
      last = dense('fc1', 256);
      last = relu();
      last = dense('fc2', 256);
      last = relu();
      last = dense('fc3', numClasses);
      break;
    case 'small':
      last = conv('conv1', 16, 4, 2, 1);
      last = relu();
      last = conv('conv2', 32, 4, 1, 1);
      last = relu();
      last = flatten();
      last = dense('fc1', 100);
      last = relu();
      last = dense('fc2', numClasses);
      break;
    case 'medium':
      last = conv('conv1', 32, 3, 1, 1);
      last = relu();
      last = conv('conv2', 32, 4, 2, 1);
      last = relu();
      last = conv('conv3', 64, 3, 1, 1);
      last = relu();
      last = conv('conv4', 64, 4, 2, 1);
      last = relu();
      last = flatten();
      last = dense('fc1', 512);
      last = relu();
      last = dense('fc2', 512);
      last = relu();
      last = dense('fc3', numClasses);
      break;
    case 'resnet': {
      last = conv('conv1', 16, 3, 1, 1, false);
      last = bn('bn1', last);
      last = relu();
      let cin = 16;
      for (const [i, cout] of [16, 32, 64].entries()) {
        const p = `stage${i + 1}.block1`;
        const stride = i === 0 ? 1 : 2;
        const blockIn = last;
        let out = conv(`${p}.conv1`, cout, 3, stride, 1, false, blockIn);
        out = bn(`${p}.bn1`, out);
        out = relu(`${p}.`, out);
        out = conv(`${p}.conv2`, cout, 3, 1, 1, false, out);
        out = bn(`${p}.bn2`, out);
        let shortcut = blockIn;
        if (stride !== 1 || cin !== cout) {
          shortcut = conv(`${p}.shortcut.conv`, cout, 1, stride, 0, false, blockIn);
          shortcut = bn(`${p}.shortcut.bn`, shortcut);
        }
        nodes.push({ kind: 'add', name: `${p}.add`, inputs: [out, shortcut] });
        last = relu(`${p}.`, `${p}.add`);
        cin = cout;
      }
      nodes.push({ kind: 'gap', name: 'pool', input: last });
      last = 'pool';
      last = dense('fc', numClasses);
      break;
    }
    default:
      throw new LabError(`unknown architecture "${name}" (one of ${ARCH_NAMES.join(', ')})`);
  }
  return { name, inputShape, numClasses, nodes };
}

/** A weight of the network: Keras name (`conv1/kernel`), shape, and whether the optimiser updates it. */
export interface WeightInfo {
  name: string;
  shape: number[];
  trainable: boolean;
}

/** Output shape [H, W, C] or [F] of every node, and every weight in Keras manifest order. */
export function describeArch(spec: ArchSpec): { shapes: Map<string, number[]>; weights: WeightInfo[] } {
  const shapes = new Map<string, number[]>([['input', [...spec.inputShape]]]);
  const weights: WeightInfo[] = [];
  const shapeOf = (n: string) => {
    const s = shapes.get(n);
    if (!s) throw new LabError(`architecture ${spec.name}: node input "${n}" is not defined before use`);
    return s;
  };
  for (const node of spec.nodes) {
    if (node.kind === 'add') {
      const [a, b] = node.inputs.map(shapeOf);
      if (a.join() !== b.join()) throw new LabError(`architecture ${spec.name}: ${node.name} adds [${a}] and [${b}]`);
      shapes.set(node.name, a);
      continue;
    }
    const s = shapeOf(node.input);
    switch (node.kind) {
      case 'conv': {
        const [h, w, c] = s;
        const out = (x: number) => Math.floor((x + 2 * node.pad - node.kernel) / node.stride) + 1;
        shapes.set(node.name, [out(h), out(w), node.filters]);
        weights.push({ name: `${node.name}/kernel`, shape: [node.kernel, node.kernel, c, node.filters], trainable: true });
        if (node.bias) weights.push({ name: `${node.name}/bias`, shape: [node.filters], trainable: true });
        break;
      }
      case 'bn': {
        const c = s[s.length - 1];
        shapes.set(node.name, s);
        weights.push(
          { name: `${node.name}/gamma`, shape: [c], trainable: true },
          { name: `${node.name}/beta`, shape: [c], trainable: true },
          { name: `${node.name}/moving_mean`, shape: [c], trainable: false },
          { name: `${node.name}/moving_variance`, shape: [c], trainable: false },
        );
        break;
      }
      case 'relu':
        shapes.set(node.name, s);
        break;
      case 'flatten':
        shapes.set(node.name, [s.reduce((a, b) => a * b, 1)]);
        break;
      case 'gap':
        shapes.set(node.name, [s[s.length - 1]]);
        break;
      case 'dense':
        if (s.length !== 1) throw new LabError(`architecture ${spec.name}: ${node.name} needs a flat input, got [${s}]`);
        shapes.set(node.name, [node.units]);
        weights.push({ name: `${node.name}/kernel`, shape: [s[0], node.units], trainable: true }, { name: `${node.name}/bias`, shape: [node.units], trainable: true });
        break;
    }
  }
  return { shapes, weights };
}

/** fan_in of a weight as PyTorch counts it: inputs per output unit (kernel h·w·c_in, or dense inputs). */
function fanIn(spec: ArchSpec, weights: WeightInfo[], w: WeightInfo): number {
  const layer = w.name.split('/')[0];
  const kernel = weights.find((k) => k.name === `${layer}/kernel`);
  if (!kernel) throw new LabError(`architecture ${spec.name}: ${w.name} has no kernel`);
  return kernel.shape.slice(0, -1).reduce((a, b) => a * b, 1);
}

/** The initial value of every weight, by name (PyTorch's default initialisation, seeded per tensor). */
export function initialWeights(spec: ArchSpec, seed: number): Map<string, Float32Array> {
  const { weights } = describeArch(spec);
  const out = new Map<string, Float32Array>();
  for (const w of weights) {
    const size = w.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    const kind = w.name.split('/')[1];
    if (kind === 'gamma' || kind === 'moving_variance') values.fill(1);
    else if (kind === 'kernel' || kind === 'bias') {
      const bound = 1 / Math.sqrt(fanIn(spec, weights, w));
      const rng = createRng(deriveSeed(seed, `init:${w.name}`));
      for (let i = 0; i < size; i++) values[i] = (2 * rng.next() - 1) * bound;
    }
    out.set(w.name, values);
  }
  return out;
}

/**
 * How BatchNorm normalises in a forward pass:
 *  - 'train': batch statistics, and the batch mean and variance are reported (to update the
 *    running statistics after the step, as PyTorch's train mode does on every forward);
 *  - 'batch': batch statistics without touching the running ones (attack generation in
 *    training mode; see methods.ts);
 *  - 'eval': running statistics (inference, the probe, TRADES's inner maximisation).
 */
export type BnMode = 'train' | 'batch' | 'eval';

/** A network's weights as variables, and its forward pass. */
export interface Net {
  spec: ArchSpec;
  weights: WeightInfo[];
  /** Every weight by Keras name; BatchNorm running statistics are non-trainable variables. */
  variables: Map<string, tf.Variable>;
  /** The optimiser's variables, in manifest order. */
  trainable: tf.Variable[];
  /**
   * Logits of NHWC images. With mode 'train', each BatchNorm layer's batch statistics are
   * pushed onto `stats` (kept out of any tidy scope: the caller disposes them).
   */
  forward(images: tf.Tensor4D, mode: BnMode, stats?: BatchStats[]): tf.Tensor2D;
  /** Every weight's current value by name (a readback, for export and tests). */
  read(): Promise<Map<string, Float32Array>>;
  dispose(): void;
}

/**
 * A 'valid' convolution (the input already padded) with the trainer's own gradients. The
 * kernel gradient is k² matrix products instead of tfjs's Conv2DBackpropFilter kernel, which
 * the CPU backend runs as a naive loop (~50 s for one batch of 128 through the small CNN,
 * measured on this machine, against well under a second this way), and which WASM lacks
 * altogether. For kernel offset (i, j): ∂L/∂W[i, j] = X_ijᵀ · dY, X_ij the input rows the offset
 * reads (a strided slice, [B·Ho·Wo, C_in]) and dY the output gradient ([B·Ho·Wo, C_out]). The
 * input gradient is the lab's (convInputGradient in src/core/model/kernel-fixes.ts: on WASM,
 * forward convolutions instead of tfjs's slow Conv2DBackpropInput loop). With `kernelGrad`
 * false (the attack steps of adversarial training and the probes, which only need ∂L/∂x) the
 * kernel is a constant of the gradient and its k² products are never computed (a custom
 * gradient computes every input's gradient, used or not). Together these took PGD-10 AT of the
 * small CNN on WASM from 18 to 91 images/s (batch 256, Node), with the same weights byte for
 * byte. Padding applied before the call (tf.pad) makes PyTorch's symmetric padding exact for
 * every stride and kernel size.
 */
export function convValid(x: tf.Tensor4D, kernel: tf.Tensor4D, stride: number, kernelGrad = true): tf.Tensor4D {
  const inputShape = x.shape;
  if (!kernelGrad) {
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const input = args[0] as tf.Tensor4D;
      return {
        value: tf.conv2d(input, kernel, stride, 'valid'),
        gradFunc: (dy: tf.Tensor) => convInputGradient(inputShape, dy as tf.Tensor4D, kernel, stride, 'valid'),
      };
    });
    return f(x) as tf.Tensor4D;
  }
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, w, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([input, w]);
    return {
      value: tf.conv2d(input as tf.Tensor4D, w as tf.Tensor4D, stride, 'valid'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const [b, , , cin] = xs.shape;
        const [kh, kw, , cout] = ws.shape;
        const [, ho, wo] = dy.shape as [number, number, number, number];
        const dyRows = tf.reshape(dy, [b * ho * wo, cout]) as tf.Tensor2D;
        const parts: tf.Tensor[] = [];
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const patch = tf.stridedSlice(xs, [0, i, j, 0], [b, i + stride * (ho - 1) + 1, j + stride * (wo - 1) + 1, cin], [1, stride, stride, 1]);
            // Transposed explicitly: WASM's matMul with a transpose flag is ~10× slower (denseMatMul).
            parts.push(tf.matMul(tf.transpose(tf.reshape(patch, [b * ho * wo, cin])) as tf.Tensor2D, dyRows));
          }
        }
        const dw = tf.reshape(tf.stack(parts), [kh, kw, cin, cout]);
        return [convInputGradient(inputShape, dy as tf.Tensor4D, ws, stride, 'valid'), dw];
      },
    };
  });
  return f(x, kernel) as tf.Tensor4D;
}

/**
 * x·W for a dense layer with the trainer's own gradients: ∂L/∂x = dY·Wᵀ and ∂L/∂W = xᵀ·dY with
 * the transposes made explicit. tfjs's own MatMul gradient passes transpose flags instead,
 * which WASM's BatchMatMul runs as a slow loop: 98 ms for dY·Wᵀ of the small CNN's fc1 at batch
 * 256 on this machine, against 0.3 + 7.9 ms transposing first (xᵀ·dY: 96 against 5.6 + 8.3).
 * With `kernelGrad` false (attack steps and probes) W is a constant of the gradient.
 */
export function denseMatMul(x: tf.Tensor2D, kernel: tf.Tensor2D, kernelGrad = true): tf.Tensor2D {
  if (!kernelGrad) {
    const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
      value: tf.matMul(args[0] as tf.Tensor2D, kernel),
      gradFunc: (dy: tf.Tensor) => tf.matMul(dy as tf.Tensor2D, tf.transpose(kernel)),
    }));
    return f(x) as tf.Tensor2D;
  }
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, w, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
    save([input, w]);
    return {
      value: tf.matMul(input, w),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [tf.matMul(dy as tf.Tensor2D, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy as tf.Tensor2D)];
      },
    };
  });
  return f(x, kernel) as tf.Tensor2D;
}

let netCounter = 0;

/** Variables for `spec`, filled from `values` (e.g. initialWeights), and the forward pass over them. */
export function createNet(spec: ArchSpec, values: Map<string, Float32Array>): Net {
  const { weights } = describeArch(spec);
  // Variable names are global in tfjs: a per-net prefix lets several nets (two runs side by side) coexist.
  const prefix = `train${netCounter++}`;
  const variables = new Map<string, tf.Variable>();
  for (const w of weights) {
    const v = values.get(w.name);
    if (!v || v.length !== w.shape.reduce((a, b) => a * b, 1)) throw new LabError(`architecture ${spec.name}: no initial value of the right size for ${w.name}`);
    const initial = tf.tensor(v, w.shape, 'float32');
    variables.set(w.name, tf.variable(initial, w.trainable, `${prefix}/${w.name}`));
    initial.dispose(); // the variable holds its own reference to the data
  }
  const get = (name: string) => variables.get(name) as tf.Variable;
  const trainable = weights.filter((w) => w.trainable).map((w) => get(w.name));

  const forward = (images: tf.Tensor4D, mode: BnMode, stats?: BatchStats[]): tf.Tensor2D => {
    const out = new Map<string, tf.Tensor>([['input', images]]);
    const at = (n: string) => out.get(n) as tf.Tensor;
    for (const node of spec.nodes) {
      let y: tf.Tensor;
      switch (node.kind) {
        case 'conv': {
          let x = at(node.input) as tf.Tensor4D;
          if (node.pad > 0) x = tf.pad(x, [[0, 0], [node.pad, node.pad], [node.pad, node.pad], [0, 0]]);
          const kernel = get(`${node.name}/kernel`) as tf.Tensor4D;
          y = convValid(x, kernel, node.stride, mode === 'train');
          if (node.bias) y = tf.add(y, get(`${node.name}/bias`));
          break;
        }
        case 'bn': {
          const p = (k: string) => get(`${node.name}/${k}`);
          if (mode === 'eval') y = batchNormInference(at(node.input), p('moving_mean'), p('moving_variance'), p('gamma'), p('beta'));
          else {
            const r = batchNormTrain(at(node.input), p('gamma'), p('beta'), mode === 'train' ? node.name : null);
            y = r.y;
            if (r.stats) stats?.push(r.stats);
          }
          break;
        }
        case 'relu':
          y = tf.relu(at(node.input));
          break;
        case 'flatten':
          y = tf.reshape(at(node.input), [images.shape[0], -1]);
          break;
        case 'gap':
          y = tf.mean(at(node.input), [1, 2]);
          break;
        case 'dense':
          y = tf.add(denseMatMul(at(node.input) as tf.Tensor2D, get(`${node.name}/kernel`) as tf.Tensor2D, mode === 'train'), get(`${node.name}/bias`));
          break;
        case 'add':
          y = tf.add(at(node.inputs[0]), at(node.inputs[1]));
          break;
      }
      out.set(node.name, y);
    }
    return at(spec.nodes[spec.nodes.length - 1].name) as tf.Tensor2D;
  };

  return {
    spec,
    weights,
    variables,
    trainable,
    forward,
    async read() {
      const m = new Map<string, Float32Array>();
      for (const w of weights) m.set(w.name, (await get(w.name).data()) as Float32Array);
      return m;
    },
    dispose() {
      for (const v of variables.values()) v.dispose();
    },
  };
}

export { BN_EPSILON };
