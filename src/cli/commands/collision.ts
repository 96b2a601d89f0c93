/**
 * CLI commands of the collision analysis (spec collision.md):
 *   layerwise optloss --graph graph.json [--json]
 *       optimal adversarial cross-entropy and 0-1 loss of a two-class conflict graph
 *       (fixture graph format: {n_class0, num_vertices, p?, edges}, or {cases: [...]}).
 *   layerwise collide --net net.json --pairs pairs.json [--layer h2] [--float64] [--json]
 *       Algorithm 1 collision distances on the fixture MLP format ({W, b, projections} or a
 *       file with meta.network) for pairs [{x, x_prime}] (or {pairs: [...]}).
 *   layerwise collision --model M --data D [--classes 3,7|all] [--per-class S] [--layers a,b]
 *       [--m 10[,3,30]] [--projections N] [--eps-list 0.5,1,2] [--box] [--no-projection]
 *       [--edge rms|max] [--gamma G] [--max-iter K] [--json]
 *       layer-by-layer collision distances of a lab model and the optimal adversarial
 *       log-loss / 0-1 loss per layer and ε (Algorithm 2); a list for --m is a sweep over m.
 * File reading lives here; the maths is in src/core/collision.
 */
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { collisionAnalysis, type CollisionAnalysisResult } from '../../core/collision/analysis';
import { BROWSER_DEFAULTS, findCollisions, type CollisionOptions } from '../../core/collision/collision';
import { mlpCollisionMap64, mlpFeatureFn, mlpLayerNames, projectFn, tfCollisionMap, type MlpSpec } from '../../core/collision/maps';
import { optimalLogLoss, optimalZeroOneLoss, type ConflictGraph } from '../../core/collision/optloss';
import { INPUT_LAYER, loadPlainLayerTap } from '../../core/collision/maps';
import { checkInputCompatibility } from '../../core/model/model';
import { LabError } from '../../core/types';
import { nameList, num, numList, parse, print, str, UsageError } from '../args';
import { setupBackend } from '../../node/backend';
import { checkAttackable, openData, openModel, resolveModelPath } from '../../node/open';
import { predictAll } from '../../core/model/predict';
import { nodeModelReader } from '../../node/files';

type Json = Record<string, unknown>;

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new LabError(`cannot read ${what} file "${file}"`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new LabError(`${what} file "${file}" is not valid JSON`);
  }
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses one graph in the fixture format; p defaults to uniform. */
export function graphFromJson(g: unknown, label = 'graph'): ConflictGraph {
  if (!isObj(g)) throw new LabError(`${label}: expected an object with n_class0, num_vertices, edges`);
  const n = g.num_vertices;
  const n0 = g.n_class0;
  if (typeof n !== 'number' || typeof n0 !== 'number') throw new LabError(`${label}: n_class0 and num_vertices must be numbers`);
  if (!Array.isArray(g.edges) || !g.edges.every((e) => Array.isArray(e) && e.length === 2)) throw new LabError(`${label}: edges must be a list of [u, v] pairs`);
  const p = g.p === undefined ? new Float64Array(n).fill(1 / n) : Array.isArray(g.p) ? Float64Array.from(g.p as number[]) : null;
  if (!p) throw new LabError(`${label}: p must be a list of numbers`);
  return { nClass0: n0, numVertices: n, p, edges: Int32Array.from((g.edges as number[][]).flat()) };
}

function solveGraph(json: unknown, label: string) {
  const g = graphFromJson(json, label);
  const r = optimalLogLoss(g);
  const z = optimalZeroOneLoss(g);
  return {
    name: isObj(json) && typeof json.name === 'string' ? json.name : label,
    numVertices: g.numVertices,
    numEdges: g.edges.length / 2,
    logLoss: r.loss,
    zeroOneLoss: z.loss,
    dualCertificate: r.certificate.dual,
    certificateGap: r.loss - r.certificate.dual,
    numBlocks: r.blocks.length,
    blockValues: r.blocks.map((b) => b.value),
    maxFlowCalls: r.maxFlowCalls,
    q: Array.from(r.q),
    q01: Array.from(z.q),
  };
}

