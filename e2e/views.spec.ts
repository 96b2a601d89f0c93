/**
 * The analysis views end to end on the real WebGPU backend: robustness curve (with the
 * strip sorted by the per-sample ε it found), layerwise t-SNE (streamed positions, overlap
 * per layer, warm start when ε changes), and compare mode (model B next to model A).
 */
import { expect, test } from '@playwright/test';
import { mkdirSync, readFileSync } from 'node:fs';

const ARTIFACTS = 'e2e/artifacts';
mkdirSync(ARTIFACTS, { recursive: true });

// Analyses are heavier than the slice: a software WebGPU adapter on 2 shared cores needs minutes.
test.setTimeout(480_000);

const BASE = '#model=mnist-small-st&data=mnist-test&n=8&seed=1&attack=fgsm&norm=linf&eps=0.1';

test('robustness curve: accuracy falls with ε, per-class chart, strip sorted by broken-at ε', async ({ page }) => {
  await page.goto(`/${BASE}&backend=webgpu&view=curve&ceps=0,0.05,0.1,0.2,0.3&cn=30`);
  await expect(page.getByTestId('backend-badge')).toContainText('webgpu');
  await page.getByTestId('curve-run').click();
  await expect(page.getByTestId('curve-summary')).toContainText('0.3→', { timeout: 180_000 });
  const text = (await page.getByTestId('curve-summary').textContent()) ?? '';
  const accs = [...text.matchAll(/→([\d.]+)%/g)].map((m) => Number(m[1]));
  expect(accs).toHaveLength(5);
  // FGSM on the standard model: robust accuracy at 0.3 well below clean.
  expect(accs[4]).toBeLessThan(accs[0] - 30);
  await expect(page.locator('[data-testid=curve-chart] circle')).toHaveCount(5);
  await page.getByTestId('curve-sort-strip').click();
  await expect(page.getByTestId('strip-sorted')).toBeVisible();
  await page.screenshot({ path: `${ARTIFACTS}/curve.png`, fullPage: true });
  expect(page.url()).toContain('view=curve');
});

// WASM runs the typed-array engine (typed-engine.ts); the WebGPU test below runs the tfjs-ops engine.
test('layerwise t-SNE: scatter per layer, overlap per layer, warm start on ε change', async ({ page }) => {
  await page.goto(`/${BASE}&backend=wasm&view=tsne&tn=40&titer=100&tseeds=1&layers=relu_1,relu_2`);
  await page.getByTestId('tsne-run').click();
  await expect(page.getByTestId('tsne-cell')).toHaveCount(2, { timeout: 240_000 });
  await expect(page.getByTestId('tsne-bar')).not.toContainText('Cancel', { timeout: 240_000 });
  const caption = await page.getByTestId('tsne-cell').first().textContent();
  expect(caption).toMatch(/overlap (\d+\.\d%|n\/a)/);
  expect(caption).toContain('cold start');
  // A real embedding: KL(P‖Q) is non-negative.
  const kl = Number(/KL (-?[\d.]+)/.exec(caption ?? '')?.[1]);
  expect(kl).toBeGreaterThanOrEqual(0);
  await expect(page.getByTestId('tsne-subsampled')).toContainText('40 of');
  // Chart conventions (issue #21): a class key, a titled overlap chart whose legend covers no
  // plotted point, a tooltip with the exact value on hover, and hovering a layer enlarges it.
  await expect(page.getByTestId('tsne-class-key')).toBeVisible();
  const overlap = page.getByTestId('tsne-overlap-chart');
  await expect(overlap.locator('text.chart-title')).toContainText('t-SNE overlap per layer, A mnist-small-st');
  const legendBox = (await overlap.locator('g.legend').boundingBox())!;
  const points = overlap.locator('circle.point');
  expect(await points.count()).toBeGreaterThan(0);
  for (const p of await points.all()) {
    const b = (await p.boundingBox())!;
    const overlaps = b.x < legendBox.x + legendBox.width && b.x + b.width > legendBox.x && b.y < legendBox.y + legendBox.height && b.y + b.height > legendBox.y;
    expect(overlaps).toBe(false);
  }
  await overlap.scrollIntoViewIfNeeded();
  const firstPoint = (await overlap.locator('circle.point[data-index="0"]').first().boundingBox())!;
  await page.mouse.move(firstPoint.x + firstPoint.width / 2, firstPoint.y + firstPoint.height / 2);
  await expect(overlap.getByTestId('chart-tooltip')).toBeVisible();
  await expect(overlap.getByTestId('chart-tooltip')).toContainText('relu_1');
  await expect(page.getByTestId('tsne-enlarged')).toHaveAttribute('data-layer', 'relu_1');
  await page.screenshot({ path: `${ARTIFACTS}/tsne-hover.png` });
  await page.mouse.move(0, 0);
  // Brushing a rectangle in a scatter selects those samples in every scatter (and the strip).
  const canvas = page.locator('[data-testid=tsne-cell] canvas').first();
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + 2, box.y + 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width - 2, box.y + box.height - 2, { steps: 4 });
  await page.mouse.up();
  await expect(page.getByTestId('tsne-selection')).toContainText('40 selected');
  // Moving ε re-runs as a warm start: the same canvases, new positions.
  const slider = page.getByTestId('eps-slider');
  await slider.focus();
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('tsne-summary')).toContainText('ε=0.14', { timeout: 240_000 });
  await expect(page.getByTestId('tsne-cell').first()).toContainText('warm start', { timeout: 240_000 });
  await page.screenshot({ path: `${ARTIFACTS}/tsne.png`, fullPage: true });
});

