/**
 * Screenshots of every view in A/B compare mode at 1920×1080 and 1280×720 (issue #21), for a
 * person to look at: e2e/artifacts/screens/<view>-<size>.png (the viewport) and
 * <view>-<size>-full.png (the whole page). Each view runs with a budget small enough to finish
 * in seconds on WASM, and must show its finished result; at 1280×720 the ε slider must still
 * be on screen with the page scrolled to the bottom (the sticky lab bar).
 */
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';

const SCREENS = 'e2e/artifacts/screens';
mkdirSync(SCREENS, { recursive: true });

const COMPARE = '#model=mnist-small-st&vs=mnist-small-pgd-linf&backend=wasm&data=mnist-test&n=8&seed=1&attack=fgsm&norm=linf&eps=0.15';

/** Each tab of src/ui/App.tsx: its URL view, tiny budgets (keys from its definition's schema), its test id prefix. */
const VIEWS: { tab: string; view: string; budget: string; id: string | null }[] = [
  { tab: 'slice', view: 'slice', budget: '', id: null },
  { tab: 'curve', view: 'curve', budget: 'ceps=0,0.1,0.2&cn=16', id: 'curve' },
  { tab: 'tsne', view: 'tsne', budget: 'tn=24&titer=60&tseeds=1&layers=relu_2', id: 'tsne' },
  { tab: 'logits', view: 'logits', budget: 'ln=40', id: 'logits' },
  { tab: 'dependency', view: 'dependency', budget: 'dn=60&layers=relu_1,relu_2,fc2', id: 'dependency' },
  { tab: 'manifolds', view: 'mftma', budget: 'mfk=class&mfp=gaussian&mfl=0.01,0.3&mfP=3&mfM=8&mfr=2&layers=relu_2,fc2', id: 'mftma' },
  { tab: 'collision', view: 'collision', budget: 'cs=2&cN=1&cit=30&ce=1,3&layers=fc2', id: 'collision' },
  { tab: 'cka', view: 'cka', budget: 'kn=24&layers=conv1,relu_1,fc1,fc2', id: 'cka' },
];

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SCREENS}/${name}.png` });
  await page.screenshot({ path: `${SCREENS}/${name}-full.png`, fullPage: true });
}

// Each size loads the page at that size: a first-time user does not resize mid-way (and line
// charts size themselves when drawn).
const SIZES = [
  { width: 1920, height: 1080 },
  { width: 1280, height: 720 },
];

for (const v of VIEWS) {
  for (const size of SIZES) {
    const tag = `${v.tab}-${size.width}x${size.height}`;
    test(`screens: ${v.tab} in compare mode at ${size.width}×${size.height}`, async ({ page }) => {
      test.setTimeout(420_000);
      await page.setViewportSize(size);
      await page.goto(`/${COMPARE}&view=${v.view}${v.budget ? `&${v.budget}` : ''}`);
      await expect(page.getByTestId('compare-info')).toBeVisible({ timeout: 120_000 });
      // The slice of A and B at the URL's ε is every view's backdrop (accuracy, strip).
      await expect(page.getByTestId('shown-attack')).toContainText('FGSM', { timeout: 180_000 });
      await expect(page.getByTestId('compare-acc')).toBeVisible({ timeout: 180_000 });
      await expect(page.getByTestId(`tab-${v.tab}`)).toHaveAttribute('aria-selected', 'true');
      if (v.id) {
        // Before a run the view says what it will show.
        await expect(page.getByTestId(`${v.tab}-intro`)).toContainText(':');
        await page.getByTestId(`${v.id}-run`).click();
        await expect(page.getByTestId(`${v.id}-summary`)).toBeVisible({ timeout: 300_000 });
        await expect(page.getByTestId(`${v.id}-bar`)).not.toContainText('Cancel', { timeout: 300_000 });
        await expect(page.getByTestId(`${v.id}-error`)).toHaveCount(0);
        await expect(page.getByTestId(`${v.tab}-intro`)).toHaveCount(0);
      } else {
        await expect(page.locator('[data-testid=layer-chart] path').first()).toBeVisible();
      }
      await expect(page.getByTestId('error')).toHaveCount(0);
      await shoot(page, tag);
      if (size.width !== 1280) return;
      // Scrolled to the bottom, the ε slider and the accuracy stay in sight (sticky lab bar).
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      await expect.poll(() => page.evaluate(() => window.scrollY)).toBeGreaterThan(0);
      await expect(page.getByTestId('eps-slider')).toBeInViewport();
      await expect(page.getByTestId('robust-acc')).toBeInViewport();
      await page.screenshot({ path: `${SCREENS}/${tag}-bottom.png` });
    });
  }
}
