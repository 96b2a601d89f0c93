/**
 * Reading an .onnx in pieces (stream.ts) on hand-built files: the skeleton is protobufjs's own
 * decode minus the initializers' raw_data, every raw_data is found where it lies, the weights'
 * bytes are not read by the walk, and a model loaded from a Blob or a counting source gives the
 * same logits as one loaded from bytes in memory; by URL, the same through HTTP range requests.
 */
import * as tf from '@tensorflow/tfjs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadOnnxModel } from './import';
import { openHttpRange, parseContentRange } from './httpRange';
import { onnx } from './proto';
import { blobSource, bytesSource, readModelSkeleton, type ByteSource } from './stream';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const LARGE = 70_000; // above import.ts's LAZY_ELEMENTS: read when its node is translated
const raw = (values: Float32Array) => new Uint8Array(values.buffer.slice(0));
/** A flat model: x [N, 4] → MatMul by w1 [4, C] → Gemm by w2 [2, C] (transB) + b: two weights above LAZY_ELEMENTS, one bias in float_data. */
function model(): { bytes: Uint8Array; w1: Float32Array; w2: Float32Array } {
  const c = LARGE / 4;
  const w1 = Float32Array.from({ length: 4 * c }, (_, i) => Math.sin(i) / 10);
  const w2 = Float32Array.from({ length: 2 * c }, (_, i) => Math.cos(i) / 10);
  const proto = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'hand',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      node: [
        { opType: 'MatMul', input: ['x', 'w1'], output: ['h'], name: 'mm' },
        { opType: 'Gemm', input: ['h', 'w2', 'b'], output: ['y'], name: 'fc', attribute: [{ name: 'transB', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] },
      ],
      input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'N' }, { dimValue: 4 }] } } } }],
      initializer: [
        { name: 'w1', dims: [4, c], dataType: 1, rawData: raw(w1) },
        { name: 'w2', dims: [2, c], dataType: 1, rawData: raw(w2) },
        { name: 'b', dims: [2], dataType: 1, floatData: [0.5, -0.25] },
      ],
      output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'N' }, { dimValue: 2 }] } } } }],
    },
  });
  // A plain Uint8Array (protobufjs hands back a Node Buffer, whose slice() is a view).
  return { bytes: new Uint8Array(onnx.ModelProto.encode(proto).finish()), w1, w2 };
}

/** A source that counts the bytes read and the largest single read. */
function counting(bytes: Uint8Array) {
  const stats = { bytes: 0, largest: 0, reads: 0 };
  const src: ByteSource = {
    size: bytes.byteLength,
    read: async (offset, length) => {
      stats.bytes += length;
      stats.reads++;
      stats.largest = Math.max(stats.largest, length);
      return bytes.slice(offset, offset + length);
    },
  };
  return { src, stats };
}

describe('reading an .onnx in pieces', () => {
  it('decodes the structure without the weights and finds each raw_data where it lies', async () => {
    const { bytes, w1, w2 } = model();
    const { src, stats } = counting(bytes);
    const { proto, raw } = await readModelSkeleton(src, 'm.onnx');
    // The walk read the structure, not the 420 kB of weights: its 64 kB read-aheads land in a
    // weight's bytes before the walk skips them, at most once per weight and once at the start.
    expect(bytes.byteLength).toBeGreaterThan(1.5 * LARGE * 4);
    expect(stats.bytes).toBeLessThan(3 * 65_536);
    const full = onnx.ModelProto.decode(bytes);
    const names = proto.graph!.initializer!.map((t) => t.name);
    expect(names).toEqual(['w1', 'w2', 'b']);
    expect(proto.graph!.node!.map((n) => n.name)).toEqual(full.graph!.node!.map((n) => n.name));
    expect(proto.producerName).toBe('hand');
    expect(proto.opsetImport!.map((o) => Number(o.version))).toEqual([13]);
    const [t1, t2, tb] = proto.graph!.initializer!;
    expect(t1.rawData?.byteLength ?? 0).toBe(0);
    expect(tb.floatData).toEqual([0.5, -0.25]);
    expect(raw.has(tb)).toBe(false);
    for (const [t, values] of [[t1, w1], [t2, w2]] as const) {
      const ref = raw.get(t)!;
      expect(ref.length).toBe(values.length * 4);
      expect(new Float32Array(bytes.slice(ref.offset, ref.offset + ref.length).buffer)).toEqual(values);
    }
  });

  it('loads the same model from bytes, a Blob and a ranged source, reading each weight once', async () => {
    const { bytes } = model();
    // A flat model takes images and reads them in C, H, W order: [2, 1, 1, 4] is the two rows as they are.
    const x = tf.tensor4d([0.1, -0.2, 0.3, 0.4, 1, 0, -1, 0.5], [2, 1, 1, 4]);
    const fromBytes = await loadOnnxModel({ model: bytes }, 'bytes');
    const fromBlob = await loadOnnxModel({ model: blobSource(new Blob([bytes as Uint8Array<ArrayBuffer>])) }, 'blob');
    const { src, stats } = counting(bytes);
    const fromSource = await loadOnnxModel({ model: src }, 'source');
    const want = fromBytes.logits(x);
    for (const m of [fromBlob, fromSource]) {
      const got = m.logits(x);
      expect(Array.from(await got.data())).toEqual(Array.from(await want.data()));
      got.dispose();
    }
    // The whole file once (weights by their own reads) plus the walk's read-ahead.
    expect(stats.largest).toBe(4 * LARGE);
    expect(stats.bytes).toBeLessThan(bytes.byteLength + 3 * 65_536);
    tf.dispose([want, x]);
    for (const m of [fromBytes, fromBlob, fromSource]) m.dispose();
  });

  it('a cut inside a weight is refused in one line', async () => {
    const { bytes } = model();
    const cut = bytesSource(bytes.subarray(0, Math.floor(bytes.byteLength / 2)));
    await expect(readModelSkeleton(cut, 'm.onnx')).rejects.toThrow(/^m.onnx: not a readable ONNX file \(protobuf: index out of range: .*\); a truncated or partly downloaded file looks like this/);
  });
});

