/**
 * Bringing a model as ONNX, in the lab (issue #23): the ONNX twin of a zoo model
 * (tools/onnx/zoo_twin.py: its PyTorch architecture with the shipped weights, through
 * torch.onnx.export) chosen with a labels.txt shows its card and the class names, and gives
 * the tfjs copy's clean and robust accuracy on the same samples; a truncated file and a class
 * list of the wrong length are refused with one line, and the previous model stays. The same
 * twin given by URL is read by HTTP range requests (or whole, from a server without ranges).
 *
 * Needs /usr/bin/python3 with torch (Debian: apt-get install -y python3-torch).
 */
import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ZOO_ID = 'mnist-small-st';
/** WASM (deterministic and fast here), 32 samples, FGSM: the numbers both models must share. */
const HASH = `#model=${ZOO_ID}&data=mnist-test&n=32&seed=3&attack=fgsm&norm=linf&eps=0.1&backend=wasm`;
const NAMES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

let dir = '';
let onnxBytes: Buffer;

test.beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lw-onnx-e2e-'));
  const out = path.join(dir, `${ZOO_ID}.onnx`);
  execFileSync('/usr/bin/python3', [path.resolve('tools/onnx/zoo_twin.py'), ZOO_ID, out], { timeout: 120_000, stdio: 'pipe' });
  onnxBytes = readFileSync(out);
});

test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function waitIdle(page: Page) {
  await expect(async () => {
    await expect(page.getByTestId('job-status')).not.toHaveAttribute('data-status', 'running');
    await page.waitForTimeout(300);
    await expect(page.getByTestId('job-status')).not.toHaveAttribute('data-status', 'running');
  }).toPass({ timeout: 180_000 });
}

const accuracies = async (page: Page) => ({ clean: await page.getByTestId('clean-acc').textContent(), robust: await page.getByTestId('robust-acc').textContent() });

test('the ONNX twin of a zoo model: its card, the class names given with it, the same accuracies; bad files keep it', async ({ page }) => {
  await page.goto('/' + HASH);
  await expect(page.getByTestId('shown-attack')).toContainText('ε=0.1', { timeout: 120_000 });
  await waitIdle(page);
  const tfjs = await accuracies(page);
  expect(tfjs.robust).toMatch(/%$/);

  const files = page.getByTestId('model-files');
  const onnxFile = { name: `${ZOO_ID}.onnx`, mimeType: 'application/octet-stream', buffer: onnxBytes };
  await files.setInputFiles([onnxFile, { name: 'labels.txt', mimeType: 'text/plain', buffer: Buffer.from(NAMES.join('\n') + '\n') }]);
  await expect(page.getByTestId('onnx-card')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('model-info')).toContainText('onnx model · input [28×28×1] · 10 classes (names from labels.txt)');
  await waitIdle(page);
  await expect(page.getByTestId('shown-attack')).toContainText('ε=0.1');
  // The same samples, the same attack: the same numbers as the tfjs copy.
  const twin = await accuracies(page);
  console.log(`${ZOO_ID} in the lab (WASM, 32 samples, FGSM ε = 0.1): tfjs clean ${tfjs.clean} robust ${tfjs.robust}; ONNX twin clean ${twin.clean} robust ${twin.robust}`);
  expect(twin).toEqual(tfjs);
  // The strip names classes by the list ("y=seven"), not the data's digits.
  await expect(page.getByTestId('image-strip')).toContainText('y=seven');
  await page.getByTestId('onnx-card').locator('summary').first().click();
  await expect(page.getByTestId('onnx-card-normalisation')).toContainText('none found');
  await expect(page.getByTestId('onnx-card-classes')).toContainText('10 named by labels.txt: zero, one, two');
  await expect(page.getByTestId('onnx-card-parameters')).toContainText('550,406 weights in the graph');
  const modelInfo = await page.getByTestId('model-info').textContent();

  // Refusals: one line each, the ONNX model with its names stays.
  await files.setInputFiles([{ ...onnxFile, buffer: onnxBytes.subarray(0, Math.floor(onnxBytes.length * 0.6)) }]);
  await expect(page.getByTestId('error')).toContainText('not a readable ONNX file');
  await expect(page.getByTestId('model-info')).toHaveText(modelInfo!);
  await files.setInputFiles([onnxFile, { name: 'labels.txt', mimeType: 'text/plain', buffer: Buffer.from(NAMES.slice(0, 9).join('\n')) }]);
  await expect(page.getByTestId('error')).toContainText("labels.txt: 9 class names, but the model has 10 classes; give one name per class, in the order of the model's outputs");
  await expect(page.getByTestId('model-info')).toHaveText(modelInfo!);
  await expect(page.getByTestId('image-strip')).toContainText('y=seven');
});

