/**
 * `npm run bench -- tsne --browser [--n 1000,2500] [--repeats 3] [--backends webgpu,webgl,wasm]
 *   [--max-seconds 600] [--anchor on|off]`
 *
 * Issue #6: the lab's t-SNE in headless Chromium against tfjs-tsne (WebGL) in the SAME browser
 * session, on identical input (first N MNIST test images, centred, PCA-50 — as bench/tsne.ts),
 * every embedding scored in Node by bench/tsne.ts `evaluate` (trustworthiness@10, 10-NN
 * preservation, KL with one common P, 10-NN label accuracy).
 *
 * - Anchor: npm `tfjs-tsne` 4.10 (alicialics' port of tensorflow/tfjs-tsne to tfjs 4.x; the
 *   original `@tensorflow/tfjs-tsne` 0.2.0 needs tfjs-core 0.x, whose `tf.webgl` / `tf.ENV.findBackend`
 *   no longer exist). It runs in its own page on an in-memory https origin with tfjs-core 4.22's
 *   UMD build plus the package's UMD bundle (which carries its own tfjs-backend-webgl) injected
 *   from node_modules, Math.random seeded (mulberry32). Its defaults, unchanged: `tsne.tsne(data)` +
 *   `compute()` = kNN by ceil(N/20) GPU kNN-descent iterations, perplexity 18, 1000 iterations
 *   (exaggeration 4 to iteration 250, decaying to 1 by 400), momentum 0.5, η by N.
 *   Timed: tensor upload → kNN → iterations → coordinates read back.
 * - Lab: bench/tsne-browser/page.html served by a Vite dev server on 127.0.0.1 (a secure
 *   context, so navigator.gpu exists), one page per tfjs backend: webgpu and webgl run the tfjs-ops
 *   impl, wasm the typed (Float64Array) impl — what `impl: 'auto'` picks on each. Its defaults
 *   (openTSNE's): perplexity 30, exact 90-NN, 250 + 500 iterations (exaggeration 12, then 1),
 *   momentum 0.8, learning rate max(200, N/12), PCA init, stop early when KL changes < 1e-4 over 50
 *   iterations. Timed: runTsne from the Float32Array to positions read back (as bench/tsne.ts).
 *
 * One Chromium (Debian's, flags of shared spec browser.md: --enable-unsafe-webgpu, never
 * --disable-gpu) holds every page; runs are interleaved (repeat r of every implementation,
 * then r + 1) so load drift hits all alike. Seconds are page wall time; the adapters are
 * software (SwiftShader), so compare ratios from this one run, not absolute times.
 * Ratio = tfjs-tsne median seconds / implementation median seconds (> 1: faster than tfjs-tsne).
 * An implementation whose estimated time at the next N (median × (N'/N)², exact repulsion is
 * O(N²)) exceeds --max-seconds is skipped there and reported as such.
 */
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { chromium, type Browser, type Page } from '@playwright/test';
import { createServer } from 'vite';
import { arg, reniceChildren } from './common';
import { ROOT } from '../src/node/paths';
import { benchData, evaluate } from './tsne';
import { selectBackend, type BackendName } from '../src/core/backend';
import { loadBuiltinDataset } from '../src/node/images';
import type { TsneImpl } from '../src/core/tsne/tsne';
import type { LabInit, LabInitResult, LabJob, LabResult } from './tsne-browser/page';

const CHROMIUM = process.env.LAYERWISE_CHROMIUM || '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-unsafe-webgpu'];
const ANCHOR = 'tfjs-tsne';
const ANCHOR_ORIGIN = 'https://tsne-bench.invalid/';

interface AnchorJob { x: number[]; n: number; d: number; seed: number }
interface AnchorResult { seconds: number; positions: number[]; iters: number; knnIters: number; perplexity: number; maxVarying: number; backend: string }

interface Runner {
  name: string;
  backend: string;
  page: Page;
  run: (x: Float32Array, n: number, d: number, seed: number) => Promise<{ seconds: number; y: Float32Array; iters: number; notes: string }>;
}

