/**
 * Seeded, class-balanced sampling of evaluation images.
 *
 * Each class draws from its own random stream (derived from the seed and the class
 * index), taking a partial Fisher–Yates shuffle of its image indices; the sample then
 * interleaves classes round-robin (c0, c1, …, cK, c0, …), with the extra images of an
 * uneven n going to the lowest class indices. Two consequences the UI relies on:
 *  - any prefix of a sample is itself as balanced as possible, so a job stopped after k
 *    images has still seen every class evenly;
 *  - sample(n) is a prefix of sample(m) for n < m with the same seed and classes, so
 *    raising the sample-size slider adds images instead of replacing them.
 */
import { LabError, type ImageDataset } from '../types';
import { createRng, deriveSeed } from '../random';

export interface SampleOptions {
  /** Restrict to these class indices (sorted and used in ascending order). Default: all. */
  classes?: number[];
}

export function classBalancedSample(
  labels: Int32Array,
  numClasses: number,
  n: number,
  seed: number,
  opts: SampleOptions = {},
): Int32Array {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new LabError(`sampler: number of classes must be a positive integer, got ${numClasses}`);
  if (!Number.isInteger(n) || n < 0) throw new LabError(`sampler: sample size must be a non-negative integer, got ${n}`);
  const classes = opts.classes ? [...opts.classes].sort((a, b) => a - b) : Array.from({ length: numClasses }, (_, i) => i);
  if (classes.length === 0) throw new LabError('sampler: no classes selected');
  for (let i = 0; i < classes.length; i++) {
    const c = classes[i];
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) throw new LabError(`sampler: class ${c} is out of range 0..${numClasses - 1}`);
    if (i > 0 && classes[i - 1] === c) throw new LabError(`sampler: class ${c} is selected twice`);
  }

  const k = classes.length;
  const base = Math.floor(n / k);
  const extra = n % k;
  const quota = classes.map((_, j) => base + (j < extra ? 1 : 0));

  // Collect each selected class's indices in dataset order (two passes: count, fill).
  const slot = new Int32Array(numClasses).fill(-1);
  classes.forEach((c, j) => (slot[c] = j));
  const counts = new Int32Array(k);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l >= 0 && l < numClasses && slot[l] >= 0) counts[slot[l]]++;
  }
  for (let j = 0; j < k; j++) {
    if (counts[j] < quota[j]) {
      throw new LabError(
        `sampler: class ${classes[j]} has only ${counts[j]} images but ${quota[j]} are needed for a balanced sample of ${n} over ${k} classes`,
      );
    }
  }
  const pools = Array.from({ length: k }, (_, j) => new Int32Array(counts[j]));
  const fill = new Int32Array(k);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l >= 0 && l < numClasses && slot[l] >= 0) {
      const j = slot[l];
      pools[j][fill[j]++] = i;
    }
  }

  // Partial Fisher–Yates per class: position t gets a uniform pick from the rest, so the
  // first q picks do not depend on how many more are taken later.
  const samplerSeed = deriveSeed(seed, 'sampler');
  for (let j = 0; j < k; j++) {
    const rng = createRng(deriveSeed(samplerSeed, `class:${classes[j]}`));
    const pool = pools[j];
    for (let t = 0; t < quota[j]; t++) {
      const r = t + rng.int(pool.length - t);
      const tmp = pool[t];
      pool[t] = pool[r];
      pool[r] = tmp;
    }
  }

  const out = new Int32Array(n);
  let o = 0;
  for (let round = 0; o < n; round++) {
    for (let j = 0; j < k && o < n; j++) {
      if (round < quota[j]) out[o++] = pools[j][round];
    }
  }
  return out;
}

/**
 * The subset of `ds` at `indices` (in that order), copied. Keeps id and name unless
 * given, so callers that cache by dataset id must add the sample parameters to the key.
 */
export function takeSamples(ds: ImageDataset, indices: ArrayLike<number>, opts: { id?: string; name?: string } = {}): ImageDataset {
  const per = ds.height * ds.width * ds.channels;
  const m = indices.length;
  const images = new Float32Array(m * per);
  const labels = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    const src = indices[i];
    if (!Number.isInteger(src) || src < 0 || src >= ds.n) {
      throw new LabError(`${ds.id}: sample index ${src} is out of range 0..${ds.n - 1}`);
    }
    images.set(ds.images.subarray(src * per, (src + 1) * per), i * per);
    labels[i] = ds.labels[src];
  }
  return {
    id: opts.id ?? ds.id,
    name: opts.name ?? ds.name,
    n: m,
    height: ds.height,
    width: ds.width,
    channels: ds.channels,
    images,
    labels,
    classNames: [...ds.classNames],
  };
}
