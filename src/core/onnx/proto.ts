/**
 * Reading an ONNX file: the protobuf decode (npm `onnx-proto`, a protobufjs static module
 * generated from onnx.proto; see README "Bring your own model: ONNX" for why that package)
 * and the tensors it holds, turned into typed arrays.
 *
 * Field meanings follow onnx.proto (onnx/onnx, onnx/onnx.proto, IR version 8): TensorProto
 * stores data in exactly one of raw_data (little-endian bytes), float_data, int32_data,
 * int64_data, double_data, or, with data_location EXTERNAL, in another file named by its
 * external_data entries "location", "offset" and "length".
 */
import * as onnxProto from 'onnx-proto';
import { LabError } from '../types';
import { quoteName } from '../text';

// A CommonJS module: bundlers and Node expose its `onnx` namespace directly or under `default`.
const ns = onnxProto as unknown as { onnx?: typeof onnxProto.onnx; default?: { onnx: typeof onnxProto.onnx } };
export const onnx = (ns.onnx ?? ns.default!.onnx) as typeof onnxProto.onnx;

export type ModelProto = onnxProto.onnx.IModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;

/** Long-like values from protobufjs (int64 fields) as JS numbers. */
export function num(v: number | { toNumber(): number } | null | undefined): number {
  if (v == null) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** ONNX TensorProto.DataType codes the importer reads. */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11 } as const;
const DT_NAMES: Record<number, string> = { 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16' };
export const dtypeName = (dt: number | null | undefined): string => DT_NAMES[dt ?? 0] ?? `data type ${dt}`;

/** Typed arrays use the host's byte order; ONNX raw_data is little-endian (every browser host is). */
const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Decode a whole .onnx file held in memory; anything protobuf cannot read is one LabError. */
export function decodeModel(bytes: Uint8Array, label: string): ModelProto {
  if (bytes.byteLength === 0) throw new LabError(`${label}: the file is empty`);
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    const why = ((e as Error).message ?? String(e)).split('\n')[0];
    throw new LabError(`${label}: not a readable ONNX file (protobuf: ${why}); a truncated or partly downloaded file looks like this, so export or copy it again`);
  }
  checkModel(model, label);
  return model;
}

/** Refuse a decoded ModelProto without a graph or without an opset (one LabError). */
export function checkModel(model: ModelProto, label: string): void {
  if (!model.graph || !model.graph.node?.length) {
    throw new LabError(`${label}: the file decodes but holds no ONNX graph (is it an .onnx model exported by torch.onnx.export?)`);
  }
  // Every ONNX model names the opset of the standard domain its operators follow (onnx.proto:
  // opset_import, at least one entry). torch writes it last, so a file cut right after the
  // graph decodes cleanly but lacks it: without an opset the operators' meaning is unknown.
  if (!(model.opsetImport ?? []).some((o) => (!o.domain || o.domain === 'ai.onnx') && num(o.version) > 0)) {
    throw new LabError(`${label}: the file declares no ONNX opset (opset_import), which every exported model has; a truncated file looks like this, so export or copy it again`);
  }
}

/** Bytes of an external-data file, by its name as written in the model (`location`). */
export type ReadExternal = (location: string) => Promise<Uint8Array>;

/** A tensor's dims as numbers. */
export const dimsOf = (t: TensorProto): number[] => (t.dims ?? []).map(num);

