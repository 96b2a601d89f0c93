/**
 * Seeded randomness. Every random choice in the lab derives from one master seed
 * (shown in the UI, written into every export), so a run is reproducible from its URL.
 *
 * Generator: mulberry32 (32-bit state, period 2^32), enough for sampling and noise
 * draws; independent streams are made by hashing (masterSeed, purpose) with a
 * splitmix-style mixer so that e.g. the sampler and the attack's random start never
 * share a sequence.
 */

import { detLog, detSinCos } from './detmath';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Standard normal draw (Box–Muller, caching the second value). */
  normal(): number;
  /** The seed this stream started from (for manifests). */
  readonly seed: number;
}

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Derive an independent 32-bit seed for a named purpose from the master seed. */
export function deriveSeed(masterSeed: number, purpose: string): number {
  let h = mix32((masterSeed >>> 0) ^ 0x9e3779b9);
  for (let i = 0; i < purpose.length; i++) h = mix32(h ^ purpose.charCodeAt(i));
  return h;
}

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  let spare: number | null = null;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed: seed >>> 0,
    next,
    int: (n: number) => Math.floor(next() * n),
    normal: () => {
      if (spare !== null) {
        const s = spare;
        spare = null;
        return s;
      }
      let u = 0;
      while (u === 0) u = next(); // avoid log(0)
      const v = next();
      // detmath, not Math.*: the same bits in every browser and in Node (see detmath.ts).
      const r = Math.sqrt(-2 * detLog(u));
      const [sin, cos] = detSinCos(2 * Math.PI * v);
      spare = r * sin;
      return r * cos;
    },
  };
}

/** Fisher–Yates shuffle in place, driven by `rng`. */
export function shuffleInPlace<T>(items: T[] | Int32Array, rng: Rng): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
}
