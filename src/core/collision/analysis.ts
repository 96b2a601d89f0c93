/**
 * Layer-by-layer collision analysis of a lab model (spec collision.md §3, Algorithm 2;
 * "Evaluating the Adversarial Robustness of CNNs Layer by Layer", after Bhagoji, Cullina &
 * Zhao 2023 and Bhagoji, Cullina, Sehwag & Mittal, ICML 2021).
 *
 * For every requested layer j and projection n: g = A_n∘f_j with a seeded Gaussian A_n
 * (m × n_j, N(0, 1/m)); Algorithm 1 on every cross-class pair of the S-per-class sample
 * (batched, `findCollisions`); then, for each ε, the conflict graph {d ≤ ε} and its optimal
 * cross-entropy and 0-1 loss. Losses — never distances — are averaged over projections
 * (spec pitfall 11), and A_n is fixed across ε (one distance matrix per (layer, n)).
 *
 * Bounds (spec §1): each distance is an upper bound on the true collision distance, so each
 * loss is a LOWER bound on the optimal adversarial loss of heads reading f_j through A_n.
 *
 * Two classes use the exact flow solver (`optimalLogLoss`, `optimalZeroOneLoss`). More than
 * two classes use the spec's non-bipartite fallback (`dualAscentLogLoss`) on the graph of
 * PAIRWISE conflicts only; this is APPROXIMATE twice over: (a) the true multi-class problem
 * also has hyperedges (three or more mutually colliding points), which are dropped — that
 * can only lower the loss, so it stays a lower bound; (b) dual ascent stops at a duality gap
 * (reported per ε). The 0-1 loss is not computed for more than two classes (the LP is no
 * longer integral; König's theorem needs a bipartite graph).
 *
 * Pure core: tfjs and plain data only, so the lab's worker can call it.
 */
import type { LabModel } from '../model/model';
import { deriveSeed, createRng, shuffleInPlace } from '../random';
import { JobCancelledError, LabError, throwIfAborted, type JobControl } from '../types';
import { BROWSER_DEFAULTS, findCollisions, type CollisionOptions } from './collision';
import { dualAscentLogLoss } from './dualascent';
import { lossCurve, type EdgeRule } from './graph';
import { gaussianProjection, modelFeatureFn, projectFn, tfCollisionMap, type LayerTap, type TfMapOptions } from './maps';

export interface CollisionAnalysisOptions {
  /** Layer names; 'input' is the input-space baseline (f = identity, never projected, exact). */
  layers: string[];
  /** Two class indices (default [3, 7]) or 'all' / a longer list (approximate fallback). */
  classes?: number[] | 'all';
  /** S samples per class (spec default 100; 10–30 for interactive use). */
  perClass?: number;
  /** Projection width m (default 10). A layer with n_j ≤ m is not projected (A = I, N = 1). */
  m?: number;
  /** Number of projections N (default 5). */
  numProjections?: number;
  /**
   * 'gaussian' (default): g = A_n∘f_j. 'none': the no-projection baseline A = I for every
   * layer, m = n_j (the seed paper's Figure 7: wide layers show no collisions beyond the
   * trivial midpoint). It costs n_j VJPs per step, so layers wider than
   * `maxUnprojectedFeatures` are refused, except the input layer, whose unprojected
   * distance is exact: ‖x − x′‖/2.
   */
  projection?: 'gaussian' | 'none';
  maxUnprojectedFeatures?: number;
  /** ε grid, input-space L2 units. */
  epsList: number[];
  /** Master seed: sample choice and A_n = deriveSeed(seed, `collision-A-${layer}-${n}`). */
  seed?: number;
  edgeRule?: EdgeRule;
  /**
   * OPTIONAL, NOT PART OF THE PAPER: keep x̃, x̃′ inside the [0, 1] pixel box (clipped after
   * every Algorithm 1 step). Without it (the default, as in the seed paper) the distance is
   * unconstrained. Boxed distances describe only in-range collisions and are heuristic.
   */
  box?: boolean;
  /** Algorithm 1 settings (defaults: BROWSER_DEFAULTS). */
  collision?: CollisionOptions;
  /** How Jacobian rows are computed (see TfMapOptions). */
  jacobian?: TfMapOptions['jacobian'];
  /** Pairs handed to one findCollisions call (bounds memory: 2·pairs·n0 float64). */
  chunkPairs?: number;
  /**
   * How intermediate activations are computed. Pass `plainLayerTap(layersModel).tap` for
   * speed (plain ops, input gradients only); the default `model.tap` is ~20× slower for
   * gradients on the CPU backend (see plainLayerTap).
   */
  tap?: LayerTap;
  /** Keep the collision points x̃, x̃′ (pairs × n0 float32 per projection) for inspection. */
  keepPoints?: boolean;
  /** Streaming: called after every projection of every layer with the curve so far. */
  onLayer?: (layer: LayerCollisionResult) => void;
}

