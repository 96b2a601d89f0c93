/**
 * `npm run bench -- mftma --browser [--repeats 3] [--backends webgpu,webgl,wasm,cpu]
 * [--cases a,b] [--backend wasm] [--wide 1] [--model mnist-small-st] [--max-dims 5000]`: every fixture case's full MFTMA run (own center search,
 * the case's n_t and n_reps, seed 0: the options of the Node bench, bench/mftma.ts) inside a
 * module worker of headless Chromium, one worker per tfjs backend, and in this Node process,
 * interleaved run by run (Node, then each backend, repeated) so drifting machine load hits all
 * alike. Reported per case × backend: wall seconds (min / median), speed-up against the
 * reference (20 s anchor for mnist-pixels, the median of the case.json timings otherwise),
 * browser ÷ Node median time, the largest |browser − Node| of capacity, radius, dimension and
 * center correlation over all runs, and each result against the fixture's reference numbers
 * (the seed-0 reference values and the 5-seed band check 4 of the fixture README, as in
 * src/core/mftma/mftma.test.ts).
 *
 * Then (unless `--wide 0`) the Node bench's wide-layer runs: P = 10 classes × M = 50 MNIST test
 * images through `--model`, `analyzeLayers` at its 4,096- and 5,408-wide layers (the latter
 * reduced first, as analyzeLayers does), seed 0, in the same workers (model and dataset fetched from the
 * dev server as the lab's worker does) and in Node, again interleaved. Before the timed runs one
 * untimed pass per side (which also warms up kernels and shaders) fetches each side's
 * activations and projected points, so a difference in the results can be traced to the
 * forward pass, the projection's float32 matmuls, or the (float64, CPU) analysis. Reported per
 * layer × backend: seconds (min / median), browser ÷ Node median time, the projection's seconds in
 * the untimed first pass (cold: first kernels, shader compiles),
 * max |browser − Node| of capacity, radius, dimension, center correlation and K, and of the
 * activations and projected points. GPU backends compute the forward pass and the projection in
 * their own float32 kernels, so their numbers may differ from Node's without anything being
 * wrong: these differences are reported, not held against the tolerance (exit code).
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Page, Worker as PageWorker } from '@playwright/test';
import { selectBackend, BACKEND_ORDER, type BackendName } from '../../src/core/backend';
import { manifoldAnalysis } from '../../src/core/mftma/mftma';
import { analyzeLayers, layerMftmaInput, reduceWideLayer } from '../../src/core/mftma/manifolds';
import { deriveSeed } from '../../src/core/random';
import { arg } from '../common';
import { ROOT } from '../../src/node/paths';
import { caseNames, loadCase, loadWideSetup, REFERENCE_ANCHOR_SECONDS, WIDE_DATASET, WIDE_SPEC, WIDE_WIDTHS } from '../mftma';
import { startBenchBrowser } from './serve';
import type { MftmaNumbers, MftmaWorkerReply, WideApi, WideInputs, WideNumbers, WideRequest, WideSetup } from './mftma.worker';

type Bench = { layerwiseMftmaBench: { ready: boolean; init: (b: BackendName) => Promise<MftmaWorkerReply>; run: (b: BackendName, name: string, seed: number) => Promise<MftmaWorkerReply> } };

const KEYS = ['capacity', 'radius', 'dimension', 'centerCorrelation'] as const;
/**
 * Relative tolerance browser vs Node: both run the same float64 JavaScript, but Chromium's V8
 * and Node's differ in the last bit of Math.sin / cos / log / pow on a few % of arguments
 * (the Gaussian draws of src/core/random.ts use them), and the center search's iterative
 * optimisation amplifies that to ~1e-10 relative on mnist-pixels. 1e-8 is far inside the 1e-6
 * agreement with the reference the fixtures demand.
 */
const TOLERANCE = 1e-8;
const SEED = 0;

const stat = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return { min: v[0], median: v[Math.floor(v.length / 2)] };
};

type WideGlobal = { layerwiseMftmaWide?: WideApi };

