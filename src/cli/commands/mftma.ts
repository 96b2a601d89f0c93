/**
 * `layerwise mftma --input`: manifold capacity / radius / dimension (Chung, Lee & Sompolinsky
 * PRX 2018; Cohen et al. Nat. Commun. 2020) of one layer's manifolds in the fixture format of
 * shared/fixtures/mftma (a float32 (ΣM_i)×N point matrix plus a case.json header giving N and M
 * per manifold). The analysis of a model's layers (`layerwise mftma --model`) is the lab's,
 * generated from src/core/mftma/definition.ts.
 * Node-only (fs) code lives here; the maths is src/core/mftma.
 */
import { readFile } from 'node:fs/promises';
import { manifoldAnalysis } from '../../core/mftma/mftma';
import { LabError } from '../../core/types';
import { num, parse, print, str, UsageError } from '../args';

const USAGE = `usage: layerwise mftma --input X.f32 --header case.json [--kappa 0] [--nt 200] [--reps 10] [--seed S]
       [--t-vectors t.f32] [--center-subspace V11.f64] [--json]
  X.f32: float32 LE, (sum M_i) x N row-major, manifold 0's points first
  case.json: {"N": n, "M": [M_0, M_1, ...]} (fixture header; P = M.length)
  --t-vectors / --center-subspace replay a fixture's saved t-vectors / common center basis
   or: layerwise mftma --model M --data D … (the lab's Manifolds analysis; layerwise mftma --help)`;

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
  });
  if (v.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  if (v.model !== undefined || v.data !== undefined) {
    throw new UsageError('use either --input/--header (fixture mode) or --model/--data (the analysis of a model), not both');
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

export const mftmaCommands: Record<string, (args: string[]) => Promise<void>> = {
  mftma: cmdMftma,
};
