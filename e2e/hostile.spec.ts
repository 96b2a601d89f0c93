/**
 * A sample of the hostile-input corpus (src/cli/hostile.test.ts runs all of it through the
 * CLI) through the lab's worker in Chromium: each malformed model dropped into the lab gives
 * one specific message within a second or two, the loaded model stays, and the lab still
 * computes afterwards. Built from the zoo's small CNN; nothing copied from elsewhere.
 */
import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ZOO = 'public/models/mnist-small-st';
const BASE = JSON.parse(readFileSync(`${ZOO}/model.json`, 'utf8'));
const SHARD_NAME: string = BASE.weightsManifest[0].paths[0];
const SHARD = readFileSync(`${ZOO}/${SHARD_NAME}`);

type Layer = { name: string; class_name: string; config: Record<string, unknown>; inbound_nodes: unknown[] };
const clone = () => JSON.parse(JSON.stringify(BASE));
const layers = (j: typeof BASE): Layer[] => j.modelTopology.config.layers;

/** [name, model.json text, shard bytes, the message it must give] */
function cases(): [string, string, Buffer, RegExp][] {
  const out: [string, string, Buffer, RegExp][] = [];
  const add = (name: string, j: unknown, re: RegExp, shard = SHARD) => out.push([name, typeof j === 'string' ? j : JSON.stringify(j), shard, re]);
  const self = clone();
  layers(self)[2].inbound_nodes = [[[layers(self)[2].name, 0, 0, {}]]];
  add('a layer that takes its own output', self, /is part of a cycle/);
  const cycle = clone();
  layers(cycle)[2].inbound_nodes = [[[layers(cycle)[3].name, 0, 0, {}]]];
  add('a cycle through two layers', cycle, /is part of a cycle/);
  const ghost = clone();
  layers(ghost)[3].inbound_nodes = [[['ghost', 0, 0, {}]]];
  add('an input from a layer that does not exist', ghost, /takes input from layer "ghost", which does not exist/);
  const huge = clone();
  layers(huge)[0].config.batch_input_shape = [null, 100000, 100000, 3];
  add('a huge declared input', huge, /more than the limit/);
  const negative = clone();
  layers(negative)[0].config.batch_input_shape = [null, -28, 28, 1];
  add('a negative dimension', negative, /has -28 where a positive integer belongs/);
  const climb = clone();
  climb.weightsManifest[0].paths = ['../../etc/passwd'];
  add('a shard path that climbs out of the folder', climb, /outside|folder/);
  const dtype = clone();
  layers(dtype)[0].config.dtype = 'float128';
  add('an unknown dtype', dtype, /dtype "float128"/);
  add('a truncated model.json', JSON.stringify(BASE).slice(0, 300), /is not valid JSON/);
  add('a topology that is a string', { format: 'layers-model', modelTopology: 'hello', weightsManifest: [] }, /"modelTopology" is not an object/);
  const nan = Buffer.from(SHARD);
  new Float32Array(nan.buffer, nan.byteOffset, 4).fill(NaN);
  add('NaN weights', clone(), /non-finite|NaN/, nan);
  return out;
}

test('malformed models dropped into the lab: one specific message each, quickly; the model stays; the lab still works', async ({ page }) => {
  test.setTimeout(300_000);
  // WASM: this test is about the worker's input handling, not a backend (SwiftShader WebGPU is slow).
  await page.goto('/#model=mnist-small-st&data=mnist-test&n=8&seed=3&attack=fgsm&norm=linf&eps=0.1&backend=wasm');
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM', { timeout: 120_000 });
  const modelInfo = await page.getByTestId('model-info').textContent();
  const files = page.getByTestId('model-files');
  const timings: string[] = [];
  for (const [name, json, shard, message] of cases()) {
    const start = Date.now();
    await files.setInputFiles([
      { name: 'model.json', mimeType: 'application/json', buffer: Buffer.from(json) },
      { name: SHARD_NAME, mimeType: 'application/octet-stream', buffer: shard },
    ]);
    await expect(page.getByTestId('error'), name).toContainText(message, { timeout: 10_000 });
    timings.push(`${name}: ${Date.now() - start} ms`);
    await expect(page.getByTestId('error'), name).not.toContainText(/Cannot read properties|is not a function|is not iterable|undefined/);
    await expect(page.getByTestId('model-info'), name).toHaveText(modelInfo!);
  }
  console.log(timings.join('\n'));
  // Still usable: a new ε runs on the model that was there all along.
  await page.getByTestId('eps-slider').focus();
  for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('eps-value')).toHaveText('0.2000');
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM (ε=0.2)', { timeout: 120_000 });
});

