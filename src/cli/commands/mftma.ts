/**
 * `layerwise mftma`: manifold capacity / radius / dimension (Chung, Lee & Sompolinsky PRX 2018;
 * Cohen et al. Nat. Commun. 2020) in two modes:
 *  - fixture mode: one layer's manifolds from the fixture format of shared/fixtures/mftma (a
 *    float32 (ΣM_i)×N point matrix plus a case.json header giving N and M per manifold);
 *  - model mode: class or exemplar manifolds of a dataset, perturbed (Gaussian σ, uniform L-inf /
 *    L2 ball, random-start attacks), analysed at each tapped layer of a model, optionally along
 *    a σ / ε ladder (src/core/mftma/manifolds.ts).
 * Node-only (fs) code lives here; the maths is src/core/mftma.
 */
import { readFile } from 'node:fs/promises';
import { analyzeLayers, buildManifoldImages, mftmaSweep, perturbationSize, type LayerMftmaResult, type ManifoldKind, type Perturbation, type SweepAccuracy } from '../../core/mftma/manifolds';
import { manifoldAnalysis } from '../../core/mftma/mftma';
import { DEFAULT_MAX_DIMS } from '../../core/mftma/projection';
import { checkInputCompatibility } from '../../core/model/model';
import { LabError } from '../../core/types';
import { nameList, num, numList, parse, print, str, UsageError } from '../args';
import { setupBackend } from '../../node/backend';
import { openData, openModel } from '../../node/open';

const USAGE = `usage: layerwise mftma --input X.f32 --header case.json [--kappa 0] [--nt 200] [--reps 10] [--seed S]
       [--t-vectors t.f32] [--center-subspace V11.f64] [--json]
  X.f32: float32 LE, (sum M_i) x N row-major, manifold 0's points first
  case.json: {"N": n, "M": [M_0, M_1, ...]} (fixture header; P = M.length)
  --t-vectors / --center-subspace replay a fixture's saved t-vectors / common center basis
   or: layerwise mftma --model M --data D [--manifolds class|exemplar] [--perturb none|gaussian:σ|linf:ε|l2:ε|attack:pgd|apgd-ce:ε[:linf|l2]]
       [--sweep v1,v2,…] [--P 10] [--M 50] [--layers a,b] [--max-dims 5000] [--steps K] [--kappa 0] [--nt 200] [--reps 10]
       [--seed S] [--backend auto|cpu|wasm] [--json]
  class: P classes x M images each; exemplar: P images x M perturbed copies (attack: M random starts)
  --sweep replaces σ / ε of --perturb by each value (e.g. --perturb gaussian --sweep 0.0001,0.001,0.01,0.1,1)
  --layers default: every tappable layer; layers wider than --max-dims are reduced exactly to the span of
           their points (at most 2,000 points), else randomly projected to --max-dims (Gaussian, seeded)`;

interface Header {
  n: number;
  m: number[];
}

function parseHeader(text: string, file: string): Header {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new LabError(`${file}: not valid JSON`);
  }
  const h = raw as { N?: unknown; M?: unknown };
  const n = h.N;
  const m = h.M;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new LabError(`${file}: "N" must be a positive integer`);
  if (!Array.isArray(m) || m.length < 2 || !m.every((v) => Number.isInteger(v) && v > 0)) {
    throw new LabError(`${file}: "M" must list at least 2 positive point counts (one per manifold)`);
  }
  return { n, m: m as number[] };
}

async function readTyped<T extends Float32Array | Float64Array>(file: string, ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number }): Promise<T> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    throw new LabError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (buf.byteLength % ctor.BYTES_PER_ELEMENT !== 0) throw new LabError(`${file}: ${buf.byteLength} bytes is not a whole number of ${ctor.BYTES_PER_ELEMENT}-byte floats`);
  return new ctor(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer);
}

