/**
 * ONNX → LabModel: the graph torch.onnx.export writes, run as plain tfjs ops in NHWC.
 *
 * Why plain ops: attacks need input gradients on every backend, and tfjs's own gradients of
 * plain ops are the ones the kernel-parity suite checks (kernel-fixes.ts replaces the wrong
 * ones globally, so max/avg pooling, dilated and depthwise convolutions here get them too).
 *
 * Layout: ONNX from PyTorch is NCHW; tfjs convolutions and pooling are NHWC. Weights are
 * transposed once at load ([M, C/g, kH, kW] → [kH, kW, C/g, M]) and activations stay NHWC;
 * each value carries whether it is NHWC, and the few ops whose meaning depends on the order
 * of axes (Flatten, Reshape, Transpose, MatMul, …) first put it back to NCHW, so a
 * Flatten → Gemm after a convolution reads features in PyTorch's C, H, W order.
 *
 * Loading runs the graph once on a probe image (batch 1): each node is translated and
 * immediately executed, so every value's shape is known for the next node without a shape
 * inference of our own. Shape → Gather → Unsqueeze → Concat chains (x.view(x.size(0), -1))
 * fold at load into constants whose batch entry is symbolic, resolved per call.
 */
import * as tf from '@tensorflow/tfjs';
import { LabError } from '../types';
import { escapeControl, quoteName } from '../text';
import type { LabModel, LayerInfo } from '../model/model';
import { registerActivations } from '../model/model';
import { sumOf } from '../model/kernel-fixes';
import { MAX_INPUT_ELEMENTS, MAX_WEIGHT_BYTES, shardPathProblem } from '../model/validate';
import { checkMemoryBudget, estimateOnnxMemory, ONNX_MEMORY_BUDGET_BROWSER, type MemoryBudget, type MemoryEstimate } from './memory';
import { checkModel, countNonFinite, dimsOf, dtypeName, externalLocations, externalRef, num, tensorValues, type AttributeProto, type ModelProto, type NodeProto, type ReadExternal, type TensorProto } from './proto';
import { bytesSource, readModelSkeleton, type ByteSource, type RawRef } from './stream';

/** What the model card shows about an imported ONNX file. */
export interface OnnxCard {
  producer: string;
  opset: number;
  inputName: string;
  /** The input as the file declares it (NCHW with the batch), "N" for a symbolic batch. */
  declaredInput: (number | string)[];
  /** Per-channel mean/std when the graph starts with Sub/Div (or Mul) by constants. */
  normalisation: { mean: number[]; std: number[] } | null;
  parameters: number;
  /** Ops in the graph with their counts. */
  ops: Record<string, number>;
  externalData: string[];
  /** The memory estimate the load was checked against (memory.ts). */
  memory?: MemoryEstimate;
}

export interface OnnxLabModel extends LabModel {
  onnx: OnnxCard;
}

/** Batch entry of a folded shape vector. */
const BATCH = 'N' as const;
type Sym = number | typeof BATCH;

type Value =
  | { kind: 'const'; dims: number[]; data: Float32Array | Sym[]; float: boolean }
  | { kind: 'tensor'; probe: tf.Tensor; nhwc: boolean };

/** One translated node: reads runtime values by name, writes one. */
interface Step {
  node: NodeProto;
  inputs: string[];
  output: string;
  run(xs: tf.Tensor[], batch: number): tf.Tensor;
}

