/**
 * Reading an .onnx file in pieces: the ModelProto's structure is decoded from a walk over the
 * protobuf wire format (protobuf.dev/programming-guides/encoding: every field is a varint tag
 * `field << 3 | wire type`, then a varint, 4 or 8 bytes, or a varint length and that many
 * bytes), and the one field that holds nearly all of a model's bytes, an initializer's
 * raw_data, is not read at all: its position in the file is recorded and its bytes are read
 * when the importer needs that weight, then dropped.
 *
 * Why: decoding the whole file needs the whole file in memory while the weights are turned
 * into tensors (146 MB for WRN-28-10 beside the 146 MB of weights and the backend's copies).
 * Read this way, the file's bytes in memory at once are one weight plus the graph's structure.
 *
 * Only ModelProto.graph (7) → GraphProto.initializer (5) → TensorProto.raw_data (9) is
 * skipped (onnx/onnx.proto, IR version 8). Everything else (nodes with their Constant tensors,
 * inputs, outputs, opset_import, small fields of each initializer) is read and decoded by
 * protobufjs (proto.ts), so the importer sees the same ModelProto as before, minus raw_data.
 */
import { LabError } from '../types';
import { onnx, type ModelProto, type TensorProto } from './proto';

/**
 * Random access to a file's bytes. Node: a file handle (src/node/files.ts); a browser worker:
 * `blobSource` over a File; anything already in memory: `bytesSource`.
 */
export interface ByteSource {
  size: number;
  /** Exactly `length` bytes from `offset` (the caller checks that they lie in the file). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

export function bytesSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.byteLength, read: async (offset, length) => bytes.subarray(offset, offset + length) };
}

/** A Blob or File (structurally: core has no DOM types); each read is one `slice().arrayBuffer()`. */
export function blobSource(blob: { size: number; slice(start: number, end: number): { arrayBuffer(): Promise<ArrayBuffer> } }): ByteSource {
  return { size: blob.size, read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()) };
}

/** Where an initializer's raw_data lies in the .onnx file. */
export interface RawRef {
  offset: number;
  length: number;
}

/** The model's structure, and for each initializer whose raw_data was left in the file, where it lies. */
export interface ModelSkeleton {
  proto: ModelProto;
  raw: Map<TensorProto, RawRef>;
}

const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
/**
 * Bytes read at a time while walking fields: the structure between two weights (a tensor's
 * name, dims and type, or a node) is a few hundred bytes, so 64 kB reads few weight bytes
 * that the walk then skips.
 */
const CHUNK = 64 * 1024;

/** Thrown for bytes that are not a protobuf message (turned into the importer's one-line refusal). */
class WireError extends Error {}

/** A forward cursor over a ByteSource with a small read-ahead buffer. */
class Cursor {
  private buf: Uint8Array = new Uint8Array(0);
  private start = 0;
  pos = 0;
  constructor(private readonly src: ByteSource) {}

  /** Make [pos, pos + n) available in buf (n ≤ CHUNK), reading ahead within the file. */
  private async fill(n: number): Promise<void> {
    if (this.pos >= this.start && this.pos + n <= this.start + this.buf.byteLength) return;
    const length = Math.min(Math.max(n, CHUNK), this.src.size - this.pos);
    this.buf = await this.src.read(this.pos, length);
    this.start = this.pos;
  }

  async varint(): Promise<number> {
    if (this.pos >= this.src.size) throw new WireError(`index out of range: ${this.pos} + 1 > ${this.src.size}`);
    await this.fill(Math.min(10, this.src.size - this.pos));
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const at = this.pos - this.start;
      if (at >= this.buf.byteLength) throw new WireError(`index out of range: ${this.pos} + 1 > ${this.src.size}`);
      const b = this.buf[at];
      this.pos++;
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 128;
    }
    throw new WireError('invalid varint encoding');
  }

  /** The next n bytes as a fresh copy (a view would keep the whole read-ahead chunk alive). */
  async bytes(n: number): Promise<Uint8Array> {
    this.need(n);
    if (n > CHUNK) {
      const out = Uint8Array.prototype.slice.call(await this.src.read(this.pos, n));
      this.pos += n;
      return out;
    }
    await this.fill(n);
    const at = this.pos - this.start;
    this.pos += n;
    return Uint8Array.prototype.slice.call(this.buf, at, at + n);
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  need(n: number): void {
    if (this.pos + n > this.src.size) throw new WireError(`index out of range: ${this.pos} + ${n} > ${this.src.size}`);
  }
}