test('an .onnx with its .data file (external data) loads when both are given; the .onnx alone is refused and the model stays', async ({ page }) => {
  // The twin rewritten per the ONNX external-data spec (tools/onnx/external_data.py): tensors of
  // 1 kB or more move to mnist-small-st.onnx.data, the .onnx keeps their locations.
  const pairDir = mkdtempSync(path.join(tmpdir(), 'lw-onnx-pair-'));
  const single = path.join(pairDir, 'single.onnx');
  writeFileSync(single, onnxBytes);
  const onnxPath = path.join(pairDir, `${ZOO_ID}.onnx`);
  const dataPath = `${onnxPath}.data`;
  execFileSync('/usr/bin/python3', [path.resolve('tools/onnx/external_data.py'), single, onnxPath, dataPath], { timeout: 60_000, stdio: 'pipe' });
  try {
    await page.goto('/' + HASH);
    await expect(page.getByTestId('shown-attack')).toContainText('ε=0.1', { timeout: 120_000 });
    await waitIdle(page);
    const tfjs = await accuracies(page);
    const tfjsInfo = await page.getByTestId('model-info').textContent();
    const files = page.getByTestId('model-files');

    // The .onnx alone: one line naming the missing file; the zoo model stays.
    await files.setInputFiles([onnxPath]);
    await expect(page.getByTestId('error')).toContainText(`${ZOO_ID}.onnx: its weights are stored in the external data file "${ZOO_ID}.onnx.data", which cannot be read (not among the chosen files); load the .onnx together with "${ZOO_ID}.onnx.data"`);
    await expect(page.getByTestId('model-info')).toHaveText(tfjsInfo!);

    // Both together: the card, and the tfjs copy's numbers on the same samples.
    await files.setInputFiles([onnxPath, dataPath]);
    await expect(page.getByTestId('onnx-card')).toBeVisible({ timeout: 120_000 });
    await expect(page.getByTestId('model-info')).toContainText('onnx model · input [28×28×1] · 10 classes');
    await waitIdle(page);
    await expect(page.getByTestId('shown-attack')).toContainText('ε=0.1');
    expect(await accuracies(page)).toEqual(tfjs);
  } finally {
    rmSync(pairDir, { recursive: true, force: true });
  }
});