function halfToFloat(h: number): number {
  // IEEE 754 binary16 → number (sign, 5-bit exponent, 10-bit fraction).
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Where an externally stored tensor lies: file name as written in the model, offset, length (undefined: to the file's end). */
export function externalRef(t: TensorProto, label: string): { location: string; offset: number; length: number | undefined } | null {
  if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) return null;
  const entry = (k: string) => t.externalData?.find((e) => e.key === k)?.value ?? undefined;
  const location = entry('location');
  if (!location) throw new LabError(`${label}: tensor ${quoteName(t.name ?? '?')} is stored externally but names no file`);
  return { location, offset: Number(entry('offset') ?? 0), length: entry('length') !== undefined ? Number(entry('length')) : undefined };
}

/** How many of `f` are NaN or ±Inf: exponent bits all ones, read as integers (a tight loop over 36 M weights). */
export function countNonFinite(f: Float32Array): number {
  const u = new Uint32Array(f.buffer, f.byteOffset, f.length);
  let count = 0;
  for (let i = 0; i < u.length; i++) if ((u[i] & 0x7f800000) === 0x7f800000) count++;
  return count;
}

/**
 * A tensor's values: float types as Float32Array, integer and bool types as a plain number
 * array (shape vectors and indices; int64 beyond 2^53 does not occur in them).
 * `rawRead` is the tensor's raw bytes when they were read from elsewhere (the file by range,
 * or an external-data file); when undefined, the tensor's own raw_data or typed fields are read.
 */
export function tensorValues(t: TensorProto, label: string, rawRead?: Uint8Array | null): Float32Array | number[] {
  const dims = dimsOf(t);
  const count = dims.reduce((a, b) => a * b, 1);
  const name = quoteName(t.name ?? '?');
  if (rawRead === undefined && t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    const ref = externalRef(t, label)!;
    throw new LabError(`${label}: tensor ${name} is stored in the external data file "${ref.location}", which was not given; load the .onnx together with its "${ref.location}"`);
  }
  const raw = rawRead !== undefined ? rawRead : t.rawData && t.rawData.byteLength ? t.rawData : null;
  const dt = t.dataType ?? 0;
  const tooShort = (have: number) => new LabError(`${label}: tensor ${name} ([${dims}], ${dtypeName(dt)}) holds ${have} values where ${count} belong (truncated file?)`);
  if (raw && dt === DT.FLOAT && LITTLE_ENDIAN_HOST) {
    // The common case (every float weight torch writes): raw_data is little-endian float32.
    if (raw.byteLength < count * 4) throw tooShort(Math.floor(raw.byteLength / 4));
    // Bytes read for this tensor alone (a ranged read): used in place, no copy.
    if (raw.byteOffset === 0 && raw.buffer.byteLength === raw.byteLength) return new Float32Array(raw.buffer, 0, count);
    // A view into a larger buffer (the whole file in memory): copied into a fresh, aligned
    // array, so that no tensor keeps the file's buffer alive.
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(raw.subarray(0, count * 4));
    return out;
  }
  if (raw) {
    // Copy to an aligned buffer: raw_data may sit at any offset of the file.
    const bytes = raw.slice();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const need = (size: number) => {
      if (bytes.byteLength < count * size) throw tooShort(Math.floor(bytes.byteLength / size));
    };
    switch (dt) {
      case DT.FLOAT: {
        need(4);
        const out = new Float32Array(count);
        for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
        return out;
      }
      case DT.DOUBLE: {
        need(8);
        const out = new Float32Array(count);
        for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
        return out;
      }
      case DT.FLOAT16: {
        need(2);
        const out = new Float32Array(count);
        for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
        return out;
      }
      case DT.INT64: {
        need(8);
        return Array.from({ length: count }, (_, i) => Number(view.getBigInt64(8 * i, true)));
      }
      case DT.INT32:
        need(4);
        return Array.from({ length: count }, (_, i) => view.getInt32(4 * i, true));
      case DT.INT8:
        need(1);
        return Array.from({ length: count }, (_, i) => view.getInt8(i));
      case DT.UINT8:
      case DT.BOOL:
        need(1);
        return Array.from({ length: count }, (_, i) => view.getUint8(i));
      default:
        throw new LabError(`${label}: tensor ${name} has ${dtypeName(dt)} values, which the importer does not read (float32/16/64 and integer tensors only)`);
    }
  }
  const check = <T extends { length: number }>(a: T): T => {
    if (a.length < count) throw tooShort(a.length);
    return a;
  };
  switch (dt) {
    case DT.FLOAT:
      return Float32Array.from(check(t.floatData ?? []));
    case DT.DOUBLE:
      return Float32Array.from(check(t.doubleData ?? []));
    case DT.FLOAT16:
      // float16 in int32_data holds the bit pattern in the low 16 bits.
      return Float32Array.from(check(t.int32Data ?? []), halfToFloat);
    case DT.INT64:
      return check(t.int64Data ?? []).map(num);
    case DT.INT32:
    case DT.INT8:
    case DT.UINT8:
    case DT.BOOL:
      return [...check(t.int32Data ?? [])];
    default:
      throw new LabError(`${label}: tensor ${name} has ${dtypeName(dt)} values, which the importer does not read (float32/16/64 and integer tensors only)`);
  }
}

/** External-data file names a model refers to (each at most once). */
export function externalLocations(graph: GraphProto): string[] {
  const out = new Set<string>();
  const visit = (t: TensorProto) => {
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      const loc = t.externalData?.find((e) => e.key === 'location')?.value;
      if (loc) out.add(loc);
    }
  };
  for (const t of graph.initializer ?? []) visit(t);
  for (const n of graph.node ?? []) for (const a of n.attribute ?? []) if (a.t) visit(a.t);
  return [...out];
}