const FOLDABLE = new Set(['Transpose', 'Constant', 'Shape', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Cast', 'Identity', 'Add', 'Sub', 'Mul', 'Div', 'Slice', 'Reshape', 'ConstantOfShape', 'Floor', 'Dropout']);
/** Ops the lab taps by default (features, not bookkeeping). */
const DEFAULT_TAP = new Set(['Conv', 'Relu', 'LeakyRelu', 'Elu', 'Sigmoid', 'Tanh', 'Gemm', 'MatMul', 'Add', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Clip']);
/** The ops this importer translates (others stop the load with a message naming them). */
export const SUPPORTED_OPS = [
  'Conv', 'BatchNormalization', 'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Softplus', 'Erf', 'Elu', 'Clip', 'Exp', 'Neg', 'Sqrt', 'Pow',
  'Add', 'Sub', 'Mul', 'Div', 'MatMul', 'Gemm', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'ReduceMean',
  'Flatten', 'Reshape', 'Transpose', 'Pad', 'Concat', 'Identity', 'Dropout', 'Softmax', 'Constant', 'Shape', 'Gather',
  'Unsqueeze', 'Squeeze', 'Cast', 'Slice', 'ConstantOfShape', 'Floor',
];
const SUPPORTED = new Set(SUPPORTED_OPS);

/** PyTorch's Flatten/Reshape order is NCHW; NHWC ↔ NCHW permutations. */
const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];
/** ONNX axis of a rank-4 NCHW tensor → the same axis in NHWC. */
const NHWC_AXIS = [0, 3, 1, 2];

const prod = (a: number[]) => a.reduce((x, y) => x * y, 1);
/** ONNX float data types (float32, float16, float64, bfloat16 codes). */
const FLOAT_TYPES = new Set([1, 10, 11, 16]);
/**
 * Initializers with at least this many values are read from the file and decoded on use, not
 * at the start (stream.ts leaves their bytes in the file until then): 64 Ki
 * floats (256 kB) keeps BatchNorm vectors, biases and shape constants eager (they are read
 * more than once) and leaves every convolution and dense weight of a ResNet lazy.
 */
const LAZY_ELEMENTS = 65_536;

function attr(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}
const attrInt = (node: NodeProto, name: string, dflt: number): number => {
  const a = attr(node, name);
  return a ? num(a.i) : dflt;
};
const attrFloat = (node: NodeProto, name: string, dflt: number): number => {
  const a = attr(node, name);
  return a ? (a.f ?? dflt) : dflt;
};
const attrInts = (node: NodeProto, name: string): number[] | undefined => {
  const a = attr(node, name);
  return a ? (a.ints ?? []).map(num) : undefined;
};
const attrString = (node: NodeProto, name: string): string | undefined => {
  const a = attr(node, name);
  return a?.s ? new TextDecoder().decode(a.s) : undefined;
};

/**
 * A readable tap name: the PyTorch module path when the node name carries one (torch ≥ 2.0
 * writes scoped names such as "/layer1/layer1.0/conv1/Conv"), else the node name itself.
 */
export function moduleName(nodeName: string): string {
  if (!nodeName.startsWith('/')) return nodeName;
  const parts = nodeName.slice(1).split('/').filter(Boolean);
  if (parts.length < 2) return nodeName;
  const scopes = parts.slice(0, -1);
  // Scopes repeat their parents' prefix ("layer1", "layer1.0"): keep the longest path.
  const path = scopes.reduce((acc, p) => (acc && p.startsWith(`${acc}.`) ? p : acc ? `${acc}.${p}` : p), '');
  return `${path}/${parts[parts.length - 1]}`;
}

export interface OnnxFiles {
  /**
   * The .onnx file: its bytes, or a ByteSource read in pieces (stream.ts: the weights' bytes
   * are read one tensor at a time when the importer needs them, not held all at once).
   */
  model: Uint8Array | ByteSource;
  /** Reads a file next to it (external data) whole; rejects when missing. */
  readExternal?: ReadExternal;
  /**
   * Opens a file next to it (external data) for ranged reads, so its tensors are read one at
   * a time; preferred over readExternal when given. Rejects when missing.
   */
  openExternal?: (location: string) => Promise<ByteSource>;
  /**
   * The memory the model may need on the backend (memory.ts); the caller names its
   * environment's budget. Default: the browser worker's, the smaller one.
   */
  budget?: MemoryBudget;
}

/** Whether bytes/names look like an ONNX file rather than a tfjs model.json. */
export const isOnnxName = (name: string): boolean => /\.onnx$/i.test(name.split(/[?#]/)[0]);

/** Load an ONNX model into the lab. `label` names it in every message. */
export async function loadOnnxModel(files: OnnxFiles, label: string): Promise<OnnxLabModel> {
  const source = files.model instanceof Uint8Array ? bytesSource(files.model) : files.model;
  const { proto, raw } = await readModelSkeleton(source, label);
  checkModel(proto, label);
  const graph = proto.graph!;
  // Before any weight is decoded or external data read: refuse what will not fit, by its size.
  const estimate = estimateOnnxMemory(proto);
  checkMemoryBudget(label, estimate, files.budget ?? { bytes: ONNX_MEMORY_BUDGET_BROWSER, advice: 'load a smaller model, or run it with the CLI (npx layerwise info --model FILE.onnx), whose budget is larger' });
  const external = new Map<string, ByteSource>();
  const locations = externalLocations(graph);
  for (const loc of locations) {
    const bad = shardPathProblem(loc);
    if (bad) throw new LabError(`${label}: its external data file "${escapeControl(loc)}" ${bad}`);
    if (!files.readExternal && !files.openExternal) throw new LabError(`${label}: its weights are stored in the external data file "${loc}", which was not given; load the .onnx together with "${loc}"`);
    try {
      external.set(loc, files.openExternal ? await files.openExternal(loc) : bytesSource(await files.readExternal!(loc)));
    } catch (e) {
      throw new LabError(`${label}: its weights are stored in the external data file "${loc}", which cannot be read (${((e as Error).message ?? String(e)).split('\n')[0]}); load the .onnx together with "${loc}"`);
    }
  }
  const owned: tf.Tensor[] = [];
  const probes: tf.Tensor[] = [];
  try {
    const model = await buildModel(proto, rawReader(source, raw, external, label), label, owned, probes, locations);
    model.onnx.memory = estimate;
    // The attack runner sizes its batches by the same per-image bytes this load was checked with.
    registerActivations(model, estimate.activationBytesPerImage);
    tf.dispose(probes);
    return model;
  } catch (e) {
    tf.dispose(owned);
    tf.dispose(probes);
    if (e instanceof LabError) throw e;
    const first = ((e as Error).message ?? String(e)).split('\n')[0];
    throw new LabError(`${label}: cannot build the model (${first})`);
  }
}

/**
 * Reads a tensor's raw bytes from where they lie: the .onnx file (raw_data left there by
 * readModelSkeleton) or an external-data file; undefined when the tensor holds its data itself.
 */
type ReadRaw = (t: TensorProto) => Promise<Uint8Array | undefined>;

function rawReader(source: ByteSource, raw: Map<TensorProto, RawRef>, external: Map<string, ByteSource>, label: string): ReadRaw {
  return async (t) => {
    const ext = externalRef(t, label);
    if (ext) {
      const file = external.get(ext.location)!;
      const length = ext.length ?? file.size - ext.offset;
      if (!(ext.offset >= 0 && length >= 0 && ext.offset + length <= file.size)) {
        throw new LabError(`${label}: tensor ${quoteName(t.name ?? '?')} lies at bytes ${ext.offset}…${ext.offset + length} of "${ext.location}", which has ${file.size} (truncated or wrong data file?)`);
      }
      return file.read(ext.offset, length);
    }
    const ref = raw.get(t);
    return ref ? source.read(ref.offset, ref.length) : undefined;
  };
}

async function buildModel(
  proto: ModelProto,
  readRaw: ReadRaw,
  label: string,
  owned: tf.Tensor[],
  probes: tf.Tensor[],
  externalNames: string[],
): Promise<OnnxLabModel> {
  const graph = proto.graph!;
  const opset = num((proto.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0);
  const values = new Map<string, Value>();
  const initNames = new Set<string>();
  // Weights as float32 (memory.ts checked them with the activations already; this is the
  // per-model limit the tfjs path has too).
  const weightBytes = (graph.initializer ?? []).reduce((sum, t) => sum + prod(dimsOf(t)) * 4, 0);
  if (weightBytes > MAX_WEIGHT_BYTES) {
    throw new LabError(`${label}: its weights need ${(weightBytes / 2 ** 20).toFixed(0)} MB as float32, more than the lab's budget of ${MAX_WEIGHT_BYTES / 2 ** 20} MB for one model`);
  }
  let parameters = 0;
  const decode = async (t: TensorProto) => {
    const data = tensorValues(t, label, await readRaw(t));
    if (data instanceof Float32Array && countNonFinite(data) > 0) {
      throw new LabError(`${label}: weight ${quoteName(t.name ?? '?')} holds non-finite values (NaN or ±Inf); nothing computed with it would mean anything`);
    }
    return data;
  };
  /** Large weights: read and decoded just before the node that uses them, dropped after it. */
  const lazy = new Map<Value, () => Promise<Float32Array | number[]>>();
  for (const t of graph.initializer ?? []) {
    const dims = dimsOf(t);
    const float = FLOAT_TYPES.has(t.dataType ?? 0);
    if (float) parameters += prod(dims);
    if (float && prod(dims) >= LAZY_ELEMENTS) {
      // Large weights are read from the file and decoded when their node is translated,
      // straight into the tensor that keeps them, and not held: the file's bytes, every
      // weight as an array and every weight as a tensor are never alive all at once
      // (WRN-28-10: 146 MB each).
      const value = { kind: 'const', dims, float } as Extract<Value, { kind: 'const' }>;
      lazy.set(value, () => decode(t));
      values.set(t.name ?? '', value);
    } else {
      values.set(t.name ?? '', { kind: 'const', dims, data: await decode(t), float });
    }
    initNames.add(t.name ?? '');
  }
  const realInputs = (graph.input ?? []).filter((i) => !initNames.has(i.name ?? ''));
  if (realInputs.length !== 1) {
    throw new LabError(`${label}: the graph has ${realInputs.length} inputs (${realInputs.map((i) => quoteName(i.name ?? '?')).join(', ')}); the lab needs exactly one image input`);
  }
  if ((graph.output ?? []).length !== 1) throw new LabError(`${label}: the graph has ${(graph.output ?? []).length} outputs; the lab needs one (logits or probabilities)`);
  const input = realInputs[0];
  const inputName = input.name ?? '';
  const tt = input.type?.tensorType;
  if (!tt) throw new LabError(`${label}: input ${quoteName(inputName)} is not a tensor`);
  if (tt.elemType !== 1) throw new LabError(`${label}: input ${quoteName(inputName)} is ${dtypeName(tt.elemType)}; the lab feeds float32 images`);
  const declared: (number | string)[] = (tt.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue != null ? num(d.dimValue) : '?'));
  if (declared.length !== 4 && declared.length !== 2) {
    throw new LabError(`${label}: input ${quoteName(inputName)} has shape [${declared}]; the lab needs images [N, C, H, W] (or flat [N, D])`);
  }
  const fixed = declared.slice(1);
  if (fixed.some((d) => typeof d !== 'number' || d <= 0)) {
    throw new LabError(`${label}: input ${quoteName(inputName)} has shape [${declared}] with a dynamic size after the batch; the lab needs a fixed C×H×W: export with a fixed-size dummy input and dynamic_axes only on the batch (dynamic_axes={'${inputName}': {0: 'N'}})`);
  }
  const exportBatch = typeof declared[0] === 'number' ? declared[0] : null;
  const flatInput = declared.length === 2;
  const [c, h, w] = fixed as number[];
  const inputShape = flatInput ? [c] : [h, w, c];
  if (prod(inputShape) > MAX_INPUT_ELEMENTS) throw new LabError(`${label}: input [${declared}] has more than ${MAX_INPUT_ELEMENTS} values per sample`);

  // The lab's images are NHWC; a flat model gets them flattened in PyTorch's C, H, W order.
  const probeInput = tf.zeros(flatInput ? [1, c] : [1, h, w, c]);
  probes.push(probeInput);
  values.set(inputName, { kind: 'tensor', probe: probeInput, nhwc: !flatInput });

  const steps: Step[] = [];
  const ops: Record<string, number> = {};
  const outputName = graph.output![0].name ?? '';
  const nodes = graph.node ?? [];
  const where = (n: NodeProto) => `node ${quoteName(n.name || n.output?.[0] || '?')} (${n.opType})`;
  const fail = (n: NodeProto, why: string) => new LabError(`${label}: ${where(n)}: ${why}`);

  // ---- Helpers over values -------------------------------------------------------------
  const get = (n: NodeProto, i: number): Value | undefined => {
    const name = n.input?.[i];
    if (!name) return undefined;
    const v = values.get(name);
    if (!v) throw fail(n, `input ${quoteName(name)} is produced by no earlier node (the graph must be in topological order)`);
    return v;
  };
  const need = (n: NodeProto, i: number): Value => {
    const v = get(n, i);
    if (!v) throw fail(n, `input ${i + 1} is missing`);
    return v;
  };
  const constOf = (n: NodeProto, i: number, what: string): { dims: number[]; data: Float32Array | Sym[] } => {
    const v = need(n, i);
    if (v.kind !== 'const') throw fail(n, `${what} must be a constant (it is computed from the input); export with constant ${what}`);
    return v;
  };
  const intsOf = (n: NodeProto, i: number, what: string): number[] => {
    const v = constOf(n, i, what);
    if (v.data instanceof Float32Array) return [...v.data];
    if (v.data.some((x) => x === BATCH)) throw fail(n, `${what} depends on the batch size`);
    return v.data as number[];
  };
  /** A float constant as a tf tensor (owned by the model). */
  const constTensor = (data: Float32Array | Sym[], dims: number[]): tf.Tensor => {
    if (!(data instanceof Float32Array) && data.some((x) => x === BATCH)) throw new LabError(`${label}: a batch-dependent shape is used as data`);
    const t = tf.tensor(data instanceof Float32Array ? data : Float32Array.from(data as number[]), dims, 'float32');
    owned.push(t);
    return t;
  };

  // ---- Translate and probe every node in order -----------------------------------------
  interface Out {
    fn: (xs: tf.Tensor[], batch: number) => tf.Tensor;
    inputs: string[];
    nhwc: boolean;
  }
  for (const node of nodes) {
    const loaded: Extract<Value, { kind: 'const' }>[] = [];
    for (const nm of node.input ?? []) {
      const v = values.get(nm);
      const load = v && lazy.get(v);
      if (load && v.kind === 'const' && v.data === undefined) {
        v.data = await load();
        loaded.push(v);
      }
    }
    try {
      translateNode(node);
    } finally {
      for (const v of loaded) (v as { data?: unknown }).data = undefined;
    }
  }

  function translateNode(node: NodeProto): void {
    const op = node.opType ?? '';
    ops[op] = (ops[op] ?? 0) + 1;
    if (node.domain && node.domain !== 'ai.onnx') throw fail(node, `operator domain "${node.domain}" is not standard ONNX; re-export without custom operators (opset 11–17)`);
    if (!SUPPORTED.has(op)) {
      throw fail(node, `operator ${op} is not supported by the lab's ONNX importer (supported: ${SUPPORTED_OPS.join(', ')}); re-export with another opset or rewrite that part of the model with supported operators`);
    }
    const out = node.output?.[0];
    if (!out) throw fail(node, 'has no output');
    const ins = (node.input ?? []).map((_, i) => get(node, i));
    const present = ins.filter((v): v is Value => v !== undefined);
    // ---- Constant folding ----
    if (FOLDABLE.has(op) && present.every((v) => v.kind === 'const') && (op !== 'Dropout' || present.length > 0)) {
      values.set(out, foldConst(node, present as Extract<Value, { kind: 'const' }>[], fail, (i, what) => intsOf(node, i, what)));
      return;
    }
    if (op === 'Shape') {
      const v = need(node, 0) as Extract<Value, { kind: 'tensor' }>;
      const shape = v.nhwc ? TO_NCHW.map((a) => v.probe.shape[a]) : v.probe.shape.slice();
      const start = attrInt(node, 'start', 0);
      const end = attrInt(node, 'end', shape.length);
      const dims: Sym[] = shape.map((d, i) => (i === 0 ? BATCH : d));
      const s = start < 0 ? start + shape.length : start;
      const e = end < 0 ? end + shape.length : Math.min(end, shape.length);
      const data = dims.slice(s, e);
      values.set(out, { kind: 'const', dims: [data.length], data, float: false });
      return;
    }
    if (op === 'Identity' || op === 'Dropout' || (op === 'Cast' && attrInt(node, 'to', 1) === 1)) {
      values.set(out, need(node, 0));
      return;
    }
    const x0 = need(node, 0);
    if (x0.kind !== 'tensor' && !['Add', 'Sub', 'Mul', 'Div', 'MatMul', 'Gemm', 'Concat', 'Pow'].includes(op)) {
      throw fail(node, 'has a constant data input of an op the importer does not fold');
    }
    const result = translate(node, op);
    const xs = result.inputs.map((nm) => (values.get(nm) as Extract<Value, { kind: 'tensor' }>).probe);
    let probe: tf.Tensor;
    try {
      probe = tf.tidy(() => result.fn(xs, 1));
    } catch (e) {
      if (e instanceof LabError) throw e;
      throw fail(node, `cannot run it (${((e as Error).message ?? String(e)).split('\n')[0]})`);
    }
    probes.push(probe);
    values.set(out, { kind: 'tensor', probe, nhwc: result.nhwc });
    steps.push({ node, inputs: result.inputs, output: out, run: result.fn });
  }

  function translate(node: NodeProto, op: string): Out {
    const inName = (i: number) => node.input![i];
    const tensorIn = (i: number) => {
      const v = need(node, i);
      if (v.kind !== 'tensor') throw fail(node, `input ${i + 1} must be computed from the image`);
      return v;
    };
    // Layout adapters for a runtime input: the value as NHWC (rank 4) or as ONNX order.
    const asPlain = (t: tf.Tensor, nhwc: boolean) => (nhwc ? tf.transpose(t, TO_NCHW) : t);
    const asNhwc = (t: tf.Tensor, nhwc: boolean) => (!nhwc && t.rank === 4 ? tf.transpose(t, TO_NHWC) : t);
    const unary = (f: (t: tf.Tensor) => tf.Tensor): Out => {
      const v = tensorIn(0);
      return { inputs: [inName(0)], nhwc: v.nhwc, fn: ([x]) => f(x) };
    };
    const spatial = (what: string) => {
      const v = tensorIn(0);
      if (v.probe.rank !== 4) throw fail(node, `${what} on a rank-${v.probe.rank} tensor; the lab runs 2-D images only`);
      return v;
    };
    /** ONNX pads [top, left, bottom, right] → tfjs NHWC paddings. */
    const padsOf = (k: [number, number], strides: [number, number], dil: [number, number], inH: number, inW: number): [[number, number], [number, number]] => {
      const autoPad = attrString(node, 'auto_pad') ?? 'NOTSET';
      if (autoPad === 'NOTSET') {
        const p = attrInts(node, 'pads') ?? [0, 0, 0, 0];
        return [[p[0], p[2]], [p[1], p[3]]];
      }
      if (autoPad === 'VALID') return [[0, 0], [0, 0]];
      if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') throw fail(node, `auto_pad ${autoPad} is not supported`);
      const one = (size: number, kk: number, s: number, d: number): [number, number] => {
        const total = Math.max(0, (Math.ceil(size / s) - 1) * s + (kk - 1) * d + 1 - size);
        const small = Math.floor(total / 2);
        return autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
      };
      return [one(inH, k[0], strides[0], dil[0]), one(inW, k[1], strides[1], dil[1])];
    };
    const padNhwc = (t: tf.Tensor, p: [[number, number], [number, number]], value = 0) =>
      p[0][0] + p[0][1] + p[1][0] + p[1][1] > 0 ? tf.pad(t, [[0, 0], p[0], p[1], [0, 0]], value) : t;

    switch (op) {
      case 'Relu':
        return unary((t) => tf.relu(t));
      case 'LeakyRelu': {
        const alpha = attrFloat(node, 'alpha', 0.01);
        return unary((t) => tf.leakyRelu(t, alpha));
      }
      case 'Sigmoid':
        return unary((t) => tf.sigmoid(t));
      case 'Tanh':
        return unary((t) => tf.tanh(t));
      case 'Softplus':
        return unary((t) => tf.softplus(t));
      case 'Erf':
        return unary((t) => tf.erf(t));
      case 'Exp':
        return unary((t) => tf.exp(t));
      case 'Neg':
        return unary((t) => tf.neg(t));
      case 'Sqrt':
        return unary((t) => tf.sqrt(t));
      case 'Floor':
        return unary((t) => tf.floor(t));
      case 'Elu': {
        const alpha = attrFloat(node, 'alpha', 1);
        // relu(x) + α(e^min(x,0) − 1): differentiable ops only (tf.where's condition has no gradient).
        return unary((t) => (alpha === 1 ? tf.elu(t) : tf.add(tf.relu(t), tf.mul(alpha, tf.sub(tf.exp(tf.minimum(t, 0)), 1)))));
      }
      case 'Clip': {
        // Opset < 11: min/max attributes; from 11 optional constant inputs.
        let lo = attrFloat(node, 'min', -3.4028234663852886e38);
        let hi = attrFloat(node, 'max', 3.4028234663852886e38);
        if (get(node, 1)) lo = intsOf(node, 1, 'Clip min')[0];
        if (get(node, 2)) hi = intsOf(node, 2, 'Clip max')[0];
        return unary((t) => tf.clipByValue(t, lo, hi));
      }
      case 'Pow': {
        const e = intsOf(node, 1, 'the exponent');
        if (e.length !== 1) throw fail(node, 'only a scalar constant exponent is supported');
        return unary((t) => (e[0] === 2 ? tf.square(t) : tf.pow(t, e[0])));
      }
      case 'Add':
      case 'Sub':
      case 'Mul':
      case 'Div': {
        const f = { Add: tf.add, Sub: tf.sub, Mul: tf.mul, Div: tf.div }[op];
        const a = need(node, 0);
        const b = need(node, 1);
        if (a.kind === 'tensor' && b.kind === 'tensor') {
          const nhwc = a.nhwc || b.nhwc;
          const fix = (t: tf.Tensor, isNhwc: boolean) => (nhwc ? asNhwc(t, isNhwc) : t);
          // Same shapes: sumOf (AddN within WebGPU's limit, as the executor's Add layers); broadcasting (e.g. x + GAP(x)): tf.add.
          const same = a.probe.shape.join() === b.probe.shape.join() && a.nhwc === b.nhwc;
          if (op === 'Add' && same) return { inputs: [inName(0), inName(1)], nhwc, fn: ([x, y]) => sumOf([fix(x, a.nhwc), fix(y, b.nhwc)]) };
          return { inputs: [inName(0), inName(1)], nhwc, fn: ([x, y]) => f(fix(x, a.nhwc), fix(y, b.nhwc)) };
        }
        const [tv, cv, first] = a.kind === 'tensor' ? [a, b as Extract<Value, { kind: 'const' }>, true] : [b as Extract<Value, { kind: 'tensor' }>, a, false];
        const k = constInLayout(cv, tv.nhwc, tv.probe.rank, node);
        const tName = first ? inName(0) : inName(1);
        return { inputs: [tName], nhwc: tv.nhwc, fn: ([x]) => (first ? f(x, k) : f(k, x)) };
      }
      case 'Conv': {
        const v = spatial('Conv');
        const wv = constOf(node, 1, 'the weight');
        const [m, cg, kh, kw] = wv.dims;
        if (wv.dims.length !== 4) throw fail(node, `weight of rank ${wv.dims.length}; only 2-D convolutions are supported`);
        const group = attrInt(node, 'group', 1);
        const strides = (attrInts(node, 'strides') ?? [1, 1]) as [number, number];
        const dil = (attrInts(node, 'dilations') ?? [1, 1]) as [number, number];
        const cin = v.probe.shape[3];
        if (cg * group !== cin) throw fail(node, `weight expects ${cg * group} input channels, the input has ${cin}`);
        const pads = padsOf([kh, kw], strides, dil, v.probe.shape[1]!, v.probe.shape[2]!);
        const bias = get(node, 2) ? constTensor(constOf(node, 2, 'the bias').data, [m]) : null;
        const wData = wv.data as Float32Array;
        let conv: (x: tf.Tensor4D) => tf.Tensor;
        // Padding inside the convolution, not a separate tf.pad: the pad's copy and its
        // gradient (a slice) cost as much as a small convolution (bench/onnx.ts measured).
        const explicit: tf.backend_util.ExplicitPadding = [[0, 0], pads[0], pads[1], [0, 0]];
        let padInside = false;
        if (group === 1) {
          // [M, C, kH, kW] → [kH, kW, C, M] in JS, so the backend holds one copy of the weight,
          // not the ONNX-order tensor and its transpose at once. (tf.transpose on the backend is
          // ~1.5× faster on WASM but grows its heap: WRN-28-10's peak resident memory after
          // loading 803–805 MB with it, 650 MB with this loop.)
          const filter = tf.tensor4d(toHwcm(wData, m, cg, kh, kw), [kh, kw, cg, m]);
          owned.push(filter);
          padInside = true;
          conv = (x) => tf.conv2d(x, filter, strides, explicit, 'NHWC', dil);
        } else if (group === cin && cg === 1) {
          // Depthwise: output channel c·mult + j reads input channel c (ONNX and tfjs agree).
          const mult = m / cin;
          const wt = tf.tensor4d(wData, [m, cg, kh, kw]);
          const filter = tf.tidy(() => tf.transpose(tf.reshape(wt, [cin, mult, kh, kw]), [2, 3, 0, 1])) as tf.Tensor4D;
          owned.push(filter);
          wt.dispose();
          conv = (x) => tf.depthwiseConv2d(x, filter, strides, 'valid', 'NHWC', dil);
        } else {
          // Grouped: one convolution per group on its slice of channels, concatenated.
          const per = m / group;
          const wt = tf.tensor4d(wData, [m, cg, kh, kw]);
          const filters = Array.from({ length: group }, (_, g) => tf.tidy(() => tf.transpose(tf.slice(wt, [g * per, 0, 0, 0], [per, cg, kh, kw]), [2, 3, 1, 0])) as tf.Tensor4D);
          owned.push(...filters);
          wt.dispose();
          conv = (x) => tf.concat(filters.map((f, g) => tf.conv2d(tf.slice(x, [0, 0, 0, g * cg], [-1, -1, -1, cg]), f, strides, 'valid', 'NHWC', dil)), 3);
        }
        return {
          inputs: [inName(0)],
          nhwc: true,
          fn: ([x]) => {
            const nhwc = asNhwc(x, v.nhwc);
            const y = conv((padInside ? nhwc : padNhwc(nhwc, pads)) as tf.Tensor4D);
            return bias ? tf.add(y, bias) : y;
          },
        };
      }
      case 'BatchNormalization': {
        const v = tensorIn(0);
        const [scale, b, mean, variance] = [1, 2, 3, 4].map((i) => constOf(node, i, 'the BatchNorm parameters').data as Float32Array);
        const eps = attrFloat(node, 'epsilon', 1e-5);
        // Inference mode: y = (x − mean)/√(var + ε)·γ + β, one scale and shift per channel.
        const s = scale.map((g, i) => g / Math.sqrt(variance[i] + eps));
        const sh = b.map((bb, i) => bb - mean[i] * s[i]);
        const rank = v.probe.rank;
        if (rank !== 4 && rank !== 2) throw fail(node, `BatchNorm on a rank-${rank} tensor is not supported`);
        const sT = constTensor(s, [s.length]);
        const shT = constTensor(sh, [sh.length]);
        // Channels are the last axis both for NHWC maps and for [N, C] features.
        return { inputs: [inName(0)], nhwc: rank === 4, fn: ([x]) => tf.add(tf.mul(asNhwc(x, v.nhwc), sT), shT) };
      }
      case 'MaxPool':
      case 'AveragePool': {
        const v = spatial(op);
        const k = attrInts(node, 'kernel_shape') as [number, number];
        const strides = (attrInts(node, 'strides') ?? [1, 1]) as [number, number];
        const dil = attrInts(node, 'dilations') ?? [1, 1];
        if (dil.some((d) => d !== 1)) throw fail(node, 'dilated pooling is not supported');
        if (attrInt(node, 'storage_order', 0) !== 0) throw fail(node, 'column-major storage_order is not supported');
        if (node.output!.length > 1 && node.output![1]) throw fail(node, 'the Indices output of MaxPool is not supported');
        const [, ih, iw] = v.probe.shape;
        const pads = padsOf(k, strides, [1, 1], ih, iw);
        const ceil = attrInt(node, 'ceil_mode', 0) === 1;
        if (ceil) {
          if (op === 'AveragePool') throw fail(node, 'ceil_mode=1 average pooling is not supported; use ceil_mode=False');
          // PyTorch's rule: ceil the output size, but the last window must start inside the input or left padding.
          for (const [axis, size] of [[0, ih], [1, iw]] as const) {
            const [p0, p1] = pads[axis];
            let outSize = Math.ceil((size + p0 + p1 - k[axis]) / strides[axis]) + 1;
            if ((outSize - 1) * strides[axis] >= size + p0) outSize--;
            pads[axis] = [p0, Math.max(p1, (outSize - 1) * strides[axis] + k[axis] - size - p0)];
          }
        }
        if (op === 'MaxPool') {
          // Implicit −∞ padding: padded cells never win a window (and get no gradient).
          return { inputs: [inName(0)], nhwc: true, fn: ([x]) => tf.maxPool(padNhwc(asNhwc(x, v.nhwc), pads, -3.4e38) as tf.Tensor4D, k, strides, 'valid') };
        }
        const padded = pads[0][0] + pads[0][1] + pads[1][0] + pads[1][1] > 0;
        const includePad = attrInt(node, 'count_include_pad', 0) === 1;
        if (!padded || includePad) {
          // Zero padding counted in every window: tfjs's 'valid' average of the padded map.
          return { inputs: [inName(0)], nhwc: true, fn: ([x]) => tf.avgPool(padNhwc(asNhwc(x, v.nhwc), pads) as tf.Tensor4D, k, strides, 'valid') };
        }
        // count_include_pad = 0 (PyTorch's default is 1; ONNX's default is 0): divide each
        // window's sum by the real pixels it covers, a constant map computed once here.
        const counts = tf.keep(tf.tidy(() => tf.mul(tf.avgPool(padNhwc(tf.ones([1, ih, iw, 1]), pads) as tf.Tensor4D, k, strides, 'valid'), k[0] * k[1])));
        owned.push(counts);
        const area = k[0] * k[1];
        return {
          inputs: [inName(0)],
          nhwc: true,
          fn: ([x]) => tf.div(tf.mul(tf.avgPool(padNhwc(asNhwc(x, v.nhwc), pads) as tf.Tensor4D, k, strides, 'valid'), area), counts),
        };
      }
      case 'GlobalAveragePool': {
        const v = spatial(op);
        return { inputs: [inName(0)], nhwc: true, fn: ([x]) => tf.mean(asNhwc(x, v.nhwc), [1, 2], true) };
      }
      case 'GlobalMaxPool': {
        // One max-pool window: its gradient goes to the first maximum, as PyTorch's does.
        const v = spatial(op);
        const [, ih, iw] = v.probe.shape;
        return { inputs: [inName(0)], nhwc: true, fn: ([x]) => tf.maxPool(asNhwc(x, v.nhwc) as tf.Tensor4D, [ih, iw], [ih, iw], 'valid') };
      }
      case 'ReduceMean': {
        const v = tensorIn(0);
        const rank = v.probe.rank;
        const axes = (attrInts(node, 'axes') ?? (get(node, 1) ? intsOf(node, 1, 'axes') : [...Array(rank).keys()])).map((a) => (a < 0 ? a + rank : a));
        if (axes.includes(0)) throw fail(node, 'reduces over the batch');
        const keep = attrInt(node, 'keepdims', 1) === 1;
        if (v.nhwc) {
          const mapped = axes.map((a) => NHWC_AXIS[a]);
          if (keep) return { inputs: [inName(0)], nhwc: true, fn: ([x]) => tf.mean(x, mapped, true) };
          return { inputs: [inName(0)], nhwc: false, fn: ([x]) => tf.mean(asPlain(x, true), axes, false) };
        }
        return { inputs: [inName(0)], nhwc: false, fn: ([x]) => tf.mean(x, axes, keep) };
      }
      case 'Flatten': {
        const v = tensorIn(0);
        const axis = attrInt(node, 'axis', 1);
        if (axis !== 1) throw fail(node, `Flatten with axis ${axis} would mix the batch; only axis 1 is supported`);
        return { inputs: [inName(0)], nhwc: false, fn: ([x]) => tf.reshape(asPlain(x, v.nhwc), [x.shape[0], -1]) };
      }
      case 'Reshape': {
        const v = tensorIn(0);
        const target = constOf(node, 1, 'the target shape').data;
        const tgt: Sym[] = target instanceof Float32Array ? [...target] : target;
        const first = tgt[0];
        // The first entry must keep the batch: symbolic, 0 (copy), −1 with fixed rest, or the export's batch size.
        if (!(first === BATCH || first === 0 || first === -1 || (exportBatch !== null && first === exportBatch))) {
          throw fail(node, `reshapes to [${tgt}], which changes the batch dimension; the lab needs the batch kept first (x.view(x.size(0), -1))`);
        }
        if (first === -1 && tgt.slice(1).some((d) => d === -1)) throw fail(node, `reshapes to [${tgt}] with two unknown sizes`);
        return {
          inputs: [inName(0)],
          nhwc: false,
          fn: ([x], batch) => {
            const p = asPlain(x, v.nhwc);
            const shape = tgt.map((d, i) => (i === 0 ? (first === -1 ? -1 : batch) : d === 0 ? p.shape[i] : (d as number)));
            return tf.reshape(p, shape);
          },
        };
      }
      case 'Transpose': {
        const v = tensorIn(0);
        const perm = attrInts(node, 'perm') ?? [...Array(v.probe.rank).keys()].reverse();
        if (perm[0] !== 0) throw fail(node, `permutes the batch axis (perm [${perm}])`);
        return { inputs: [inName(0)], nhwc: false, fn: ([x]) => tf.transpose(asPlain(x, v.nhwc), perm) };
      }
      case 'Squeeze':
      case 'Unsqueeze': {
        const v = tensorIn(0);
        const axes = attrInts(node, 'axes') ?? (get(node, 1) ? intsOf(node, 1, 'axes') : undefined);
        if (op === 'Unsqueeze' && !axes) throw fail(node, 'has no axes');
        if (axes?.includes(0)) throw fail(node, `${op} on the batch axis`);
        return {
          inputs: [inName(0)],
          nhwc: false,
          fn: ([x]) => {
            const p = asPlain(x, v.nhwc);
            if (op === 'Squeeze') return tf.squeeze(p, axes?.map((a) => (a < 0 ? a + p.rank : a)));
            let r = p;
            const outRank = p.rank + axes!.length;
            for (const a of axes!.map((a) => (a < 0 ? a + outRank : a)).sort((s, t) => s - t)) r = tf.expandDims(r, a);
            return r;
          },
        };
      }
      case 'MatMul':
      case 'Gemm': {
        const a = need(node, 0);
        if (a.kind !== 'tensor') throw fail(node, 'the first operand must be computed from the image');
        if (a.probe.rank !== 2) throw fail(node, `${op} on a rank-${a.probe.rank} tensor; only [N, features] inputs are supported`);
        const transA = attrInt(node, 'transA', 0);
        const transB = op === 'Gemm' ? attrInt(node, 'transB', 0) === 1 : false;
        if (transA) throw fail(node, 'transA=1 would transpose the batch');
        const alpha = op === 'Gemm' ? attrFloat(node, 'alpha', 1) : 1;
        const beta = op === 'Gemm' ? attrFloat(node, 'beta', 1) : 1;
        const bv = need(node, 1);
        const cv = op === 'Gemm' && get(node, 2) ? constOf(node, 2, 'the bias') : null;
        const bias = cv ? constTensor((cv.data as Float32Array).map((q) => q * beta), cv.dims) : null;
        if (bv.kind === 'const') {
          if (bv.dims.length !== 2) throw fail(node, `weight of rank ${bv.dims.length}; expected a matrix`);
          // Stored [K, M] once (Gemm's transB weights transposed at load), scaled by alpha.
          const wt = tf.tidy(() => {
            let t = tf.tensor2d(bv.data as Float32Array, bv.dims as [number, number]);
            if (transB) t = tf.transpose(t);
            return tf.keep(alpha === 1 ? t : tf.mul(t, alpha));
          });
          owned.push(wt);
          return {
            inputs: [inName(0)],
            nhwc: false,
            fn: ([x]) => {
              const y = tf.matMul(x as tf.Tensor2D, wt as tf.Tensor2D);
              return bias ? tf.add(y, bias) : y;
            },
          };
        }
        const bIn = bv;
        return {
          inputs: [inName(0), inName(1)],
          nhwc: false,
          fn: ([x, y]) => {
            let r = tf.matMul(x as tf.Tensor2D, asPlain(y, bIn.nhwc) as tf.Tensor2D, false, transB);
            if (alpha !== 1) r = tf.mul(r, alpha);
            return bias ? tf.add(r, bias) : r;
          },
        };
      }
      case 'Softmax': {
        const v = tensorIn(0);
        const rank = v.probe.rank;
        const axis = attrInt(node, 'axis', opset >= 13 ? -1 : 1);
        if ((axis < 0 ? axis + rank : axis) !== rank - 1 || v.nhwc) throw fail(node, `softmax over axis ${axis} of a rank-${rank} tensor; only the last axis of [N, classes] is supported`);
        return { inputs: [inName(0)], nhwc: false, fn: ([x]) => tf.softmax(x) };
      }
      case 'Pad': {
        const v = tensorIn(0);
        const mode = attrString(node, 'mode') ?? 'constant';
        const pads = attrInts(node, 'pads') ?? intsOf(node, 1, 'pads');
        const value = get(node, 2) ? intsOf(node, 2, 'the pad value')[0] : attrFloat(node, 'value', 0);
        if (get(node, 3)) throw fail(node, 'the axes input of Pad (opset 18) is not supported; export with opset ≤ 17');
        const rank = v.probe.rank;
        if (pads.length !== 2 * rank) throw fail(node, `pads [${pads}] do not fit a rank-${rank} tensor`);
        if (pads[0] || pads[rank]) throw fail(node, 'pads the batch axis');
        if (pads.some((p) => p < 0)) throw fail(node, 'negative pads (cropping) are not supported');
        const onnxPairs = Array.from({ length: rank }, (_, i) => [pads[i], pads[i + rank]] as [number, number]);
        const pairs = v.nhwc ? [onnxPairs[0], onnxPairs[2], onnxPairs[3], onnxPairs[1]] : onnxPairs;
        if (mode === 'constant') return { inputs: [inName(0)], nhwc: v.nhwc, fn: ([x]) => tf.pad(x, pairs, value) };
        if (mode === 'reflect') return { inputs: [inName(0)], nhwc: v.nhwc, fn: ([x]) => tf.mirrorPad(x, pairs, 'reflect') };
        throw fail(node, `pad mode ${mode} is not supported (constant and reflect are)`);
      }
      case 'Concat': {
        const parts = (node.input ?? []).map((_, i) => need(node, i));
        const first = parts.find((p): p is Extract<Value, { kind: 'tensor' }> => p.kind === 'tensor')!;
        const rank = first.probe.rank;
        let axis = attrInt(node, 'axis', 1);
        if (axis < 0) axis += rank;
        if (axis === 0) throw fail(node, 'concatenates along the batch');
        const allNhwc = parts.every((p) => p.kind === 'tensor' && p.nhwc);
        if (parts.some((p) => p.kind !== 'tensor')) throw fail(node, 'concatenates a constant with image data; not supported');
        const layouts = parts.map((p) => (p as Extract<Value, { kind: 'tensor' }>).nhwc);
        if (allNhwc) return { inputs: [...node.input!], nhwc: true, fn: (xs) => tf.concat(xs, NHWC_AXIS[axis]) };
        return { inputs: [...node.input!], nhwc: false, fn: (xs) => tf.concat(xs.map((t, i) => asPlain(t, layouts[i])), axis) };
      }
      case 'Gather':
      case 'Slice':
      case 'Cast':
      case 'ConstantOfShape':
      case 'Constant':
      case 'Shape':
      case 'Identity':
      case 'Dropout':
        throw fail(node, `${op} on image data is not supported (only on shapes, where it folds at load)`);
      default:
        throw fail(node, `operator ${op} is not supported`);
    }
  }

  /** A constant operand of an elementwise op with a runtime tensor, in that tensor's layout. */
  function constInLayout(cv: Extract<Value, { kind: 'const' }>, nhwc: boolean, rank: number, node: NodeProto): tf.Tensor {
    const data = cv.data instanceof Float32Array ? cv.data : Float32Array.from(cv.data.map((d) => (d === BATCH ? NaN : d)));
    if (data.some((d) => Number.isNaN(d))) throw fail(node, 'uses a batch-dependent shape as data');
    let dims = cv.dims;
    if (!nhwc || prod(dims) === 1) return constTensor(data, prod(dims) === 1 ? [] : dims);
    if (dims.length > rank) throw fail(node, `constant of shape [${dims}] broadcast against a rank-${rank} tensor`);
    dims = [...Array(rank - dims.length).fill(1), ...dims];
    const t = tf.tidy(() => tf.keep(tf.transpose(tf.tensor(data, dims), TO_NHWC)));
    owned.push(t);
    return t;
  }

  // ---- The model ------------------------------------------------------------------------
  const outNode = nodes.find((n) => n.output?.[0] === outputName);
  let logitsName = outputName;
  let softmaxNote: string | null = null;
  if (outNode?.opType === 'Softmax' && outNode.input?.[0]) {
    logitsName = outNode.input[0];
    softmaxNote = `model ends in Softmax (${outNode.name || outputName}); the lab uses its input as logits`;
  }
  const logitsValue = values.get(logitsName);
  if (!logitsValue || logitsValue.kind !== 'tensor') throw new LabError(`${label}: the output ${quoteName(outputName)} does not depend on the input`);
  if (logitsValue.probe.rank !== 2) throw new LabError(`${label}: the output has shape [${logitsValue.probe.shape}], not [batch, classes]`);
  const numClasses = logitsValue.probe.shape[1]!;
  if (numClasses < 2) throw new LabError(`${label}: the output has ${numClasses} class; the lab needs at least 2`);

  // Tap names: the module path where the node name carries one, else the node name; unique.
  const taken = new Set<string>();
  const tapName = new Map<string, string>();
  const stepByOutput = new Map<string, number>();
  const layers: LayerInfo[] = [];
  steps.forEach((s, i) => {
    let base = s.node.name ? moduleName(s.node.name) : s.output;
    if (!base) base = `${s.node.opType}_${i}`;
    let nm = base;
    for (let k = 2; taken.has(nm); k++) nm = `${base}#${k}`;
    taken.add(nm);
    tapName.set(nm, s.output);
    stepByOutput.set(s.output, i);
    const probe = (values.get(s.output) as Extract<Value, { kind: 'tensor' }>).probe;
    const params = (s.node.input ?? []).filter((n) => initNames.has(n)).reduce((sum, n) => {
      const v = values.get(n) as Extract<Value, { kind: 'const' }>;
      return sum + (v.float ? prod(v.dims) : 0);
    }, 0);
    const statParams = s.node.opType === 'BatchNormalization' ? (s.node.input ?? []).slice(3, 5).reduce((sum, n) => sum + prod((values.get(n) as Extract<Value, { kind: 'const' }>).dims), 0) : 0;
    layers.push({
      name: nm,
      className: s.node.opType ?? '?',
      outputShape: probe.shape.slice(1),
      size: probe.size,
      params,
      trainableParams: params - statParams,
      defaultTap: DEFAULT_TAP.has(s.node.opType ?? '') && s.output !== logitsName && !(s.output === outputName && softmaxNote),
    });
  });
  const logitsStep = stepByOutput.get(logitsName)!;
  const logitsLayer = layers[logitsStep].name;
  const normalisation = findNormalisation(steps, inputName, values, c);

  const run = (images: tf.Tensor4D, upTo: number): Map<string, tf.Tensor> => {
    const batch = images.shape[0];
    // Flat models read PyTorch's x.view(N, -1) order of an NCHW image.
    const x = flatInput ? tf.reshape(tf.transpose(images, TO_NCHW), [batch, -1]) : images;
    const live = new Map<string, tf.Tensor>([[inputName, x]]);
    const resolve = (n: string): tf.Tensor => {
      const t = live.get(n);
      if (t) return t;
      // A value passed through Identity/Dropout/Cast aliases an earlier one.
      throw new Error(`value ${n} not computed`);
    };
    for (let i = 0; i <= upTo; i++) {
      const s = steps[i];
      live.set(s.output, s.run(s.inputs.map((n) => resolve(aliasOf(n))), batch));
    }
    return live;
  };
  // Identity/Dropout/Cast outputs share their input's value; map names to the producing one.
  const alias = new Map<string, string>();
  for (const n of nodes) {
    const op = n.opType ?? '';
    if ((op === 'Identity' || op === 'Dropout' || op === 'Cast') && n.input?.[0] && values.get(n.output![0]) === values.get(n.input[0])) alias.set(n.output![0], n.input[0]);
  }
  const aliasOf = (n: string): string => {
    let cur = n;
    for (let guard = 0; alias.has(cur) && guard < 10_000; guard++) cur = alias.get(cur)!;
    return cur;
  };
  const resolvedLogits = aliasOf(logitsName);
  const logitsIndex = stepByOutput.get(resolvedLogits) ?? logitsStep;

  const card: OnnxCard = {
    producer: `${proto.producerName ?? ''} ${proto.producerVersion ?? ''}`.trim(),
    opset,
    inputName,
    declaredInput: declared,
    normalisation,
    parameters,
    ops,
    externalData: externalNames,
  };
  // The model's closures share this function's scope: drop the decoded weights and the
  // initializers (with any data they hold themselves) so that only the tensors stay alive.
  values.clear();
  graph.initializer = [];
  const model: OnnxLabModel = {
    kind: 'onnx',
    imageShape: flatInput ? null : [h, w, c],
    inputShape,
    flatInput,
    numClasses,
    layers,
    logitsLayer,
    softmaxNote,
    onnx: card,
    logits: (images) => tf.tidy(() => run(images, logitsIndex).get(steps[logitsIndex].output) as tf.Tensor2D),
    tap(images, layerNames) {
      const outs = layerNames.map((n) => {
        const o = tapName.get(n);
        if (!o) throw new LabError(`model has no layer named "${n}"`);
        return o;
      });
      const upTo = Math.max(logitsIndex, ...outs.map((o) => stepByOutput.get(o)!));
      return tf.tidy(() => {
        const live = run(images, upTo);
        const list = [...outs, steps[logitsIndex].output].map((o) => live.get(o)!);
        // One tensor per requested name; duplicates cloned so each can be disposed on its own.
        const seen = new Set<tf.Tensor>();
        return list.map((t) => {
          if (seen.has(t)) return t.clone();
          seen.add(t);
          return t;
        });
      });
    },
    dispose() {
      tf.dispose(owned);
    },
  };
  return registerActivations(model);
}

/** A PyTorch conv weight [M, C, kH, kW] as tfjs's [kH, kW, C, M], one pass over the values. */
function toHwcm(w: Float32Array, m: number, c: number, kh: number, kw: number): Float32Array {
  const out = new Float32Array(w.length);
  const k = kh * kw;
  for (let o = 0; o < m; o++) {
    for (let i = 0; i < c; i++) {
      const src = (o * c + i) * k;
      for (let p = 0; p < k; p++) out[(p * c + i) * m + o] = w[src + p];
    }
  }
  return out;
}

/** Fold one node whose inputs are all constants (shape arithmetic and Constant). */
function foldConst(
  node: NodeProto,
  ins: Extract<Value, { kind: 'const' }>[],
  fail: (n: NodeProto, why: string) => LabError,
  ints: (i: number, what: string) => number[],
): Value {
  const op = node.opType ?? '';
  const one = ins[0];
  switch (op) {
    case 'Constant': {
      const a = node.attribute?.[0];
      if (!a) throw fail(node, 'has no value');
      if (a.name === 'value' && a.t) {
        const t = a.t as TensorProto;
        const data = tensorValues(t, `node ${node.name}`);
        return { kind: 'const', dims: dimsOf(t), data: data instanceof Float32Array ? data : data, float: data instanceof Float32Array };
      }
      if (a.name === 'value_float') return { kind: 'const', dims: [], data: Float32Array.of(a.f ?? 0), float: true };
      if (a.name === 'value_floats') return { kind: 'const', dims: [a.floats?.length ?? 0], data: Float32Array.from(a.floats ?? []), float: true };
      if (a.name === 'value_int') return { kind: 'const', dims: [], data: [num(a.i)], float: false };
      if (a.name === 'value_ints') return { kind: 'const', dims: [a.ints?.length ?? 0], data: (a.ints ?? []).map(num), float: false };
      throw fail(node, `Constant ${a.name} is not supported`);
    }
    case 'Identity':
    case 'Dropout':
      return one;
    case 'Shape':
      return { kind: 'const', dims: [one.dims.length], data: [...one.dims], float: false };
    case 'Cast': {
      const to = attrInt(node, 'to', 1);
      const float = to === 1 || to === 10 || to === 11;
      if (float) return { kind: 'const', dims: one.dims, data: one.data instanceof Float32Array ? one.data : Float32Array.from(one.data as number[]), float: true };
      return { kind: 'const', dims: one.dims, data: one.data instanceof Float32Array ? [...one.data].map(Math.trunc) : one.data, float: false };
    }
    case 'Floor':
      return { kind: 'const', dims: one.dims, data: one.data instanceof Float32Array ? one.data.map(Math.floor) : one.data, float: one.float };
    case 'Gather': {
      const axis = attrInt(node, 'axis', 0);
      if (axis !== 0 || one.dims.length !== 1) throw fail(node, 'folds only a Gather along axis 0 of a vector');
      const idx = ins[1];
      const data = (idx.data as Sym[]).map((i) => {
        const k = (i as number) < 0 ? (i as number) + one.dims[0] : (i as number);
        return (one.data as Sym[])[k];
      });
      return { kind: 'const', dims: idx.dims, data: one.data instanceof Float32Array ? Float32Array.from(data as number[]) : data, float: one.float };
    }
    case 'Unsqueeze':
    case 'Squeeze': {
      const axes = attrInts(node, 'axes') ?? (ins[1] ? ints(1, 'axes') : []);
      let dims = [...one.dims];
      if (op === 'Unsqueeze') {
        const outRank = dims.length + axes.length;
        for (const a of axes.map((a) => (a < 0 ? a + outRank : a)).sort((s, t) => s - t)) dims.splice(a, 0, 1);
      } else {
        dims = axes.length ? dims.filter((_, i) => !axes.map((a) => (a < 0 ? a + one.dims.length : a)).includes(i)) : dims.filter((d) => d !== 1);
      }
      return { ...one, dims };
    }
    case 'Reshape': {
      const tgt = ints(1, 'the target shape');
      const total = prod(one.dims);
      const known = tgt.reduce((p, d, i) => p * (d === -1 ? 1 : d === 0 ? one.dims[i] : d), 1);
      return { ...one, dims: tgt.map((d, i) => (d === -1 ? total / known : d === 0 ? one.dims[i] : d)) };
    }
    case 'Concat': {
      if (ins.some((v) => v.dims.length > 1)) throw fail(node, 'folds only vectors');
      const data = ins.flatMap((v) => Array.from(v.data as ArrayLike<Sym>));
      const float = ins.every((v) => v.float);
      return { kind: 'const', dims: [data.length], data: float ? Float32Array.from(data as number[]) : data, float };
    }
    case 'Slice': {
      // ONNX Slice (opset ≥ 10 inputs, < 10 attributes) on a constant of any rank, negative steps included.
      const rank = one.dims.length;
      const starts = attrInts(node, 'starts') ?? ints(1, 'starts');
      const ends = attrInts(node, 'ends') ?? ints(2, 'ends');
      const axes = (attrInts(node, 'axes') ?? (ins[3] ? ints(3, 'axes') : starts.map((_, i) => i))).map((a) => (a < 0 ? a + rank : a));
      const steps = ins[4] ? ints(4, 'steps') : starts.map(() => 1);
      const ranges = one.dims.map((d) => ({ start: 0, step: 1, count: d }));
      axes.forEach((a, i) => {
        const d = one.dims[a];
        const st = steps[i];
        if (!st) throw fail(node, 'has a zero step');
        let b = starts[i] < 0 ? starts[i] + d : starts[i];
        let e = ends[i] < 0 ? ends[i] + d : ends[i];
        if (st > 0) {
          b = Math.max(0, Math.min(d, b));
          e = Math.max(0, Math.min(d, e));
        } else {
          b = Math.max(-1, Math.min(d - 1, b));
          e = Math.max(-1, Math.min(d - 1, e));
        }
        ranges[a] = { start: b, step: st, count: Math.max(0, Math.ceil((e - b) / st)) };
      });
      const picked = gatherNd(one, ranges.map((r) => Array.from({ length: r.count }, (_, k) => r.start + k * r.step)));
      return { kind: 'const', dims: ranges.map((r) => r.count), data: one.float ? Float32Array.from(picked as number[]) : picked, float: one.float };
    }
    case 'Transpose': {
      const rank = one.dims.length;
      const perm = attrInts(node, 'perm') ?? [...Array(rank).keys()].reverse();
      const inStrides = stridesOf(one.dims);
      const dims = perm.map((p) => one.dims[p]);
      const total = prod(dims);
      const data: Sym[] = new Array(total);
      const idx = new Array(rank).fill(0);
      for (let k = 0; k < total; k++) {
        let src = 0;
        for (let r = 0; r < rank; r++) src += idx[r] * inStrides[perm[r]];
        data[k] = (one.data as ArrayLike<Sym>)[src];
        for (let r = rank - 1; r >= 0; r--) {
          if (++idx[r] < dims[r]) break;
          idx[r] = 0;
        }
      }
      return { kind: 'const', dims, data: one.float ? Float32Array.from(data as number[]) : data, float: one.float };
    }
    case 'ConstantOfShape': {
      const dims = ints(0, 'the shape');
      const a = attr(node, 'value');
      const v = a?.t ? tensorValues(a.t, `node ${node.name}`) : Float32Array.of(0);
      const float = v instanceof Float32Array;
      const data = Array(prod(dims)).fill(v[0]);
      return { kind: 'const', dims, data: float ? Float32Array.from(data) : data, float };
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      const [a, b] = ins;
      const n = Math.max(prod(a.dims), prod(b.dims));
      if (prod(a.dims) !== n && prod(a.dims) !== 1) throw fail(node, 'folds only same-shape or scalar operands');
      if (prod(b.dims) !== n && prod(b.dims) !== 1) throw fail(node, 'folds only same-shape or scalar operands');
      const at = (v: typeof a, i: number) => (v.data as ArrayLike<Sym>)[prod(v.dims) === 1 ? 0 : i];
      const float = a.float || b.float;
      const data: Sym[] = Array.from({ length: n }, (_, i) => {
        const x = at(a, i);
        const y = at(b, i);
        if (x === BATCH || y === BATCH) {
          // N·1, N/1, N+0 keep the batch; anything else depends on it.
          if (op === 'Mul' && (x === 1 || y === 1)) return BATCH;
          if (op === 'Div' && y === 1) return BATCH;
          if ((op === 'Add' || op === 'Sub') && y === 0) return BATCH;
          throw fail(node, 'computes with the batch size; export with x.flatten(1) or a fixed batch');
        }
        const r = op === 'Add' ? x + y : op === 'Sub' ? x - y : op === 'Mul' ? x * y : x / y;
        return float ? r : op === 'Div' ? Math.trunc(r) : r;
      });
      const dims = prod(a.dims) >= prod(b.dims) ? a.dims : b.dims;
      return { kind: 'const', dims, data: float ? Float32Array.from(data as number[]) : data, float };
    }
    default:
      throw fail(node, `cannot fold ${op}`);
  }
}


const stridesOf = (dims: number[]): number[] => dims.map((_, i) => prod(dims.slice(i + 1)));

/** The elements of a constant at the cross product of per-axis index lists, row-major. */
function gatherNd(v: { dims: number[]; data: Float32Array | Sym[] }, index: number[][]): Sym[] {
  const strides = stridesOf(v.dims);
  let offsets = [0];
  index.forEach((list, axis) => {
    offsets = offsets.flatMap((o) => list.map((i) => o + i * strides[axis]));
  });
  return offsets.map((o) => (v.data as ArrayLike<Sym>)[o]);
}

/** Per-channel (mean, std) when the graph begins with x − mean then ÷ std (or · 1/std). */
function findNormalisation(steps: Step[], inputName: string, values: Map<string, Value>, channels: number): { mean: number[]; std: number[] } | null {
  const perChannel = (v: Value | undefined): number[] | null => {
    if (!v || v.kind !== 'const' || !(v.data instanceof Float32Array)) return null;
    const n = v.data.length;
    if (n === 1) return Array(channels).fill(v.data[0]);
    return n === channels ? [...v.data] : null;
  };
  let mean = Array(channels).fill(0);
  let std = Array(channels).fill(1);
  let cur = inputName;
  let found = false;
  for (const s of steps.slice(0, 3)) {
    const ins = s.node.input ?? [];
    if (ins[0] !== cur) break;
    const k = perChannel(values.get(ins[1]));
    if (!k) break;
    if (s.node.opType === 'Sub') mean = mean.map((m, i) => m + k[i] * std[i]);
    else if (s.node.opType === 'Div') std = std.map((d, i) => d * k[i]);
    else if (s.node.opType === 'Mul') std = std.map((d, i) => d / k[i]);
    else break;
    found = true;
    cur = s.output;
  }
  return found ? { mean, std } : null;
}