// Regression: tfjs-webgpu's dataSync reads through a canvas that returns zeros on SwiftShader,
// which collapsed every point to the origin (KL −7.9). The engine now reads back with data().
test('layerwise t-SNE on WebGPU (tfjs-ops engine): a real embedding, KL ≥ 0, points spread', async ({ page }) => {
  // auto would pick the typed engine on this software adapter; timpl=tfjs forces the GPU ops.
  await page.goto(`/${BASE}&backend=webgpu&view=tsne&tn=24&titer=60&tseeds=1&timpl=tfjs&layers=relu_2`);
  await expect(page.getByTestId('backend-badge')).toContainText('webgpu');
  await page.getByTestId('tsne-run').click();
  await expect(page.getByTestId('tsne-cell')).toHaveCount(1, { timeout: 300_000 });
  await expect(page.getByTestId('tsne-bar')).not.toContainText('Cancel', { timeout: 300_000 });
  const caption = (await page.getByTestId('tsne-cell').first().textContent()) ?? '';
  const kl = Number(/KL (-?[\d.]+)/.exec(caption)?.[1]);
  expect(kl).toBeGreaterThanOrEqual(0);
  expect(caption).toMatch(/overlap (\d+\.\d%|n\/a)/);
  expect(caption).toContain('GPU ops');
  await page.screenshot({ path: `${ARTIFACTS}/tsne-webgpu.png`, fullPage: true });
});

test('compare mode: model B loads next to A and the layer chart draws it', async ({ page }) => {
  await page.goto(`/${BASE}&vs=mnist-small-pgd-linf&eps=0.2`);
  await expect(page.getByTestId('compare-info')).toContainText('mnist-small-pgd-linf', { timeout: 120_000 });
  await expect(page.getByTestId('compare-acc')).toBeVisible({ timeout: 180_000 });
  const b = (await page.getByTestId('compare-acc').textContent()) ?? '';
  const [, robustB] = [...b.matchAll(/([\d.]+)%/g)].map((m) => Number(m[1]));
  const robustA = parseFloat((await page.getByTestId('robust-acc').textContent()) ?? '');
  // The adversarially trained twin is far more robust under FGSM at ε = 0.2.
  expect(robustB).toBeGreaterThan(robustA);
  await page.screenshot({ path: `${ARTIFACTS}/compare.png`, fullPage: true });
  // A compare model that does not exist: a clear message, model A keeps working.
  // (A hash-only change does not reload the page: leave it first.)
  await page.goto('about:blank');
  await page.goto(`/${BASE}&vs=no-such-model`);
  await expect(page.getByTestId('error')).toContainText('model B (no-such-model)', { timeout: 120_000 });
  await expect(page.locator('[data-testid=image-strip] .card')).toHaveCount(8);
});