export interface AnalysisCurve {
  eps: number[];
  /** Mean / min / max over projections of the optimal cross-entropy (nats). */
  meanLogLoss: number[];
  minLogLoss: number[];
  maxLogLoss: number[];
  /** Same for the optimal 0-1 loss; null for more than two classes. */
  meanZeroOne: number[] | null;
  minZeroOne: number[] | null;
  maxZeroOne: number[] | null;
  /** More than two classes only: largest dual-ascent duality gap over projections (nats). */
  maxGap: number[] | null;
}

export interface ProjectionStats {
  seed: number | null;
  infeasible: number;
  medianIterations: number;
  seconds: number;
}

export interface LayerCollisionResult {
  layer: string;
  /** n_j, floats per sample at the layer. */
  features: number;
  /** Width of g: m, or n_j when not projected. */
  m: number;
  projected: boolean;
  /** Distances in closed form (unprojected input layer) rather than by Algorithm 1. */
  exact: boolean;
  numProjections: number;
  projectionsDone: number;
  /** Per projection: one distance per pair (order of `pairI/pairJ`), ∞ = no collision found. */
  distances: Float64Array[];
  /** Per projection: ‖g(x̃) − g(x̃′)‖ / ‖g(x) − g(x′)‖ per pair (float32 map). */
  relResidual: Float64Array[];
  stats: ProjectionStats[];
  /** With keepPoints: per projection, pairs × n0. */
  points?: { xTilde: Float32Array; xPrimeTilde: Float32Array }[];
  curve: AnalysisCurve;
  /** False while later projections are still running (streamed partial curve). */
  complete: boolean;
}

export interface CollisionAnalysisResult {
  classes: number[];
  perClass: number;
  /** Indices into `images` of the selected samples (vertices), grouped by class. */
  sampleIndices: Int32Array;
  sampleLabels: Int32Array;
  /** Cross-class pairs as vertex indices; binary: pair u·S1 + v = (u, S0 + v). */
  pairI: Int32Array;
  pairJ: Int32Array;
  /** True for more than two classes (pairwise dual-ascent fallback). */
  approximate: boolean;
  settings: {
    m: number;
    numProjections: number;
    projection: 'gaussian' | 'none';
    seed: number;
    edgeRule: EdgeRule;
    box: [number, number] | null;
    collision: Required<Omit<CollisionOptions, 'box'>>;
  };
  layers: LayerCollisionResult[];
  seconds: number;
}

const median = (v: ArrayLike<number>) => {
  const s = Array.from(v).sort((a, b) => a - b);
  return s.length ? s[s.length >> 1] : 0;
};

/** Picks S samples per class with a seeded shuffle (vertices grouped by class). */
export function selectClassSamples(labels: Int32Array, classes: number[], perClass: number, seed: number): { indices: Int32Array; labels: Int32Array } {
  const rng = createRng(deriveSeed(seed, 'collision-samples'));
  const out: number[] = [];
  for (const c of classes) {
    const idx: number[] = [];
    labels.forEach((l, i) => l === c && idx.push(i));
    if (idx.length === 0) throw new LabError(`no samples of class ${c} in the data`);
    shuffleInPlace(idx, rng);
    out.push(...idx.slice(0, perClass).sort((a, b) => a - b));
  }
  const indices = Int32Array.from(out);
  return { indices, labels: indices.map((i) => labels[i]) };
}

