/**
 * The Train view in Chromium (issue #25): an MLP trains on the MNIST train split in the train
 * worker on the backend the lab runs (WASM here: it trains the MLP), the probe curves update
 * as it learns, pause holds the step count, one step moves it by one, a snapshot becomes model
 * B of the layer-shift view through the ordinary file path, and cancel stops the run keeping
 * the weights. The small CNN trains on WASM as well. Two runs side by side each draw their t-SNE
 * of the last hidden layer (cold, then warm-started) and its MFTMA capacity.
 */
import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const SETUP = 'model=mnist-small-st&data=mnist-test&n=8&seed=0&attack=fgsm&norm=linf&eps=0.1&backend=wasm';
/**
 * MLP, batch 64, a probe of 100 images (PGD-3 at ε = 0.3) every 20 steps, the t-SNE of its last
 * hidden layer; 20 epochs capped at 20,000 steps, so the run is still going when the test pauses
 * it (the MLP trains at ~40 steps/s on WASM here: one epoch of 937 steps can end before the checks).
 */
const TRAIN = 'view=train&trarch=mlp&trbatch=64&trpe=20&trpn=100&trps=3&trepochs=20&trmax=20000&trtsne=auto';

const probeStep = async (page: Page) => Number(/Probe at step (\d+)/.exec((await page.getByTestId('train-last-probe').textContent()) ?? '')?.[1] ?? -1);
const stepOf = async (page: Page) => Number(/step (\d+)\//.exec((await page.getByTestId('train-status').textContent()) ?? '')?.[1] ?? -1);

test('train an MLP in the lab: live probe curves, pause, one step, snapshot as model B, cancel', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto(`/#${SETUP}&${TRAIN}`);
  await expect(page.getByTestId('train-view')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('train-intro')).toContainText('in a worker of its own');
  await page.getByTestId('train-start').click();
  // The curves update at least twice while it learns.
  await expect(page.getByTestId('train-last-probe')).toContainText('Probe at step', { timeout: 120_000 });
  const first = await probeStep(page);
  await expect.poll(() => probeStep(page), { timeout: 60_000 }).toBeGreaterThanOrEqual(first + 40);
  await expect(page.getByTestId('train-accuracy-chart').locator('path').first()).toBeVisible();
  // The layer chart updates too: at least two probes' lines, named by their steps.
  await expect.poll(async () => (await page.getByTestId('train-layer-chart').textContent())?.match(/step \d+/g)?.length ?? 0, { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
  // The t-SNE of the last hidden layer moves with it: a cold start at the first probe, then layouts
  // warm-started from the last one (src/core/train/embedding.ts).
  await expect.poll(async () => Number(await page.getByTestId('train-tsne').getAttribute('data-count')), { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
  await expect(page.getByTestId('train-tsne')).toContainText('warm start from the last layout');
  const clean = Number(/clean ([\d.]+)%/.exec((await page.getByTestId('train-last-probe').textContent()) ?? '')?.[1]);
  expect(clean, 'an MLP after 40+ steps of Adam is well above chance').toBeGreaterThan(50);

  await page.getByTestId('train-pause').click();
  await expect(page.getByTestId('train-status')).toHaveAttribute('data-status', 'paused');
  await page.waitForTimeout(500);
  const held = await stepOf(page);
  await page.waitForTimeout(1000);
  expect(await stepOf(page), 'paused: no steps').toBe(held);
  await page.getByTestId('train-step').click();
  await expect.poll(() => stepOf(page), { timeout: 10_000 }).toBe(held + 1);

  await page.getByTestId('train-snapshot').click();
  await expect(page.getByTestId('train-snapshots')).toContainText(`mlp-standard-step${held + 1}`);
  await page.getByTestId(`snapshot-b-mlp-standard-step${held + 1}`).click();
  await expect(page.getByTestId('compare')).toHaveValue(`user:mlp-standard-step${held + 1}.json`, { timeout: 60_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);

  const t0 = Date.now();
  await page.getByTestId('train-cancel').click();
  await expect(page.getByTestId('train-status')).toHaveAttribute('data-status', 'cancelled', { timeout: 10_000 });
  console.log(`cancel while paused took ${Date.now() - t0} ms; snapshot at step ${held + 1}, first probe at step ${first}, clean ${clean} %`);
  await expect(page.getByTestId('train-status')).toContainText('weights learned so far are kept');

  // The snapshot is model B of the layer-shift view: its line is drawn next to A's.
  await page.getByTestId('tab-slice').click();
  await expect(page.getByTestId('layer-chart')).toContainText(`mlp-standard-step${held + 1}`, { timeout: 120_000 });
});

test('the small CNN trains on WASM too (its kernel gradients are matrix products, not the Conv2DBackpropFilter WASM lacks)', async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto(`/#${SETUP}&view=train&trarch=small&trbatch=32&trmax=4&trpe=2&trpn=50&trps=1`);
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('train-status')).toHaveAttribute('data-status', 'done', { timeout: 150_000 });
  await expect(page.getByTestId('train-status')).toContainText('done: 4 steps');
  await expect(page.getByTestId('train-last-probe')).toContainText('Probe at step 4');
  await expect(page.getByTestId('train-error')).toHaveCount(0);
});

test('the lab trains the very weights layerwise train does: same seed, same command, the same shard byte for byte', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto(`/#${SETUP}&view=train&trarch=mlp&trmethod=fgsm-rs&treps=0.1&trbatch=32&trmax=12&trpe=6&trpn=40&trps=2&trseed=5`);
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('train-status')).toHaveAttribute('data-status', 'done', { timeout: 120_000 });
  const lab = await page.evaluate(() => (window as unknown as { layerwise: { trainSnapshot(): Promise<{ sha256: string; card: string }> } }).layerwise.trainSnapshot());
  const command: string = JSON.parse(lab.card).command;
  expect(command).toContain('--backend wasm');
  expect(command).toContain('--max-steps 12');
  const dir = mkdtempSync(path.join(tmpdir(), 'lw-train-e2e-'));
  try {
    const args = command.split(' ').slice(2);
    args[args.indexOf('--out') + 1] = dir;
    execFileSync(process.execPath, ['src/cli/layerwise.mjs', 'train', ...args], { timeout: 180_000, stdio: 'pipe' });
    const cli = createHash('sha256').update(readFileSync(path.join(dir, 'group1-shard1of1.bin'))).digest('hex');
    console.log(`lab ${lab.sha256}\ncli ${cli}\n(${command})`);
    expect(cli).toBe(lab.sha256);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two runs side by side: standard and FGSM-RS MLPs on the same batches, both curves, both logit ridgelines, both t-SNE scatters', async ({ page }) => {
  test.setTimeout(90_000);
  // An MNIST epoch is 468 steps at batch 128 and still 14 at batch 4,096 (over a minute for two runs here): the
  // epoch-end snapshots are checked in Node (src/core/train/pair.test.ts), this test keeps to the side-by-side.
  await page.goto(`/#${SETUP}&view=train&trarch=mlp&trbatch=64&treps=0.1&trmax=10&trpe=5&trpn=100&trps=2&tr2=1&tr2method=fgsm-rs&tr2eps=0.1&trtsne=auto&trmftma=auto`);
  await expect(page.getByTestId('train-start')).toHaveText('Train both', { timeout: 60_000 });
  const t0 = Date.now();
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('train-status')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  console.log(`two MLP runs of 10 steps: ${Date.now() - t0} ms; ${await page.getByTestId('train-status').textContent()} | ${await page.getByTestId('train-budget').textContent()}`);
  await expect(page.getByTestId('train-last-probe')).toContainText('Probe at step 10');
  await expect(page.getByTestId('train-last-probe-b')).toContainText('Probe at step 10');
  await expect(page.getByTestId('train-last-probe-b')).toContainText('fgsm-rs');
  // Both runs in the accuracy chart, named by their recipes.
  await expect(page.getByTestId('train-accuracy-chart')).toContainText('mlp standard: clean');
  await expect(page.getByTestId('train-accuracy-chart')).toContainText('mlp fgsm-rs L∞ ε=0.1: clean');
  // One ridge per probe step for each run: the final probe's (step 10) at least; the one due at
  // step 5 waits for the live budget (src/core/train/budget.ts), which 5 MLP steps do not earn.
  for (const id of ['train-ridge-maxLogit', 'train-ridge-gap', 'train-ridge-maxLogit-b', 'train-ridge-gap-b']) await expect(page.getByTestId(id)).toContainText('step 10');
  const ridgeSteps = (await page.getByTestId('train-ridge-gap-b').textContent())?.match(/step \d+/g) ?? [];
  expect(ridgeSteps.length).toBeGreaterThanOrEqual(1);
  expect(await page.getByTestId('train-ridge-gap-b').locator('path[fill-opacity]').count()).toBe(ridgeSteps.length);
  // Each run's t-SNE of its last hidden layer, drawn at every probe that ran (the warm start over
  // several probes is checked in the first test).
  for (const id of ['train-tsne', 'train-tsne-b']) {
    await expect(page.getByTestId(id)).toHaveAttribute('data-count', String(ridgeSteps.length));
    await expect(page.getByTestId(id)).toHaveAttribute('data-step', '10');
    await expect(page.getByTestId(id)).toContainText('t-SNE of relu_1');
  }
  // And its MFTMA capacity, A and B.
  await expect(page.getByTestId('train-mftma-chart')).toContainText('Manifold capacity of relu_1');
  await expect(page.getByTestId('train-mftma-chart')).toContainText('mlp fgsm-rs L∞ ε=0.1');
  console.log(`t-SNE A: ${await page.getByTestId('train-tsne').locator('figcaption').textContent()}`);
  // The snapshot button keeps both runs' weights.
  await page.getByTestId('train-snapshot').click();
  await expect(page.getByTestId('snapshot-mlp-standard-step10')).toContainText('run A');
  await expect(page.getByTestId('snapshot-mlp-fgsm-rs-step10')).toContainText('run B');
  await expect(page.getByTestId('train-error')).toHaveCount(0);
});