test('logit analysis: A vs B histograms, AO@k, rank scatter with far samples, epoch ridgeline', async ({ page }) => {
  await page.goto(`/${BASE}&view=logits&vs=mnist-small-pgd-linf&ln=100&eps=0.2`);
  await expect(page.getByTestId('compare-info')).toBeVisible({ timeout: 120_000 });
  await page.getByTestId('logits-run').click();
  await expect(page.getByTestId('logits-summary')).toContainText('ranked far apart', { timeout: 240_000 });
  const text = (await page.getByTestId('logits-summary').textContent()) ?? '';
  const robust = [...text.matchAll(/robust ([\d.]+)%/g)].map((m) => Number(m[1]));
  // FGSM at 0.2: the AT model B keeps far more samples than the standard model A.
  expect(robust[1]).toBeGreaterThan(robust[0]);
  await expect(page.locator('[data-testid=logits-aok] circle')).not.toHaveCount(0);
  await expect(page.locator('[data-testid=rank-scatter] circle')).not.toHaveCount(0);
  // mnist-small-st ships epoch snapshots: one ridgeline row per epoch.
  await expect(page.locator('[data-testid=ridge-gap] path[fill-opacity]')).toHaveCount(4, { timeout: 120_000 });
  await page.screenshot({ path: `${ARTIFACTS}/logits.png`, fullPage: true });
});

test('layer dependency: probe accuracy per layer falls under attack; MI per layer', async ({ page }) => {
  await page.goto(`/${BASE}&view=dependency&dn=100&eps=0.2&layers=relu_1,relu_2,fc2`);
  await page.getByTestId('dependency-run').click();
  await expect(page.getByTestId('dependency-summary')).toContainText('last-layer probe', { timeout: 240_000 });
  await expect(page.getByTestId('dependency-bar')).not.toContainText('Cancel', { timeout: 240_000 });
  const text = (await page.getByTestId('dependency-summary').textContent()) ?? '';
  const [clean, attacked] = [...text.matchAll(/(?:clean|attacked) ([\d.]+)%/g)].map((m) => Number(m[1]));
  expect(attacked).toBeLessThan(clean);
  await expect(page.locator('[data-testid=dependency-probes] circle')).toHaveCount(6);
  await expect(page.locator('[data-testid=dependency-mi-label] circle')).not.toHaveCount(0);
  await page.screenshot({ path: `${ARTIFACTS}/dependency.png`, fullPage: true });
});

test('manifolds: MFTMA capacity per layer streams in, heat map filled', async ({ page }) => {
  await page.goto(`/${BASE}&view=manifolds&mfk=class&mfp=gaussian&mfl=0.01,0.3&mfP=3&mfM=8&layers=relu_2,fc2`);
  await page.getByTestId('mftma-run').click();
  await expect(page.getByTestId('mftma-summary')).toContainText('4 layer×ladder points for A', { timeout: 240_000 });
  await expect(page.locator('[data-testid=mftma-capacity] circle')).toHaveCount(4);
  // 2 layers × 2 σ of capacity, and the accuracy row (one cell per σ).
  await expect(page.locator('[data-testid=mftma-heatmap] td')).toHaveCount(6);
  await expect(page.getByTestId('mftma-accuracy-row')).toContainText('%');
  await page.screenshot({ path: `${ARTIFACTS}/manifolds.png`, fullPage: true });
});

