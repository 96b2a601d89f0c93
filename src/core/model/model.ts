/**
 * A loaded model as the lab sees it: a logits function (attacks and analyses always use
 * logits; attacks on softmax probabilities mask gradients, spec attacks.md §0), the list
 * of layers that can be tapped, and a tap function returning several layers'
 * activations in one forward pass.
 *
 * Works for tfjs LayersModels (Sequential or functional) and GraphModels.
 */
import * as tf from '@tensorflow/tfjs';
import { LabError } from '../types';
import { escapeControl, quoteName } from '../text';
import { loadModelArtifacts, type ReadModelFile } from './artifacts';
import { createPlainExecutor } from './executor';
import { gradientStepBytesPerImage } from './stepMemory';
// GraphModels differentiate through tfjs's ops directly: they need the lab's gradients too.
import './kernel-fixes';
import { MAX_INPUT_ELEMENTS } from './validate';

export interface LayerInfo {
  /** Layer (LayersModel) or node (GraphModel) name. */
  name: string;
  /** Keras class name (Conv2D, Dense, …) or graph op. */
  className: string;
  /** Output shape without the batch dimension. */
  outputShape: number[];
  /** Floats per sample in the output. */
  size: number;
  /** Trainable + non-trainable parameter count. */
  params: number;
  /** Trainable parameters only (what PyTorch and the zoo cards count: no BatchNorm running statistics). */
  trainableParams: number;
  /** Whether the lab taps it by default (feature layers, not bookkeeping ones). */
  defaultTap: boolean;
}

export interface LabModel {
  kind: 'layers' | 'graph' | 'onnx';
  /** Expected image shape [H, W, C] after adaptation. */
  imageShape: [number, number, number] | null;
  /** The model's own input shape without the batch dimension. */
  inputShape: number[];
  /** True when the model takes flat [null, H*W*C] vectors. */
  flatInput: boolean;
  numClasses: number;
  layers: LayerInfo[];
  /** Name of the layer whose output is used as logits. */
  logitsLayer: string;
  /** Set when the model ends in softmax and the lab reads the layer before it instead. */
  softmaxNote: string | null;
  /**
   * Names of the model's classes (name i is logit i) when the user gave them with the model
   * (labels.txt or a JSON list: classNames.ts); otherwise the data's names are shown.
   */
  classNames?: string[] | null;
  /** Logits for a batch of NHWC images in [0, 1]. Caller owns the result. */
  logits(images: tf.Tensor4D): tf.Tensor2D;
  /** Activations of `layerNames` (in that order) plus logits last, in one pass. */
  tap(images: tf.Tensor4D, layerNames: string[]): tf.Tensor[];
  dispose(): void;
}

const BOOKKEEPING_LAYERS = new Set(['InputLayer', 'Dropout', 'ZeroPadding2D', 'Reshape', 'Flatten', 'Softmax']);

/**
 * Bytes one sample takes in a gradient step, by the model's logits function: what the attack
 * runner sizes its batches by (model/stepMemory.ts, the same rule the ONNX importer's
 * load-time estimate uses).
 */
const stepBytes = new WeakMap<LabModel['logits'], number>();

/**
 * Register a model's gradient-step bytes per sample: `bytesPerImage` when the loader knows
 * them (the ONNX importer's estimate), else from its layers: every layer's output kept for
 * the backward pass, the largest of them, and the input.
 */
export function registerActivations<M extends LabModel>(model: M, bytesPerImage?: number): M {
  const sizes = model.layers.map((l) => l.size);
  stepBytes.set(
    model.logits,
    bytesPerImage ??
      gradientStepBytesPerImage({
        keptFloats: sizes.reduce((s, n) => s + n, 0),
        largestFloats: sizes.reduce((m, n) => Math.max(m, n), 0),
        inputFloats: model.inputShape.reduce((a, b) => a * b, 1),
      }),
  );
  return model;
}

/** Gradient-step bytes per sample of the model whose `logits` this is (undefined for other functions). */
export function stepBytesPerImageOf(logits: LabModel['logits']): number | undefined {
  return stepBytes.get(logits);
}

function sizeOf(shape: (number | null)[]): number {
  return shape.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);
}

function isSoftmaxLayer(layer: tf.layers.Layer): boolean {
  const cls = layer.getClassName();
  if (cls === 'Softmax') return true;
  const activation = (layer.getConfig() as { activation?: string }).activation;
  return (cls === 'Activation' || cls === 'Dense' || cls === 'Conv2D') && activation === 'softmax';
}

