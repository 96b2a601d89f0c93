/**
 * A trained network as tfjs model files, laid out like the zoo's (public/models/<id>/):
 * `model.json` (a Keras functional topology, the layer names and explicit padding layers of
 * tools/zoo/export.py), one weight shard `group1-shard1of1.bin` (little-endian float32 in
 * manifest order), and `card.json` with the recipe, the seed and the last probe's numbers. The
 * lab's loader (src/core/model) reads them back like any zoo model, in the lab and the CLI.
 *
 * Pure: returns the files' contents; the CLI writes them, the lab offers them as downloads.
 */
import * as tf from '@tensorflow/tfjs';
import { isSamePadding, type ArchSpec, type Net } from './arch';
import { BN_EPSILON } from './batchnorm';
import type { TrainValues } from './definition';
import type { ProbeMetrics } from './trainer';

export const WEIGHTS_FILE = 'group1-shard1of1.bin';

interface KerasLayer {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: [string, number, number, Record<string, never>][][];
}

/** The Keras topology (model_config) of an architecture; the final node's output is the logits. */
export function kerasTopology(spec: ArchSpec, modelName: string): Record<string, unknown> {
  const [h, w, c] = spec.inputShape;
  const layers: KerasLayer[] = [{ class_name: 'InputLayer', name: 'input', config: { batch_input_shape: [null, h, w, c], dtype: 'float32', sparse: false, name: 'input' }, inbound_nodes: [] }];
  const add = (cls: string, name: string, config: Record<string, unknown>, inputs: string[]) => {
    layers.push({ class_name: cls, name, config: { name, trainable: true, ...config }, inbound_nodes: [inputs.map((s) => [s, 0, 0, {}])] });
  };
  for (const node of spec.nodes) {
    switch (node.kind) {
      case 'conv': {
        const same = isSamePadding(node);
        let src = node.input;
        if (!same && node.pad > 0) {
          // tfjs 'same' pads asymmetrically for stride > 1 or even kernels; PyTorch's symmetric padding is an explicit layer.
          add('ZeroPadding2D', `${node.name}.pad`, { padding: [[node.pad, node.pad], [node.pad, node.pad]], data_format: 'channels_last' }, [src]);
          src = `${node.name}.pad`;
        }
        add('Conv2D', node.name, {
          filters: node.filters, kernel_size: [node.kernel, node.kernel], strides: [node.stride, node.stride], padding: same ? 'same' : 'valid',
          data_format: 'channels_last', dilation_rate: [1, 1], activation: 'linear', use_bias: node.bias,
        }, [src]);
        break;
      }
      case 'bn':
        // Keras's momentum is the weight of the old value (PyTorch's 0.1 → 0.99, as export.py writes); inference ignores it.
        add('BatchNormalization', node.name, { axis: -1, momentum: 0.99, epsilon: BN_EPSILON, center: true, scale: true }, [node.input]);
        break;
      case 'relu':
        add('Activation', node.name, { activation: 'relu' }, [node.input]);
        break;
      case 'flatten':
        add('Flatten', node.name, { data_format: 'channels_last' }, [node.input]);
        break;
      case 'gap':
        add('GlobalAveragePooling2D', node.name, { data_format: 'channels_last' }, [node.input]);
        break;
      case 'dense':
        add('Dense', node.name, { units: node.units, activation: 'linear', use_bias: true }, [node.input]);
        break;
      case 'add':
        add('Add', node.name, {}, [...node.inputs]);
        break;
    }
  }
  const last = spec.nodes[spec.nodes.length - 1].name;
  return {
    class_name: 'Model',
    config: { name: modelName, layers, input_layers: [['input', 0, 0]], output_layers: [[last, 0, 0]] },
    keras_version: `tfjs-layers ${tf.version.tfjs}`,
    backend: 'tensor_flow.js',
  };
}

/** What the card records besides the recipe. */
export interface CardInfo {
  id: string;
  label: string;
  /** The data the model was trained on (e.g. "mnist-train"). */
  dataset: string;
  classNames: string[];
  recipe: TrainValues;
  stepsDone: number;
  epochsDone: number;
  backend: string;
  seconds: number;
  /** The last probe's numbers, if a probe ran. */
  lastProbe?: ProbeMetrics;
  /** The `layerwise train …` command that reproduces the run. */
  command?: string;
}

export interface ModelFiles {
  /** File name → contents: model.json and card.json as text, the shard as bytes. */
  files: Record<string, string | Uint8Array>;
}

/** The model files of `net`'s current weights. */
export async function exportModelFiles(net: Net, info: CardInfo): Promise<ModelFiles> {
  const values = await net.read();
  const total = net.weights.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
  const shard = new Float32Array(total);
  let offset = 0;
  for (const w of net.weights) {
    const v = values.get(w.name) as Float32Array;
    shard.set(v, offset);
    offset += v.length;
  }
  // Float32Array is platform-endian; every platform tfjs runs on is little-endian, as the format requires.
  const bytes = new Uint8Array(shard.buffer);
  const modelJson = {
    format: 'layers-model',
    generatedBy: 'layerwise src/core/train',
    convertedBy: null,
    modelTopology: kerasTopology(net.spec, info.id),
    weightsManifest: [{ paths: [WEIGHTS_FILE], weights: net.weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' })) }],
  };
  const r = info.recipe;
  const robust = r.method !== 'standard';
  const card = {
    id: info.id,
    label: info.label,
    dataset: info.dataset,
    inputShape: net.spec.inputShape,
    numClasses: net.spec.numClasses,
    classNames: info.classNames,
    architecture: r.arch,
    parameterCount: net.weights.filter((w) => w.trainable).reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0),
    training: {
      method: r.method,
      norm: robust ? r.norm : null,
      eps: robust ? r.eps : null,
      epsRampEpochs: robust ? r.epsRamp : null,
      steps: r.method === 'pgd' || r.method === 'trades' ? r.steps : r.method === 'fgsm-rs' ? 1 : null,
      stepSize: robust ? (r.stepSize > 0 ? r.stepSize : 'auto') : null,
      beta: r.method === 'trades' ? r.beta : null,
      epochs: r.epochs,
      maxSteps: r.maxSteps,
      optimizer: r.optimizer === 'sgd' ? `SGD(lr=${r.lr}, momentum=${r.momentum}${r.nesterov ? ', nesterov' : ''}, weight_decay=${r.weightDecay})` : `Adam(lr=${r.lr}, weight_decay=${r.weightDecay})`,
      lrSchedule: r.schedule,
      batchSize: r.batch,
      augmentation: null,
    },
    recipe: r,
    seed: r.seed,
    stepsDone: info.stepsDone,
    epochsDone: info.epochsDone,
    backend: info.backend,
    tfjs: tf.version.tfjs,
    wallTimeSeconds: +info.seconds.toFixed(1),
    ...(info.lastProbe ? { probe: info.lastProbe } : {}),
    ...(info.command ? { command: info.command } : {}),
  };
  return { files: { 'model.json': JSON.stringify(modelJson), [WEIGHTS_FILE]: bytes, 'card.json': JSON.stringify(card, null, 2) + '\n' } };
}
