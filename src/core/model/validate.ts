/**
 * Structural validation of a tfjs model.json (Layers or Graph format) before tfjs sees it.
 *
 * Why: tfjs trusts the file. A Layers model whose inbound_nodes name the layer itself, form a
 * cycle or name a missing layer makes `LayersModel.fromConfig` loop forever (it re-queues
 * nodes whose inputs do not exist yet until none are left); a topology that is a string, a
 * shape that is not a list or a weight path with `..` end in raw JavaScript errors or in reads
 * outside the model's folder. Everything here is checked on the parsed JSON alone, in time
 * linear in its size, and every failure is one line naming the file, the layer and the problem.
 *
 * The same checks serve the worker, the CLI and any later importer that produces this format.
 */
import { quoteName } from '../text';

/** Most layers (or graph nodes) a model may declare; the largest zoo model has ~70, ImageNet ResNets ~500. */
export const MAX_LAYERS = 20_000;
/** Most inputs one layer call (or graph node) may take: Concatenate/AddN over more is not a model, it is a test. */
export const MAX_NODE_INPUTS = 1_000;
/** Most times one layer may be called (shared layers): Keras RNN unrolls stay far below. */
export const MAX_LAYER_CALLS = 1_000;
/** Nesting of models inside models (a Sequential inside a functional model, …). */
export const MAX_NESTING = 8;
/** Highest tensor rank accepted in a declared shape (images are rank 4 with the batch). */
export const MAX_RANK = 8;
/**
 * Most values one input sample may have: 2^24 floats (64 MB) is a 2048×2048×4 image,
 * far above any model the lab is for, and small enough that a probe batch of one fits in
 * WASM memory; a declared input of 30 000 000 000 values would otherwise be allocated.
 */
export const MAX_INPUT_ELEMENTS = 2 ** 24;
/** Most values one weight may have: 2^28 floats is 1 GB, more than a browser tab can hold twice. */
export const MAX_WEIGHT_ELEMENTS = 2 ** 28;
/** Most bytes all weights together may need (1 GiB): the shards are read into one buffer. */
export const MAX_WEIGHT_BYTES = 2 ** 30;
/** Longest weight-shard path: names, not documents. */
export const MAX_PATH_LENGTH = 512;
/** Largest kernel, stride, pool or unit count accepted in a layer config. */
export const MAX_LAYER_DIM = 2 ** 20;

/** Bytes per element of the dtypes tfjs can read from a weight shard. */
export const WEIGHT_DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };
/** Quantised storage tfjs dequantises on load. */
const QUANTIZATION_DTYPES = new Set(['uint8', 'uint16', 'float16']);
/** Placeholder and Const dtypes tfjs-converter maps to a tensor dtype. */
const GRAPH_DTYPES = new Set(['DT_FLOAT', 'DT_HALF', 'DT_DOUBLE', 'DT_INT32', 'DT_INT64', 'DT_INT8', 'DT_UINT8', 'DT_INT16', 'DT_UINT16', 'DT_BOOL', 'DT_STRING', 'DT_COMPLEX64']);
/** Layer dtypes tfjs-layers knows. */
const LAYER_DTYPES = new Set(['float32', 'int32', 'bool', 'complex64', 'string']);
/** Graph ops that feed a loop's back edge: the only cycles a TensorFlow graph may contain. */
const LOOP_BACK_OPS = new Set(['NextIteration']);
/** Graph ops that take no data inputs; every other op reads at least one. */
const SOURCE_OPS = new Set(['Placeholder', 'Const', 'NoOp', 'VarHandleOp', 'HashTableV2', 'LookupTableFindV2', 'RandomUniform', 'Range', 'Fill', 'OnesLike', 'ZerosLike']);
/**
 * Data inputs the common ops need at least (control inputs "^x" do not count): tfjs-converter
 * reads them by position and fails with a raw TypeError when one is missing.
 */
