/**
 * Without --enable-unsafe-webgpu this machine's Chromium has navigator.gpu but no adapter:
 * WebGPU asked for explicitly must fall back to WebGL, say why, and still run the slice; and
 * 'auto' must measure what is there and say why it picked what it did.
 */
import { expect, test } from '@playwright/test';

test('falls back to WebGL and says why', async ({ page }) => {
  await page.goto('/#model=mnist-small-st&data=mnist-test&n=8&seed=3&attack=fgsm&norm=linf&eps=0.1&backend=webgpu');
  const badge = page.getByTestId('backend-badge');
  await expect(badge).toContainText('webgl');
  await expect(badge).toContainText(/fell back: webgpu: (no WebGPU adapter|navigator.gpu missing)/);
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM', { timeout: 120_000 });
  await page.screenshot({ path: 'e2e/artifacts/fallback-webgl.png', fullPage: true });
});

test("'auto' without a WebGPU adapter measures the rest and says why", async ({ page }) => {
  await page.goto('/#model=mnist-small-st&data=mnist-test&n=8&seed=3&attack=fgsm&norm=linf&eps=0.1');
  const badge = page.getByTestId('backend-badge');
  await expect(badge).toContainText(/webgpu unavailable: (no WebGPU adapter|navigator.gpu missing)/);
  await expect(badge).toContainText(/fastest here|the only backend that ran the probe|as fast as/);
  await expect(badge).not.toContainText('fell back');
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM', { timeout: 120_000 });
  console.log(`no WebGPU flag, auto: ${await badge.textContent()}`);
});