/** Loss curves over projections for more than two classes: pairwise dual-ascent fallback. */
function multiClassCurve(distances: Float64Array[], pairI: Int32Array, pairJ: Int32Array, numVertices: number, eps: number[]): AnalysisCurve {
  const p = new Float64Array(numVertices).fill(1 / numVertices);
  const per = distances.map((d) => {
    const cache = new Map<number, { loss: number; gap: number }>();
    return eps.map((e) => {
      const edges: number[] = [];
      for (let k = 0; k < d.length; k++) if (d[k] <= e) edges.push(pairI[k], pairJ[k]);
      let hit = cache.get(edges.length);
      if (!hit) {
        const r = dualAscentLogLoss({ numVertices, p, edges: Int32Array.from(edges) });
        hit = { loss: r.loss, gap: r.gap };
        cache.set(edges.length, hit);
      }
      return hit;
    });
  });
  const col = (i: number) => per.map((r) => r[i].loss);
  return {
    eps,
    meanLogLoss: eps.map((_, i) => col(i).reduce((a, b) => a + b, 0) / per.length),
    minLogLoss: eps.map((_, i) => Math.min(...col(i))),
    maxLogLoss: eps.map((_, i) => Math.max(...col(i))),
    meanZeroOne: null,
    minZeroOne: null,
    maxZeroOne: null,
    maxGap: eps.map((_, i) => Math.max(...per.map((r) => r[i].gap))),
  };
}

/**
 * Runs Algorithm 2 for every layer of `opts.layers`. `images` are NHWC floats in [0, 1]
 * (`shape` = [H, W, C]), `labels` their classes. Progress reports pairs done per layer;
 * aborting `control.signal` throws JobCancelledError whose `partial` is the
 * CollisionAnalysisResult so far (finished layers plus finished projections of the current
 * one).
 */
