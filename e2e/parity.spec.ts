/**
 * The kernel-parity suite (src/core/model/kernel-parity.ts) inside Chromium: every op the
 * executor and the attacks emit, and whole models through the executor, on WebGL, WebGPU
 * (software adapter, --enable-unsafe-webgpu) and WASM against tfjs's CPU backend in the same
 * page. Runs in a worker of its own (window.layerwise.kernelParity), so the lab is untouched.
 * The Keras-style pooling CNN is a test fixture (tools/zoo/fixtures), served from disk.
 */
import { expect, test } from '@playwright/test';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ARTIFACTS = 'e2e/artifacts';
mkdirSync(ARTIFACTS, { recursive: true });

const FIXTURE_ROUTE = '/test-fixtures/cifar-pool-cnn/';
const FIXTURE_DIR = 'tools/zoo/fixtures/cifar-pool-cnn';
/** Every zoo architecture and the pooling CNN. */
const MODELS = ['models/mnist-small-st/model.json', 'models/mnist-medium-st/model.json', 'models/cifar-resnet20-st/model.json', 'models/cifar-medium-st/model.json', `${FIXTURE_ROUTE.slice(1)}model.json`];

interface Outcome { name: string; forward: number; gradient: number; tolerance: number; signMismatches: number; pass: boolean; error?: string }
interface Report { backend: string; fallbackReason: string | null; adapter?: string; ops: Outcome[]; models: Outcome[]; tensorsAfter: number }

const describe = (o: Outcome) => `${o.name}: ${o.error ?? `forward ${o.forward}, gradient ${o.gradient} > ${o.tolerance}, ${o.signMismatches} sign mismatches`}`;

for (const backend of ['webgl', 'webgpu', 'wasm'] as const) {
  test(`kernel parity on ${backend} against the CPU backend`, async ({ page }) => {
    test.setTimeout(300_000);
    await page.route(`**${FIXTURE_ROUTE}*`, (route) => {
      const file = path.join(FIXTURE_DIR, path.basename(new URL(route.request().url()).pathname));
      route.fulfill({ body: readFileSync(file), contentType: file.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
    });
    // The lab boots its own setup; a tiny one keeps the CPU free for the suite.
    await page.goto('/#model=mnist-small-st&data=mnist-test&n=4&seed=0&attack=fgsm&norm=linf&eps=0.1');
    await page.waitForFunction(() => 'layerwise' in window);
    const report = await page.evaluate(
      ([b, models]) => (window as unknown as { layerwise: { kernelParity(b: string, m: string[]): Promise<Report> } }).layerwise.kernelParity(b, models),
      [backend, MODELS] as const,
    );
    writeFileSync(`${ARTIFACTS}/parity-${backend}.json`, JSON.stringify(report, null, 1));
    expect(report.backend, report.fallbackReason ?? '').toBe(backend);
    expect(report.ops.length).toBeGreaterThan(50);
    expect(report.ops.filter((o) => !o.pass).map(describe)).toEqual([]);
    expect(report.models).toHaveLength(MODELS.length);
    expect(report.models.filter((o) => !o.pass).map(describe)).toEqual([]);
    expect(report.tensorsAfter).toBe(0);
  });
}