/** A tag and a varint re-encoded (the walk copies fields it keeps into a message of their own). */
function encodeVarint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** Bytes of one message being rebuilt from kept fields. */
class Pieces {
  parts: Uint8Array[] = [];
  size = 0;
  push(p: Uint8Array | number[]): void {
    const u = p instanceof Uint8Array ? p : Uint8Array.from(p);
    this.parts.push(u);
    this.size += u.byteLength;
  }
  concat(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.byteLength;
    }
    return out;
  }
}

/** Copy the field whose tag was just read (value included) into `into`. */
async function keepField(cur: Cursor, tag: number, into: Pieces): Promise<void> {
  const wire = tag & 7;
  into.push(encodeVarint(tag));
  if (wire === WIRE_VARINT) into.push(encodeVarint(await cur.varint()));
  else if (wire === WIRE_FIXED64) into.push(await cur.bytes(8));
  else if (wire === WIRE_FIXED32) into.push(await cur.bytes(4));
  else if (wire === WIRE_LEN) {
    const n = await cur.varint();
    into.push(encodeVarint(n));
    into.push(await cur.bytes(n));
  } else throw new WireError(`invalid wire type ${wire} at offset ${cur.pos}`);
}

/** Walk the fields of the message that ends at `end`, calling `on` for each tag. */
async function walk(cur: Cursor, end: number, on: (tag: number) => Promise<void>): Promise<void> {
  while (cur.pos < end) {
    const tag = await cur.varint();
    if (tag >>> 3 === 0) throw new WireError(`invalid field number 0 at offset ${cur.pos}`);
    await on(tag);
    if (cur.pos > end) throw new WireError(`index out of range: ${cur.pos} > ${end}`);
  }
}

/**
 * Decode the ModelProto of `src` without reading any initializer's raw_data: those stay in
 * the file, listed in `raw` by tensor. Refusals are the same lines as proto.ts's decodeModel.
 */
export async function readModelSkeleton(src: ByteSource, label: string): Promise<ModelSkeleton> {
  if (src.size === 0) throw new LabError(`${label}: the file is empty`);
  const cur = new Cursor(src);
  const top = new Pieces();
  const graphRest = new Pieces();
  const tensors: { bytes: Uint8Array; raw: RawRef | null }[] = [];
  let sawGraph = false;
  try {
    await walk(cur, src.size, async (tag) => {
      if (tag !== ((MODEL_GRAPH << 3) | WIRE_LEN)) return keepField(cur, tag, top);
      sawGraph = true;
      const n = await cur.varint();
      cur.need(n);
      await walk(cur, cur.pos + n, async (gtag) => {
        if (gtag !== ((GRAPH_INITIALIZER << 3) | WIRE_LEN)) return keepField(cur, gtag, graphRest);
        const tn = await cur.varint();
        cur.need(tn);
        const tensor = new Pieces();
        let raw: RawRef | null = null;
        await walk(cur, cur.pos + tn, async (ttag) => {
          if (ttag !== ((TENSOR_RAW_DATA << 3) | WIRE_LEN)) return keepField(cur, ttag, tensor);
          const rn = await cur.varint();
          raw = { offset: cur.pos, length: rn };
          cur.skip(rn);
        });
        tensors.push({ bytes: tensor.concat(), raw });
      });
    });
    const proto = onnx.ModelProto.decode(top.concat());
    if (sawGraph) {
      const graph = onnx.GraphProto.decode(graphRest.concat());
      const raw = new Map<TensorProto, RawRef>();
      graph.initializer = tensors.map((t) => {
        const tp = onnx.TensorProto.decode(t.bytes);
        if (t.raw) raw.set(tp, t.raw);
        return tp;
      });
      proto.graph = graph;
      return { proto, raw };
    }
    return { proto, raw: new Map() };
  } catch (e) {
    if (e instanceof LabError) throw e;
    const why = ((e as Error).message ?? String(e)).split('\n')[0];
    throw new LabError(`${label}: not a readable ONNX file (protobuf: ${why}); a truncated or partly downloaded file looks like this, so export or copy it again`);
  }
}