/** Turn a LayersModel into the lab's model. Takes ownership of `model`. */
export function wrapLayersModel(model: tf.LayersModel): LabModel {
  if (model.inputs.length !== 1) throw new LabError(`model has ${model.inputs.length} inputs; the lab needs exactly one image input`);
  if (model.outputs.length !== 1) throw new LabError(`model has ${model.outputs.length} outputs; the lab needs one output (logits or probabilities)`);
  const inputShape = model.inputs[0].shape.slice(1) as number[];
  if (inputShape.some((d) => d == null)) throw new LabError(`model input shape [${model.inputs[0].shape}] has unknown dimensions; the lab needs fixed H, W, C`);
  const flatInput = inputShape.length === 1;
  if (!flatInput && inputShape.length !== 3) throw new LabError(`model input shape [${inputShape}] is neither [H, W, C] nor flat [H*W*C]`);

  const last = model.layers[model.layers.length - 1];
  let logitsOutput: tf.SymbolicTensor = model.outputs[0];
  let logitsLayer = last.name;
  let softmaxNote: string | null = null;
  const extraLayers: tf.layers.Layer[] = [];
  if (isSoftmaxLayer(last)) {
    const cls = last.getClassName();
    if (cls === 'Dense' || cls === 'Conv2D') {
      // Same weights, linear activation: the logits the softmax would have consumed.
      const config = { ...(last.getConfig() as Record<string, unknown>), activation: 'linear', name: `${last.name}.logits` };
      const linear = cls === 'Dense' ? tf.layers.dense(config as never) : tf.layers.conv2d(config as never);
      logitsOutput = linear.apply(last.input as tf.SymbolicTensor) as tf.SymbolicTensor;
      linear.setWeights(last.getWeights());
      extraLayers.push(linear);
      logitsLayer = `${last.name} (pre-softmax)`;
      softmaxNote = `model ends in softmax (${last.name}); the lab uses its pre-softmax logits`;
    } else {
      logitsOutput = last.input as tf.SymbolicTensor;
      const before = logitsOutput.sourceLayer;
      logitsLayer = before.name;
      softmaxNote = `model ends in softmax (${last.name}); the lab uses the logits of ${before.name}`;
    }
  }
  if (logitsOutput.shape.length !== 2) {
    throw new LabError(`model output shape [${logitsOutput.shape}] is not [batch, classes]`);
  }
  const numClasses = logitsOutput.shape[1] as number;
  if (!(numClasses >= 2)) throw new LabError(`model output shape [${logitsOutput.shape}] has ${numClasses} class; the lab needs at least 2`);
  // Logits through plain ops: input gradients without the weight gradients fused layers
  // always compute (and possible at all on WASM); see executor.ts.
  const executor = createPlainExecutor(model, extraLayers);
  // Internal key of the logits output in tap lists (a layer name cannot contain NUL).
  const logitsLayerName = '\u0000logits';

  const layers: LayerInfo[] = model.layers.map((layer) => {
    const outShape = layer.outputShape as (number | null)[];
    const single = Array.isArray(outShape[0]) ? (outShape[0] as unknown as (number | null)[]) : outShape;
    return {
      name: layer.name,
      className: layer.getClassName(),
      outputShape: single.slice(1).map((d) => d ?? 0),
      size: sizeOf(single),
      params: layer.countParams(),
      trainableParams: layer.trainableWeights.reduce((sum, w) => sum + (w.shape as number[]).reduce((a: number, b: number) => a * b, 1), 0),
      defaultTap: !BOOKKEEPING_LAYERS.has(layer.getClassName()) && !(layer === last && softmaxNote !== null),
    };
  });
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  const tapModels = new Map<string, tf.LayersModel>();

  const adapt = (images: tf.Tensor4D): tf.Tensor => (flatInput ? images.reshape([images.shape[0], -1]) : images);

  return registerActivations({
    kind: 'layers',
    imageShape: flatInput ? null : (inputShape as [number, number, number]),
    inputShape,
    flatInput,
    numClasses,
    layers,
    logitsLayer,
    softmaxNote,
    logits: (images) => tf.tidy(() => executor.run(adapt(images), logitsOutput) as tf.Tensor2D),
    tap(images, layerNames) {
      // One multi-output model per layer list, cached; outputs deduplicated because the
      // logits layer may itself be tapped (a model may not list one tensor twice).
      const wanted = [...layerNames, logitsLayerName];
      const symbolic = wanted.map((n) => {
        if (n === logitsLayerName) return logitsOutput;
        const layer = byName.get(n);
        if (!layer) throw new LabError(`model has no layer named "${n}"`);
        return layer.output as tf.SymbolicTensor;
      });
      const uniqueOutputs = [...new Set(symbolic)];
      const slot = symbolic.map((t) => uniqueOutputs.indexOf(t));
      const key = wanted.join('\u0000');
      let tapModel = tapModels.get(key);
      if (!tapModel) {
        tapModel = tf.model({ inputs: model.inputs, outputs: uniqueOutputs });
        tapModels.set(key, tapModel);
      }
      const m = tapModel;
      return tf.tidy(() => {
        const out = m.apply(adapt(images), { training: false }) as tf.Tensor | tf.Tensor[];
        const list = Array.isArray(out) ? out : [out];
        // Return one tensor per requested name; a duplicate gets its own clone so the
        // caller can dispose every element independently.
        const seen = new Set<number>();
        return slot.map((i) => {
          if (seen.has(i)) return list[i].clone();
          seen.add(i);
          return list[i];
        });
      });
    },
    dispose() {
      executor.dispose();
      model.dispose();
      for (const l of extraLayers) l.dispose();
    },
  });
}

