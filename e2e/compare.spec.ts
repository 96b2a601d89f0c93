/**
 * Compare mode everywhere and self-describing exports (issue #21), on the WASM backend with
 * the zoo's MNIST twins: model B (adversarially trained) shows in the layer chart's legend
 * by name at the same ε values as A, in the image strip and in the sample detail; the
 * CSV/JSON exports carry B's rows by model id; the SVG and PNG carry the caption, and the
 * SVG renders its data lines in librsvg (rsvg-convert, Debian's librsvg2-bin).
 */
import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PNG } from 'pngjs';

const A = 'mnist-small-st';
const B = 'mnist-small-pgd-linf';
const URL_HASH = `#model=${A}&data=mnist-test&n=8&seed=3&attack=pgd&norm=linf&eps=0.1&steps=5&backend=wasm&vs=${B}`;

test.setTimeout(300_000);

async function openCompare(page: Page) {
  await page.goto('/' + URL_HASH);
  await expect(page.getByTestId('compare-info')).toContainText(B, { timeout: 120_000 });
  await expect(page.getByTestId('shown-attack')).toContainText('PGD-5', { timeout: 120_000 });
  await expect(page.getByTestId('compare-acc')).toBeVisible({ timeout: 120_000 });
  // The background ε ladder (A and B) follows the main job: wait until nothing runs.
  await expect(async () => {
    await expect(page.getByTestId('job-status')).not.toHaveAttribute('data-status', 'running');
    await page.waitForTimeout(500);
    await expect(page.getByTestId('job-status')).not.toHaveAttribute('data-status', 'running');
  }).toPass({ timeout: 180_000 });
}

/** Model B's robust accuracy as the accuracy panel prints it ("clean% / robust%"). */
async function robustB(page: Page): Promise<number> {
  const text = (await page.getByTestId('compare-acc').textContent()) ?? '';
  return Number([...text.matchAll(/([\d.]+)%/g)][1][1]) / 100;
}

test('compare mode: B named in the chart legend at A’s ε values, in the strip and in the sample detail', async ({ page }) => {
  await openCompare(page);
  const chart = page.getByTestId('layer-chart');
  await expect(chart.locator('.legend text')).toContainText([`A ${A}`, `B ${B}`]);
  // B has a line at every ε of A's ladder (the ladder runs both models).
  const epsOf = async (selector: string) => (await chart.locator(selector).evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-eps'))))).sort((x, y) => x - y);
  const epsA = await epsOf('.series-lines path.series');
  expect(epsA.length).toBeGreaterThanOrEqual(3);
  expect(await epsOf('.compare-lines path.compare')).toEqual(epsA);

  // The strip: one B row and one B prediction per card; B's correct predictions are its robust accuracy.
  const cards = page.locator('[data-testid=image-strip] .card');
  await expect(cards).toHaveCount(8);
  await expect(page.getByTestId('strip-b-row')).toHaveCount(8);
  await expect(page.getByTestId('strip-b-legend')).toContainText(B);
  const predsB = await page.getByTestId('adv-pred-b').allTextContents();
  expect(predsB).toHaveLength(8);
  expect(predsB.filter((t) => t.includes('✓')).length).toBe(Math.round((await robustB(page)) * 8));
  // B's adversarial images are its own, not A's: some card's B image differs from its A image.
  const differing = await cards.evaluateAll((els) =>
    els.filter((card) => {
      const pixels = (c: HTMLCanvasElement) => Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data).join();
      const advA = card.querySelectorAll<HTMLCanvasElement>('.thumbs:first-child canvas')[1];
      const advB = card.querySelector<HTMLCanvasElement>('[data-testid=strip-b-row] canvas')!;
      return pixels(advA) !== pixels(advB);
    }).length,
  );
  expect(differing).toBeGreaterThan(0);

  // The sample detail: B's prediction, logits (10 classes × clean/adversarial) and δ heat map.
  await cards.nth(0).click();
  await expect(page.getByTestId('sample-detail-model')).toContainText(`A: ${A}`);
  await expect(page.getByTestId('sample-detail-model-b')).toContainText(`B: ${B}`);
  const stripB = (await page.locator('[data-sample="0"] [data-testid=adv-pred-b]').textContent()) ?? '';
  // The detail names the same B prediction as the strip ("B ✓ 7 99%" → "7 (99%)").
  const [, predB, confB] = /B [✓✗] (\S+) (\d+)%/.exec(stripB) ?? [];
  await expect(page.getByTestId('sample-detail-model-b')).toContainText(`→ ${predB} (${confB}%)`);
  await expect(page.locator('[data-testid=sample-logits-b] rect.bar')).toHaveCount(20, { timeout: 60_000 });
  await expect(page.locator('[data-testid=sample-logits] rect.bar')).toHaveCount(20);
  await expect(page.getByTestId('sample-heat-b')).toHaveCount(1);
  await page.screenshot({ path: 'e2e/artifacts/compare-strip-detail.png', fullPage: true });
});

/** Pixels whose colour differs by more than `tol` in some channel. */
function differingPixels(a: PNG, b: PNG, tol = 40): number {
  expect([a.width, a.height]).toEqual([b.width, b.height]);
  let n = 0;
  for (let i = 0; i < a.data.length; i += 4) {
    if (Math.abs(a.data[i] - b.data[i]) > tol || Math.abs(a.data[i + 1] - b.data[i + 1]) > tol || Math.abs(a.data[i + 2] - b.data[i + 2]) > tol) n++;
  }
  return n;
}

