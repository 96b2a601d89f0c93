/**
 * The lab's one result cache: every finished analysis result (ε slices, curves, embeddings…)
 * by the key of the parameters it belongs to (core/analyses/define.ts analysisKey), so going
 * back to an earlier setup shows its result at once. Bounded by RESULT_CACHE_BYTES: the least
 * recently used results are evicted first (an adversarial batch of CIFAR images is megabytes,
 * and a long slider session makes hundreds).
 */

/** Memory the cached results may hold (typed-array bytes, estimated). */
export const RESULT_CACHE_BYTES = 512 * 1024 * 1024;

export interface CacheEntry<R = unknown> {
  key: string;
  kind: string;
  result: R;
  bytes: number;
  /** Monotone use counter: larger = used more recently. */
  used: number;
  /** ε slices: the key of everything but ε (entries sharing it form the ε ladder), the ε, and whether it was the FGSM preview. */
  ladderKey?: string;
  eps?: number;
  preview?: boolean;
}

/** Typed-array bytes of a result (plus a small constant per object), walking plain objects and arrays. */
export function resultBytes(value: unknown, seen = new Set<unknown>()): number {
  if (value === null || typeof value !== 'object' || seen.has(value)) return 8;
  seen.add(value);
  if (ArrayBuffer.isView(value)) return value.byteLength;
  let total = 64;
  for (const v of Array.isArray(value) ? value : Object.values(value)) total += resultBytes(v, seen);
  return total;
}

let clock = 0;

/** The cache with `entry` added (or refreshed) and the least recently used entries evicted beyond `cap`. */
export function cachePut(cache: Record<string, CacheEntry>, entry: Omit<CacheEntry, 'used' | 'bytes'> & { bytes?: number }, cap = RESULT_CACHE_BYTES): Record<string, CacheEntry> {
  const next = { ...cache, [entry.key]: { ...entry, bytes: entry.bytes ?? resultBytes(entry.result), used: ++clock } };
  let total = Object.values(next).reduce((s, e) => s + e.bytes, 0);
  // Oldest first; the entry just added stays even if alone it exceeds the cap.
  for (const e of Object.values(next).sort((a, b) => a.used - b.used)) {
    if (total <= cap || e.key === entry.key) continue;
    delete next[e.key];
    total -= e.bytes;
  }
  return next;
}

/** The cache with `key` marked as just used (unchanged when absent). */
export function cacheTouch(cache: Record<string, CacheEntry>, key: string): Record<string, CacheEntry> {
  const e = cache[key];
  return e ? { ...cache, [key]: { ...e, used: ++clock } } : cache;
}
