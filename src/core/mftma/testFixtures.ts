// Test support only (Node): reads the copied reference fixtures next to this file.
import { readFileSync } from 'node:fs';

export const CASES = ['balls', 'mnist-pixels', 'mnist-noise-exemplars'] as const;

export function bytes(name: string, file: string): Buffer {
  return readFileSync(new URL(`./fixtures/${name}/${file}`, import.meta.url));
}

export function f64(name: string, file: string): Float64Array {
  const b = bytes(name, file);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export function f32(name: string, file: string): Float32Array {
  const b = bytes(name, file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}