test('collisions: optimal loss per layer with the log 2 ceiling, conflict graph, pair explorer, a further model on the same pairs', async ({ page }) => {
  // WASM: Algorithm 1 reads g and its Jacobian back every iteration, and on the software WebGPU
  // adapter one iteration of the CNN takes seconds; the same tfjs map code runs on every backend.
  await page.goto(`/${BASE}&backend=wasm&view=collision&cs=2&cN=1&cit=120&cms=3&ce=1,3,6&layers=fc2&cx=mnist-small-pgd-linf`);
  await expect(page.locator('[data-testid=collision-extra-picker] input[type=checkbox]:checked')).toHaveCount(1);
  await page.getByTestId('collision-run').click();
  await expect(page.getByTestId('collision-summary')).toContainText('4 pairs × 2 layers', { timeout: 300_000 });
  // The m sweep (m = 3 next to the main m = 10): one point per m and layer.
  await expect(page.locator('[data-testid=collision-sweep-chart] circle')).toHaveCount(4, { timeout: 300_000 });
  await expect(page.getByTestId('collision-summary')).toContainText('mnist-small-pgd-linf');
  // A and the extra model (the AT twin): 2 models × 2 layers × 3 ε in the overlay, a small
  // chart per layer with a line per model, a heat map and a pair-explorer row per model.
  await expect(page.locator('[data-testid=collision-logloss] circle')).toHaveCount(12);
  await expect(page.locator('[data-testid=collision-multiples] svg')).toHaveCount(2);
  await expect(page.locator('[data-testid=collision-multiple-fc2] circle')).toHaveCount(6);
  await expect(page.getByTestId('collision-heatmap')).toHaveCount(2);
  await expect(page.getByTestId('pair-row')).toHaveCount(2);
  // The graph's vertices are the samples: 2 per class → 4 cards; hovering one enlarges its vertex.
  await expect(page.locator('[data-testid=collision-vertices] .card')).toHaveCount(4);
  await page.locator('[data-testid=collision-vertices] .card').first().hover();
  await expect(page.locator('[data-testid=conflict-graph] circle[r="7"]')).toHaveCount(1);
  await expect(page.getByTestId('collision-logloss')).toContainText('log 2');
  await expect(page.getByTestId('conflict-graph')).toContainText('conflict edges');
  await expect(page.getByTestId('pair-explorer')).toContainText('fc2');
  // Real distances (a WebGPU read-back bug once returned zeros): the input-space distance is
  // ‖x − x′‖ > 0 and a collision at fc2 needs a non-zero perturbation.
  const explorer = (await page.getByTestId('pair-explorer').textContent()) ?? '';
  const dists = [...explorer.matchAll(/d = ([\d.]+)/g)].map((m) => Number(m[1]));
  expect(dists.length).toBeGreaterThanOrEqual(2);
  for (const d of dists) expect(d).toBeGreaterThan(0.05);
  await page.screenshot({ path: `${ARTIFACTS}/collisions.png`, fullPage: true });
});

// The zoo's index decides whether the CIFAR-10 twins have shipped (the AT twin trains for hours).
const shipped = new Set((JSON.parse(readFileSync('public/models/index.json', 'utf8')) as { id: string }[]).map((m) => m.id));

