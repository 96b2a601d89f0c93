/**
 * One attack, shared (issue #21): adversarial examples are computed once per (model, data,
 * samples, attack spec, seed) and reused by every analysis that asks for them — the ε
 * slice and its ladder, the robustness curve, logits, dependency, t-SNE, CKA — instead of
 * each view attacking the same images again.
 *
 * Reuse is exact, never approximate: a cached result answers a request only when it holds
 * the very numbers `runAttack` would compute for it.
 *  - Same samples: a hit.
 *  - A prefix of a cached sample (the sampler's samples are prefix-stable: sample(n) is the
 *    first n images of sample(m), data/sampler.ts): the first n rows, when the attack's
 *    random draws for those rows are the same in both runs. runAttack draws its random
 *    numbers batch by batch, row-major, from one seeded stream; rows of the first batch get
 *    the same draws whatever the batch size when the attack draws once per batch (its random
 *    start), and rows of any batch get the same draws when both runs use the same batch size.
 *    AA-style regroups the still-robust samples into new batches, so it is reused only whole.
 *    (attacks/shared.test.ts checks the prefix rule against fresh runs for every attack.)
 */
import type * as tf from '@tensorflow/tfjs';
import { stableKey } from '../schema';
import type { JobControl } from '../types';
import { attackBatchSize, runAttack, type AttackInput } from './runner';
import type { AttackName, AttackResult, AttackSpec } from './types';

/** Memory the shared adversarial examples may hold before the least recently used go (per host). */
export const ATTACK_CACHE_BYTES = 256 * 2 ** 20;

/** Attacks whose only random draw per batch is one tensor before the first step (or none). */
const DRAWS_ONCE_PER_BATCH: ReadonlySet<AttackName> = new Set(['fgsm', 'bim', 'pgd', 'deepfool', 'cw']);

function drawsOncePerBatch(spec: AttackSpec): boolean {
  if (DRAWS_ONCE_PER_BATCH.has(spec.attack)) return true;
  // APGD and FAB draw a new start per restart; with one pass they draw once.
  if (spec.attack === 'apgd-ce' || spec.attack === 'apgd-dlr') return (spec.restarts ?? 1) <= 1;
  // APGD-T runs one pass (with a fresh start) per target class, one with an explicit target.
  if (spec.attack === 'apgd-t') return spec.targetClass !== undefined && spec.targetClass >= 0;
  if (spec.attack === 'fab') return (spec.restarts ?? 1) <= 1;
  return false;
}

/**
 * Whether the first `n` rows of a run with batch `cachedBatch` are what a run on those `n`
 * samples alone (batch `batch`) computes: the same draws per row (see the header).
 * AA-style regroups samples; Gaussian noise's draw average covers the whole sample: these two
 * are reused only whole.
 */
export function prefixHasSameRows(n: number, batch: number, cachedBatch: number, spec: AttackSpec): boolean {
  if (spec.attack === 'aa' || spec.attack === 'gaussian') return false;
  if (batch === cachedBatch) return true;
  return n <= batch && n <= cachedBatch && drawsOncePerBatch(spec);
}

interface Entry {
  /** Everything but the samples: model, data, spec, seed. */
  family: string;
  indices: Int32Array;
  batch: number;
  result: AttackResult;
  bytes: number;
}

function bytesOf(r: AttackResult): number {
  return r.adversarial.byteLength + r.n * 40;
}

/** Rows [0, n) of a result, in fresh arrays (the worker transfers results; the cache keeps its own). */
function firstRows(r: AttackResult, n: number): AttackResult {
  const d = r.shape[0] * r.shape[1] * r.shape[2];
  const out: AttackResult = {
    ...r,
    spec: { ...r.spec },
    n,
    adversarial: r.adversarial.slice(0, n * d),
    labels: r.labels.slice(0, n),
    cleanPred: r.cleanPred.slice(0, n),
    advPred: r.advPred.slice(0, n),
    cleanConfidence: r.cleanConfidence.slice(0, n),
    advConfidence: r.advConfidence.slice(0, n),
    success: r.success.slice(0, n),
    linf: r.linf.slice(0, n),
    l2: r.l2.slice(0, n),
    firstSuccessStep: r.firstSuccessStep.slice(0, n),
    zeroGradient: r.zeroGradient.slice(0, n),
    minimalNorm: r.minimalNorm?.slice(0, n),
    completed: n,
  };
  let correct = 0;
  let robust = 0;
  for (let i = 0; i < n; i++) {
    if (out.cleanPred[i] === out.labels[i]) {
      correct++;
      if (out.advPred[i] === out.labels[i]) robust++;
    }
  }
  out.cleanAccuracy = correct / Math.max(1, n);
  out.robustAccuracy = robust / Math.max(1, n);
  // Gaussian's draw average is over the whole sample; a prefix is answered only whole.
  return out;
}

