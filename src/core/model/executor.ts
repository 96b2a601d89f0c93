/**
 * A gradient-friendly forward pass of a tfjs LayersModel built from plain (non-fused) ops.
 *
 * Why: tfjs-layers runs Conv2D and Dense through fused kernels whose gradient is a
 * customGrad that always computes the weight gradients too. Attacks only need the input
 * gradient, so with fused layers every attack step also pays for a filter gradient it
 * throws away, and on the WASM backend (which has no Conv2DBackpropFilter kernel) input
 * gradients fail outright. With plain ops the tape computes only what leads to the input.
 *
 * Layers it does not know are run through `layer.apply` on concrete tensors, which is
 * still correct, only not as lean.
 *
 * Gradients: `./gradients` replaces tfjs's gradients that are wrong or missing on some
 * backend (max pooling on WASM, dilated and depthwise convolutions); importing it here
 * installs them before any model is differentiated. Its `sumOf` keeps AddN within what
 * WebGPU computes correctly.
 */
import * as tf from '@tensorflow/tfjs';
import { sumOf } from './kernel-fixes';

type LayerFn = (inputs: tf.Tensor[]) => tf.Tensor;

interface LayerWithConfig {
  name: string;
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  weights: { originalName: string; read(): tf.Tensor }[];
  apply(inputs: tf.Tensor | tf.Tensor[], kwargs?: Record<string, unknown>): tf.Tensor | tf.Tensor[];
  input: tf.SymbolicTensor | tf.SymbolicTensor[];
  output: tf.SymbolicTensor | tf.SymbolicTensor[];
}

const ACTIVATIONS: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  linear: (x) => x,
  relu: (x) => tf.relu(x),
  relu6: (x) => tf.relu6(x),
  elu: (x) => tf.elu(x),
  selu: (x) => tf.selu(x),
  sigmoid: (x) => tf.sigmoid(x),
  tanh: (x) => tf.tanh(x),
  softmax: (x) => tf.softmax(x),
  softplus: (x) => tf.softplus(x),
  swish: (x) => tf.mul(x, tf.sigmoid(x)),
};

function activation(name: unknown): ((x: tf.Tensor) => tf.Tensor) | null {
  return ACTIVATIONS[(name as string | undefined) ?? 'linear'] ?? null;
}

function weight(layer: LayerWithConfig, suffix: string): tf.Tensor | null {
  const w = layer.weights.find((v) => v.originalName.endsWith(`/${suffix}`));
  return w ? w.read() : null;
}

const pair = (v: unknown): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v as number, v as number]);