test('seed presets on the CIFAR-10 ResNet-20 twins: each applies its setting, loads both models and streams; cancel keeps the lab', async ({ page }) => {
  test.skip(!shipped.has('cifar-resnet20-st') || !shipped.has('cifar-resnet20-fast-linf'), 'the CIFAR-10 ResNet-20 twins are not both in the zoo yet');
  // WASM: a ResNet-20 forward pass on the software WebGPU adapter takes seconds, and the presets
  // are about the setting, not the backend (the same core jobs run everywhere).
  await page.goto('/#model=mnist-small-st&data=mnist-test&n=8&seed=0&backend=wasm&view=manifolds');
  await expect(page.getByTestId('mftma-preset-gaussian')).toContainText('CIFAR-10 ResNet-20');
  await page.getByTestId('mftma-preset-gaussian').click();
  await expect(page).toHaveURL(/model=cifar-resnet20-st/, { timeout: 120_000 });
  await expect(page).toHaveURL(/vs=cifar-resnet20-fast-linf/);
  await expect(page).toHaveURL(/data=cifar10-test/);
  await expect(page.getByTestId('compare-info')).toBeVisible({ timeout: 120_000 });
  // ResNet-20 has ~70 tappable layers: the picker says how many are tapped and filters.
  // The whole setup follows the preset (a click during boot once left A's MNIST model loaded
  // under the ResNet's name): A's input shape, a ResNet-sized layer list, CIFAR images.
  await expect(page.getByTestId('model-info')).toContainText('32×32×3', { timeout: 120_000 });
  await expect(page.getByTestId('layer-picker')).toContainText(/Layers \(12 of \d{2,}\)/);
  await expect(page.getByTestId('compare-info')).toContainText('A = cifar-resnet20-st, B = cifar-resnet20-fast-linf');
  const all = await page.locator('[data-testid=layer-picker] label').count();
  await page.getByTestId('layer-filter').fill('stage3.block3');
  await expect.poll(async () => page.locator('[data-testid=layer-picker] label').count()).toBeLessThan(all);
  await expect(page.locator('[data-testid=layer-picker] label').filter({ hasText: 'stage3.block3.conv2' })).toHaveCount(1);
  // The class-manifold σ ladder streams per layer; wait for the first real points of model A.
  await expect(page.getByTestId('mftma-cancel')).toBeVisible({ timeout: 120_000 });
  await expect.poll(async () => page.locator('[data-testid=mftma-capacity] circle').count(), { timeout: 420_000 }).toBeGreaterThan(0);
  await expect(page.getByTestId('mftma-capacity')).toContainText('stage1.block1');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await page.getByTestId('mftma-cancel').click();
  await expect(page.getByTestId('mftma-bar')).toContainText('cancelled');
  await page.screenshot({ path: `${ARTIFACTS}/preset-mftma-cifar.png`, fullPage: true });
  // The other presets on the same pair: each starts its job on the twins, then is cancelled.
  for (const [tab, preset, kind] of [
    ['manifolds', 'mftma-preset-adversarial', 'mftma'],
    ['logits', 'logits-preset', 'logits'],
    ['collision', 'collision-preset-cifar-resnet', 'collision'],
  ] as const) {
    await page.getByTestId(`tab-${tab}`).click();
    await expect(page.getByTestId(preset)).toContainText('ResNet-20');
    await page.getByTestId(preset).click();
    await expect(page.getByTestId(`${kind}-cancel`)).toBeVisible({ timeout: 120_000 });
    await expect(page.getByTestId(`${kind}-bar`)).toContainText(/model A|attack|layer|APGD|step/i, { timeout: 120_000 });
    await page.getByTestId(`${kind}-cancel`).click();
    await expect(page.getByTestId(`${kind}-bar`)).toContainText('cancelled');
  }
  await expect(page).toHaveURL(/cc=3(,|%2C)5/);
  await expect(page.getByTestId('compare-info')).toBeVisible();
});