const OP_MIN_INPUTS: Record<string, number> = {
  MatMul: 2, BatchMatMul: 2, BatchMatMulV2: 2, _FusedMatMul: 2, Conv2D: 2, _FusedConv2D: 2, DepthwiseConv2dNative: 2, FusedDepthwiseConv2dNative: 2,
  Add: 2, AddV2: 2, BiasAdd: 2, Sub: 2, Mul: 2, RealDiv: 2, Div: 2, Maximum: 2, Minimum: 2, Pow: 2, SquaredDifference: 2,
  Reshape: 2, ConcatV2: 2, Pad: 2, MirrorPad: 2, Transpose: 2, Mean: 2, Sum: 2, Max: 2, Min: 2, Prod: 2, ArgMax: 2, GatherV2: 3,
  StridedSlice: 4, Slice: 3, FusedBatchNorm: 5, FusedBatchNormV3: 5, Tile: 2, ExpandDims: 2, Squeeze: 1, Cast: 1, Relu: 1, Softmax: 1,
};
/** Layer classes that are themselves models (their config holds layers). */
const MODEL_CLASSES = new Set(['Sequential', 'Model', 'Functional']);
/** Layer classes with more than one output tensor per call (RNNs with return_state). */
const MULTI_OUTPUT_CLASSES = new Set(['LSTM', 'GRU', 'SimpleRNN', 'RNN', 'Bidirectional', 'ConvLSTM2D']);

export interface ModelJsonCheck {
  kind: 'layers' | 'graph';
  /** Every failure, one line each, in file order; empty when the file is sound. */
  problems: string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPosInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const isNatural = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;
/** A snake_case key or its camelCase twin (tfjs accepts both). */
const pick = (o: Json, snake: string): unknown => (snake in o ? o[snake] : o[snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())]);

class Problems {
  readonly list: string[] = [];
  constructor(private readonly file: string) {}
  add(where: string, problem: string): void {
    // A file with 10 000 broken layers gets a bounded report; the first lines say enough.
    if (this.list.length < 50) this.list.push(`${this.file}: ${where ? `${where}: ` : ''}${problem}`);
  }
}

/**
 * Check a weight-shard path: relative, inside the model's folder (no `..`, no absolute
 * path, no scheme, no backslash or percent-escape that a URL parser would turn into one).
 * Returns the problem or null.
 */
