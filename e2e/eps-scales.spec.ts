/**
 * ε that means something (issue #21): switching to CIFAR-10 data or to another norm rescales ε
 * to the new threat model's start and says so in one line; a shared URL that states ε boots at
 * exactly that ε; the step size shows the value the attack takes. WASM: these are about the
 * setup, not the backend, and WASM is the fast one on the software adapter.
 */
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';

const ARTIFACTS = 'e2e/artifacts';
mkdirSync(ARTIFACTS, { recursive: true });

test.setTimeout(300_000);

/**
 * Let the slice's background ε ladder finish before the next switch: a switch aborts it, and on
 * a loaded 2-core machine a WASM kernel that cannot yield costs a worker respawn (minutes).
 */
async function waitIdle(page: Page): Promise<void> {
  await expect(page.locator('[data-testid=job-status][data-status=running]')).toHaveCount(0, { timeout: 180_000 });
}

const MNIST = '#model=mnist-small-st&data=mnist-test&n=4&seed=0&backend=wasm&attack=fgsm&norm=linf';
const CIFAR = '#model=cifar-medium-st&data=cifar10-test&n=4&seed=0&backend=wasm&attack=fgsm';

test('switching to a CIFAR-10 model rescales ε to 8/255 with a notice; switching the norm to L2 rescales again', async ({ page }) => {
  await page.goto(`/${MNIST}&eps=0.3`);
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM (ε=0.3)', { timeout: 120_000 });
  await expect(page.getByTestId('eps-threat')).toHaveText('MNIST L∞ threat model: ε = 0.3');
  await expect(page.getByTestId('eps-slider')).toHaveAttribute('max', '0.5');
  await expect(page.getByTestId('notice')).toHaveCount(0);
  await waitIdle(page);

  // A CIFAR-10 zoo model brings its data; ε follows the threat model and the lab says so.
  await page.locator('#param-model').selectOption('cifar-medium-st');
  await expect(page.getByTestId('notice')).toContainText('ε set to 8/255 = 0.0314 for CIFAR-10 L∞ (was 0.3)');
  await expect(page.getByTestId('eps-value')).toHaveText('0.0314');
  await expect(page.getByTestId('eps-threat')).toHaveText('CIFAR-10 L∞ threat model: ε = 8/255 = 0.0314');
  await expect(page.getByTestId('eps-slider')).toHaveAttribute('max', String(32 / 255));
  await expect(page.getByTestId('shown-attack')).toContainText(/FGSM \(ε=0\.03137/, { timeout: 120_000 });
  await expect.poll(() => page.url()).toContain('data=cifar10-test');
  await expect.poll(() => page.url()).toMatch(/eps=0\.03137/);
  const clean = Number.parseFloat((await page.getByTestId('clean-acc').textContent()) ?? '');
  const robust = Number.parseFloat((await page.getByTestId('robust-acc').textContent()) ?? '');
  // At 8/255 an image is still an image: robust accuracy is a number, not "every image is a frog".
  expect(robust).toBeLessThanOrEqual(clean);
  await waitIdle(page);

  // L∞ 8/255 is no L2 radius: the norm switch moves ε to CIFAR-10's L2 start, 0.5.
  await page.locator('#param-norm').selectOption('l2');
  await expect(page.getByTestId('notice')).toContainText('ε set to 0.5 for CIFAR-10 L2 (was 8/255 = 0.0314)');
  await expect(page.getByTestId('eps-value')).toHaveText('0.500');
  await expect(page.getByTestId('eps-slider')).toHaveAttribute('max', '2');
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM (ε=0.5)', { timeout: 120_000 });

  // PGD's step size: 0 means auto, and the value the attack takes is shown.
  await page.locator('#param-attack').selectOption('pgd');
  await expect(page.getByTestId('step-size-note')).toHaveText('α auto = 2.5·ε/steps = 2.5·0.5/10 = 0.125');
  await page.locator('#param-stepSize').fill('0.05');
  await page.locator('#param-stepSize').press('Enter');
  await expect(page.getByTestId('step-size-note')).toHaveText('α = 0.05 (auto would be 2.5·ε/steps = 2.5·0.5/10 = 0.125)');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await page.screenshot({ path: `${ARTIFACTS}/eps-cifar-l2.png` });
});

test('a shared URL that states ε boots at exactly that ε; one that does not gets the data’s threat model', async ({ page }) => {
  // ε stated: no rescaling on boot, even where it is not the threat model's start.
  await page.goto(`/${CIFAR}&eps=0.3`);
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM (ε=0.3)', { timeout: 120_000 });
  await expect(page.getByTestId('eps-value')).toHaveText('0.3000');
  await expect(page.getByTestId('notice')).toHaveCount(0);
  await expect.poll(() => page.url()).toContain('eps=0.3');

  // The schema's default ε stated on CIFAR-10 stays, and the rewritten URL still states it.
  await page.goto('about:blank');
  await page.goto(`/${CIFAR}&eps=0.1`);
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM (ε=0.1)', { timeout: 120_000 });
  await expect(page.getByTestId('notice')).toHaveCount(0);
  await page.waitForTimeout(500);
  expect(page.url()).toContain('eps=0.1');
  const stated = page.url();
  await page.goto('about:blank');
  await page.goto(stated);
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM (ε=0.1)', { timeout: 120_000 });
  await expect(page.getByTestId('eps-value')).toHaveText('0.1000');

  // No ε in the URL: the CIFAR-10 L∞ start, said once.
  await page.goto('about:blank');
  await page.goto(`/${CIFAR}`);
  await expect(page.getByTestId('notice')).toContainText('ε set to 8/255 = 0.0314 for CIFAR-10 L∞ (was 0.1)', { timeout: 120_000 });
  await expect(page.getByTestId('shown-attack')).toContainText(/FGSM \(ε=0\.03137/, { timeout: 120_000 });
});