test.describe('WRN-28-10 in the worker', () => {
  // Zagoruyko & Komodakis's WRN-28-10 at RobustBench's size (36.5 M parameters, a 146 MB .onnx,
  // random weights; tools/onnx/make_wrn28.py --onnx-only). Measured: the card 10 s after choosing
  // the file, the FGSM result on 2 CIFAR-10 samples 49 s after (one forward and input gradient),
  // 58 s for the test plus PyTorch's export (23 s on an idle machine).
  let wrnDir = '';
  test.beforeAll(() => {
    wrnDir = mkdtempSync(path.join(tmpdir(), 'lw-wrn28-e2e-'));
    execFileSync('/usr/bin/python3', [path.resolve('tools/onnx/make_wrn28.py'), wrnDir, '1', '--onnx-only'], { timeout: 300_000, stdio: 'pipe' });
  });
  test.afterAll(() => {
    if (wrnDir) rmSync(wrnDir, { recursive: true, force: true });
  });

  test('a WRN-28-10 .onnx picked in the lab loads within the browser budget and is attacked (WASM)', async ({ page }) => {
    test.setTimeout(600_000);
    await page.goto('/#model=cifar-resnet20-st&data=cifar10-test&n=2&seed=3&attack=fgsm&norm=linf&eps=0.0314&backend=wasm');
    await expect(page.getByTestId('shown-attack')).toContainText('ε=0.0314', { timeout: 120_000 });
    // A path, not a buffer: Playwright refuses buffers over 50 MB.
    await page.getByTestId('model-files').setInputFiles(path.join(wrnDir, 'wrn_28_10.onnx'));
    await expect(page.getByTestId('onnx-card')).toBeVisible({ timeout: 300_000 });
    await expect(page.getByTestId('model-info')).toContainText('onnx model · input [32×32×3] · 10 classes');
    await waitIdle(page);
    await expect(page.getByTestId('job-status')).toHaveAttribute('data-status', 'done');
    await expect(page.getByTestId('robust-acc')).toHaveText(/^\d+\.\d%$/);
  });
});

/**
 * A model given by URL is read in pieces by HTTP range requests (src/core/onnx/httpRange.ts)
 * where the server serves them, and fetched whole where it does not; both give the tfjs copy's
 * numbers. The route stands in for a static file server (the files are built at test time).
 */
test('an .onnx given by URL: read by range requests, never whole; a server without ranges still works', async ({ page, context }) => {
  const requests: { range: string | null; status: number; bytes: number }[] = [];
  let serveRanges = true;
  await context.route('**/range-test/*.onnx', async (route) => {
    const range = /^bytes=(\d+)-(\d+)$/.exec(route.request().headers()['range'] ?? '');
    if (!serveRanges || !range) {
      requests.push({ range: route.request().headers()['range'] ?? null, status: 200, bytes: onnxBytes.length });
      return route.fulfill({ status: 200, body: onnxBytes, contentType: 'application/octet-stream' });
    }
    const [a, b] = [Number(range[1]), Math.min(Number(range[2]), onnxBytes.length - 1)];
    requests.push({ range: range[0], status: 206, bytes: b - a + 1 });
    return route.fulfill({ status: 206, body: onnxBytes.subarray(a, b + 1), contentType: 'application/octet-stream', headers: { 'content-range': `bytes ${a}-${b}/${onnxBytes.length}` } });
  });
  await page.goto('/' + HASH);
  await expect(page.getByTestId('shown-attack')).toContainText('ε=0.1', { timeout: 120_000 });
  await waitIdle(page);
  const tfjs = await accuracies(page);

  for (const ranges of [true, false]) {
    serveRanges = ranges;
    requests.length = 0;
    await page.goto('about:blank'); // a fresh load: a hash change alone does not reload the setup
    await page.goto(`/${HASH.replace(`model=${ZOO_ID}`, `model=/range-test/${ranges ? 'a' : 'b'}.onnx`)}`);
    await expect(page.getByTestId('onnx-card')).toBeVisible({ timeout: 120_000 });
    await waitIdle(page);
    await expect(page.getByTestId('shown-attack')).toContainText('ε=0.1');
    expect(await accuracies(page)).toEqual(tfjs);
    const sent = requests.reduce((s, r) => s + r.bytes, 0);
    console.log(`by URL, server ${ranges ? 'with' : 'without'} ranges: ${requests.length} requests, ${sent} bytes sent of a ${onnxBytes.length}-byte file`);
    if (ranges) {
      expect(requests.every((r) => r.status === 206), 'every request a range').toBe(true);
      expect(sent, 'the file about once').toBeLessThan(onnxBytes.length * 1.1);
    } else {
      expect(requests.some((r) => r.status === 200 && r.range === null), 'fetched whole after the range probe').toBe(true);
    }
  }
});
