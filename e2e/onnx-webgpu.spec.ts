/**
 * ONNX files from PyTorch on WebGPU in Chromium (issue #23; the lab's handling of .onnx files
 * is e2e/onnx.spec.ts). tools/onnx/make_fixtures.py builds seeded random models from their
 * papers' definitions and exports them with torch.onnx.export, with PyTorch's own logits and
 * input gradients; nothing is downloaded.
 *  - On the real WebGPU code path (software adapter, --enable-unsafe-webgpu) the imported CNN
 *    with the exotic operators (in-graph normalisation, grouped/depthwise/dilated convolutions,
 *    both average-pool paddings, GELU, Mish, …) gives PyTorch's logits within 1e-4 and input
 *    gradients within 1e-3 relative, as every fixture does on WASM in Node
 *    (tools/onnx/onnx-torch.test.ts). (WRN-16-4 passes too, 7.1e-7 / 6.2e-7, but takes 1.5 min
 *    on the software adapter, too long for every CI run.)
 */
import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { relErr } from './numbers';

const PYTHON = '/usr/bin/python3';
const ROUTE = '/onnx-fixtures/';
const FIXTURES = ['exotic_opset17'];
let dir = '';

test.beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'layerwise-e2e-onnx-'));
  execFileSync(PYTHON, ['tools/onnx/make_fixtures.py', dir, ...FIXTURES], { timeout: 180_000, stdio: 'pipe' });
});
test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const bytes = (name: string) => readFileSync(path.join(dir, name));
const f32 = (name: string) => { const b = bytes(name); return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4); };
const i32 = (name: string) => { const b = bytes(name); return new Int32Array(b.buffer, b.byteOffset, b.byteLength / 4); };

test('ONNX models on WebGPU give PyTorch\'s logits and input gradients', async ({ page }) => {
  test.setTimeout(300_000);
  const manifest = JSON.parse(bytes('manifest.json').toString()) as { name: string; n: number; inputShape: [number, number, number] /* H, W, C */ }[];
  await page.route(`**${ROUTE}*`, (route) => route.fulfill({ body: bytes(path.basename(new URL(route.request().url()).pathname)), contentType: 'application/octet-stream' }));
  // The lab boots its own setup; a tiny one on WASM keeps the CPU free for the check.
  await page.goto('/#model=mnist-small-st&data=mnist-test&n=4&seed=0&attack=fgsm&norm=linf&eps=0.1&backend=wasm');
  await page.waitForFunction(() => 'layerwise' in window);
  const measured: string[] = [];
  for (const name of ['exotic_opset17']) {
    const f = manifest.find((m) => m.name === name)!;
    const out = await page.evaluate(
      async ([url, images, labels, shape]) => {
        const hooks = (window as unknown as { layerwise: { logitsAndGradient(b: string, u: string, x: Float32Array, y: Int32Array, s: number[]): Promise<{ logits: Float32Array; gradient: Float32Array }> } }).layerwise;
        const r = await hooks.logitsAndGradient('webgpu', url, Float32Array.from(images), Int32Array.from(labels), [...shape]);
        return { logits: Array.from(r.logits), gradient: Array.from(r.gradient) };
      },
      [`${ROUTE}${name}.onnx`, Array.from(f32(`${name}.inputs.bin`)), Array.from(i32(`${name}.labels.bin`)), [f.n, ...f.inputShape]] as const,
    );
    const logitErr = relErr(out.logits, f32(`${name}.logits.bin`));
    const gradErr = relErr(out.gradient, f32(`${name}.grad.bin`));
    measured.push(`${name}: logits ${logitErr.toExponential(2)}, input gradient ${gradErr.toExponential(2)}`);
    expect(logitErr, `${name} logits`).toBeLessThanOrEqual(1e-4);
    expect(gradErr, `${name} input gradient`).toBeLessThanOrEqual(1e-3);
  }
  console.log(`ONNX on WebGPU against PyTorch:\n${measured.join('\n')}`);
});