test('collision presets on the seed models: the MNIST medium ST/PGD/TRADES trio and the CIFAR-10 medium twins load on the same pairs and stream', async ({ page }) => {
  test.skip(!['mnist-medium-st', 'mnist-medium-pgd-l2', 'mnist-medium-trades-l2'].every((id) => shipped.has(id)), 'the MNIST medium trio is not all in the zoo yet');
  await page.goto('/#model=mnist-small-st&data=mnist-test&n=8&seed=0&backend=wasm&view=collision');
  await page.getByTestId('collision-preset-mnist-trio').click();
  // A = ST, B = PGD-AT, the TRADES model as the extra model on the same pairs (the seed's Figure 5).
  await expect(page).toHaveURL(/model=mnist-medium-st/, { timeout: 120_000 });
  await expect(page).toHaveURL(/vs=mnist-medium-pgd-l2/);
  await expect(page).toHaveURL(/cx=mnist-medium-trades-l2/);
  await expect(page.getByTestId('compare-info')).toContainText('A = mnist-medium-st, B = mnist-medium-pgd-l2', { timeout: 120_000 });
  await expect(page.locator('[data-testid=collision-extra-picker] input[type=checkbox]:checked')).toHaveCount(1);
  await expect(page.getByTestId('collision-cancel')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('collision-bar')).toContainText(/model A|layer|pair/i, { timeout: 120_000 });
  await page.getByTestId('collision-cancel').click();
  await expect(page.getByTestId('collision-bar')).toContainText('cancelled');
  await expect(page.getByTestId('error')).toHaveCount(0);
  if (!shipped.has('cifar-medium-st') || !shipped.has('cifar-medium-pgd-l2')) return;
  await page.getByTestId('collision-preset-cifar-medium').click();
  await expect(page).toHaveURL(/model=cifar-medium-st/, { timeout: 120_000 });
  await expect(page.getByTestId('compare-info')).toContainText('A = cifar-medium-st, B = cifar-medium-pgd-l2', { timeout: 120_000 });
  await expect(page.getByTestId('model-info')).toContainText('32×32×3');
  await expect(page).toHaveURL(/cc=3(,|%2C)5/);
  await expect(page.getByTestId('collision-bar')).toContainText(/model A|layer|pair/i, { timeout: 120_000 });
  await page.getByTestId('collision-cancel').click();
  await expect(page.getByTestId('collision-bar')).toContainText('cancelled');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await page.screenshot({ path: `${ARTIFACTS}/preset-collision-medium.png`, fullPage: true });
});

test('CKA: layer × layer heat maps for A, B and A × B, clean vs attacked per layer, hover names the layers', async ({ page }) => {
  await page.goto(`/${BASE}&backend=wasm&view=cka&kn=40&layers=conv1,relu_1,fc1,fc2&vs=mnist-small-pgd-linf`);
  await expect(page.getByTestId('compare-info')).toBeVisible({ timeout: 120_000 });
  await page.getByTestId('cka-run').click();
  await expect(page.getByTestId('cka-summary')).toContainText('40 samples', { timeout: 240_000 });
  // 4 layers: 4 × 4 cells in each map (A, B, A × B); the diagonal of A's own map is 1.
  for (const map of ['a', 'b', 'ab']) await expect(page.locator(`[data-testid=cka-heatmap-${map}] td[title]`)).toHaveCount(16, { timeout: 240_000 });
  await expect(page.locator('[data-testid=cka-heatmap-a] td[title]').first()).toContainText('1.00');
  await page.locator('[data-testid=cka-heatmap-a] td[title]').nth(1).hover();
  await expect(page.getByTestId('cka-hover')).toContainText('conv1');
  await expect(page.locator('[data-testid=cka-lines] circle')).not.toHaveCount(0);
  // One colour scale for every CKA map, with its legend; B named by its model in the legends.
  await expect(page.getByTestId('cka-heat-legend')).toBeVisible();
  await expect(page.locator('[data-testid=cka-lines] g.legend')).toContainText('B mnist-small-pgd-linf');
  await page.getByTestId('cka-copy-cli').click();
  await expect(page.getByTestId('cka-cli-command')).toHaveText('layerwise cka --model mnist-small-st --data mnist-test --compare mnist-small-pgd-linf --seed 1 --attack fgsm --eps 0.1 --layers conv1,relu_1,fc1,fc2 --n 40');
  await page.screenshot({ path: `${ARTIFACTS}/cka.png`, fullPage: true });
});