export type OptlossCase = ReturnType<typeof solveGraph>;

/** Pure core of `optloss`: a single graph gives one result, {cases} gives {cases: [...]}. */
export function runOptloss(json: unknown): OptlossCase | { cases: OptlossCase[] } {
  if (isObj(json) && Array.isArray(json.cases)) return { cases: json.cases.map((c, i) => solveGraph(c, `cases[${i}]`)) };
  return solveGraph(json, 'graph');
}

export interface CollideOptions {
  layers?: string[];
  float64?: boolean;
  collision?: CollisionOptions;
}

export interface CollidePair {
  dRms: number;
  dMax: number;
  objective: number;
  relResidual: number;
  feasible: boolean;
  iterations: number;
  xTilde: number[];
  xPrimeTilde: number[];
}

function netFromJson(json: unknown): MlpSpec {
  const net = isObj(json) && isObj(json.meta) && isObj(json.meta.network) ? json.meta.network : json;
  if (!isObj(net) || !Array.isArray(net.W) || !Array.isArray(net.b) || net.W.length !== net.b.length || net.W.length === 0) {
    throw new LabError('net: expected {W, b, projections?} with W[i] as [out][in] (or a file with meta.network)');
  }
  return net as unknown as MlpSpec;
}

function pairsFromJson(json: unknown, n0: number): { x: number[]; x_prime: number[] }[] {
  const list = isObj(json) && Array.isArray(json.pairs) ? json.pairs : json;
  if (!Array.isArray(list) || list.length === 0) throw new LabError('pairs: expected a non-empty list of {x, x_prime} (or {pairs: [...]})');
  return list.map((p, i) => {
    if (!isObj(p) || !Array.isArray(p.x) || !Array.isArray(p.x_prime) || p.x.length !== n0 || p.x_prime.length !== n0) {
      throw new LabError(`pairs[${i}]: x and x_prime must be lists of ${n0} numbers`);
    }
    return { x: p.x as number[], x_prime: p.x_prime as number[] };
  });
}

/**
 * Pure core of `collide`: Algorithm 1 on every pair and layer, batched per layer. float32
 * uses tfjs (the lab's path, current backend); float64 uses the exact JS Jacobian map.
 */
export async function runCollide(netJson: unknown, pairsJson: unknown, opts: CollideOptions = {}) {
  const net = netFromJson(netJson);
  const n0 = net.W[0][0].length;
  const pairs = pairsFromJson(pairsJson, n0);
  const names = mlpLayerNames(net);
  const layers = opts.layers ?? names;
  for (const l of layers) if (!names.includes(l)) throw new LabError(`net has no layer "${l}" (have ${names.join(', ')})`);
  // Spec §2 defaults: float32 τ_feas = 1e-4, λ = 1e-6·tr/m; float64 τ_feas = 1e-6, λ = 1e-12·tr/m.
  const settings = { ...BROWSER_DEFAULTS, ...(opts.float64 ? { feasTol: 1e-6, ridgeRel: 1e-12 } : {}), ...opts.collision };
  const xs = Float64Array.from(pairs.flatMap((p) => p.x));
  const xps = Float64Array.from(pairs.flatMap((p) => p.x_prime));
  const out: Record<string, { m: number; projected: boolean; pairs: CollidePair[] }> = {};
  for (const layer of layers) {
    const A = net.projections?.[layer] ?? null;
    let r;
    let m: number;
    if (opts.float64) {
      const map = mlpCollisionMap64(net, layer, A);
      m = map.m;
      r = await findCollisions(xs, xps, map, settings);
    } else {
      const f = mlpFeatureFn(net, layer);
      const g = projectFn(f.fn, f.n, A ? Float64Array.from(A.flat()) : null, A ? A.length : f.n);
      try {
        m = g.m;
        r = await findCollisions(xs, xps, tfCollisionMap(g.fn, n0, g.m), settings);
      } finally {
        g.dispose();
        f.dispose();
      }
    }
    const res = r;
    out[layer] = {
      m,
      projected: A !== null,
      pairs: pairs.map((_, i) => ({
        dRms: res.dRms[i],
        dMax: res.dMax[i],
        objective: res.objective[i],
        relResidual: res.relResidual[i],
        feasible: res.feasible[i] === 1,
        iterations: res.iterations[i],
        xTilde: Array.from(res.xTilde.subarray(i * n0, (i + 1) * n0)),
        xPrimeTilde: Array.from(res.xPrimeTilde.subarray(i * n0, (i + 1) * n0)),
      })),
    };
  }
  return { precision: opts.float64 ? 'float64' : 'float32', settings, numPairs: pairs.length, layers: out };
}