/**
 * A model given by URL (httpRange.ts), against a real HTTP server on localhost (Node's http and
 * Node's fetch) that serves byte ranges as RFC 9110 says, or ignores them, or compresses, or
 * answers a later range with other bytes.
 */
describe('reading an .onnx by HTTP range requests', () => {
  type Mode = 'ranges' | 'whole' | 'gzip' | 'shifted';
  async function serve(bytes: Uint8Array, mode: Mode) {
    const log: { range: string | null; sent: number }[] = [];
    const server = http.createServer((req, res) => {
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (mode === 'whole' || !m) {
        log.push({ range: req.headers.range ?? null, sent: bytes.byteLength });
        res.writeHead(200, { 'content-length': bytes.byteLength });
        return res.end(bytes);
      }
      let [a, b] = [Number(m[1]), Math.min(Number(m[2]), bytes.byteLength - 1)];
      // 'shifted': the file changed on the server after the first request.
      if (mode === 'shifted' && a > 0) [a, b] = [a + 1, Math.min(b + 1, bytes.byteLength - 1)];
      const body = bytes.subarray(a, b + 1);
      log.push({ range: req.headers.range ?? null, sent: body.byteLength });
      res.writeHead(206, { 'content-range': `bytes ${a}-${b}/${bytes.byteLength}`, 'content-length': body.byteLength, ...(mode === 'gzip' ? { 'content-encoding': 'gzip' } : {}) });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/m.onnx`;
    return { url, log, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  it('parses Content-Range as RFC 9110 writes it, and nothing else', () => {
    expect(parseContentRange('bytes 0-0/1234')).toEqual({ start: 0, end: 0, size: 1234 });
    expect(parseContentRange('bytes 10-19/20')).toEqual({ start: 10, end: 19, size: 20 });
    expect(parseContentRange('bytes 0-0/*')).toBeNull();
    expect(parseContentRange('bytes 5-4/20')).toBeNull();
    expect(parseContentRange('bytes 0-20/20')).toBeNull();
    expect(parseContentRange(null)).toBeNull();
  });

  it('loads the model in pieces: the logits of the bytes, no request for the whole file, small reads served from one block', async () => {
    const { bytes } = model();
    const server = await serve(bytes, 'ranges');
    try {
      const src = await openHttpRange(server.url, fetch, 'm.onnx');
      expect(src?.size).toBe(bytes.byteLength);
      const x = tf.tensor4d([0.1, -0.2, 0.3, 0.4, 1, 0, -1, 0.5], [2, 1, 1, 4]);
      const fromBytes = await loadOnnxModel({ model: bytes }, 'bytes');
      const fromHttp = await loadOnnxModel({ model: src! }, 'http');
      const [want, got] = [fromBytes.logits(x), fromHttp.logits(x)];
      expect(Array.from(await got.data())).toEqual(Array.from(await want.data()));
      expect(server.log.every((r) => r.range !== null)).toBe(true);
      // Each weight (280 kB and 140 kB) once by its own range, the structure by 64 kB blocks.
      expect(Math.max(...server.log.map((r) => r.sent))).toBe(4 * LARGE);
      const sent = server.log.reduce((s, r) => s + r.sent, 0);
      expect(sent).toBeLessThan(bytes.byteLength + 3 * 65_536);
      expect(server.log.length).toBeLessThanOrEqual(8);
      tf.dispose([want, got, x]);
      fromBytes.dispose();
      fromHttp.dispose();
    } finally {
      await server.close();
    }
  });

  it('a server that ignores ranges or compresses gets null (the caller fetches whole)', async () => {
    const { bytes } = model();
    for (const mode of ['whole', 'gzip'] as const) {
      const server = await serve(bytes, mode);
      try {
        expect(await openHttpRange(server.url, fetch, 'm.onnx')).toBeNull();
      } finally {
        await server.close();
      }
    }
  });

  it('a later range answered with other bytes is refused in one line naming the file', async () => {
    const { bytes } = model();
    const server = await serve(bytes, 'shifted');
    try {
      const src = await openHttpRange(server.url, fetch, 'm.onnx');
      await expect(loadOnnxModel({ model: src! }, 'm.onnx')).rejects.toThrow(
        new RegExp(`^m.onnx: asked the server for bytes (\\d+)–(\\d+) of ${bytes.byteLength} and got bytes \\d+–\\d+ of ${bytes.byteLength}; the file may have changed on the server while it loaded, so load it again$`),
      );
    } finally {
      await server.close();
    }
  });
});
