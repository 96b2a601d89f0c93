/**
 * Node side of `npm run bench -- attacks --browser`: serves bench/browser/attacks.html with
 * a Vite dev server on 127.0.0.1 (a secure context, so navigator.gpu exists), launches
 * Debian's headless Chromium through Playwright with the flags of shared spec browser.md
 * (--enable-unsafe-webgpu for a real WebGPU adapter; never --disable-gpu), and runs the
 * shared measurement in a fresh page per backend × model. Nothing here is part of the
 * product build: `vite build` only builds index.html.
 */
import { benchSamples, defaultEps, formatTable, type BenchOptions, type BenchRow } from '../attacks';
import type { PageJob, PageResult } from './attacks';
import type { MeasureConfig } from './measure';
import { startBenchBrowser } from './serve';

export async function runBrowser(opts: BenchOptions): Promise<BenchRow[]> {
  const { browser, base, close } = await startBenchBrowser('bench/browser/attacks.html');
  const rows: BenchRow[] = [];
  try {
    for (const backend of opts.backends) {
      for (const entry of opts.models) {
        const input = await benchSamples(entry.dataset, opts.n);
        const configs: MeasureConfig[] = opts.attacks.map((attack) => ({
          attack,
          eps: opts.eps ?? defaultEps(input.shape[2]),
          n: opts.n,
          steps: opts.steps,
          shortSteps: opts.shortSteps,
          repeats: opts.repeats,
          perSampleN: opts.perSampleN,
        }));
        const job: PageJob = { backend: backend as PageJob['backend'], model: entry.id, images: Array.from(input.images), labels: Array.from(input.labels), shape: input.shape, configs };
        const page = await browser.newPage();
        page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
        try {
          await page.goto(new URL('bench/browser/attacks.html', base).href);
          await page.waitForFunction(() => (window as unknown as { layerwiseBench?: { ready: boolean } }).layerwiseBench?.ready === true, null, { timeout: 120_000 });
          const result = await page.evaluate(
            (j) => (window as unknown as { layerwiseBench: { run: (job: PageJob) => Promise<PageResult> } }).layerwiseBench.run(j),
            job,
          );
          if (result.backend !== backend || result.rows.length === 0) {
            console.error(`bench attacks: ${backend} unavailable in Chromium (got ${result.backend}: ${result.fallbackReason}); skipped`);
            break;
          }
          const note = result.adapter ? ` (${result.adapter})` : result.webglFloat32 !== undefined ? ` (float32 render ${result.webglFloat32})` : '';
          for (const m of result.rows) {
            const row: BenchRow = { backend: `${backend}${note}`, model: entry.id, ...m };
            rows.push(row);
            console.error(formatTable([row]).split('\n')[2]);
          }
        } finally {
          await page.close();
        }
      }
    }
  } finally {
    await close();
  }
  return rows;
}