async function optloss(args: string[]): Promise<void> {
  const v = parse(args, { graph: { type: 'string' } });
  const payload = runOptloss(await readJson(str(v.graph, 'graph'), 'graph'));
  const cases = 'cases' in payload ? payload.cases : [payload];
  print(v.json as boolean, payload, () =>
    cases
      .map((c) => `${c.name}: ${c.numVertices} vertices, ${c.numEdges} edges — optimal log-loss ${c.logLoss.toFixed(9)} nats (${c.numBlocks} blocks, certificate gap ${c.certificateGap.toExponential(1)}), optimal 0-1 loss ${c.zeroOneLoss.toFixed(9)}`)
      .join('\n'),
  );
}

async function collide(args: string[]): Promise<void> {
  const v = parse(args, {
    net: { type: 'string' },
    pairs: { type: 'string' },
    layer: { type: 'string' },
    float64: { type: 'boolean' },
    gamma: { type: 'string' },
    'max-iter': { type: 'string' },
    'feas-tol': { type: 'string' },
  });
  const collision: CollisionOptions = {};
  if (v.gamma !== undefined) collision.gamma = num(v.gamma, 'gamma');
  if (v['max-iter'] !== undefined) collision.maxIter = num(v['max-iter'], 'max-iter');
  if (v['feas-tol'] !== undefined) collision.feasTol = num(v['feas-tol'], 'feas-tol');
  if (collision.gamma !== undefined && !(collision.gamma > 0 && collision.gamma < 1)) throw new UsageError('--gamma must be in (0, 1)');
  const netJson = await readJson(str(v.net, 'net'), 'net');
  const pairsJson = await readJson(str(v.pairs, 'pairs'), 'pairs');
  if (!v.float64) {
    // The CLI's tensors are tiny; the CPU backend keeps the float32 path deterministic.
    tf.env().set('PROD', true);
    await tf.setBackend('cpu');
  }
  const layers = typeof v.layer === 'string' ? v.layer.split(',') : undefined;
  const payload = await runCollide(netJson, pairsJson, { layers, float64: v.float64 === true, collision });
  print(v.json as boolean, payload, () =>
    Object.entries(payload.layers)
      .map(([name, l]) => `${name} (m = ${l.m}${l.projected ? ', projected' : ''}): ` + l.pairs.map((p) => `${p.dRms.toFixed(4)}${p.feasible ? '' : ' (infeasible)'}`).join('  '))
      .join('\n'),
  );
}

/** JSON cannot hold ∞: a pair with no collision found is written as null. */
const finite = (x: number, digits = 6) => (Number.isFinite(x) ? +x.toFixed(digits) : null);
const list = (xs: ArrayLike<number>, digits = 6) => Array.from(xs, (x) => finite(x, digits));