/** A zoo model's files as a file input takes them (model.json and its shards, read from public/). */
function zooFiles(id: string): { name: string; mimeType: string; buffer: Buffer }[] {
  const json = JSON.parse(readFileSync(`public/models/${id}/model.json`, 'utf8'));
  const shards: string[] = json.weightsManifest.flatMap((g: { paths: string[] }) => g.paths);
  return [
    { name: 'model.json', mimeType: 'application/json', buffer: readFileSync(`public/models/${id}/model.json`) },
    ...shards.map((p) => ({ name: p, mimeType: 'application/octet-stream', buffer: readFileSync(`public/models/${id}/${p}`) })),
  ];
}

const MNIST = '/#model=mnist-small-st&data=mnist-test&n=8&seed=3&attack=fgsm&norm=linf&eps=0.1&backend=wasm';

test('bring your own: a CIFAR model over MNIST data offers "Load CIFAR-10 test data?", which loads both; the refused choice leaves its input', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto(MNIST);
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM', { timeout: 120_000 });
  await page.getByTestId('model-files').setInputFiles(zooFiles('cifar-medium-st'));
  await expect(page.getByTestId('error')).toContainText('model expects 32×32×3 images but dataset mnist-test has 28×28×1', { timeout: 30_000 });
  // The refused files are not left in the input (nor named beside it).
  await expect(page.getByTestId('model-files-chosen')).toHaveText('none chosen');
  expect(await page.getByTestId('model-files').evaluate((el: HTMLInputElement) => el.files?.length)).toBe(0);
  await expect(page.getByTestId('model-info')).toContainText('input [28×28×1]');
  await page.screenshot({ path: 'e2e/artifacts/screens/byo-mismatch-fix.png' });
  await page.getByTestId('error-fix').click();
  await expect(page.getByTestId('error-fix')).toHaveCount(0);
  await expect(page.getByTestId('model-info')).toContainText('input [32×32×3]', { timeout: 60_000 });
  await expect(page.locator('#param-data')).toHaveValue('cifar10-test');
  await expect(page.locator('#param-model')).toHaveValue('user:model.json');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(page.locator('[data-testid=image-strip] .card')).toHaveCount(8, { timeout: 60_000 });
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM', { timeout: 120_000 });
});

test('bring your own: CIFAR data under an MNIST model offers "Switch to a CIFAR-10 model?", which does', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto(MNIST);
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM', { timeout: 120_000 });
  await page.locator('#param-data').selectOption('cifar10-test');
  await expect(page.getByTestId('error')).toContainText('but dataset cifar10-test has 32×32×3', { timeout: 30_000 });
  // Refused: the working setup stays, and so does the data picker's value.
  await expect(page.locator('#param-data')).toHaveValue('mnist-test');
  await expect(page.getByTestId('error-fix')).toHaveText('Switch to a CIFAR-10 model?');
  await page.getByTestId('error-fix').click();
  await expect(page.getByTestId('model-info')).toContainText('input [32×32×3]', { timeout: 60_000 });
  await expect(page.locator('#param-data')).toHaveValue('cifar10-test');
  await expect(page.locator('#param-model')).toHaveValue('cifar-resnet20-st');
  await expect(page.getByTestId('error')).toHaveCount(0);
});

