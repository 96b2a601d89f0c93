/**
 * The Train view on data the user loads (issue #25), in Chromium on WASM: a CIFAR-10 binary
 * batch made in the test from the lab's real CIFAR-10 images (public/data/cifar10-test.*) is
 * dropped on the view as training data (a file picked first that is no batch is refused, naming
 * it, and the data stays MNIST); an MLP trains two epochs on it with the probe set held out as
 * `layerwise train --data` holds it out, the two automatic epoch snapshots appear, epoch 1
 * becomes model B of the lab (its accuracy shown), and a reload asks for the files again. (The
 * split equals the CLI's: src/cli/commands/train-data.test.ts.)
 */
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';

const SETUP = 'model=cifar-medium-st&data=cifar10-test&n=8&seed=0&attack=fgsm&norm=linf&eps=0.03&backend=wasm';
/** MLP, batch 150 on 400 images less 100 held out: 2 steps per epoch, 2 epochs, a probe (PGD-1) at each epoch end. */
const TRAIN = 'view=train&trarch=mlp&trbatch=150&trepochs=2&trpe=2&trpn=100&trps=1&treps=0.03';
const IMAGES = 400;

/** The first IMAGES of the lab's CIFAR-10 subset (NHWC bytes, then labels) as a CIFAR-10 binary batch: a label byte, then R, G, B planes. */
function cifarBatch(): Buffer {
  const index = JSON.parse(readFileSync('public/data/cifar10-test.json', 'utf8')) as { n: number };
  const bin = readFileSync('public/data/cifar10-test.bin');
  const plane = 32 * 32;
  const out = Buffer.alloc(IMAGES * (1 + 3 * plane));
  for (let i = 0, o = 0; i < IMAGES; i++) {
    out[o++] = bin[index.n * 3 * plane + i];
    for (let c = 0; c < 3; c++) for (let p = 0; p < plane; p++) out[o++] = bin[(i * plane + p) * 3 + c];
  }
  return out;
}

test('train on a CIFAR-10 batch dropped on the view: two epoch snapshots, epoch 1 as model B, a reload asks for the files', async ({ page }) => {
  test.setTimeout(120_000);
  const batch = cifarBatch();
  await page.goto(`/#${SETUP}&${TRAIN}`);
  await expect(page.getByTestId('clean-acc')).toBeVisible({ timeout: 60_000 });
  const t0 = Date.now();
  await page.getByTestId('train-data-user').check();
  await expect(page.getByTestId('train-start')).toBeDisabled();

  // A file that is no CIFAR batch: one line naming it, and the data stays MNIST.
  await page.getByTestId('train-data-files').setInputFiles({ name: 'data_batch_9.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(100) });
  await expect(page.getByTestId('train-data-error')).toContainText('data_batch_9.bin: size 100 bytes is not a multiple of 3073');
  await expect(page.getByTestId('train-data-error')).toContainText('stays MNIST train');
  expect(page.url()).not.toContain('trdata');

  // The good batch dropped on the view's drop zone: the view takes it, not the lab's data loader.
  const dataTransfer = await page.evaluateHandle((b64) => {
    const dt = new DataTransfer();
    dt.items.add(new File([Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0))], 'data_batch_1.bin'));
    return dt;
  }, batch.toString('base64'));
  await page.dispatchEvent('[data-testid=train-data-drop]', 'dragover', { dataTransfer });
  await page.dispatchEvent('[data-testid=train-data-drop]', 'drop', { dataTransfer });
  await expect(page.getByTestId('train-data-status')).toContainText(`${IMAGES} images 32×32×3, 10 classes; 100 held out as the probe set`);
  await expect(page.getByTestId('train-data-error')).toHaveCount(0);
  await expect(page.locator('#param-data')).toHaveValue('cifar10-test');
  await expect.poll(() => page.url()).toContain('trdata=user%3Adata_batch_1.bin');
  await expect(page.getByTestId('train-copy-cli')).toHaveAttribute('title', /--data data_batch_1\.bin /);

  const loaded = Date.now() - t0;
  await page.getByTestId('train-start').click();
  await expect(page.getByTestId('train-status')).toHaveAttribute('data-status', 'done', { timeout: 60_000 });
  await expect(page.getByTestId('train-status')).toContainText('done: 4 steps');
  const trained = Date.now() - t0;
  // One automatic snapshot at each epoch end, named by the epoch.
  await expect(page.getByTestId('snapshot-mlp-standard-epoch1')).toContainText('step 2, end of epoch 1');
  await expect(page.getByTestId('snapshot-mlp-standard-epoch2')).toContainText('step 4, end of epoch 2');
  await expect(page.getByTestId('train-error')).toHaveCount(0);

  // Epoch 1 as model B: it loads next to the zoo's CIFAR model, its accuracy shown.
  await page.getByTestId('snapshot-b-mlp-standard-epoch1').click();
  await expect(page.getByTestId('compare')).toHaveValue('user:mlp-standard-epoch1.json', { timeout: 60_000 });
  await expect(page.getByTestId('compare-acc')).toContainText(/\d+\.\d% \/ \d+\.\d%/, { timeout: 60_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
  const asB = Date.now() - t0 - trained;
  console.log(`${await page.getByTestId('train-status').textContent()}`);
  console.log(`data loaded in ${loaded} ms, trained by ${trained} ms, epoch 1 as B in ${asB} ms; model B: ${await page.getByTestId('compare-acc').textContent()}; ${await page.getByTestId('train-copy-cli').getAttribute('title')}`);
  const r0 = Date.now();

  // A link names the data but cannot carry it: after a reload the view asks for the files.
  await page.reload();
  await expect(page.getByTestId('train-data-status')).toContainText('load the training data again: data_batch_1.bin', { timeout: 60_000 });
  await expect(page.getByTestId('train-start')).toBeDisabled();
  console.log(`reload asked for the files after ${Date.now() - r0} ms`);
});