/** JSON payload of one analysis (distances per pair per projection, curves per layer). */
export function analysisPayload(r: CollisionAnalysisResult) {
  return {
    classes: r.classes,
    perClass: r.perClass,
    approximate: r.approximate,
    settings: r.settings,
    sampleIndices: Array.from(r.sampleIndices),
    sampleLabels: Array.from(r.sampleLabels),
    pairs: Array.from(r.pairI, (i, k) => [i, r.pairJ[k]]),
    seconds: +r.seconds.toFixed(3),
    layers: r.layers.map((l) => ({
      layer: l.layer,
      features: l.features,
      m: l.m,
      projected: l.projected,
      exact: l.exact,
      numProjections: l.numProjections,
      projections: l.stats.map((s, n) => ({
        seed: s.seed,
        infeasible: s.infeasible,
        medianIterations: s.medianIterations,
        seconds: +s.seconds.toFixed(3),
        maxRelResidual: finite(Math.max(0, ...l.relResidual[n]), 9),
        distances: list(l.distances[n]),
      })),
      curve: {
        eps: l.curve.eps,
        meanLogLoss: list(l.curve.meanLogLoss, 12),
        minLogLoss: list(l.curve.minLogLoss, 12),
        maxLogLoss: list(l.curve.maxLogLoss, 12),
        meanZeroOne: l.curve.meanZeroOne && list(l.curve.meanZeroOne, 9),
        minZeroOne: l.curve.minZeroOne && list(l.curve.minZeroOne, 9),
        maxZeroOne: l.curve.maxZeroOne && list(l.curve.maxZeroOne, 9),
        maxGap: l.curve.maxGap && list(l.curve.maxGap, 12),
      },
    })),
  };
}

function analysisText(r: CollisionAnalysisResult, head: string): string {
  const eps = r.layers[0]?.curve.eps ?? [];
  const w = 15;
  const lines = [
    head,
    `classes ${r.classes.join(',')}${r.approximate ? ' (more than two classes: pairwise dual-ascent fallback, approximate lower bound; no 0-1 loss)' : ''}, ${r.perClass} per class, ${r.pairI.length} cross-class pairs, ${r.seconds.toFixed(1)} s`,
    `optimal adversarial log-loss (nats, mean over projections) / 0-1 loss at ε (L2): lower bounds (spec §1); ln 2 = ${Math.LN2.toFixed(4)}`,
    `${'layer'.padEnd(22)}${'m'.padStart(6)}  ` + eps.map((e) => `ε=${e}`.padStart(w)).join(''),
  ];
  for (const l of r.layers) {
    const infeasible = l.stats.reduce((s, x) => s + x.infeasible, 0);
    const cells = l.curve.eps.map((_, i) => `${l.curve.meanLogLoss[i].toFixed(4)}/${l.curve.meanZeroOne ? l.curve.meanZeroOne[i].toFixed(3) : '-'}`.padStart(w));
    const note = l.exact ? ' exact' : `${l.projected ? ` ×${l.numProjections} proj` : ' A=I'}, median ${Math.round(l.stats.reduce((s, x) => s + x.medianIterations, 0) / l.stats.length)} it${infeasible ? `, ${infeasible} infeasible` : ''}`;
    lines.push(`${l.layer.padEnd(22)}${String(l.m).padStart(6)}  ${cells.join('')} ${note}`);
  }
  return lines.join('\n');
}


