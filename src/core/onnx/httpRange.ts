/**
 * An .onnx (or its external .data) given by URL, read in pieces with HTTP range requests
 * (RFC 9110 §14: `Range: bytes=a-b` answered by 206 Partial Content and
 * `Content-Range: bytes a-b/size`), so a model given by URL is never held whole in memory,
 * as chosen files are not (stream.ts). WRN-28-10's 146 MB file would otherwise sit beside its
 * weights and the backend's packed copy of them.
 *
 * A server that ignores Range (200 with the whole body), hides Content-Range from a cross-origin
 * page (it must list it in Access-Control-Expose-Headers), or compresses the body (ranges would
 * then count compressed bytes) gets `null` from `openHttpRange`, and the caller fetches the file
 * whole as before. Nothing here touches the DOM: `fetch` is passed in (the worker's, Node's).
 */
import { LabError } from '../types';
import type { ByteSource } from './stream';

/** The part of a fetch Response this needs (the worker's and Node's both fit). */
export interface RangeResponse {
  status: number;
  headers: { get(name: string): string | null };
  arrayBuffer(): Promise<ArrayBuffer>;
  body?: { cancel(): Promise<void> } | null;
}
export type RangeFetch = (url: string, init: { headers: Record<string, string> }) => Promise<RangeResponse>;

/**
 * Reads below this many bytes fetch this much from their offset and serve the next small reads
 * from it: the importer reads small weights (biases, BatchNorm vectors) one by one, next to each
 * other in the file, which would otherwise be one request each. The skeleton walk's own reads are
 * this size already (stream.ts's CHUNK); a larger block would fetch weight bytes the walk skips
 * (1 MB blocks sent a 2.2 MB model twice over).
 */
export const RANGE_BLOCK = 64 * 1024;

/** `bytes a-b/size` → its numbers, or null for anything else (`*` size, a malformed header). */
export function parseContentRange(header: string | null): { start: number; end: number; size: number } | null {
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+)\s*$/i.exec(header ?? '');
  if (!m) return null;
  const [start, end, size] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return start <= end && end < size ? { start, end, size } : null;
}

const identityEncoding = (res: RangeResponse) => {
  const enc = res.headers.get('content-encoding');
  return !enc || enc.trim().toLowerCase() === 'identity';
};

/**
 * A ByteSource over `url` by range requests, or null when the server does not serve ranges
 * (the caller then fetches it whole). Network failures reject as `fetchFn` does, for the
 * caller's own diagnosis; a server that served the first range and then answers a later one
 * wrongly rejects with a LabError naming `label`, the bytes asked for and what came back.
 */
export async function openHttpRange(url: string, fetchFn: RangeFetch, label: string, block = RANGE_BLOCK): Promise<ByteSource | null> {
  // The probe asks for the first block, which the skeleton walk reads first anyway. (Not
  // `bytes=0-0`: sirv, behind Vite's servers, reads an end of 0 as absent and sends everything.)
  const first = await fetchFn(url, { headers: { Range: `bytes=0-${block - 1}` } });
  const range = first.status === 206 && identityEncoding(first) ? parseContentRange(first.headers.get('content-range')) : null;
  if (!range || range.start !== 0) {
    // A 200 carries the whole file: stop it rather than download what will be fetched again.
    await first.body?.cancel().catch(() => undefined);
    return null;
  }
  const size = range.size;
  const head = new Uint8Array(await first.arrayBuffer());
  if (head.byteLength !== range.end + 1) throw new LabError(`${label}: the server said it sent bytes 0–${range.end} and sent ${head.byteLength}; load it again`);
  const fetchRange = async (offset: number, length: number): Promise<Uint8Array> => {
    const last = offset + length - 1;
    const res = await fetchFn(url, { headers: { Range: `bytes=${offset}-${last}` } });
    const got = res.status === 206 ? parseContentRange(res.headers.get('content-range')) : null;
    if (!got || got.start !== offset || got.end !== last || got.size !== size || !identityEncoding(res)) {
      await res.body?.cancel().catch(() => undefined);
      const what = got ? `bytes ${got.start}–${got.end} of ${got.size}` : `status ${res.status}${res.headers.get('content-range') ? ` (${res.headers.get('content-range')})` : ''}`;
      throw new LabError(`${label}: asked the server for bytes ${offset}–${last} of ${size} and got ${what}; the file may have changed on the server while it loaded, so load it again`);
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.byteLength !== length) throw new LabError(`${label}: asked the server for ${length} bytes at ${offset} and got ${bytes.byteLength}; load it again`);
    return bytes;
  };
  // The last block fetched (first, the probe's): reads that fall inside it are served from it.
  let cached: { offset: number; bytes: Uint8Array } = { offset: 0, bytes: head };
  return {
    size,
    read: async (offset, length) => {
      if (offset >= cached.offset && offset + length <= cached.offset + cached.bytes.byteLength) {
        return cached.bytes.subarray(offset - cached.offset, offset - cached.offset + length);
      }
      if (length >= block) return fetchRange(offset, length);
      const bytes = await fetchRange(offset, Math.min(block, size - offset));
      cached = { offset, bytes };
      return bytes.subarray(0, length);
    },
  };
}