export function shardPathProblem(p: unknown): string | null {
  if (typeof p !== 'string' || p === '') return 'is not a file name';
  if (p.length > MAX_PATH_LENGTH) return `is longer than ${MAX_PATH_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(p)) return 'contains control characters';
  if (p.includes('\\')) return 'contains a backslash';
  if (/^[a-z][a-z0-9+.-]*:/i.test(p)) return 'names a URL or drive, not a file beside model.json';
  if (p.startsWith('/')) return "is absolute; shards must lie in the model's folder";
  if (/%2e|%2f|%5c/i.test(p)) return 'contains an escaped dot or slash';
  const segments = p.split('/');
  if (segments.some((s) => s === '..')) return "climbs out of the model's folder (..)";
  if (segments.some((s) => s === '')) return 'has an empty path segment';
  return null;
}

/** Elements of a shape, or a problem. `batchFirst`: the first entry may be null or -1. */
function shapeProblem(shape: unknown, opts: { batchFirst?: boolean; maxElements: number; allowZero?: boolean }): { problem: string } | { elements: number } {
  if (!Array.isArray(shape)) return { problem: `shape ${quoteName(shape)} is not a list` };
  if (shape.length > MAX_RANK) return { problem: `shape has rank ${shape.length}, more than ${MAX_RANK}` };
  let elements = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (opts.batchFirst && i === 0 && (d === null || d === -1)) continue;
    const ok = opts.allowZero ? isNatural(d) : isPosInt(d);
    if (!ok) return { problem: `shape [${shape.map((x) => JSON.stringify(x)).join(', ').slice(0, 80)}] has ${JSON.stringify(d)?.slice(0, 20)} where a ${opts.allowZero ? 'non-negative' : 'positive'} integer belongs` };
    elements *= d;
  }
  if (elements > opts.maxElements) return { problem: `shape [${shape.map((x) => JSON.stringify(x)).join(', ')}] has ${elements.toExponential(2)} elements, more than the limit ${opts.maxElements}` };
  return { elements };
}

/** The inbound references of one Keras layer call: [[name, nodeIndex, tensorIndex, kwargs?], …]. */
interface Ref {
  layer: string;
  node: number;
  tensor: number;
}

function checkLayersConfig(config: unknown, where: string, out: Problems, depth: number, sequential: boolean): void {
  if (depth > MAX_NESTING) return out.add(where, `models nested more than ${MAX_NESTING} deep`);
  // Sequential configs are a list of layers or {name, layers}; functional ones {name, layers, input_layers, output_layers}.
  const layers = Array.isArray(config) && sequential ? config : isObject(config) ? config.layers : undefined;
  if (!Array.isArray(layers)) return out.add(where, '"config.layers" is not a list of layers');
  if (layers.length === 0) return out.add(where, 'the model has no layers');
  if (layers.length > MAX_LAYERS) return out.add(where, `${layers.length} layers, more than the limit ${MAX_LAYERS}`);

  const names = new Map<string, { index: number; className: string; calls: number }>();
  const calls: { layer: string; call: number; refs: Ref[] }[] = [];
  layers.forEach((layer, index) => {
    if (!isObject(layer)) return out.add(where, `layer ${index} is not an object`);
    const className = layer.class_name ?? layer.className;
    const cfg = layer.config;
    const name = layer.name ?? (isObject(cfg) ? cfg.name : undefined);
    const at = `${where}layer ${typeof name === 'string' ? quoteName(name) : index}`;
    if (typeof className !== 'string' || className === '') return out.add(at, 'has no "class_name"');
    if (!isObject(cfg)) return out.add(at, `(${quoteName(className)}) has no "config" object`);
    checkLayerConfig(cfg, className, at, out, depth);
    if (sequential) {
      if (name !== undefined && typeof name !== 'string') out.add(at, 'has a name that is not a string');
      if (typeof name === 'string') {
        if (names.has(name)) out.add(at, 'appears twice (layer names must be unique)');
        names.set(name, { index, className, calls: 1 });
      }
      if (index === 0 && className !== 'InputLayer' && pick(cfg, 'batch_input_shape') === undefined && pick(cfg, 'input_shape') === undefined && !MODEL_CLASSES.has(className)) {
        out.add(at, 'is the first layer of a Sequential model but declares no input shape');
      }
      return;
    }
    // tfjs keys a functional model's layers by this top-level name and its nodes by config.name:
    // both must be there and agree, or nodes wait forever for a layer "that does not exist".
    if (typeof name !== 'string' || name === '' || name !== layer.name) return out.add(at, 'has no "name"');
    if (cfg.name !== undefined && cfg.name !== name) return out.add(at, `has "name" ${quoteName(name)} but "config.name" ${quoteName(cfg.name)}`);
    if (names.has(name)) return out.add(at, 'appears twice (layer names must be unique)');
    const inbound = pick(layer, 'inbound_nodes');
    if (!Array.isArray(inbound)) return out.add(at, '"inbound_nodes" is not a list');
    if (className === 'InputLayer' && inbound.length > 0) return out.add(at, 'is an InputLayer but has inbound nodes');
    if (inbound.length > MAX_LAYER_CALLS) return out.add(at, `is called ${inbound.length} times, more than the limit ${MAX_LAYER_CALLS}`);
    // An InputLayer has its one node from construction; any other layer one per call.
    names.set(name, { index, className, calls: className === 'InputLayer' ? 1 : inbound.length });
    inbound.forEach((call, c) => {
      if (!Array.isArray(call)) return out.add(at, `inbound node ${c} is not a list (Keras 3 configs are not supported; re-export with tfjs-layers or tensorflowjs_converter)`);
      if (call.length === 0) return out.add(at, `inbound node ${c} has no inputs`);
      if (call.length > MAX_NODE_INPUTS) return out.add(at, `inbound node ${c} has ${call.length} inputs, more than the limit ${MAX_NODE_INPUTS}`);
      const refs: Ref[] = [];
      for (const r of call) {
        if (!Array.isArray(r) || typeof r[0] !== 'string' || !isNatural(r[1]) || !isNatural(r[2]) || (r.length > 3 && r[3] !== null && !isObject(r[3]))) {
          return out.add(at, `inbound node ${c} has the entry ${quoteName(r)}, not [layer name, node index, tensor index, kwargs]`);
        }
        refs.push({ layer: r[0], node: r[1], tensor: r[2] });
      }
      calls.push({ layer: name, call: c, refs });
    });
  });
  if (sequential) return;

  // Every reference must name a layer call that exists.
  const key = (layer: string, node: number) => `${layer}\u0000${node}`;
  const resolve = (ref: Ref, at: string): boolean => {
    const target = names.get(ref.layer);
    if (!target) {
      out.add(at, `takes input from layer ${quoteName(ref.layer)}, which does not exist`);
      return false;
    }
    if (ref.node >= target.calls) {
      out.add(at, `takes input from call ${ref.node} of layer ${quoteName(ref.layer)}, which is called ${target.calls} time${target.calls === 1 ? '' : 's'}`);
      return false;
    }
    if (ref.tensor > 0 && !MULTI_OUTPUT_CLASSES.has(target.className) && !MODEL_CLASSES.has(target.className)) {
      out.add(at, `takes output ${ref.tensor} of layer ${quoteName(ref.layer)}, which has one output`);
      return false;
    }
    return true;
  };
  const edges = new Map<string, string[]>();
  for (const c of calls) {
    const at = `${where}layer ${quoteName(c.layer)}`;
    const deps: string[] = [];
    for (const r of c.refs) if (resolve(r, at)) deps.push(key(r.layer, r.node));
    edges.set(key(c.layer, c.call), deps);
  }
  for (const [name, info] of names) if (info.className === 'InputLayer') edges.set(key(name, 0), []);
  const cycle = findCycle(edges);
  if (cycle) out.add(`${where}layer ${quoteName(cycle.split('\u0000')[0])}`, 'is part of a cycle: its input depends on its own output (a model must be a DAG)');

  const cfg = config as Json;
  for (const [field, required] of [['input_layers', true], ['output_layers', true]] as const) {
    const list = pick(cfg, field);
    if (!Array.isArray(list) || list.length === 0) {
      if (required) out.add(where, `"${field}" is not a non-empty list`);
      continue;
    }
    for (const r of list) {
      if (!Array.isArray(r) || typeof r[0] !== 'string' || !isNatural(r[1]) || !isNatural(r[2])) {
        out.add(where, `"${field}" has the entry ${quoteName(r)}, not [layer name, node index, tensor index]`);
        continue;
      }
      const at = `${where}${field}`;
      if (!resolve({ layer: r[0], node: r[1], tensor: r[2] }, at)) continue;
      if (field === 'input_layers' && names.get(r[0])?.className !== 'InputLayer') out.add(at, `names ${quoteName(r[0])}, which is not an InputLayer`);
    }
  }
}

/** Integer hyperparameters in a layer config that must be positive (scalars or tuples). */
const POSITIVE_FIELDS = ['units', 'filters', 'kernel_size', 'strides', 'pool_size', 'dilation_rate', 'depth_multiplier', 'size'];

function checkLayerConfig(cfg: Json, className: string, at: string, out: Problems, depth: number): void {
  if (MODEL_CLASSES.has(className)) {
    checkLayersConfig(cfg, `${at} › `, out, depth + 1, className === 'Sequential');
    return;
  }
  const dtype = cfg.dtype;
  if (dtype !== undefined && dtype !== null && (typeof dtype !== 'string' || !LAYER_DTYPES.has(dtype))) {
    // Mixed-precision policies arrive as objects; anything else is not a dtype tfjs knows.
    if (!isObject(dtype)) out.add(at, `has dtype ${quoteName(dtype)}, which tfjs does not know`);
  }
  for (const field of ['batch_input_shape', 'batch_shape']) {
    const shape = pick(cfg, field);
    if (shape === undefined || shape === null) continue;
    const r = shapeProblem(shape, { batchFirst: true, maxElements: MAX_INPUT_ELEMENTS });
    if ('problem' in r) out.add(at, `"${field}": ${r.problem}`);
  }
  const inputShape = pick(cfg, 'input_shape');
  if (inputShape !== undefined && inputShape !== null) {
    const r = shapeProblem(inputShape, { maxElements: MAX_INPUT_ELEMENTS });
    if ('problem' in r) out.add(at, `"input_shape": ${r.problem}`);
  }
  for (const field of POSITIVE_FIELDS) {
    const v = pick(cfg, field);
    if (v === undefined || v === null) continue;
    const values = Array.isArray(v) ? v : [v];
    if (values.length > MAX_RANK || !values.every((x) => isPosInt(x) && x <= MAX_LAYER_DIM)) {
      out.add(at, `"${field}" is ${quoteName(v)}; it must be a positive integer (or a list of them) up to ${MAX_LAYER_DIM}`);
    }
  }
  const target = pick(cfg, 'target_shape');
  if (target !== undefined && (!Array.isArray(target) || target.length > MAX_RANK || !target.every((x) => isPosInt(x) || x === -1))) {
    out.add(at, `"target_shape" is ${quoteName(target)}; it must list positive integers (one may be -1)`);
  }
  const rate = cfg.rate;
  if (rate !== undefined && (typeof rate !== 'number' || !(rate >= 0 && rate < 1))) out.add(at, `"rate" is ${quoteName(rate)}; it must be in [0, 1)`);
}

/**
 * A cycle in a dependency graph (node → the nodes it reads), found by an iterative
 * depth-first search (no recursion: a 20 000-layer chain must not overflow the stack).
 * Returns one node on a cycle, or null.
 */
function findCycle(edges: Map<string, string[]>): string | null {
  const state = new Map<string, 1 | 2>(); // 1 on the stack, 2 done
  for (const start of edges.keys()) {
    if (state.has(start)) continue;
    const stack: [string, number][] = [[start, 0]];
    state.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const deps = edges.get(top[0]) ?? [];
      if (top[1] < deps.length) {
        const next = deps[top[1]++];
        const s = state.get(next);
        if (s === 1) return next;
        if (s === undefined) {
          state.set(next, 1);
          stack.push([next, 0]);
        }
      } else {
        state.set(top[0], 2);
        stack.pop();
      }
    }
  }
  return null;
}

/** Dims of a TensorFlow TensorShapeProto as JSON ({dim: [{size: "-1"}, …]} or {unknownRank: true}). */
function protoShapeProblem(shape: unknown, maxElements: number): string | null {
  if (shape === undefined || shape === null) return null;
  if (!isObject(shape)) return `shape ${quoteName(shape)} is not a TensorShapeProto`;
  if (shape.unknownRank === true || shape.unknown_rank === true || shape.dim === undefined) return null;
  if (!Array.isArray(shape.dim)) return 'shape "dim" is not a list';
  if (shape.dim.length > MAX_RANK) return `shape has rank ${shape.dim.length}, more than ${MAX_RANK}`;
  let elements = 1;
  for (const d of shape.dim) {
    const raw = isObject(d) ? (d.size ?? '0') : undefined;
    const size = typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : typeof raw === 'number' ? raw : NaN;
    if (!Number.isInteger(size) || size < -1) return `shape has the dimension ${quoteName(d)}; sizes are integers ≥ -1`;
    if (size > 0) elements *= size;
  }
  return elements > maxElements ? `shape declares ${elements.toExponential(2)} elements, more than the limit ${maxElements}` : null;
}

function checkGraphTopology(topology: Json, out: Problems): void {
  const nodes = topology.node;
  if (!Array.isArray(nodes)) return out.add('', '"modelTopology.node" is not a list');
  if (nodes.length === 0) return out.add('', 'the graph has no nodes');
  if (nodes.length > MAX_LAYERS) return out.add('', `${nodes.length} graph nodes, more than the limit ${MAX_LAYERS}`);
  const ops = new Map<string, string>();
  const inputs = new Map<string, string[]>();
  nodes.forEach((node, i) => {
    if (!isObject(node)) return out.add('', `graph node ${i} is not an object`);
    const { name, op } = node;
    if (typeof name !== 'string' || name === '') return out.add('', `graph node ${i} has no "name"`);
    const at = `node ${quoteName(name)}`;
    if (typeof op !== 'string' || op === '') return out.add(at, 'has no "op"');
    if (ops.has(name)) return out.add(at, 'appears twice (node names must be unique)');
    ops.set(name, op);
    const input = node.input ?? [];
    if (!Array.isArray(input) || !input.every((x) => typeof x === 'string')) return out.add(at, '"input" is not a list of node names');
    if (input.length > MAX_NODE_INPUTS) return out.add(at, `has ${input.length} inputs, more than the limit ${MAX_NODE_INPUTS}`);
    // "name", "name:1" (second output) and "^name" (control dependency) all name the node "name".
    inputs.set(name, (input as string[]).map((x) => x.replace(/^\^/, '').replace(/:\d+$/, '')));
    const data = (input as string[]).filter((x) => !x.startsWith('^')).length;
    const need = OP_MIN_INPUTS[op] ?? (SOURCE_OPS.has(op) ? 0 : 1);
    if (data < need) out.add(at, `is a ${quoteName(op)} op with ${data} input${data === 1 ? '' : 's'}; it needs at least ${need}`);
    const attr = node.attr;
    if (attr !== undefined && !isObject(attr)) return out.add(at, '"attr" is not an object');
    if (!attr) return;
    for (const field of ['dtype', 'T']) {
      const t = attr[field];
      if (isObject(t) && t.type !== undefined && (typeof t.type !== 'string' || !GRAPH_DTYPES.has(t.type))) out.add(at, `has dtype ${quoteName(t.type)}, which tfjs does not know`);
    }
    if (op === 'Placeholder' && isObject(attr.shape)) {
      const p = protoShapeProblem(attr.shape.shape, MAX_INPUT_ELEMENTS);
      if (p) out.add(at, p);
    }
    if (op === 'Const' && isObject(attr.value) && isObject(attr.value.tensor)) {
      const tensor = attr.value.tensor;
      const p = protoShapeProblem(tensor.tensorShape ?? tensor.tensor_shape, MAX_WEIGHT_ELEMENTS);
      if (p) out.add(at, p);
    }
  });
  const edges = new Map<string, string[]>();
  for (const [name, deps] of inputs) {
    for (const d of deps) if (!ops.has(d)) out.add(`node ${quoteName(name)}`, `takes input from ${quoteName(d)}, which is not a node of the graph`);
    // A loop's NextIteration feeds its Merge from behind; that edge is the loop, not a fault.
    edges.set(name, deps.filter((d) => ops.has(d) && !LOOP_BACK_OPS.has(ops.get(d) as string)));
  }
  const cycle = findCycle(edges);
  if (cycle) out.add(`node ${quoteName(cycle)}`, 'is part of a cycle: its input depends on its own output (outside a while loop)');
  if (![...ops.values()].includes('Placeholder')) out.add('', 'the graph has no Placeholder (input) node');
  // tfjs reads versions.producer unconditionally; without it the load fails with a raw TypeError.
  if (!isObject(topology.versions)) out.add('', '"modelTopology.versions" is not an object (a graph model records its producer version there)');
}

function checkManifest(manifest: unknown, out: Problems): void {
  if (manifest === undefined || manifest === null) return;
  if (!Array.isArray(manifest)) return out.add('', '"weightsManifest" is not a list');
  let total = 0;
  const seen = new Set<string>();
  manifest.forEach((group, g) => {
    const where = `weightsManifest[${g}]`;
    if (!isObject(group)) return out.add(where, 'is not an object');
    if (!Array.isArray(group.paths)) return out.add(where, '"paths" is not a list');
    if (!Array.isArray(group.weights)) return out.add(where, '"weights" is not a list');
    if (group.paths.length === 0 && group.weights.length > 0) out.add(where, 'lists weights but no shard files');
    for (const p of group.paths) {
      const problem = shardPathProblem(p);
      if (problem) out.add(`${where} path ${quoteName(p)}`, problem);
    }
    group.weights.forEach((w, i) => {
      if (!isObject(w)) return out.add(`${where} weight ${i}`, 'is not an object');
      const at = `weight ${typeof w.name === 'string' ? quoteName(w.name) : i}`;
      if (typeof w.name !== 'string' || w.name === '') return out.add(at, 'has no "name"');
      if (seen.has(w.name)) out.add(at, 'is listed twice');
      seen.add(w.name);
      const dtype = w.dtype ?? 'float32';
      if (typeof dtype !== 'string' || WEIGHT_DTYPE_BYTES[dtype] === undefined) return out.add(at, `has dtype ${quoteName(dtype)}; tfjs reads ${Object.keys(WEIGHT_DTYPE_BYTES).join(', ')}`);
      let bytes = WEIGHT_DTYPE_BYTES[dtype];
      if (w.quantization !== undefined) {
        const q = w.quantization;
        if (!isObject(q) || typeof q.dtype !== 'string' || !QUANTIZATION_DTYPES.has(q.dtype)) return out.add(at, `has quantization ${quoteName(q)}; tfjs reads uint8, uint16 or float16`);
        bytes = WEIGHT_DTYPE_BYTES[q.dtype];
        // Affine quantisation decodes q·scale + min: both must be finite numbers.
        if (q.dtype !== 'float16' && ![q.scale, q.min].every((x) => typeof x === 'number' && Number.isFinite(x))) return out.add(at, 'has a quantization scale or min that is not a finite number');
      }
      const r = shapeProblem(w.shape, { maxElements: MAX_WEIGHT_ELEMENTS, allowZero: true });
      if ('problem' in r) return out.add(at, r.problem);
      total += r.elements * bytes;
    });
  });
  if (total > MAX_WEIGHT_BYTES) out.add('weightsManifest', `the weights need ${(total / 2 ** 20).toFixed(0)} MB, more than the limit ${MAX_WEIGHT_BYTES / 2 ** 20} MB`);
}

/**
 * Check a parsed model.json. `file` names it in messages (a path, URL or "dropped model.json").
 * Never throws: malformed input of any JSON type yields problems.
 */
export function checkModelJson(json: unknown, file: string): ModelJsonCheck {
  const out = new Problems(file);
  if (!isObject(json)) {
    out.add('', `is ${Array.isArray(json) ? 'a list' : json === null ? 'null' : `a ${typeof json}`}, not a model.json object`);
    return { kind: 'layers', problems: out.list };
  }
  const raw = json.modelTopology;
  if (!isObject(raw)) {
    out.add('', raw === undefined || raw === null ? 'has no "modelTopology"; is this a tfjs model.json?' : '"modelTopology" is not an object');
    return { kind: 'layers', problems: out.list };
  }
  const kind = json.format === 'graph-model' || 'node' in raw ? 'graph' : 'layers';
  if (kind === 'graph') checkGraphTopology(raw, out);
  else {
    // tfjs unwraps Keras's {model_config, training_config}.
    const topology = isObject(raw.model_config) ? raw.model_config : raw;
    const className = topology.class_name ?? topology.className;
    if (typeof className !== 'string') out.add('', '"modelTopology" has no "class_name" (a Layers model) nor "node" (a Graph model)');
    else if (!MODEL_CLASSES.has(className)) out.add('', `"modelTopology.class_name" is ${quoteName(className)}; a Layers model is Sequential, Model or Functional`);
    else checkLayersConfig(topology.config, '', out, 0, className === 'Sequential');
  }
  if (kind === 'graph' && isObject(json.signature) && isObject(json.signature.inputs)) {
    // tfjs takes the input shape from the signature when there is one.
    for (const [name, spec] of Object.entries(json.signature.inputs)) {
      const p = isObject(spec) ? protoShapeProblem(spec.tensorShape ?? spec.tensor_shape, MAX_INPUT_ELEMENTS) : 'is not an object';
      if (p) out.add(`signature input ${quoteName(name)}`, p);
    }
  }
  checkManifest(json.weightsManifest, out);
  return { kind, problems: out.list };
}
