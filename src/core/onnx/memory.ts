/**
 * How much backend memory an ONNX model will need, read from the file's header before any
 * weight is decoded or any tensor made, so that a model too large for the machine is refused
 * with its size instead of failing halfway through (a wasm heap that cannot grow, a tab that
 * the browser kills).
 *
 * The estimate: weights as float32 (the importer holds every float initializer once as a
 * tensor, and the wasm backend a packed copy of each convolution filter) plus the peak of one
 * forward and backward pass per image, by the lab's one rule for that (model/stepMemory.ts,
 * which the attack runner's batch cap uses too) over the tensors the forward pass keeps.
 *
 * Shapes come from a small propagation over the graph (the ONNX file itself rarely carries
 * them: torch.onnx.export writes no value_info for intermediates); an op it does not know
 * keeps the size of its largest input, which is exact for elementwise ops and an
 * overestimate for the rest.
 */
import { LabError } from '../types';
import { gradientStepBytesPerImage, imagesWithin } from '../model/stepMemory';
import { dimsOf, num, type GraphProto, type ModelProto, type NodeProto } from './proto';

/**
 * Default budget in a browser worker: 2 GiB. tfjs-backend-wasm's heap is wasm32, capped at
 * 4 GiB, and it never shrinks; a tab also holds the lab's data, the file's bytes and, on GPU
 * backends, textures of the same tensors, so half the wasm cap is what a laptop tab can ask.
 */
export const ONNX_MEMORY_BUDGET_BROWSER = 2 * 2 ** 30;
/**
 * Default budget in Node (CLI, benchmarks, tests): 3 GiB, the same 4 GiB wasm32 heap cap less
 * room for its fragmentation (freed blocks of one size are not always reusable for another).
 * The CLI's --memory-budget overrides it.
 */
export const ONNX_MEMORY_BUDGET_NODE = 3 * 2 ** 30;
/**
 * Batch the refusal is made for: one image, the least any analysis runs. A model that fits
 * only small batches still loads; `maxBatch` says how many images fit the budget at once
 * (WRN-28-10 needs ≈ 160 MB per image on WASM, so the attacks' default batch of 32 does not
 * fit a 4 GiB wasm heap).
 */
export const ESTIMATE_BATCH = 1;

/** A named budget and what the user can do when a model does not fit it. */
export interface MemoryBudget {
  bytes: number;
  /** The advice after the colon, e.g. "raise it with --memory-budget 4GB". */
  advice: string;
}

export interface MemoryEstimate {
  /** Float weights as float32, as the file holds them. */
  weightBytes: number;
  /** The weights on the backend: tensors plus the wasm backend's packed convolution filters. */
  backendWeightBytes: number;
  /** Activations of one forward + backward pass per image. */
  activationBytesPerImage: number;
  batch: number;
  /** backendWeightBytes + batch · activationBytesPerImage. */
  totalBytes: number;
}

/** Most images per forward + backward pass that fit `budgetBytes` (0: not even one). */
export const maxBatchFor = (est: MemoryEstimate, budgetBytes: number): number => imagesWithin(est.activationBytesPerImage, budgetBytes - est.backendWeightBytes);

/** Weights on the backend: the tensor and XNNPACK's packed filter (see estimateOnnxMemory). */
const WEIGHT_COPIES = 2;
const FLOAT_TYPES = new Set([1, 10, 11, 16]);
const prod = (a: number[]) => a.reduce((x, y) => x * y, 1);

/** 1.2 GB, 146 MB, 512 kB: decimal units, as file managers show sizes. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(bytes >= 1e10 ? 0 : 1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

/** "512MB", "1.5GB", "2GiB", "1073741824" → bytes; null when it is not a size. */
export function parseByteSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$/i.exec(text);
  if (!m) return null;
  const unit = (m[2] ?? 'b').toLowerCase();
  const scale: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };
  const v = Number(m[1]) * scale[unit];
  return Number.isFinite(v) && v > 0 ? Math.round(v) : null;
}

const attrOf = (n: NodeProto, name: string) => n.attribute?.find((a) => a.name === name);
const ints = (n: NodeProto, name: string): number[] | undefined => {
  const a = attrOf(n, name);
  return a ? (a.ints ?? []).map(num) : undefined;
};
const int = (n: NodeProto, name: string, dflt: number): number => {
  const a = attrOf(n, name);
  return a ? num(a.i) : dflt;
};

/** Output size of a sliding window along one axis (ONNX Conv/Pool shape rules). */
function windowOut(size: number, k: number, s: number, d: number, p0: number, p1: number, autoPad: string, ceil: boolean): number {
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(size / s);
  const span = d * (k - 1) + 1;
  const pads = autoPad === 'VALID' ? 0 : p0 + p1;
  const r = (size + pads - span) / s;
  return Math.max(1, (ceil ? Math.ceil(r) : Math.floor(r)) + 1);
}

/**
 * The estimate for `model` at `batch`, from dims alone: no initializer is decoded and no
 * external data read. Per-image shapes exclude the batch axis, in ONNX (NCHW) order.
 */
