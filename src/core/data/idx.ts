/**
 * IDX reader (the format MNIST and its look-alikes ship in, see
 * http://yann.lecun.com/exdb/mnist/): a 4-byte big-endian magic `0x0000TTDD` where TT
 * is the element type (0x08 = unsigned byte) and DD the number of dimensions, then DD
 * big-endian uint32 sizes, then the elements row-major.
 *
 * Only unsigned-byte payloads are read: every MNIST-family file uses them (labels
 * 0x00000801, images 0x00000803) and supporting the float/int variants would add code no
 * dataset we load needs. Gzipped files (as distributed) are inflated with the platform's
 * `DecompressionStream`, available in browsers, workers and Node >= 18, so core needs no
 * zlib dependency; that makes the public entry point async.
 */
import { LabError } from '../types';

/** An IDX file of unsigned bytes: `data.length === product(shape)`. */
export interface IdxArray {
  /** The 4-byte magic as read, e.g. 0x00000803. */
  magic: number;
  shape: number[];
  data: Uint8Array;
}

/** Raw bytes as handed over by fetch, FileReader or fs. */
export type Bytes = Uint8Array | ArrayBufferLike;

const IDX_UBYTE = 0x08;
/** 4 dimensions is the most any IDX file in the wild uses; more smells like garbage. */
const MAX_DIMS = 4;

export function toU8(bytes: Bytes): Uint8Array {
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
}

export function hex32(v: number): string {
  return '0x' + (v >>> 0).toString(16).padStart(8, '0');
}

/** gzip streams start with the two-byte id 0x1f 0x8b (RFC 1952). */
export function isGzip(bytes: Bytes): boolean {
  const b = toU8(bytes);
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/**
 * Most bytes a gzip stream may inflate to (512 MiB): MNIST's largest file is 47 MB, and a few
 * kilobytes of gzip can otherwise expand to gigabytes (a "zip bomb").
 */
export const MAX_INFLATED_BYTES = 2 ** 29;

/** Inflate a gzip stream; a corrupt, cut-off or oversized stream becomes a one-line LabError. */
export async function gunzip(name: string, bytes: Bytes, maxBytes = MAX_INFLATED_BYTES): Promise<Uint8Array> {
  const ds = new DecompressionStream('gzip');
  const writer = ds.writable.getWriter();
  // Write errors resurface on the readable side; swallow them here so they are not
  // reported a second time as unhandled rejections.
  writer.write(toU8(bytes) as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const reader = ds.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.length;
      if (total > maxBytes) {
        void reader.cancel().catch(() => {});
        throw new LabError(`${name}: inflates to more than ${maxBytes / 2 ** 20} MB; not a dataset file`);
      }
    }
  } catch (err) {
    if (err instanceof LabError) throw err;
    const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new LabError(`${name}: corrupt or truncated gzip data (${why})`);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

function describeShape(shape: number[]): string {
  if (shape.length === 1) return `${shape[0]} items`;
  return `${shape[0]} items of ${shape.slice(1).join('×')}`;
}

/**
 * Parse an uncompressed IDX file. `name` is only used in error messages. The returned
 * `data` is a view into `bytes` (no copy).
 */
export function parseIdx(name: string, bytes: Bytes): IdxArray {
  const b = toU8(bytes);
  if (b.length === 0) throw new LabError(`${name}: empty file`);
  if (b.length < 4) throw new LabError(`${name}: not an IDX file (only ${b.length} bytes)`);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const magic = view.getUint32(0, false);
  const type = b[2];
  const dims = b[3];
  if (b[0] !== 0 || b[1] !== 0 || dims === 0 || dims > MAX_DIMS) {
    throw new LabError(`${name}: not an IDX file (magic ${hex32(magic)})`);
  }
  if (type !== IDX_UBYTE) {
    throw new LabError(
      `${name}: IDX element type 0x${type.toString(16).padStart(2, '0')} is not supported (magic ${hex32(magic)}; only unsigned bytes, 0x08)`,
    );
  }
  const headerBytes = 4 + 4 * dims;
  if (b.length < headerBytes) {
    throw new LabError(`${name}: truncated: the ${dims}-D IDX header needs ${headerBytes} bytes but file has ${b.length} bytes`);
  }
  const shape: number[] = [];
  let count = 1;
  for (let d = 0; d < dims; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    shape.push(size);
    count *= size;
  }
  const expected = headerBytes + count;
  if (b.length < expected) {
    throw new LabError(
      `${name}: truncated: header says ${describeShape(shape)} (${expected} bytes) but file has ${b.length} bytes`,
    );
  }
  if (b.length > expected) {
    // Extra bytes usually mean the header is wrong (or this is some other format that
    // happens to start with two zero bytes); refuse rather than guess.
    throw new LabError(
      `${name}: ${b.length - expected} unexpected bytes after the data: header says ${describeShape(shape)} (${expected} bytes) but file has ${b.length} bytes`,
    );
  }
  return { magic, shape, data: b.subarray(headerBytes, expected) };
}

/** Parse an IDX file that may be gzip-compressed (detected by its first two bytes). */
export async function readIdx(name: string, bytes: Bytes): Promise<IdxArray> {
  const raw = isGzip(bytes) ? await gunzip(name, bytes) : toU8(bytes);
  return parseIdx(name, raw);
}
