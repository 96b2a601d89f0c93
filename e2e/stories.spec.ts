/**
 * Teacher mode (issue #24) in Chromium on this machine: from the first screen, the first story's
 * first step reaches its finished chart, with the time from page load measured (the issue: under
 * a minute); then every step of a story, each with its live numbers filled in and a screenshot in
 * test-results/ to check by eye; and a teacher's link to one step in presentation mode at
 * 1280×720, with ε still draggable. `STORY=<id>` runs the step-through for one story only
 * (default: every story; each takes from seconds to minutes on WASM).
 */
import { expect, test, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { STORIES } from '../src/core/stories/stories';

const SHOTS = 'test-results';
mkdirSync(SHOTS, { recursive: true });

/** The issue's budget: from page load to the first story step's finished chart. */
const FIRST_CHART_BUDGET_MS = 60_000;
/** A step's analyses with their small budgets; MFTMA and collisions of three models take longest. */
const STEP_TIMEOUT_MS = 360_000;

/** Wait until the open step's numbers are all computed; return them by name. */
async function stepNumbers(page: Page, storyId: string, step: number, timeout = STEP_TIMEOUT_MS): Promise<Record<string, string>> {
  const panel = page.getByTestId('story-panel');
  await expect(panel).toHaveAttribute('data-story', storyId);
  await expect(panel).toHaveAttribute('data-step', String(step));
  try {
    await expect(panel).toHaveAttribute('data-ready', 'true', { timeout });
  } catch (e) {
    // What the lab showed instead, for the report.
    const state = await page.evaluate(() => ['job-status', 'shown-attack', 'accuracy', 'error', 'notice', 'story-status', 'story-text'].map((id) => `${id}: ${document.querySelector(`[data-testid=${id}]`)?.textContent}`).join(' | '));
    console.log(`stories: ${storyId} step ${step} not ready: ${state}`);
    throw e;
  }
  const numbers = await page.getByTestId('story-number').evaluateAll((els) => els.map((e) => [e.getAttribute('data-name') ?? '', e.textContent ?? '']));
  for (const [name, value] of numbers) {
    expect(value, `{${name}} is shown`).not.toBe('…');
    expect(value.length, `{${name}}`).toBeGreaterThan(0);
  }
  await expect(page.getByTestId('story-text')).not.toContainText('…');
  return Object.fromEntries(numbers);
}

test('first screen → first story: its first step’s chart finishes within a minute of page load', async ({ page }) => {
  const loadStart = Date.now();
  await page.goto('/');
  await expect(page.getByTestId('first-screen')).toBeVisible();
  await expect(page.getByTestId('way-watch')).toBeVisible();
  await expect(page.getByTestId('way-byo')).toBeVisible();
  await page.getByTestId('way-stories').click();
  await expect(page.getByTestId('story-list').locator('button')).toHaveCount(STORIES.length);
  const first = STORIES[0];
  await page.getByTestId(`story-start-${first.id}`).click();
  await expect(page.getByTestId('first-screen')).toHaveCount(0);
  await expect.poll(() => page.url()).toContain(`story=${first.id}`);
  const numbers = await stepNumbers(page, first.id, 1, 2 * FIRST_CHART_BUDGET_MS);
  await expect(page.locator('[data-testid=layer-chart] path.series').first()).toBeAttached();
  await expect(page.locator('.story-highlight').first()).toBeVisible();
  const ms = Date.now() - loadStart;
  console.log(`stories: "${first.title}" step 1 finished ${ms} ms after page load (budget ${FIRST_CHART_BUDGET_MS} ms): ${await page.getByTestId('story-text').textContent()}`);
  console.log(`stories: numbers ${JSON.stringify(numbers)}`);
  await page.screenshot({ path: `${SHOTS}/story-first-screen-to-step1.png` });
  expect(ms).toBeLessThanOrEqual(FIRST_CHART_BUDGET_MS);

  // Dismissed once, the first screen stays away; a URL with a setup never shows it.
  await page.goto('about:blank');
  await page.goto('/');
  await expect(page.getByTestId('layer-chart')).toBeAttached({ timeout: 60_000 });
  await expect(page.getByTestId('first-screen')).toHaveCount(0);
});

test('a URL with a setup never shows the first screen, even on a first visit', async ({ page }) => {
  await page.goto('/#model=mnist-small-st&n=8');
  await expect(page.locator('[data-testid=layer-chart] path.series').first()).toBeAttached({ timeout: 60_000 });
  await expect(page.getByTestId('first-screen')).toHaveCount(0);
});

const only = process.env.STORY;
for (const story of STORIES.filter((s) => !only || s.id === only)) {
  test(`story "${story.id}": every step's chart and live numbers, by Next, → and the dots`, async ({ page }) => {
    test.setTimeout(story.steps.length * STEP_TIMEOUT_MS);
    const started = Date.now();
    await page.goto(`/#story=${story.id}&step=1`);
    await expect(page.getByTestId('first-screen')).toHaveCount(0);
    const log: string[] = [];
    for (let i = 0; i < story.steps.length; i++) {
      const stepStart = Date.now();
      const numbers = await stepNumbers(page, story.id, i + 1);
      // The hash is written a moment after the change (url.ts writeHash).
      await expect.poll(() => page.url()).toContain(`story=${story.id}`);
      await expect.poll(() => page.url()).toContain(i === 0 ? `story=${story.id}` : `step=${i + 1}`);
      // The element the text points at is drawn and outlined.
      await expect(page.locator(`[data-testid="${story.steps[i].highlight.testid}"].story-highlight`).first()).toBeAttached({ timeout: 30_000 });
      await expect(page.getByTestId('story-dot').nth(i)).toHaveAttribute('aria-selected', 'true');
      await page.waitForTimeout(500); // let the last chart transition settle for the screenshot
      await page.screenshot({ path: `${SHOTS}/story-${story.id}-step${i + 1}.png` });
      log.push(`step ${i + 1} (${((Date.now() - stepStart) / 1000).toFixed(1)} s): ${(await page.getByTestId('story-text').textContent())?.trim()}`);
      void numbers;
      if (i === story.steps.length - 1) break;
      // Alternate the ways forward: the Next button and the → key.
      if (i % 2 === 0) await page.getByTestId('story-next').click();
      else {
        await page.locator('body').click({ position: { x: 5, y: 5 } });
        await page.keyboard.press('ArrowRight');
      }
    }
    await expect(page.getByTestId('story-next')).toBeDisabled();
    // ← and the dots go back; the first step's numbers are cached and show at once.
    await page.keyboard.press('ArrowLeft');
    await expect(page.getByTestId('story-panel')).toHaveAttribute('data-step', String(story.steps.length - 1));
    await page.getByTestId('story-dot').first().click();
    await stepNumbers(page, story.id, 1);
    console.log(`stories: "${story.title}" end to end in ${((Date.now() - started) / 1000).toFixed(0)} s\n  ${log.join('\n  ')}`);
  });
}

test('a teacher’s link to step 2 in presentation mode: no setup column, fits 1280×720, ε still draggable', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  const story = STORIES[0];
  await page.goto(`/#story=${story.id}&step=2&hide=setup,advanced`);
  await expect(page.getByTestId('first-screen')).toHaveCount(0);
  const before = await stepNumbers(page, story.id, 2);
  await expect(page.locator('aside.setup-column')).toBeHidden();
  await expect(page.locator('fieldset.controls').first()).toBeHidden();
  // The panel and the chart it talks about are on screen without scrolling.
  const panel = (await page.getByTestId('story-panel').boundingBox())!;
  expect(panel.x + panel.width).toBeLessThanOrEqual(1280);
  expect(panel.y + panel.height).toBeLessThanOrEqual(720);
  const chart = (await page.getByTestId('layer-chart').boundingBox())!;
  expect(chart.y + chart.height).toBeLessThanOrEqual(720);
  expect(chart.x + chart.width).toBeLessThanOrEqual(panel.x);
  await page.screenshot({ path: `${SHOTS}/story-presentation-1280x720.png` });

  // Drag ε to the right: the step's numbers follow the new ε.
  const slider = page.getByTestId('eps-slider');
  const box = (await slider.boundingBox())!;
  const max = Number(await slider.getAttribute('max'));
  const eps0 = Number(await slider.inputValue());
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + (eps0 / max) * box.width, y);
  await page.mouse.down();
  await page.mouse.move(box.x + ((eps0 * 2.5) / max) * box.width, y, { steps: 6 });
  await page.mouse.up();
  await expect.poll(async () => Number(await slider.inputValue())).toBeGreaterThan(eps0);
  const after = await stepNumbers(page, story.id, 2);
  await expect(page.getByTestId('story-number').and(page.locator('[data-name=sliceMaxShift]'))).not.toHaveText(before.sliceMaxShift, { timeout: 60_000 });
  console.log(`stories: presentation mode, ε ${eps0} → ${await slider.inputValue()}: ${JSON.stringify(before)} → ${JSON.stringify(await stepNumbers(page, story.id, 2))} (first read ${JSON.stringify(after)})`);
  await page.screenshot({ path: `${SHOTS}/story-presentation-after-drag.png` });
  // The hash keeps the story, the step and the presentation flags.
  expect(page.url()).toMatch(/story=adversarial-example/);
  expect(page.url()).toMatch(/hide=setup%2Cadvanced|hide=setup,advanced/);
});
