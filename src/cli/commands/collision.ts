/**
 * CLI tools of the collision analysis in the reference fixtures' formats (spec collision.md):
 *   layerwise optloss --graph graph.json [--json]
 *       optimal adversarial cross-entropy and 0-1 loss of a two-class conflict graph
 *       (fixture graph format: {n_class0, num_vertices, p?, edges}, or {cases: [...]}).
 *   layerwise collide --net net.json --pairs pairs.json [--layer h2] [--float64] [--json]
 *       Algorithm 1 collision distances on the fixture MLP format ({W, b, projections} or a
 *       file with meta.network) for pairs [{x, x_prime}] (or {pairs: [...]}).
 * The layer-by-layer analysis of a model (`layerwise collision --model M --data D`) is the
 * lab's, generated from src/core/collision/definition.ts.
 * File reading lives here; the maths is in src/core/collision.
 */
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { BROWSER_DEFAULTS, findCollisions, type CollisionOptions } from '../../core/collision/collision';
import { mlpCollisionMap64, mlpFeatureFn, mlpLayerNames, projectFn, tfCollisionMap, type MlpSpec } from '../../core/collision/maps';
import { optimalLogLoss, optimalZeroOneLoss, type ConflictGraph } from '../../core/collision/optloss';
import { LabError } from '../../core/types';
import { num, parse, print, str, UsageError } from '../args';

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

export const collisionCommands: Record<string, (args: string[]) => Promise<void>> = { optloss, collide };