test('bring your own, compare mode: an error about B says so, and goes when compare is turned off', async ({ page }) => {
  test.setTimeout(300_000);
  // conv3 exists in the medium CNN (loaded below as A from files), not in the small B.
  await page.goto(`${MNIST}&vs=mnist-small-pgd-linf&layers=conv3`);
  await expect(page.getByTestId('compare-info')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM', { timeout: 120_000 });
  await page.getByTestId('model-files').setInputFiles(zooFiles('mnist-medium-st'));
  await expect(page.getByTestId('error')).toContainText('model B (mnist-small-pgd-linf) has no layer named "conv3"', { timeout: 120_000 });
  await expect(page.getByTestId('model-files-chosen')).toContainText('model.json + 2 more files');
  await page.getByTestId('compare').selectOption('');
  await expect(page.getByTestId('compare-info')).toHaveCount(0, { timeout: 60_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
});

/**
 * A real model host on another origin (https on a free port, self-signed certificate made here
 * with openssl): /cors/… answers without Access-Control-Allow-Origin, /open/… allows every
 * origin (and has no such file: 404). The lab's CSP lets fetches reach other https origins.
 */
async function startModelHost(): Promise<{ origin: string; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'layerwise-host-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  const json = readFileSync(`${ZOO}/model.json`);
  const server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    if (req.url?.startsWith('/cors/')) res.writeHead(200, { 'content-type': 'application/json' }).end(json);
    else res.writeHead(404, { 'access-control-allow-origin': '*' }).end('no such file');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `https://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test.describe('bring your own: model URLs', () => {
  test.use({ ignoreHTTPSErrors: true });
  test('a model URL that fails says CORS, HTTP 404 or network', async ({ page }) => {
    test.setTimeout(300_000);
    page.on('dialog', (d) => void d.accept());
    const host = await startModelHost();
    // A port that was just free and is closed again: nothing answers there.
    const closed = await startModelHost();
    await closed.close();
    try {
      await page.goto(MNIST);
      await expect(page.getByTestId('shown-attack')).toContainText('FGSM', { timeout: 120_000 });
      const modelInfo = await page.getByTestId('model-info').textContent();
      const cases: [string, RegExp][] = [
        [`${host.origin}/cors/model.json`, /blocked by CORS.*Access-Control-Allow-Origin/],
        [`${host.origin}/open/model.json`, /HTTP 404 \(not found/],
        [`${closed.origin}/m/model.json`, /network error: the server could not be reached/],
      ];
      for (const [url, message] of cases) {
        await page.getByTestId('model-url').fill(url);
        await page.getByTestId('model-url').press('Enter');
        await expect(page.getByTestId('error'), url).toContainText(message, { timeout: 30_000 });
        await expect(page.getByTestId('error'), url).not.toContainText('Failed to fetch');
        await expect(page.getByTestId('model-info'), url).toHaveText(modelInfo!);
      }
    } finally {
      await host.close();
    }
  });
});

test('bring your own: a link naming your own model opens the setup and asks for its files, keeping every other value', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/#model=user:model.json&data=mnist-test&n=8&seed=3&attack=fgsm&norm=linf&eps=0.2&backend=wasm');
  await expect(page.getByTestId('files-needed')).toContainText('Load your model files again: model.json', { timeout: 120_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(page.getByTestId('eps-value')).toHaveText('0.2000');
  await page.screenshot({ path: 'e2e/artifacts/screens/byo-files-needed.png' });
  await page.getByTestId('files-needed-input').setInputFiles(zooFiles('mnist-small-st'));
  await expect(page.getByTestId('files-needed')).toHaveCount(0, { timeout: 60_000 });
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM (ε=0.2)', { timeout: 120_000 });
  await expect(page.locator('[data-testid=image-strip] .card')).toHaveCount(8);
  await expect.poll(() => decodeURIComponent(page.url())).toContain('model=user:model.json');
  expect(page.url()).toContain('eps=0.2');
  expect(page.url()).toContain('seed=3');

  // The same for model B (vs=user:…): A loads, B's files are asked for.
  await page.goto('about:blank');
  await page.goto(`${MNIST}&vs=user:b.json`);
  await expect(page.getByTestId('files-needed')).toContainText('model B', { timeout: 120_000 });
  await expect(page.getByTestId('files-needed')).toContainText('b.json');
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM', { timeout: 120_000 });
  await page.getByTestId('files-needed-input').setInputFiles(zooFiles('mnist-small-pgd-linf'));
  await expect(page.getByTestId('compare-info')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('files-needed')).toHaveCount(0);
});