/** The page's module worker that `init` started for each backend (Playwright attaches to workers). */
async function backendWorkers(page: Page, names: BackendName[]): Promise<Map<BackendName, PageWorker>> {
  const found = new Map<BackendName, PageWorker>();
  const deadline = performance.now() + 30_000;
  while (found.size < names.length) {
    for (const w of page.workers()) {
      const req = await w.evaluate(() => (self as unknown as WideGlobal).layerwiseMftmaWide?.requested() ?? null).catch(() => null);
      if (req && names.includes(req as BackendName)) found.set(req as BackendName, w);
    }
    if (found.size < names.length) {
      if (performance.now() > deadline) throw new Error(`bench mftma: no page worker for ${names.filter((n) => !found.has(n)).join(', ')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return found;
}

function concat(xs: ArrayLike<number>[]): Float32Array {
  const all = new Float32Array(xs.reduce((a, x) => a + x.length, 0));
  let off = 0;
  for (const x of xs) {
    all.set(x, off);
    off += x.length;
  }
  return all;
}

function fromBase64(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Browser points against Node's: identical?, max |Δ|, and max |Node value| for scale. */
function compareInputs(browser: Float32Array, node: Float32Array) {
  if (browser.length !== node.length) throw new Error(`bench mftma: ${browser.length} browser values vs ${node.length} in Node`);
  let maxAbsDiff = 0;
  let maxAbs = 0;
  let differing = 0;
  for (let i = 0; i < node.length; i++) {
    const d = Math.abs(browser[i] - node[i]);
    if (d > 0 || Number.isNaN(d)) differing++;
    if (d > maxAbsDiff || Number.isNaN(d)) maxAbsDiff = d;
    maxAbs = Math.max(maxAbs, Math.abs(node[i]));
  }
  return { identical: differing === 0, differing, of: node.length, maxAbsDiff, maxAbs };
}

export async function benchMftmaBrowser(args: string[]) {
  const repeats = Math.max(1, Number(arg(args, 'repeats', '3')));
  const wanted = arg(args, 'backends', BACKEND_ORDER.join(',')).split(',') as BackendName[];
  const cases = arg(args, 'cases', caseNames().join(',')).split(',');
  tf.env().set('PROD', true);
  const nodeBackend = await selectBackend(arg(args, 'backend', 'wasm') as BackendName, { node: true, wasmPaths: path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep });

  const wideOn = arg(args, 'wide', '1') !== '0';
  const modelId = arg(args, 'model', 'mnist-small-st');
  const maxDims = Number(arg(args, 'max-dims', '5000'));

  const { browser, base, close } = await startBenchBrowser('bench/browser/mftma.html');
  const out = [];
  let wide: Awaited<ReturnType<typeof benchWide>> | undefined;
  const chromiumVersion = browser.version();
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && !m.text().startsWith('Failed to load resource') && console.error(`page console: ${m.text()}`));
    page.on('response', (r) => r.status() >= 400 && !r.url().endsWith('/favicon.ico') && console.error(`page: HTTP ${r.status()} ${r.url()}`));
    await page.goto(new URL('bench/browser/mftma.html', base).href);
    await page.waitForFunction(() => (window as unknown as Partial<Bench>).layerwiseMftmaBench?.ready === true, null, { timeout: 120_000 });
    const backends: { name: BackendName; note: string }[] = [];
    for (const b of wanted) {
      const r = await page.evaluate((name) => (window as unknown as Bench).layerwiseMftmaBench.init(name), b);
      if (r.kind !== 'ready' || r.backend !== b) {
        console.error(`bench mftma: ${b} unavailable in the Chromium worker (${r.kind === 'ready' ? `got ${r.backend}: ${r.fallbackReason}` : r.kind === 'error' ? r.message : r.kind}); skipped`);
        continue;
      }
      backends.push({ name: b, note: r.adapter ?? '' });
    }

    for (const name of cases) {
      const { c, input } = loadCase(name);
      const refTimes = [...c.timing.seconds_per_run].sort((a, b) => a - b);
      const refSeconds = name === 'mnist-pixels' ? REFERENCE_ANCHOR_SECONDS : refTimes[Math.floor(refTimes.length / 2)];
      const nodeTimes: number[] = [];
      const nodeCpu: number[] = [];
      const nodeNumbers: MftmaNumbers[] = [];
      const times = new Map<BackendName, number[]>(backends.map((b) => [b.name, []]));
      const numbers = new Map<BackendName, MftmaNumbers[]>(backends.map((b) => [b.name, []]));
      for (let r = 0; r < repeats; r++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const res = await manifoldAnalysis(input, { nT: c.n_t, nReps: c.n_reps, seed: SEED });
        nodeTimes.push((performance.now() - t0) / 1000);
        const cu = process.cpuUsage(c0);
        nodeCpu.push((cu.user + cu.system) / 1e6);
        nodeNumbers.push({ capacity: res.capacity, radius: res.radius, dimension: res.dimension, centerCorrelation: res.centerCorrelation, k: res.k });
        for (const b of backends) {
          const reply = await page.evaluate(([bk, n, s]) => (window as unknown as Bench).layerwiseMftmaBench.run(bk, n, s), [b.name, name, SEED] as [BackendName, string, number]);
          if (reply.kind !== 'done') throw new Error(`${name} on ${b.name}: ${reply.kind === 'error' ? reply.message : reply.kind}`);
          times.get(b.name)!.push(reply.seconds);
          numbers.get(b.name)!.push(reply.numbers);
        }
      }
      const node = stat(nodeTimes);
      const ref = c.seed0_deterministic;
      const refNumbers: MftmaNumbers = { capacity: ref.capacity, radius: ref.radius, dimension: ref.dimension, centerCorrelation: ref.center_correlation, k: ref.K };
      const vsReference = (xs: MftmaNumbers[]) => {
        const maxAbs = Object.fromEntries(KEYS.map((k) => [k, Math.max(...xs.map((x) => Math.abs(x[k] - refNumbers[k])))]));
        // Check 4 of the fixture README (as mftma.test.ts): mean ± max(4·std, 2% of mean); ρ_center within 1e-9; same K.
        const bandOk = xs.every(
          (x) =>
            x.k === ref.K &&
            Math.abs(x.centerCorrelation - ref.center_correlation) < 1e-9 &&
            (['capacity', 'radius', 'dimension'] as const).every((k) => Math.abs(x[k] - c.seed_spread[k].mean) <= Math.max(4 * c.seed_spread[k].std, 0.02 * c.seed_spread[k].mean)),
        );
        return { maxAbs, insideReferenceBand: bandOk };
      };
      const rows = [
        {
          where: `node (${nodeBackend.active})`,
          seconds: node,
          cpuSeconds: stat(nodeCpu),
          speedupVsReference: +(refSeconds / node.median).toFixed(1),
          ratioVsNode: 1,
          maxAbsDiffVsNode: null,
          maxRelDiffVsNode: 0,
          vsReference: vsReference(nodeNumbers),
        },
        ...backends.map((b) => {
          const s = stat(times.get(b.name)!);
          const xs = numbers.get(b.name)!;
          const maxAbsDiffVsNode = Object.fromEntries(
            [...KEYS, 'k' as const].map((k) => [k, Math.max(...xs.flatMap((x) => nodeNumbers.map((y) => Math.abs(x[k] - y[k]))))]),
          );
          const maxRelDiffVsNode = Math.max(...xs.flatMap((x) => nodeNumbers.flatMap((y) => KEYS.map((k) => Math.abs(x[k] - y[k]) / Math.max(Math.abs(y[k]), 1e-300)))));
          return {
            where: `chromium worker ${b.name}${b.note ? ` (${b.note})` : ''}`,
            seconds: s,
            speedupVsReference: +(refSeconds / s.median).toFixed(1),
            ratioVsNode: +(s.median / node.median).toFixed(2),
            maxAbsDiffVsNode,
            maxRelDiffVsNode,
            vsReference: vsReference(xs),
          };
        }),
      ];
      // The browser backends share one V8: their numbers should agree bit for bit.
      const all = backends.flatMap((b) => numbers.get(b.name)!);
      const identicalAcrossBrowserBackends = all.every((x) => [...KEYS, 'k' as const].every((k) => x[k] === all[0][k]));
      out.push({ case: name, P: c.M.length, M: c.M[0], N: c.N, referenceSeconds: refSeconds, identicalAcrossBrowserBackends, rows });
      for (const row of rows) {
        const d = row.maxAbsDiffVsNode ? Math.max(...KEYS.map((k) => row.maxAbsDiffVsNode![k])) : 0;
        console.error(
          `${name.padEnd(22)} ${row.where.padEnd(34)} min ${row.seconds.min.toFixed(3)} s  median ${row.seconds.median.toFixed(3)} s  ` +
            `×${row.speedupVsReference} vs ref ${refSeconds} s  ${row.ratioVsNode}× Node  max|Δ| vs Node ${d.toExponential(1)} (rel ${row.maxRelDiffVsNode.toExponential(1)})  ref band ${row.vsReference.insideReferenceBand ? 'ok' : 'FAIL'}`,
        );
      }
    }
    if (wideOn) wide = await benchWide(page, backends, { repeats, modelId, maxDims });
    await page.close();
  } finally {
    await close();
  }
  const worst = Math.max(0, ...out.flatMap((c) => c.rows.map((r) => r.maxRelDiffVsNode)));
  console.log(
    JSON.stringify(
      {
        suite: 'mftma',
        browser: true,
        nodeBackend: nodeBackend.active,
        repeats,
        seed: SEED,
        referenceAnchorSeconds: REFERENCE_ANCHOR_SECONDS,
        versions: { node: process.versions.node, nodeV8: process.versions.v8, chromium: chromiumVersion },
        relativeToleranceVsNode: TOLERANCE,
        maxRelDiffVsNode: worst,
        identicalToNode: worst === 0,
        withinToleranceOfNode: worst <= TOLERANCE,
        cases: out,
        ...(wide ? { wideLayers: wide } : {}),
      },
      null,
      2,
    ),
  );
  if (worst > TOLERANCE) process.exitCode = 1;
}

const WIDE_KEYS = ['capacity', 'radius', 'dimension', 'centerCorrelation', 'k'] as const;

/** The wide-layer runs of bench/mftma.ts, in the page's workers and in Node, interleaved. */
async function benchWide(page: Page, backends: { name: BackendName; note: string }[], o: { repeats: number; modelId: string; maxDims: number }) {
  const { repeats, modelId, maxDims } = o;
  const workers = await backendWorkers(page, backends.map((b) => b.name));
  const { model, set, layers } = await loadWideSetup(modelId);
  const setup: WideSetup = { model: modelId, dataset: WIDE_DATASET, spec: WIDE_SPEC, widths: WIDE_WIDTHS };
  for (const b of backends) {
    const got = await workers.get(b.name)!.evaluate((s) => (self as unknown as Required<WideGlobal>).layerwiseMftmaWide.setup(s), setup);
    if (got.map((l) => l.layer).join() !== layers.join()) throw new Error(`bench mftma: ${b.name} worker found layers ${got.map((l) => l.layer).join()} where Node found ${layers.join()}`);
  }
  const out = [];
  try {
    for (const layer of layers) {
      const req: WideRequest = { layer, maxDims, seed: SEED };
      // Untimed pass: each side's activations and projected points (and the projection's time).
      const raw = await layerMftmaInput(model, set, layer);
      const p0 = performance.now();
      const { input, projection } = await reduceWideLayer(raw, maxDims, deriveSeed(SEED, `mftma/projection:${layer}`));
      const nodeProjectionSeconds = projection ? (performance.now() - p0) / 1000 : null;
      const nodeRaw = concat(raw.manifolds);
      const nodeProjected = projection ? concat(input.manifolds) : null;
      const inputs = new Map<BackendName, { activations: ReturnType<typeof compareInputs>; projected: ReturnType<typeof compareInputs> | null; projectionSeconds: number | null }>();
      for (const b of backends) {
        const r: WideInputs = await workers.get(b.name)!.evaluate((q) => (self as unknown as Required<WideGlobal>).layerwiseMftmaWide.inputs(q), req);
        inputs.set(b.name, {
          activations: compareInputs(fromBase64(r.raw), nodeRaw),
          projected: nodeProjected && r.projected ? compareInputs(fromBase64(r.projected), nodeProjected) : null,
          projectionSeconds: r.projectionSeconds,
        });
      }

      const nodeTimes: number[] = [];
      const nodeCpu: number[] = [];
      const nodeNumbers: WideNumbers[] = [];
      const times = new Map<BackendName, number[]>(backends.map((b) => [b.name, []]));
      const numbers = new Map<BackendName, WideNumbers[]>(backends.map((b) => [b.name, []]));
      for (let r = 0; r < repeats; r++) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const [res] = await analyzeLayers(model, set, [layer], { maxDims, seed: SEED });
        nodeTimes.push((performance.now() - t0) / 1000);
        const cu = process.cpuUsage(c0);
        nodeCpu.push((cu.user + cu.system) / 1e6);
        nodeNumbers.push({
          capacity: res.capacity,
          radius: res.radius,
          dimension: res.dimension,
          centerCorrelation: res.centerCorrelation,
          k: res.k,
          width: res.width,
          analysedDims: res.projection?.toDims ?? res.width,
        });
        for (const b of backends) {
          const reply = await workers.get(b.name)!.evaluate((q) => (self as unknown as Required<WideGlobal>).layerwiseMftmaWide.run(q), req);
          times.get(b.name)!.push(reply.seconds);
          numbers.get(b.name)!.push(reply.numbers);
        }
      }
      const node = stat(nodeTimes);
      const n0 = nodeNumbers[0];
      const values = (x: WideNumbers) => ({ capacity: x.capacity, radius: x.radius, dimension: x.dimension, centerCorrelation: x.centerCorrelation, K: x.k });
      const sameRuns = (xs: WideNumbers[]) => xs.every((x) => WIDE_KEYS.every((k) => x[k] === xs[0][k]));
      const rows = [
        {
          where: `node (${tf.getBackend()})`,
          seconds: node,
          cpuSeconds: stat(nodeCpu),
          ratioVsNode: 1,
          firstPassProjectionSeconds: nodeProjectionSeconds,
          ...values(n0),
          runsIdentical: sameRuns(nodeNumbers),
          maxAbsDiffVsNode: null,
          maxRelDiffVsNode: 0,
          identicalToNode: true,
          inputsVsNode: null,
        },
        ...backends.map((b) => {
          const s = stat(times.get(b.name)!);
          const xs = numbers.get(b.name)!;
          const maxAbsDiffVsNode = Object.fromEntries(WIDE_KEYS.map((k) => [k, Math.max(...xs.flatMap((x) => nodeNumbers.map((y) => Math.abs(x[k] - y[k]))))])) as Record<(typeof WIDE_KEYS)[number], number>;
          const maxRelDiffVsNode = Math.max(
            ...xs.flatMap((x) => nodeNumbers.flatMap((y) => WIDE_KEYS.filter((k) => k !== 'k').map((k) => Math.abs(x[k] - y[k]) / Math.max(Math.abs(y[k]), 1e-300)))),
          );
          const inp = inputs.get(b.name)!;
          return {
            where: `chromium worker ${b.name}${b.note ? ` (${b.note})` : ''}`,
            seconds: s,
            cpuSeconds: null,
            ratioVsNode: +(s.median / node.median).toFixed(2),
            firstPassProjectionSeconds: inp.projectionSeconds,
            ...values(xs[0]),
            runsIdentical: sameRuns(xs),
            maxAbsDiffVsNode,
            maxRelDiffVsNode,
            identicalToNode: WIDE_KEYS.every((k) => maxAbsDiffVsNode[k] === 0),
            inputsVsNode: { activations: inp.activations, projected: inp.projected },
          };
        }),
      ];
      const label = `${layer} ${n0.width}${n0.analysedDims !== n0.width ? `→${n0.analysedDims}` : ''}`;
      out.push({ layer, width: n0.width, analysedDims: n0.analysedDims, rows });
      for (const row of rows) {
        const tail = row.maxAbsDiffVsNode
          ? `max|Δ| vs Node C ${row.maxAbsDiffVsNode.capacity.toExponential(1)} R ${row.maxAbsDiffVsNode.radius.toExponential(1)} D ${row.maxAbsDiffVsNode.dimension.toExponential(1)} K ${row.maxAbsDiffVsNode.k}` +
            ` (rel ${row.maxRelDiffVsNode.toExponential(1)})  acts ${diffText(row.inputsVsNode.activations)}` +
            (row.inputsVsNode.projected ? `  proj ${diffText(row.inputsVsNode.projected)}` : '')
          : `C ${row.capacity.toFixed(5)} R ${row.radius.toFixed(4)} D ${row.dimension.toFixed(3)} K ${row.K}`;
        const proj = row.firstPassProjectionSeconds !== null ? `  (proj 1st pass ${row.firstPassProjectionSeconds.toFixed(2)} s)` : '';
        console.error(
          `${label.padEnd(22)} ${row.where.padEnd(34)} min ${row.seconds.min.toFixed(3)} s  median ${row.seconds.median.toFixed(3)} s${proj}  ${row.ratioVsNode}× Node  ${tail}`,
        );
      }
    }
  } finally {
    model.dispose();
  }
  const [p, m] = [WIDE_SPEC.p, WIDE_SPEC.m];
  return { model: modelId, dataset: WIDE_DATASET, P: p, M: m, maxDims, seed: SEED, layers: out };
}

const diffText = (d: ReturnType<typeof compareInputs>) => (d.identical ? 'identical' : `Δ ${d.maxAbsDiff.toExponential(1)} of ${d.maxAbs.toExponential(1)} (${d.differing}/${d.of})`);