interface Row {
  impl: string; backend: string; n: number; runs?: number; iters?: number; secMin?: number; secMedian?: number; speedupVsTfjsTsne?: number; speedupVsTfjsTsneMin?: number;
  trust10?: number; knn10?: number; kl?: number; knnAcc?: number; notes?: string; seconds?: number[];
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

async function anchorPage(browser: Browser): Promise<Runner> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`tfjs-tsne page error: ${e.message}`));
  await page.route(`${ANCHOR_ORIGIN}**`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>tfjs-tsne bench</title>' }));
  await page.goto(ANCHOR_ORIGIN);
  await page.addScriptTag({ path: path.join(ROOT, 'node_modules/@tensorflow/tfjs-core/dist/tf-core.min.js') });
  await page.addScriptTag({ path: path.join(ROOT, 'node_modules/tfjs-tsne/dist/tfjs-tsne.js') });
  const run: Runner['run'] = async (x, n, d, seed) => {
    const r = await page.evaluate(async (job: AnchorJob): Promise<AnchorResult> => {
      type T = { data(): Promise<Float32Array>; dispose(): void };
      type Model = { compute(iters?: number): Promise<void>; knnIterations(): number; coordinates(normalized: boolean): T; appliedPerplexity: number; optimizer?: { dispose(): void } };
      const g = window as unknown as {
        tf: { setBackend(b: string): Promise<boolean>; ready(): Promise<void>; getBackend(): string; tensor2d(v: number[], s: [number, number]): T };
        tsne: { tsne(data: T, config?: object): Model };
      };
      // Seeded Math.random (mulberry32): tfjs-tsne draws its initial layout and kNN seeds from it.
      let s = job.seed >>> 0;
      Math.random = () => {
        s = (s + 0x6d2b79f5) >>> 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      };
      await g.tf.setBackend('webgl');
      await g.tf.ready();
      const gl = document.createElement('canvas').getContext('webgl2');
      const maxVarying = gl ? (gl.getParameter(gl.MAX_VARYING_VECTORS) as number) : 0;
      const t0 = performance.now();
      const data = g.tf.tensor2d(job.x, [job.n, job.d]);
      const model = g.tsne.tsne(data);
      const knnIters = model.knnIterations();
      // compute() = iterateKnn(knnIterations()) + iterate(1000): the library's own defaults.
      await model.compute();
      const coords = model.coordinates(false);
      const pos = await coords.data();
      const seconds = (performance.now() - t0) / 1000;
      coords.dispose();
      data.dispose();
      model.optimizer?.dispose();
      return { seconds, positions: Array.from(pos), iters: 1000, knnIters, perplexity: model.appliedPerplexity, maxVarying, backend: g.tf.getBackend() };
    }, { x: Array.from(x), n, d, seed });
    return { seconds: r.seconds, y: Float32Array.from(r.positions), iters: r.iters, notes: `${r.backend}, library defaults: perplexity ${r.perplexity}, ${r.knnIters} kNN-descent iterations, 1000 iterations (MAX_VARYING_VECTORS ${r.maxVarying})` };
  };
  return { name: ANCHOR, backend: 'webgl', page, run };
}

async function labPage(browser: Browser, base: string, backend: BackendName): Promise<Runner | string> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`lab ${backend} page error: ${e.message}`));
  await page.goto(new URL('bench/tsne-browser/page.html', base).href);
  await page.waitForFunction(() => (window as unknown as { layerwiseTsneBench?: { ready: boolean } }).layerwiseTsneBench?.ready === true, null, { timeout: 180_000 });
  const st = await page.evaluate(
    (j: LabInit) => (window as unknown as { layerwiseTsneBench: { init(j: LabInit): Promise<LabInitResult> } }).layerwiseTsneBench.init(j),
    { backend },
  );
  if (st.backend !== backend) {
    await page.close();
    return `${backend} unavailable in Chromium (got ${st.backend}: ${st.fallbackReason})`;
  }
  const extra = st.adapter ? `adapter ${st.adapter}` : st.webglFloat32 !== undefined ? `float32 render ${st.webglFloat32}` : '';
  const impl: TsneImpl = backend === 'wasm' || backend === 'cpu' ? 'typed' : 'tfjs';
  const run: Runner['run'] = async (x, n, d, seed) => {
    const r = await page.evaluate(
      (j: LabJob) => (window as unknown as { layerwiseTsneBench: { run(j: LabJob): Promise<LabResult> } }).layerwiseTsneBench.run(j),
      { x: Array.from(x), n, d, seed, impl },
    );
    const its = r.engineIterations ? ` (${r.engineIterations.exact} exact + ${r.engineIterations.fft} FFT iterations)` : '';
    const leak = r.leakedTensors ? `, ${r.leakedTensors} tensors leaked` : '';
    return { seconds: r.seconds, y: Float32Array.from(r.positions), iters: r.iters, notes: `${r.backend}${extra ? ` (${extra})` : ''}, ${r.impl} impl, ${r.engine} engine${its}, openTSNE defaults${leak}` };
  };
  return { name: `lab ${impl}`, backend, page, run };
}