test('compare-mode exports: B in CSV/JSON by model id, captioned PNG/SVG, SVG data lines drawn by librsvg', async ({ page }) => {
  await openCompare(page);
  const outDir = mkdtempSync(path.join(tmpdir(), 'lw-compare-export-'));
  const grab = async (name: string) => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export').getByRole('button', { name, exact: true }).click()]);
    const file = path.join(outDir, download.suggestedFilename());
    await download.saveAs(file);
    return file;
  };

  // CSV: A's and B's rows of the ladder, named by model id, at the same ε values.
  const csv = readFileSync(await grab('CSV'), 'utf8').trim().split('\r\n');
  const header = csv[0].split(',');
  expect(header.slice(0, 3)).toEqual(['model', 'role', 'eps']);
  const rows = csv.slice(1).map((l) => l.split(','));
  const epsBy = (model: string) => [...new Set(rows.filter((r) => r[0] === model).map((r) => Number(r[2])))].sort((x, y) => x - y);
  expect(rows.filter((r) => r[0] === B).every((r) => r[1] === 'B')).toBe(true);
  expect(epsBy(A).length).toBeGreaterThanOrEqual(3);
  expect(epsBy(B)).toEqual(epsBy(A));

  // JSON: B's per-sample results and accuracies next to A's, and B in the manifest.
  const json = JSON.parse(readFileSync(await grab('JSON'), 'utf8'));
  expect(json.model).toBe(A);
  expect(json.compare.model).toBe(B);
  expect(json.compare.samples).toHaveLength(8);
  expect(json.compare.robustAccuracy).toBeCloseTo(await robustB(page), 3);
  expect(json.layers.some((r: { model: string }) => r.model === B)).toBe(true);
  expect(json.manifest.compareModel.id).toBe(B);
  const caption: string[] = json.manifest.caption;
  expect(caption).toEqual(expect.arrayContaining([`model A: ${A}`, `model B: ${B}`, 'data: mnist-test, 8 samples', 'attack: PGD-5 L∞, ε = 0.1, α = 0.05', 'seed 3']));

  // SVG: the manifest's caption drawn in, presentation attributes instead of computed-style dumps.
  const svgFile = await grab('SVG');
  const svg = readFileSync(svgFile, 'utf8');
  console.log(`exported SVG: ${svg.length} bytes`);
  expect(svg).not.toContain('style=');
  expect(svg.length).toBeLessThan(20_000);
  const captionText = [...svg.matchAll(/<g class="caption"[\s\S]*?<\/g>/g)].join('');
  for (const phrase of [`model A: ${A}`, `model B: ${B}`, 'attack: PGD-5 L∞, ε = 0.1', 'seed 3', 'data: mnist-test']) expect(captionText).toContain(phrase);
  expect(captionText).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d UTC/);

  // librsvg draws the data lines: the rendering changes where the series paths are removed.
  const rendered = path.join(outDir, 'rsvg.png');
  execFileSync('rsvg-convert', [svgFile, '-o', rendered]);
  const withoutLinesFile = path.join(outDir, 'no-lines.svg');
  const seriesPaths = svg.match(/<path class="series[^"]*"[^>]*\/>/g) ?? [];
  expect(seriesPaths.length).toBe(2 * (await page.locator('[data-testid=layer-chart] .series-lines path.series').count()));
  writeFileSync(withoutLinesFile, svg.replace(/<path class="series[^"]*"[^>]*\/>/g, ''));
  const renderedWithout = path.join(outDir, 'rsvg-no-lines.png');
  execFileSync('rsvg-convert', [withoutLinesFile, '-o', renderedWithout]);
  const png = PNG.sync.read(readFileSync(rendered));
  const pngWithout = PNG.sync.read(readFileSync(renderedWithout));
  const width = Number(/<svg[^>]*\swidth="(\d+)"/.exec(svg)![1]);
  const height = Number(/<svg[^>]*\sheight="(\d+)"/.exec(svg)![1]);
  expect([png.width, png.height]).toEqual([width, height]);
  // 6 lines across ~700 px of plot, ≥ 1.25 px wide: thousands of pixels; a missing line set changes none.
  expect(differingPixels(png, pngWithout)).toBeGreaterThan(2000);

  // …and as Chromium draws the same file: the two renderings agree but for font antialiasing.
  const chromiumPage = await page.context().newPage();
  await chromiumPage.setViewportSize({ width, height });
  await chromiumPage.setContent(`<body style="margin:0"><img id="svg" src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}"></body>`);
  const inChromium = PNG.sync.read(await chromiumPage.locator('#svg').screenshot());
  const disagree = differingPixels(png, inChromium, 96);
  console.log(`rsvg vs Chromium: ${disagree} of ${width * height} pixels differ by more than 96`);
  expect(disagree / (width * height)).toBeLessThan(0.02);
  await chromiumPage.close();

  // PNG: the chart at 2× with the caption band under it (dark text pixels in the band).
  const pngFile = await grab('PNG');
  const exported = PNG.sync.read(readFileSync(pngFile));
  expect([exported.width, exported.height]).toEqual([2 * width, 2 * height]);
  const chartHeight = await page.getByTestId('layer-chart').evaluate((el) => Math.round(el.getBoundingClientRect().height));
  let dark = 0;
  for (let y = 2 * chartHeight; y < exported.height; y++) {
    for (let x = 0; x < exported.width; x++) {
      const i = 4 * (y * exported.width + x);
      if (exported.data[i] < 100 && exported.data[i + 1] < 100 && exported.data[i + 2] < 100) dark++;
    }
  }
  expect(dark).toBeGreaterThan(500);
});