export async function collisionAnalysis(
  model: LabModel,
  images: Float32Array,
  labels: Int32Array,
  shape: [number, number, number],
  opts: CollisionAnalysisOptions,
  control: JobControl = {},
): Promise<CollisionAnalysisResult> {
  const t0 = performance.now();
  const n0 = shape[0] * shape[1] * shape[2];
  if (images.length !== labels.length * n0) throw new LabError(`images must be ${labels.length}×${shape.join('×')} floats`);
  const {
    layers,
    perClass = 10,
    m = 10,
    numProjections = 5,
    projection = 'gaussian',
    maxUnprojectedFeatures = 128,
    epsList,
    seed = 0,
    edgeRule = 'rms',
    box = false,
    jacobian = 'tiled',
    keepPoints = false,
  } = opts;
  const classes = opts.classes === 'all' ? Array.from({ length: model.numClasses }, (_, i) => i) : (opts.classes ?? [3, 7]);
  if (classes.length < 2 || new Set(classes).size !== classes.length) throw new LabError('collision analysis needs at least two distinct classes');
  if (!layers.length) throw new LabError('collision analysis needs at least one layer');
  if (!(Number.isInteger(perClass) && perClass >= 1)) throw new LabError('samples per class must be a positive integer');
  if (!(Number.isInteger(m) && m >= 1) || !(Number.isInteger(numProjections) && numProjections >= 1)) throw new LabError('m and the number of projections must be positive integers');
  if (!epsList.length || epsList.some((e) => !(e >= 0))) throw new LabError('ε list must be non-empty and ≥ 0');
  const eps = [...epsList].sort((a, b) => a - b);
  // Resolve every layer first so a typo fails before minutes of work.
  const feats = layers.map((l) => ({ layer: l, ...modelFeatureFn(model, l, shape, opts.tap) }));
  for (const f of feats) {
    if (projection === 'none' && !f.identity && f.n > maxUnprojectedFeatures) {
      throw new LabError(`layer "${f.layer}" has ${f.n} features; the unprojected search needs ${f.n} VJPs per step (limit ${maxUnprojectedFeatures}); use a projection`);
    }
  }
  const collision = { ...BROWSER_DEFAULTS, ...opts.collision, box: box ? ([0, 1] as [number, number]) : (opts.collision?.box ?? null) };

  const sel = selectClassSamples(labels, classes, perClass, seed);
  const V = sel.indices.length;
  const binary = classes.length === 2;
  const byClass = classes.map((c) => sel.labels.reduce((s, l) => s + (l === c ? 1 : 0), 0));
  const pi: number[] = [];
  const pj: number[] = [];
  for (let u = 0; u < V; u++) {
    for (let v = u + 1; v < V; v++) {
      if (sel.labels[u] === sel.labels[v]) continue;
      pi.push(u);
      pj.push(v);
    }
  }
  const pairI = Int32Array.from(pi);
  const pairJ = Int32Array.from(pj);
  const P = pairI.length;
  const vertex = (u: number) => images.subarray(sel.indices[u] * n0, (sel.indices[u] + 1) * n0);

  const result: CollisionAnalysisResult = {
    classes,
    perClass,
    sampleIndices: sel.indices,
    sampleLabels: sel.labels,
    pairI,
    pairJ,
    approximate: !binary,
    settings: { m, numProjections, projection, seed, edgeRule, box: collision.box, collision: { ...collision } as CollisionAnalysisResult['settings']['collision'] },
    layers: [],
    seconds: 0,
  };
  const curveOf = (distances: Float64Array[]): AnalysisCurve => {
    if (!binary) return multiClassCurve(distances, pairI, pairJ, V, eps);
    // Binary pairs are u-major over (class 0 vertex u, class 1 vertex v): a DistanceMatrix.
    const c = lossCurve(distances.map((d) => ({ n0: byClass[0], n1: byClass[1], d })), eps);
    const a = (x: Float64Array) => Array.from(x);
    return { eps, meanLogLoss: a(c.meanLogLoss), minLogLoss: a(c.minLogLoss), maxLogLoss: a(c.maxLogLoss), meanZeroOne: a(c.meanZeroOne), minZeroOne: a(c.minZeroOne), maxZeroOne: a(c.maxZeroOne), maxGap: null };
  };
  const chunk = Math.max(1, opts.chunkPairs ?? Math.max(collision.batchSize, 256));

  for (let li = 0; li < feats.length; li++) {
    const f = feats[li];
    // The input layer is the exact, unprojected baseline d = ‖x − x′‖/2 (spec §3).
    const project = projection === 'gaussian' && f.n > m && !f.identity;
    const width = project ? m : f.n;
    const exact = f.identity && !project;
    const N = project ? numProjections : 1;
    const layerRes: LayerCollisionResult = {
      layer: f.layer,
      features: f.n,
      m: width,
      projected: project,
      exact,
      numProjections: N,
      projectionsDone: 0,
      distances: [],
      relResidual: [],
      stats: [],
      points: keepPoints ? [] : undefined,
      curve: emptyCurve(eps, binary),
      complete: false,
    };
    result.layers.push(layerRes);
    const report = (n: number, done: number, extra = '') =>
      control.onProgress?.({
        fraction: (li + (n + done / P) / N) / feats.length,
        message: `layer ${f.layer} (${li + 1}/${feats.length})${N > 1 ? `, projection ${n + 1}/${N}` : ''}: ${Math.floor(done)}/${P} pairs${extra}`,
      });
    for (let n = 0; n < N; n++) {
      const tp = performance.now();
      const d = new Float64Array(P);
      const rel = new Float64Array(P);
      const its = new Int32Array(P);
      let infeasible = 0;
      let projSeed: number | null = null;
      const pts = keepPoints ? { xTilde: new Float32Array(P * n0), xPrimeTilde: new Float32Array(P * n0) } : null;
      if (exact) {
        // Input space, no projection: the optimum is the midpoint, d = ‖x − x′‖/2 (spec §1).
        for (let k = 0; k < P; k++) {
          const a = vertex(pairI[k]);
          const b = vertex(pairJ[k]);
          let s = 0;
          for (let j = 0; j < n0; j++) s += (a[j] - b[j]) ** 2;
          d[k] = Math.sqrt(s) / 2;
          if (pts) for (let j = 0; j < n0; j++) pts.xTilde[k * n0 + j] = pts.xPrimeTilde[k * n0 + j] = (a[j] + b[j]) / 2;
        }
        // (The midpoint of two in-box images is in the box, so --box changes nothing here.)
      } else {
        let A: Float64Array | null = null;
        if (project) {
          projSeed = deriveSeed(seed, `collision-A-${f.layer}-${n}`);
          A = gaussianProjection(m, f.n, projSeed);
        }
        const g = projectFn(f.fn, f.n, A, m);
        const map = tfCollisionMap(g.fn, n0, g.m, { jacobian });
        try {
          for (let start = 0; start < P; start += chunk) {
            throwIfAborted(control.signal);
            const end = Math.min(P, start + chunk);
            const xs = new Float64Array((end - start) * n0);
            const xps = new Float64Array((end - start) * n0);
            for (let k = start; k < end; k++) {
              xs.set(vertex(pairI[k]), (k - start) * n0);
              xps.set(vertex(pairJ[k]), (k - start) * n0);
            }
            const r = await findCollisions(xs, xps, map, collision, {
              signal: control.signal,
              onProgress: (pr) => report(n, start + pr.fraction * (end - start)),
            });
            for (let k = start; k < end; k++) {
              const c = k - start;
              // Infeasible pairs get no edge at any ε (conservative; spec §2).
              d[k] = r.feasible[c] ? (edgeRule === 'max' ? r.dMax[c] : r.dRms[c]) : Infinity;
              if (!r.feasible[c]) infeasible++;
              rel[k] = r.relResidual[c];
              its[k] = r.iterations[c];
            }
            if (pts) {
              pts.xTilde.set(r.xTilde, start * n0);
              pts.xPrimeTilde.set(r.xPrimeTilde, start * n0);
            }
            report(n, end);
          }
        } catch (e) {
          if (e instanceof JobCancelledError) {
            result.seconds = (performance.now() - t0) / 1000;
            throw new JobCancelledError(result);
          }
          throw e;
        } finally {
          g.dispose();
        }
      }
      layerRes.distances.push(d);
      layerRes.relResidual.push(rel);
      layerRes.stats.push({ seed: projSeed, infeasible, medianIterations: median(its), seconds: (performance.now() - tp) / 1000 });
      if (pts) layerRes.points?.push(pts);
      layerRes.projectionsDone = n + 1;
      layerRes.complete = n + 1 === N;
      layerRes.curve = curveOf(layerRes.distances);
      report(n, P);
      opts.onLayer?.(layerRes);
      // Let an abort posted to a worker land between projections.
      await new Promise((r) => setTimeout(r, 0));
      if (control.signal?.aborted) {
        result.seconds = (performance.now() - t0) / 1000;
        throw new JobCancelledError(result);
      }
    }
  }
  result.seconds = (performance.now() - t0) / 1000;
  control.onProgress?.({ fraction: 1, message: 'collision analysis done' });
  return result;
}

function emptyCurve(eps: number[], binary: boolean): AnalysisCurve {
  const nan = () => eps.map(() => NaN);
  return { eps, meanLogLoss: nan(), minLogLoss: nan(), maxLogLoss: nan(), meanZeroOne: binary ? nan() : null, minZeroOne: binary ? nan() : null, maxZeroOne: binary ? nan() : null, maxGap: binary ? null : nan() };
}