function isPrefix(short: Int32Array, long: Int32Array): boolean {
  if (short.length > long.length) return false;
  for (let i = 0; i < short.length; i++) if (short[i] !== long[i]) return false;
  return true;
}

export interface AttackCacheStats {
  hits: number;
  misses: number;
  entries: number;
  bytes: number;
}

/** Least-recently-used store of finished attack results, capped at `capBytes`. */
export class AttackCache {
  private entries: Entry[] = [];
  private hits = 0;
  private misses = 0;

  constructor(readonly capBytes: number = ATTACK_CACHE_BYTES) {}

  /** The result for `indices` under `family`, if some entry holds exactly its numbers. */
  find(family: string, indices: Int32Array, batch: number, spec: AttackSpec): AttackResult | null {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i];
      if (e.family !== family || !isPrefix(indices, e.indices)) continue;
      if (e.indices.length !== indices.length && !prefixHasSameRows(indices.length, batch, e.batch, spec)) continue;
      this.entries.splice(i, 1);
      this.entries.push(e);
      this.hits++;
      return firstRows(e.result, indices.length);
    }
    this.misses++;
    return null;
  }

  /** Whether `find` would answer (without counting a hit or touching the entry). */
  has(family: string, indices: Int32Array, batch: number, spec: AttackSpec): boolean {
    return this.entries.some((e) => e.family === family && isPrefix(indices, e.indices) && (e.indices.length === indices.length || prefixHasSameRows(indices.length, batch, e.batch, spec)));
  }

  put(family: string, indices: Int32Array, batch: number, result: AttackResult): void {
    if (result.completed !== result.n) return;
    const bytes = bytesOf(result);
    if (bytes > this.capBytes) return;
    this.entries = this.entries.filter((e) => !(e.family === family && isPrefix(e.indices, indices) && e.batch === batch));
    this.entries.push({ family, indices: indices.slice(), batch, result: firstRows(result, result.n), bytes });
    let total = this.entries.reduce((s, e) => s + e.bytes, 0);
    while (total > this.capBytes && this.entries.length > 1) total -= (this.entries.shift() as Entry).bytes;
  }

  clear(): void {
    this.entries = [];
  }

  stats(): AttackCacheStats {
    return { hits: this.hits, misses: this.misses, entries: this.entries.length, bytes: this.entries.reduce((s, e) => s + e.bytes, 0) };
  }
}

export interface SharedAttackRequest {
  /** Who the model is (zoo id, path; the host clears the cache when a model or the data changes). */
  modelId: string;
  dataId: string;
  /** Dataset indices of the samples, in order (what makes prefix reuse possible). */
  indices: Int32Array;
  seed: number;
}

/** Everything that decides an attack's numbers except the samples. */
export function attackFamily(request: Omit<SharedAttackRequest, 'indices'>, spec: AttackSpec, shape: [number, number, number]): string {
  return stableKey({ model: request.modelId, data: request.dataId, seed: request.seed, spec, shape });
}

/**
 * `runAttack`, answered from the cache when an earlier run holds the same numbers. Without a
 * cache (a host that keeps none) it is runAttack.
 */
export async function sharedAttack(
  cache: AttackCache | undefined,
  logits: (x: tf.Tensor4D) => tf.Tensor2D,
  input: AttackInput,
  spec: AttackSpec,
  request: SharedAttackRequest,
  control: JobControl = {},
): Promise<AttackResult> {
  if (!cache) return runAttack(logits, input, spec, { seed: request.seed }, control);
  const family = attackFamily(request, spec, input.shape);
  const batch = attackBatchSize(logits, input.labels.length);
  const found = cache.find(family, request.indices, batch, spec);
  if (found) {
    control.onProgress?.({ fraction: 1, message: 'adversarial examples reused from an earlier run' });
    return found;
  }
  const result = await runAttack(logits, input, spec, { seed: request.seed }, control);
  cache.put(family, request.indices, batch, result);
  return result;
}
