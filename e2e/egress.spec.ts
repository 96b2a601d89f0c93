/**
 * The lab makes no request the user did not ask for: a default session (page, worker, WebGPU,
 * then the WASM backend, which needs 'wasm-unsafe-eval') loads everything from its own origin
 * under the built page's Content-Security-Policy without a violation, and a shared link whose
 * model lives on another site asks first and, declined, fetches nothing from it.
 */
import { expect, test, type Page } from '@playwright/test';

/** Every request the page and its workers make, and every CSP violation they report. */
function watch(page: Page) {
  const requests: string[] = [];
  const violations: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
  });
  return { requests, violations };
}

const foreign = (urls: string[], origin: string) => urls.filter((u) => !u.startsWith(origin + '/') && !u.startsWith('data:') && !u.startsWith('blob:'));

test('a default session stays on its own origin under the CSP, on WebGPU and on WASM', async ({ page, baseURL }) => {
  const origin = new URL(baseURL!).origin;
  const { requests, violations } = watch(page);
  // WebGPU asked for explicitly ('auto' measures and skips this machine's software adapter).
  await page.goto('/#backend=webgpu');
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(csp).toContain("connect-src 'self' https:");
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
  await expect(page.getByTestId('shown-attack')).not.toBeEmpty({ timeout: 120_000 });
  await expect(page.getByTestId('backend-badge')).toContainText('webgpu');

  await page.goto('/#model=mnist-small-st&data=mnist-test&n=8&seed=3&attack=fgsm&norm=linf&eps=0.1&backend=wasm');
  await page.reload();
  await expect(page.getByTestId('backend-badge')).toContainText('wasm', { timeout: 60_000 });
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM', { timeout: 120_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);

  expect(requests.length).toBeGreaterThan(5);
  expect(foreign(requests, origin)).toEqual([]);
  expect(violations).toEqual([]);
});

test('a model on another site is not fetched unless the user confirms', async ({ page, baseURL }) => {
  const origin = new URL(baseURL!).origin;
  const { requests } = watch(page);
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto('/#model=https://models.example.invalid/m/model.json&data=mnist-test&n=8');
  await expect(page.getByTestId('error')).toContainText('not loaded: a model on another site loads only after you confirm', { timeout: 60_000 });
  expect(dialogs).toHaveLength(1);
  expect(dialogs[0]).toContain('https://models.example.invalid/m/model.json');
  expect(foreign(requests, origin)).toEqual([]);
});

test('a model on another site loads once the user confirms, its shards from that site and folder only', async ({ page, baseURL }) => {
  const origin = new URL(baseURL!).origin;
  const { requests, violations } = watch(page);
  // The other site, served from the zoo's files: page.route answers before the network.
  await page.route('https://models.example.test/**', async (route) => {
    const res = await page.request.fetch(`${origin}/models/mnist-small-st/${new URL(route.request().url()).pathname.split('/').pop()}`);
    await route.fulfill({ response: res, headers: { ...res.headers(), 'access-control-allow-origin': '*' } });
  });
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.accept();
  });
  await page.goto('/#model=https://models.example.test/zoo/model.json&data=mnist-test&n=8&seed=3&attack=fgsm&norm=linf&eps=0.1');
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM', { timeout: 120_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
  expect(dialogs).toHaveLength(1);
  const other = foreign(requests, origin);
  expect(other.length).toBeGreaterThanOrEqual(2); // model.json and its shard
  for (const u of other) expect(u.startsWith('https://models.example.test/zoo/'), u).toBe(true);
  expect(violations).toEqual([]);
});