function formatTable(rows: Row[]): string {
  const f = (v: number | undefined, k: number) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(k));
  const head = '| implementation | backend | N | runs | iters | s min | s median | speed-up vs tfjs-tsne (median / min) | trust@10 | 10-NN pres. | KL | 10-NN acc. | notes |';
  const sep = '|---|---|---|---|---|---|---|---|---|---|---|---|---|';
  const lines = rows.map((r) =>
    r.runs
      ? `| ${r.impl} | ${r.backend} | ${r.n} | ${r.runs} | ${r.iters} | ${f(r.secMin, 2)} | ${f(r.secMedian, 2)} | ${f(r.speedupVsTfjsTsne, 2)}× / ${f(r.speedupVsTfjsTsneMin, 2)}× | ${f(r.trust10, 4)} | ${f(r.knn10, 4)} | ${f(r.kl, 3)} | ${f(r.knnAcc, 4)} | ${r.notes ?? ''} |`
      : `| ${r.impl} | ${r.backend} | ${r.n} | 0 | | | | | | | | | ${r.notes ?? ''} |`,
  );
  return [head, sep, ...lines].join('\n');
}

export async function benchTsneBrowser(args: string[]) {
  const sizes = arg(args, 'n', '1000,2500').split(',').map(Number).sort((a, b) => a - b);
  const repeats = Number(arg(args, 'repeats', '3'));
  const backends = arg(args, 'backends', 'webgpu,webgl,wasm').split(',') as BackendName[];
  const maxSeconds = Number(arg(args, 'max-seconds', '600'));
  const withAnchor = arg(args, 'anchor', 'on') !== 'off';
  tf.env().set('PROD', true);
  // Node side (P, kNN of the metrics): same backend choice as bench/tsne.ts.
  await selectBackend('wasm', { node: true, wasmPaths: path.join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep });
  const ds = await loadBuiltinDataset('mnist-test', path.join(ROOT, 'public'));

  const server = await createServer({
    root: ROOT,
    logLevel: 'warn',
    clearScreen: false,
    server: { host: '127.0.0.1', port: 5189, strictPort: false, hmr: false },
    optimizeDeps: { entries: ['bench/tsne-browser/page.html'] },
  });
  await server.listen();
  const base = server.resolvedUrls?.local[0] ?? 'http://127.0.0.1:5189/';
  if (os.getPriority() < 5) os.setPriority(5);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  reniceChildren();
  const rows: Row[] = [];
  const unavailable: Row[] = [];
  try {
    const runners: Runner[] = [];
    if (withAnchor) runners.push(await anchorPage(browser));
    reniceChildren();
    for (const b of backends) {
      const r = await labPage(browser, base, b);
      reniceChildren();
      if (typeof r === 'string') {
        console.error(`bench tsne --browser: ${r}; skipped`);
        unavailable.push({ impl: 'lab', backend: b, n: 0, notes: r });
      } else runners.push(r);
    }
    console.error(`bench tsne --browser: Chromium ${browser.version()}, flags ${FLAGS.join(' ')}; ${runners.map((r) => `${r.name}@${r.backend}`).join(', ')}`);
    const lastMedian = new Map<Runner, { n: number; sec: number }>();
    const dropped = new Set<Runner>();
    for (const n of sizes) {
      const { x, labels, high } = await benchData(ds, n);
      const active = runners.filter((r) => {
        if (dropped.has(r)) {
          rows.push({ impl: r.name, backend: r.backend, n, notes: `skipped: timed out at a smaller N` });
          return false;
        }
        const prev = lastMedian.get(r);
        if (!prev || prev.n === n) return true;
        const est = prev.sec * (n / prev.n) ** 2;
        if (est <= maxSeconds) return true;
        rows.push({ impl: r.name, backend: r.backend, n, notes: `skipped: estimated ${est.toFixed(0)} s from N=${prev.n} (> --max-seconds ${maxSeconds})` });
        return false;
      });
      const done = new Map<Runner, { seconds: number; iters: number; notes: string; q: ReturnType<typeof evaluate> }[]>();
      const failed = new Map<Runner, string>();
      for (let rep = 0; rep < repeats; rep++) {
        for (const r of active) {
          if (failed.has(r)) continue;
          const prior = done.get(r) ?? [];
          if (prior.length && Math.max(...prior.map((p) => p.seconds)) > maxSeconds) continue;
          reniceChildren();
          try {
            // A page call cannot be cancelled: past --max-seconds the runner's page is closed and
            // the implementation dropped for the rest of the session.
            let timer: ReturnType<typeof setTimeout> | undefined;
            const limit = new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error(`timed out after ${maxSeconds} s`)), maxSeconds * 1000);
            });
            const out = await Promise.race([r.run(x, n, 50, 1 + rep), limit]).finally(() => clearTimeout(timer));
            const q = evaluate(high, out.y, labels);
            prior.push({ seconds: out.seconds, iters: out.iters, notes: out.notes, q });
            done.set(r, prior);
            console.error(`  ${r.name}@${r.backend} n=${n} run ${rep}: ${out.seconds.toFixed(2)} s, ${out.iters} it, trust ${q.trust.toFixed(4)}, KL ${q.kl.toFixed(3)}, acc ${q.knnAcc.toFixed(4)}`);
          } catch (e) {
            failed.set(r, `error: ${(e as Error).message.split('\n')[0]}`);
            if ((e as Error).message.startsWith('timed out')) {
              dropped.add(r);
              await r.page.close().catch(() => undefined);
            }
            console.error(`  ${r.name}@${r.backend} n=${n} run ${rep}: ${failed.get(r)}`);
          }
        }
      }
      const sizeRows: Row[] = [];
      for (const r of active) {
        const runs = done.get(r);
        if (!runs?.length) {
          sizeRows.push({ impl: r.name, backend: r.backend, n, notes: failed.get(r) ?? 'no runs' });
          continue;
        }
        const secs = runs.map((p) => p.seconds);
        lastMedian.set(r, { n, sec: median(secs) });
        sizeRows.push({
          impl: r.name, backend: r.backend, n, runs: runs.length, iters: median(runs.map((p) => p.iters)), secMin: +Math.min(...secs).toFixed(3), secMedian: +median(secs).toFixed(3),
          trust10: +median(runs.map((p) => p.q.trust)).toFixed(4), knn10: +median(runs.map((p) => p.q.knnPres)).toFixed(4), kl: +median(runs.map((p) => p.q.kl)).toFixed(4),
          knnAcc: +median(runs.map((p) => p.q.knnAcc)).toFixed(4), notes: runs[0].notes + (failed.has(r) ? `; later run ${failed.get(r)}` : ''), seconds: secs.map((s) => +s.toFixed(3)),
        });
      }
      const ref = sizeRows.find((q) => q.impl === ANCHOR && q.secMedian !== undefined);
      for (const q of sizeRows) {
        if (ref && q.secMedian !== undefined && q.secMin !== undefined) {
          q.speedupVsTfjsTsne = +((ref.secMedian as number) / q.secMedian).toFixed(2);
          q.speedupVsTfjsTsneMin = +((ref.secMin as number) / q.secMin).toFixed(2);
        }
      }
      rows.push(...sizeRows);
      console.error(formatTable(sizeRows));
    }
  } finally {
    await browser.close();
    await server.close();
  }
  const all = [...unavailable, ...rows];
  console.error(`\n${formatTable(all)}`);
  console.log(JSON.stringify({ suite: 'tsne --browser', chromium: CHROMIUM, flags: FLAGS, sizes, repeats, maxSeconds, results: all }, null, 2));
}