async function cmdMftma(args: string[]): Promise<void> {
  const v = parse(args, {
    input: { type: 'string' },
    header: { type: 'string' },
    kappa: { type: 'string', default: '0' },
    nt: { type: 'string', default: '200' },
    reps: { type: 'string', default: '10' },
    't-vectors': { type: 'string' },
    'center-subspace': { type: 'string' },
    model: { type: 'string' },
    data: { type: 'string' },
    manifolds: { type: 'string', default: 'class' },
    perturb: { type: 'string', default: 'none' },
    sweep: { type: 'string' },
    P: { type: 'string', default: '10' },
    M: { type: 'string', default: '50' },
    layers: { type: 'string' },
    'max-dims': { type: 'string', default: String(DEFAULT_MAX_DIMS) },
    steps: { type: 'string' },
  });
  if (v.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (v.model !== undefined || v.data !== undefined) {
    if (v.input !== undefined || v.header !== undefined) throw new UsageError('use either --input/--header (fixture mode) or --model/--data (model mode), not both');
    return cmdMftmaModel(v);
  }
  const inputFile = str(v.input, 'input');
  const headerFile = str(v.header, 'header');
  const kappa = num(v.kappa, 'kappa');
  const nT = num(v.nt, 'nt');
  const nReps = num(v.reps, 'reps');
  const seed = num(v.seed, 'seed');
  if (kappa < 0) throw new UsageError(`--kappa must be ≥ 0 (got ${kappa})`);
  if (!Number.isInteger(nT) || nT < 1) throw new UsageError(`--nt must be a positive integer (got ${nT})`);
  if (!Number.isInteger(nReps) || nReps < 1) throw new UsageError(`--reps must be a positive integer (got ${nReps})`);

  let headerText: string;
  try {
    headerText = await readFile(headerFile, 'utf8');
  } catch (e) {
    throw new LabError(`${headerFile}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const header = parseHeader(headerText, headerFile);
  const data = await readTyped(inputFile, Float32Array);
  const total = header.m.reduce((a, b) => a + b, 0);
  if (data.length !== total * header.n) {
    throw new LabError(`${inputFile}: expected ${total} x ${header.n} float32 values (${total * header.n * 4} bytes) from ${headerFile}, got ${data.length}`);
  }
  const manifolds: Float32Array[] = [];
  let off = 0;
  for (const m of header.m) {
    manifolds.push(data.subarray(off, off + m * header.n));
    off += m * header.n;
  }

  let tVectors: Float64Array[] | undefined;
  if (typeof v['t-vectors'] === 'string') {
    const file = v['t-vectors'];
    const t = await readTyped(file, Float32Array);
    // D_i + 1 per manifold: M_i + 1 when N > M_i (QR-reduced), else N + 1 (spec §5).
    const d1 = header.m.map((m) => (header.n > m ? m : header.n) + 1);
    const need = d1.reduce((a, d) => a + d * nT, 0);
    if (t.length !== need) throw new LabError(`${file}: expected ${need} float32 values for n_t = ${nT}, got ${t.length}`);
    tVectors = [];
    let o = 0;
    for (const d of d1) {
      tVectors.push(Float64Array.from(t.subarray(o, o + d * nT)));
      o += d * nT;
    }
  }
  let centerSubspace: { k: number; basis: Float64Array } | undefined;
  if (typeof v['center-subspace'] === 'string') {
    const file = v['center-subspace'];
    const basis = await readTyped(file, Float64Array);
    if (basis.length % header.n !== 0) throw new LabError(`${file}: ${basis.length} float64 values is not a whole number of ${header.n}-vectors`);
    centerSubspace = { k: basis.length / header.n, basis };
  }

  const t0 = performance.now();
  const res = await manifoldAnalysis({ n: header.n, manifolds }, { kappa, nT, nReps, seed, tVectors, centerSubspace });
  const seconds = (performance.now() - t0) / 1000;
  const payload = {
    input: inputFile,
    P: header.m.length,
    N: header.n,
    M: header.m,
    kappa,
    nT,
    nReps,
    seed,
    injected: { tVectors: tVectors !== undefined, centerSubspace: centerSubspace !== undefined },
    capacity: res.capacity,
    radius: res.radius,
    dimension: res.dimension,
    centerCorrelation: res.centerCorrelation,
    K: res.k,
    maxK: res.maxK,
    maxKUsed: res.maxKUsed,
    residualCorrelationPerK: res.residualCorrelationPerK,
    capacityPerManifold: res.manifolds.map((m) => m.alpha),
    radiusPerManifold: res.manifolds.map((m) => m.radius),
    dimensionPerManifold: res.manifolds.map((m) => m.dimension),
    seconds: +seconds.toFixed(3),
  };
  print(v.json as boolean, payload, () =>
    [
      `MFTMA of ${header.m.length} manifolds in N = ${header.n} (kappa ${kappa}, n_t ${nT}, seed ${seed}, ${seconds.toFixed(1)} s)`,
      `capacity ${res.capacity.toFixed(5)}  radius ${res.radius.toFixed(4)}  dimension ${res.dimension.toFixed(3)}  center correlation ${res.centerCorrelation.toFixed(4)}  K ${res.k}`,
      ...res.manifolds.map((m, i) => `  manifold ${String(i).padStart(3)}: alpha ${m.alpha.toFixed(5)}  R ${m.radius.toFixed(4)}  D ${m.dimension.toFixed(3)}`),
    ].join('\n'),
  );
}

const PERTURB_HELP = 'none, gaussian:σ, linf:ε, l2:ε or attack:pgd|apgd-ce:ε[:linf|l2]';

/** `--perturb` → Perturbation; with a sweep the size may be omitted (the ladder supplies it). */
export function parsePerturbation(text: string, sized: boolean): Perturbation {
  const parts = text.split(':');
  const bad = () => new UsageError(`--perturb must be ${PERTURB_HELP} (got "${text}")`);
  const size = (s: string | undefined): number => {
    if (s === undefined || s === '') {
      if (!sized) return 1;
      throw new UsageError(`--perturb ${parts[0]} needs a size, e.g. ${parts[0] === 'attack' ? 'attack:apgd-ce:0.3' : `${parts[0]}:0.1`} (or give --sweep)`);
    }
    const x = Number(s);
    if (!Number.isFinite(x) || x <= 0) throw new UsageError(`--perturb size must be a number > 0 (got "${s}")`);
    return x;
  };
  switch (parts[0]) {
    case 'none':
      if (parts.length > 1) throw bad();
      return { kind: 'none' };
    case 'gaussian':
      if (parts.length > 2) throw bad();
      return { kind: 'gaussian', sigma: size(parts[1]) };
    case 'linf':
    case 'l2':
      if (parts.length > 2) throw bad();
      return { kind: parts[0], eps: size(parts[1]) };
    case 'attack': {
      const attack = parts[1];
      if (attack !== 'pgd' && attack !== 'apgd-ce') throw new UsageError(`--perturb attack must be pgd or apgd-ce (attacks with a random start; got "${attack ?? ''}")`);
      const norm = parts[3] ?? 'linf';
      if ((norm !== 'linf' && norm !== 'l2') || parts.length > 4) throw bad();
      return { kind: 'attack', attack, norm, eps: size(parts[2]) };
    }
    default:
      throw bad();
  }
}

function positiveInt(value: string | boolean | undefined, name: string): number {
  const x = num(value, name);
  if (!Number.isInteger(x) || x < 1) throw new UsageError(`--${name} must be a positive integer (got ${value})`);
  return x;
}

async function cmdMftmaModel(v: Record<string, string | boolean | undefined>): Promise<void> {
  const kind = v.manifolds as ManifoldKind;
  if (kind !== 'class' && kind !== 'exemplar') throw new UsageError(`--manifolds must be class or exemplar (got "${kind}")`);
  const ladder = typeof v.sweep === 'string' ? numList(v.sweep, 'sweep') : undefined;
  if (ladder && ladder.some((x) => !(x > 0))) throw new UsageError(`--sweep values must be > 0 (got ${v.sweep})`);
  let perturbation = parsePerturbation(String(v.perturb), ladder === undefined);
  if (ladder && perturbation.kind === 'none') throw new UsageError('--sweep needs a --perturb kind to sweep (gaussian, linf, l2 or attack:…)');
  const steps = v.steps === undefined ? undefined : positiveInt(v.steps, 'steps');
  if (steps !== undefined) {
    if (perturbation.kind !== 'attack') throw new UsageError('--steps applies to --perturb attack:… only');
    perturbation = { ...perturbation, steps };
  }
  const p = positiveInt(v.P, 'P');
  const m = positiveInt(v.M, 'M');
  if (p < 2) throw new UsageError(`--P must be at least 2 (got ${p})`);
  const maxDims = positiveInt(v['max-dims'], 'max-dims');
  const kappa = num(v.kappa, 'kappa');
  const nT = positiveInt(v.nt, 'nt');
  const nReps = positiveInt(v.reps, 'reps');
  const seed = num(v.seed, 'seed');
  if (kappa < 0) throw new UsageError(`--kappa must be ≥ 0 (got ${kappa})`);
  const backend = await setupBackend(v);
  const modelSpec = str(v.model, 'model');
  const dataSpec = str(v.data, 'data');
  const model = await openModel(modelSpec);
  try {
    const ds = await openData(dataSpec);
    checkInputCompatibility(model, ds);
    const layers = typeof v.layers === 'string' ? nameList(v.layers, 'layers') : model.layers.filter((l) => l.defaultTap).map((l) => l.name);
    if (layers.length === 0) throw new UsageError('--layers is empty');
    for (const l of layers) if (!model.layers.some((x) => x.name === l)) throw new LabError(`model ${modelSpec} has no layer "${l}" (layers: ${model.layers.map((x) => x.name).join(', ')})`);
    const analysis = { maxDims, kappa, nT, nReps, seed };
    const t0 = performance.now();
    const accuracy: SweepAccuracy[] = [];
    const results: LayerMftmaResult[] = ladder
      ? await mftmaSweep(model, ds, { kind, p, m, seed, perturbation, ladder, layers, analysis }, {}, undefined, (a) => accuracy.push(a))
      : await analyzeLayers(model, await buildManifoldImages(ds, { kind, p, m, seed, perturbation }, model), layers, analysis);
    const seconds = (performance.now() - t0) / 1000;
    const perLayer = layers.map((layer) => {
      const rs = results.filter((r) => r.layer === layer);
      return {
        layer,
        width: rs[0].width,
        projection: rs[0].projection,
        points: rs.map((r) => ({
          size: r.size,
          capacity: r.capacity,
          radius: r.radius,
          dimension: r.dimension,
          centerCorrelation: r.centerCorrelation,
          K: r.k,
          ...(r.attackSuccessRate !== undefined ? { attackSuccessRate: r.attackSuccessRate } : {}),
          capacityPerManifold: r.result.manifolds.map((x) => x.alpha),
          radiusPerManifold: r.result.manifolds.map((x) => x.radius),
          dimensionPerManifold: r.result.manifolds.map((x) => x.dimension),
          seconds: +r.seconds.toFixed(3),
        })),
      };
    });
    const payload = {
      model: modelSpec,
      data: ds.id,
      manifolds: kind,
      perturbation: ladder ? { ...perturbation, ...(perturbation.kind === 'gaussian' ? { sigma: null } : { eps: null }) } : perturbation,
      ladder: ladder ?? [perturbationSize(perturbation)],
      P: p,
      M: m,
      maxDims,
      kappa,
      nT,
      nReps,
      seed,
      backend: backend.active,
      layers: perLayer,
      // With --sweep: the model's accuracy on the P·M points, clean (size 0) then per value.
      ...(ladder ? { accuracy } : {}),
      seconds: +seconds.toFixed(3),
    };
    const what = perturbation.kind === 'none' ? 'clean' : perturbation.kind === 'attack' ? `${perturbation.attack} ${perturbation.norm}` : perturbation.kind;
    const sizeName = perturbation.kind === 'gaussian' ? 'sigma' : 'eps';
    print(v.json as boolean, payload, () =>
      [
        `MFTMA of ${kind} manifolds (P = ${p}, M = ${m}, ${what}) of ${modelSpec} on ${ds.id} (kappa ${kappa}, n_t ${nT}, seed ${seed}, ${backend.active}, ${seconds.toFixed(1)} s)`,
        ...perLayer.flatMap((l) => [
          `${l.layer} (N = ${l.width}${l.projection ? (l.projection.kind === 'span' ? `, reduced exactly to the ${l.projection.toDims}-dimensional span of its points` : `, randomly projected to ${l.projection.toDims}`) : ''})`,
          ...l.points.map(
            (pt) =>
              `  ${perturbation.kind === 'none' ? '' : `${sizeName} ${String(pt.size).padEnd(8)} `}capacity ${pt.capacity.toFixed(5)}  radius ${pt.radius.toFixed(4)}  dimension ${pt.dimension.toFixed(3)}  center corr ${pt.centerCorrelation.toFixed(4)}  K ${pt.K}` +
              (pt.attackSuccessRate !== undefined ? `  misclassified ${(100 * pt.attackSuccessRate).toFixed(1)}%` : ''),
          ),
        ]),
        ...(accuracy.length ? [`accuracy on the manifold points: ${accuracy.map((a, i) => `${i === 0 ? 'clean' : `${sizeName} ${a.size}`} ${(100 * a.accuracy).toFixed(1)}%`).join(', ')}`] : []),
      ].join('\n'),
    );
  } finally {
    model.dispose();
  }
}

export const mftmaCommands: Record<string, (args: string[]) => Promise<void>> = {
  mftma: cmdMftma,
};