interface GraphNodeDef {
  name: string;
  op: string;
  input?: string[];
}

/** GraphModel.execute returns a bare tensor when asked for one output, even in a list. */
const asList = (out: tf.Tensor | tf.Tensor[]): tf.Tensor[] => (Array.isArray(out) ? out : [out]);

/** Turn a GraphModel into the lab's model; layer shapes come from one probe pass. */
export function wrapGraphModel(model: tf.GraphModel, artifacts: tf.io.ModelArtifacts): LabModel {
  const inputs = model.inputs;
  if (inputs.length !== 1) throw new LabError(`graph model has ${inputs.length} inputs; the lab needs exactly one`);
  const inputShape = (inputs[0].shape ?? []).slice(1);
  if (inputShape.some((d) => d == null || d < 0)) throw new LabError(`graph model input shape [${inputs[0].shape}] has unknown dimensions`);
  // The probe below allocates one input: a signature may declare one larger than memory.
  const inputElements = inputShape.reduce((a, b) => a * (b as number), 1);
  if (inputElements > MAX_INPUT_ELEMENTS) throw new LabError(`graph model input shape [${inputs[0].shape}] has ${inputElements.toExponential(2)} values per sample, more than the limit ${MAX_INPUT_ELEMENTS}`);
  const flatInput = inputShape.length === 1;
  const nodes = ((artifacts.modelTopology as { node?: GraphNodeDef[] }).node ?? []).filter(
    (n) => n.op !== 'Const' && n.op !== 'Placeholder' && n.op !== 'Identity' && n.op !== 'NoOp',
  );
  const outputName = model.outputs[0].name.replace(/:0$/, '');
  const outputNode = nodes.find((n) => n.name === outputName);
  let logitsNode = outputName;
  let softmaxNote: string | null = null;
  if (outputNode && outputNode.op === 'Softmax' && outputNode.input?.length) {
    logitsNode = outputNode.input[0].replace(/:0$/, '');
    softmaxNote = `graph ends in Softmax (${outputName}); the lab uses its input ${logitsNode} as logits`;
  }
  const adapt = (images: tf.Tensor4D): tf.Tensor => (flatInput ? images.reshape([images.shape[0], -1]) : images);
  const probeShape = [1, ...inputShape] as number[];
  const names = nodes.map((n) => n.name);
  const probes = tf.tidy(() => asList(model.execute(tf.zeros(probeShape), names)));
  const layers: LayerInfo[] = nodes.map((n, i) => ({
    name: n.name,
    className: n.op,
    outputShape: probes[i].shape.slice(1),
    size: probes[i].size / Math.max(1, probes[i].shape[0] ?? 1),
    params: 0,
    trainableParams: 0,
    defaultTap: ['Relu', 'Relu6', 'Conv2D', 'MatMul', 'AddV2', 'Add', 'MaxPool', 'AvgPool', 'Mean'].includes(n.op) && n.name !== logitsNode,
  }));
  const logitsIndex = names.indexOf(logitsNode);
  const logitsShape = logitsIndex >= 0 ? probes[logitsIndex].shape : null;
  tf.dispose(probes);
  if (!logitsShape || logitsShape.length !== 2) throw new LabError(`graph output ${logitsNode} has shape [${logitsShape ?? '?'}], not [batch, classes]`);
  const numClasses = logitsShape[1];
  if (numClasses < 2) throw new LabError(`graph output ${logitsNode} has ${numClasses} class; the lab needs at least 2`);
  return registerActivations({
    kind: 'graph',
    imageShape: flatInput ? null : (inputShape as [number, number, number]),
    inputShape,
    flatInput,
    numClasses,
    layers,
    logitsLayer: logitsNode,
    softmaxNote,
    logits: (images) => tf.tidy(() => model.execute(adapt(images), logitsNode) as tf.Tensor2D),
    tap: (images, layerNames) =>
      tf.tidy(() => asList(model.execute(adapt(images), [...layerNames, logitsNode]))),
    dispose: () => model.dispose(),
  });
}

/**
 * Every class_name tfjs knows must be a layer: an activation or initializer name in its place
 * ("relu", "Zeros") deserialises to a non-layer and fails deep in tfjs with a raw TypeError.
 * Unknown names are left to tfjs, whose "Unknown layer" message is already clear.
 */