export function estimateOnnxMemory(model: ModelProto, batch = ESTIMATE_BATCH): MemoryEstimate {
  const graph = model.graph as GraphProto;
  const initDims = new Map<string, number[]>();
  let weightElements = 0;
  for (const t of graph.initializer ?? []) {
    const dims = dimsOf(t);
    initDims.set(t.name ?? '', dims);
    if (FLOAT_TYPES.has(t.dataType ?? 0)) weightElements += prod(dims);
  }
  // Runtime values (computed from the image) with their per-image shape; anything else is a constant.
  const shapes = new Map<string, number[]>();
  for (const i of graph.input ?? []) {
    if (initDims.has(i.name ?? '')) continue;
    const dims = (i.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue != null ? num(d.dimValue) : 1));
    shapes.set(i.name ?? '', dims.slice(1));
  }
  let sum = 0;
  let largest = 0;
  for (const n of graph.node ?? []) {
    const rt = (n.input ?? []).map((x) => shapes.get(x)).filter((s): s is number[] => s !== undefined);
    const out = n.output?.[0];
    if (!out || rt.length === 0) continue; // constants and shape arithmetic fold at load
    const op = n.opType ?? '';
    const x = rt.reduce((a, b) => (prod(b) > prod(a) ? b : a));
    let shape = x;
    // tfjs tensors an op makes per call: the op itself, plus a bias or shift added after it.
    let tensors = 1;
    if ((op === 'Conv' || op === 'MaxPool' || op === 'AveragePool') && x.length === 3) {
      const w = op === 'Conv' ? initDims.get(n.input?.[1] ?? '') : undefined;
      const k = op === 'Conv' ? (w ?? [x[0], 1, 1, 1]).slice(2) : (ints(n, 'kernel_shape') ?? [1, 1]);
      const s = ints(n, 'strides') ?? [1, 1];
      const d = ints(n, 'dilations') ?? [1, 1];
      const p = ints(n, 'pads') ?? [0, 0, 0, 0];
      const autoPad = attrOf(n, 'auto_pad')?.s ? new TextDecoder().decode(attrOf(n, 'auto_pad')!.s!) : 'NOTSET';
      const ceil = int(n, 'ceil_mode', 0) === 1;
      const c = op === 'Conv' ? (w?.[0] ?? x[0]) : x[0];
      shape = [c, windowOut(x[1], k[0], s[0], d[0], p[0], p[2], autoPad, ceil), windowOut(x[2], k[1], s[1], d[1], p[1], p[3], autoPad, ceil)];
      if (op === 'Conv' && n.input?.[2]) tensors = 2;
    } else if (op === 'GlobalAveragePool' || op === 'GlobalMaxPool') {
      shape = [x[0], ...x.slice(1).map(() => 1)];
    } else if (op === 'Gemm' || op === 'MatMul') {
      const w = initDims.get(n.input?.[1] ?? '');
      const transB = op === 'Gemm' && int(n, 'transB', 0) === 1;
      if (w?.length === 2) shape = [transB ? w[0] : w[1]];
      if (op === 'Gemm' && n.input?.[2]) tensors = 2;
    } else if (op === 'BatchNormalization') {
      tensors = 2; // x·scale, then + shift
    } else if (op === 'Flatten' || op === 'Reshape') {
      shape = [prod(x)];
    } else if (op === 'Concat' && rt.length > 1) {
      const axis = int(n, 'axis', 1);
      const a = (axis < 0 ? axis + x.length + 1 : axis) - 1;
      shape = x.map((v, i) => (i === a ? rt.reduce((acc, r) => acc + (r[i] ?? 0), 0) : v));
    } else if (op === 'ReduceMean') {
      const axes = ints(n, 'axes');
      if (axes) shape = int(n, 'keepdims', 1) === 1 ? x.map((v, i) => (axes.includes(i + 1) || axes.includes(i + 1 - x.length - 1) ? 1 : v)) : x.filter((_, i) => !axes.includes(i + 1) && !axes.includes(i - x.length));
    } else if (op === 'Identity' || op === 'Dropout' || op === 'Squeeze' || op === 'Unsqueeze') {
      tensors = 0; // views of their input
    }
    shapes.set(out, shape);
    const size = prod(shape);
    sum += tensors * size;
    largest = Math.max(largest, size);
  }
  const inputSize = [...shapes.values()][0] ? prod([...shapes.values()][0]) : 0;
  // The lab's one rule for a gradient step's memory, also the attack runner's batch cap.
  const activationBytesPerImage = gradientStepBytesPerImage({ keptFloats: sum, largestFloats: largest, inputFloats: inputSize });
  // tfjs-backend-wasm's XNNPACK keeps a packed copy of every convolution filter beside the
  // tensor (measured: a 515 MB wasm heap after loading WRN-28-10's 146 MB), so the weights
  // count twice (WEIGHT_COPIES); on the GPU backends this overestimates.
  const weightBytes = 4 * weightElements;
  const backendWeightBytes = WEIGHT_COPIES * weightBytes;
  return { weightBytes, backendWeightBytes, activationBytesPerImage, batch, totalBytes: backendWeightBytes + batch * activationBytesPerImage };
}

/** Throws one LabError naming the sizes when the estimate exceeds the budget. */
export function checkMemoryBudget(label: string, est: MemoryEstimate, budget: MemoryBudget): void {
  if (est.totalBytes <= budget.bytes) return;
  throw new LabError(
    `${label} needs ≈ ${formatBytes(est.totalBytes)} (${formatBytes(est.weightBytes)} of weights, held twice by the backend, and ${formatBytes(est.activationBytesPerImage)} per image for a forward and backward pass) but the budget is ${formatBytes(budget.bytes)}: ${budget.advice}`,
  );
}