/** A plain-op implementation of one layer, or null when unsupported. */
function planLayer(layer: LayerWithConfig, owned: tf.Tensor[]): LayerFn | null {
  const c = layer.getConfig();
  if (c.data_format === 'channels_first' || c.dataFormat === 'channelsFirst') return null;
  switch (layer.getClassName()) {
    case 'Conv2D': {
      const act = activation(c.activation);
      const kernel = weight(layer, 'kernel');
      if (!act || !kernel || (c.groups as number | undefined ?? 1) !== 1) return null;
      const bias = c.useBias === false ? null : weight(layer, 'bias');
      const strides = pair(c.strides ?? 1);
      const dilations = pair(c.dilationRate ?? 1);
      const padding = (c.padding as 'same' | 'valid') ?? 'valid';
      return ([x]) => {
        let y = tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, strides, padding, 'NHWC', dilations);
        if (bias) y = tf.add(y, bias);
        return act(y);
      };
    }
    case 'Dense': {
      const act = activation(c.activation);
      const kernel = weight(layer, 'kernel');
      if (!act || !kernel) return null;
      const bias = c.useBias === false ? null : weight(layer, 'bias');
      return ([x]) => {
        if (x.rank !== 2) throw new Error('Dense on rank > 2');
        let y = tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D);
        if (bias) y = tf.add(y, bias);
        return act(y);
      };
    }
    case 'Activation': {
      const act = activation(c.activation);
      return act ? ([x]) => act(x) : null;
    }
    case 'ReLU': {
      const max = c.maxValue as number | null | undefined;
      return ([x]) => (max == null ? tf.relu(x) : tf.clipByValue(x, 0, max));
    }
    case 'Softmax':
      return ([x]) => tf.softmax(x);
    case 'Flatten':
      return ([x]) => tf.reshape(x, [x.shape[0], -1]);
    case 'Reshape':
      return ([x]) => tf.reshape(x, [x.shape[0], ...(c.targetShape as number[])]);
    case 'Dropout':
    case 'SpatialDropout2D':
    case 'GaussianNoise':
    case 'GaussianDropout':
      return ([x]) => x;
    case 'ZeroPadding2D': {
      const p = c.padding as number | [number, number] | [[number, number], [number, number]];
      const rows: [number, number] = Array.isArray(p) ? (Array.isArray(p[0]) ? (p[0] as [number, number]) : [p[0] as number, p[0] as number]) : [p, p];
      const cols: [number, number] = Array.isArray(p) ? (Array.isArray(p[1]) ? (p[1] as [number, number]) : [p[1] as number, p[1] as number]) : [p, p];
      return ([x]) => tf.pad(x, [[0, 0], rows, cols, [0, 0]]);
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const size = pair(c.poolSize ?? 2);
      const strides = pair(c.strides ?? c.poolSize ?? 2);
      const padding = (c.padding as 'same' | 'valid') ?? 'valid';
      const max = layer.getClassName() === 'MaxPooling2D';
      return ([x]) => (max ? tf.maxPool(x as tf.Tensor4D, size, strides, padding) : tf.avgPool(x as tf.Tensor4D, size, strides, padding));
    }
    case 'GlobalAveragePooling2D':
      return ([x]) => tf.mean(x, [1, 2]);
    case 'GlobalMaxPooling2D':
      // One max-pool window over the whole map rather than tf.max: its gradient (kernel-fixes.ts)
      // goes to the first maximum as PyTorch's adaptive max pooling does; tf.max's goes to every tie.
      return ([x]) => {
        const [n, h, w, ch] = x.shape;
        return tf.reshape(tf.maxPool(x as tf.Tensor4D, [h, w], [h, w], 'valid'), [n, ch]);
      };
    case 'BatchNormalization': {
      const axis = (c.axis as number | number[] | undefined) ?? -1;
      if (axis !== -1 && axis !== 3 && !(Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === 3))) return null;
      const mean = weight(layer, 'moving_mean');
      const variance = weight(layer, 'moving_variance');
      if (!mean || !variance) return null;
      const gamma = c.scale === false ? null : weight(layer, 'gamma');
      const beta = c.center === false ? null : weight(layer, 'beta');
      const eps = (c.epsilon as number | undefined) ?? 1e-3;
      // Inference mode folds into one scale and shift per channel.
      const scale = tf.tidy(() => tf.keep(tf.mul(tf.rsqrt(tf.add(variance, eps)), gamma ?? 1)));
      const shift = tf.tidy(() => tf.keep(tf.sub(beta ?? 0, tf.mul(mean, scale))));
      owned.push(scale, shift);
      return ([x]) => tf.add(tf.mul(x, scale), shift);
    }
    case 'Add':
      return (xs) => sumOf(xs);
    case 'Concatenate': {
      const axis = (c.axis as number | undefined) ?? -1;
      return (xs) => tf.concat(xs, axis);
    }
    default:
      return null;
  }
}

export interface PlainExecutor {
  /** Forward pass from the model input to `output`; call inside tidy/grad. */
  run(x: tf.Tensor, output: tf.SymbolicTensor): tf.Tensor;
  /** Layers run through layer.apply because no plain-op version exists. */
  fallbackLayers: string[];
  dispose(): void;
}

/**
 * Build the executor. `extraLayers` are layers applied on top of the model graph (e.g. a
 * linear copy of a softmax Dense) that `output` may come from.
 */
export function createPlainExecutor(model: tf.LayersModel, extraLayers: tf.layers.Layer[] = []): PlainExecutor {
  const layers = [...model.layers, ...extraLayers] as unknown as LayerWithConfig[];
  const plans = new Map<LayerWithConfig, LayerFn | null>();
  const folded: tf.Tensor[] = [];
  const fallbackLayers: string[] = [];
  for (const layer of layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const plan = planLayer(layer, folded);
    plans.set(layer, plan);
    if (!plan) fallbackLayers.push(layer.name);
  }
  const inputSymbol = model.inputs[0];
  // Each layer's output symbol → the layer producing it, for a demand-driven walk.
  const producer = new Map<tf.SymbolicTensor, LayerWithConfig>();
  for (const layer of layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const outs = Array.isArray(layer.output) ? layer.output : [layer.output];
    for (const o of outs) producer.set(o, layer);
  }
  return {
    fallbackLayers,
    run(x, output) {
      const values = new Map<tf.SymbolicTensor, tf.Tensor>([[inputSymbol, x]]);
      const evaluate = (symbol: tf.SymbolicTensor): tf.Tensor => {
        const known = values.get(symbol);
        if (known) return known;
        const layer = producer.get(symbol);
        if (!layer) throw new Error(`no layer produces ${symbol.name}`);
        const ins = (Array.isArray(layer.input) ? layer.input : [layer.input]).map(evaluate);
        const plan = plans.get(layer);
        const out = plan ? plan(ins) : (layer.apply(ins.length === 1 ? ins[0] : ins, { training: false }) as tf.Tensor);
        values.set(symbol, out);
        return out;
      };
      return evaluate(output);
    },
    dispose() {
      tf.dispose(folded);
    },
  };
}