function checkLayerClasses(topology: Record<string, unknown>, where: string): void {
  const registry = tf.serialization.SerializationMap.getMap().classNameMap;
  const visit = (config: unknown, depth: number): void => {
    const layers = Array.isArray(config) ? config : (config as { layers?: unknown } | null)?.layers;
    if (!Array.isArray(layers) || depth > 8) return;
    for (const layer of layers as { class_name?: unknown; className?: unknown; config?: unknown; name?: unknown }[]) {
      const cls = layer?.class_name ?? layer?.className;
      if (typeof cls !== 'string') continue;
      const entry = registry[cls];
      const proto = entry?.[0]?.prototype as { setFastWeightInitDuringBuild?: unknown } | undefined;
      if (entry && typeof proto?.setFastWeightInitDuringBuild !== 'function') {
        const name = typeof layer.name === 'string' ? layer.name : (layer.config as { name?: unknown } | undefined)?.name;
        throw new LabError(`${where}: layer ${quoteName(name ?? '?')} has class_name ${quoteName(cls)}, which is not a layer class`);
      }
      visit(layer.config, depth + 1);
    }
  };
  const root = (topology.model_config ?? topology) as { config?: unknown };
  visit(root.config, 0);
}

/** Load a model.json (layers or graph) through a file reader and wrap it. */
export async function loadLabModel(modelJsonName: string, read: ReadModelFile, label?: string): Promise<LabModel> {
  const artifacts = await loadModelArtifacts(modelJsonName, read, label);
  const where = label ?? modelJsonName;
  const topology = artifacts.modelTopology as Record<string, unknown>;
  const isGraph = artifacts.format === 'graph-model' || 'node' in topology;
  if (!isGraph) checkLayerClasses(topology, where);
  // tfjs-layers registers the weight variables before it can fail on the rest of the topology,
  // and nothing disposes them then: a failed load frees the variables it registered, so a model
  // that failed leaves no weights behind. (A few decoded weight tensors can still leak on such a
  // failure: tfjs tracks them nowhere this code can reach without an engine scope, and a scope
  // held across the load's awaits could capture and free tensors of a job running meanwhile.)
  const variablesBefore = new Set(Object.keys(tf.engine().registeredVariables));
  try {
    return await buildLabModel(artifacts, isGraph, where);
  } catch (e) {
    for (const [name, v] of Object.entries(tf.engine().registeredVariables)) if (!variablesBefore.has(name)) v.dispose();
    throw e;
  }
}

async function buildLabModel(artifacts: tf.io.ModelArtifacts, isGraph: boolean, where: string): Promise<LabModel> {
  try {
    // A model that loads but cannot be wrapped is freed: a failed model stays unloaded.
    if (isGraph) {
      const graph = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
      try {
        return wrapGraphModel(graph, artifacts);
      } catch (e) {
        graph.dispose();
        throw e;
      }
    }
    const layersModel = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    try {
      return wrapLayersModel(layersModel);
    } catch (e) {
      layersModel.dispose();
      throw e;
    }
  } catch (e) {
    if (e instanceof LabError) throw new LabError(`${where}: ${e.message}`);
    const first = ((e as Error).message ?? String(e)).split('\n')[0];
    throw new LabError(`${where}: cannot build the model (${first})`);
  }
}

/**
 * Check a dataset's image shape against the model before anything runs: no silent
 * resizing or channel conversion.
 */
export function checkInputCompatibility(model: LabModel, image: { height: number; width: number; channels: number; id?: string; classNames?: string[] }): void {
  const what = image.id ? `dataset ${escapeControl(image.id)}` : 'the data';
  // Label i must mean the model's class i; with different class counts it cannot.
  const classes = image.classNames?.length;
  if (classes !== undefined && classes !== model.numClasses) {
    throw new LabError(`model has ${model.numClasses} classes but ${what} has ${classes} (labels would not mean the same classes)`);
  }
  const dims = `${image.height}×${image.width}×${image.channels}`;
  if (model.flatInput) {
    const need = model.inputShape[0];
    if (need !== image.height * image.width * image.channels) {
      throw new LabError(`model expects flat inputs of ${need} values but ${what} has ${dims} = ${image.height * image.width * image.channels} (no silent resizing)`);
    }
    return;
  }
  const [h, w, c] = model.inputShape;
  if (h !== image.height || w !== image.width || c !== image.channels) {
    throw new LabError(`model expects ${h}×${w}×${c} images but ${what} has ${dims} (no silent resizing)`);
  }
}

/** Bytes of activations a tap of `layerNames` needs for `samples` images (float32). */
export function tapBytes(model: LabModel, layerNames: string[], samples: number): number {
  const perSample = layerNames.reduce((s, n) => s + (model.layers.find((l) => l.name === n)?.size ?? 0), 0);
  return perSample * samples * 4;
}