async function collision(args: string[]): Promise<void> {
  const v = parse(args, {
    model: { type: 'string' },
    data: { type: 'string' },
    classes: { type: 'string', default: '3,7' },
    'per-class': { type: 'string', default: '10' },
    layers: { type: 'string' },
    m: { type: 'string', default: '10' },
    projections: { type: 'string', default: '5' },
    'eps-list': { type: 'string', default: '0.5,1,1.5,2,2.5,3,4,5' },
    box: { type: 'boolean' },
    'no-projection': { type: 'boolean' },
    edge: { type: 'string', default: 'rms' },
    gamma: { type: 'string' },
    'max-iter': { type: 'string' },
    batch: { type: 'string' },
  });
  const seed = num(v.seed, 'seed');
  const perClass = num(v['per-class'], 'per-class');
  if (!(Number.isInteger(perClass) && perClass >= 1)) throw new UsageError('--per-class must be a positive integer');
  const mList = numList(String(v.m), 'm');
  if (mList.some((m) => !(Number.isInteger(m) && m >= 1))) throw new UsageError('--m must be positive integers');
  const numProjections = num(v.projections, 'projections');
  if (!(Number.isInteger(numProjections) && numProjections >= 1)) throw new UsageError('--projections must be a positive integer');
  const epsList = numList(String(v['eps-list']), 'eps-list');
  if (epsList.some((e) => e < 0)) throw new UsageError('--eps-list values must be ≥ 0');
  const edgeRule = v.edge as 'rms' | 'max';
  if (edgeRule !== 'rms' && edgeRule !== 'max') throw new UsageError(`--edge must be rms or max (got "${v.edge}")`);
  const collisionOpts: CollisionOptions = {};
  if (v.gamma !== undefined) collisionOpts.gamma = num(v.gamma, 'gamma');
  if (collisionOpts.gamma !== undefined && !(collisionOpts.gamma > 0 && collisionOpts.gamma < 1)) throw new UsageError('--gamma must be in (0, 1)');
  if (v['max-iter'] !== undefined) collisionOpts.maxIter = num(v['max-iter'], 'max-iter');
  if (v.batch !== undefined) collisionOpts.batchSize = num(v.batch, 'batch');
  const backend = await setupBackend(v);
  const model = await openModel(str(v.model, 'model'));
  let plain: Awaited<ReturnType<typeof loadPlainLayerTap>> = null;
  try {
    // Plain-op activations: ~20× faster input gradients than LabModel.tap (see plainLayerTap).
    const file = resolveModelPath(String(v.model));
    const reader = nodeModelReader(file);
    plain = await loadPlainLayerTap(reader.name, reader.read, file);
    const ds = await openData(str(v.data, 'data'));
    checkInputCompatibility(model, ds);
    checkAttackable(ds);
    const classes = v.classes === 'all' ? ('all' as const) : numList(String(v.classes), 'classes');
    if (classes !== 'all' && classes.some((c) => !(Number.isInteger(c) && c >= 0 && c < ds.classNames.length))) throw new UsageError(`--classes must be 'all' or class indices in [0, ${ds.classNames.length})`);
    // A pair search over fewer samples than asked for would quietly answer another question.
    const perClassCounts = new Array<number>(ds.classNames.length).fill(0);
    for (const l of ds.labels) perClassCounts[l]++;
    for (const c of classes === 'all' ? perClassCounts.map((_, i) => i) : classes) {
      if (perClassCounts[c] < perClass) throw new UsageError(`--per-class ${perClass} is more than the ${perClassCounts[c]} samples of class ${c} in ${ds.id}`);
    }
    // A cheap numerical sanity pass on up to 256 samples: non-finite logits refuse with the first non-finite layer.
    await predictAll(model, ds.images.subarray(0, Math.min(ds.n, 256) * ds.height * ds.width * ds.channels), ds.labels.subarray(0, Math.min(ds.n, 256)), [ds.height, ds.width, ds.channels]);
    const layers = typeof v.layers === 'string' ? nameList(v.layers, 'layers') : [INPUT_LAYER, ...model.layers.filter((l) => l.defaultTap && l.name !== INPUT_LAYER).map((l) => l.name)];
    const shape: [number, number, number] = [ds.height, ds.width, ds.channels];
    const runs: CollisionAnalysisResult[] = [];
    for (const m of mList) {
      const r = await collisionAnalysis(model, ds.images, ds.labels, shape, {
        layers,
        classes,
        perClass,
        m,
        numProjections,
        projection: v['no-projection'] ? 'none' : 'gaussian',
        epsList,
        seed,
        edgeRule,
        box: v.box === true,
        collision: collisionOpts,
        tap: plain?.tap,
      });
      runs.push(r);
    }
    const head = (r: CollisionAnalysisResult) => `${v.model} on ${ds.id} (seed ${seed}, ${backend.active}), m = ${v['no-projection'] ? 'n_j (no projection)' : r.settings.m}, ${r.settings.numProjections} projections${r.settings.box ? ', [0,1] box (heuristic, not in the paper)' : ''}`;
    const base = { model: v.model, data: ds.id, seed, backend: backend.active };
    const payload = mList.length === 1 ? { ...base, ...analysisPayload(runs[0]) } : { ...base, sweep: runs.map((r) => ({ m: r.settings.m, ...analysisPayload(r) })) };
    print(v.json as boolean, payload, () => runs.map((r) => analysisText(r, head(r))).join('\n\n'));
  } finally {
    plain?.dispose();
    model.dispose();
  }
}

export const collisionCommands: Record<string, (args: string[]) => Promise<void>> = { optloss, collide, collision };
