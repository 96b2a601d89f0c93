/**
 * PyTorch -> tfjs round trip for every zoo architecture: roundtrip.py builds seeded
 * random models (BatchNorm with random running stats), exports them with export.py
 * and writes inputs + PyTorch logits; here we load each export with the product
 * loader and check tfjs reproduces the logits. Also checks that an unsupported module
 * stops the exporter with a one-line message and exit code 2.
 *
 * Needs /usr/bin/python3 with torch (Debian: apt-get install -y python3-torch).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, readF32, requireTorch } from './torch-testing';
import { loadModelArtifacts } from '../../src/core/model/artifacts';
import { nodeModelReader } from '../../src/node/files';
import { RESNET20_BLOCK_OUTPUTS } from '../../src/ui/presets';

const ZOO = path.dirname(fileURLToPath(import.meta.url));
/** Float32 accumulation order differs between PyTorch and tfjs; logits are O(1). */
const TOLERANCE = 1e-4;
const PY_TIMEOUT_MS = 120_000;

interface Fixture {
  arch: string;
  n: number;
  inputShape: [number, number, number];
  numClasses: number;
}

let dir = '';
let fixtures: Fixture[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
  requireTorch();
  dir = mkdtempSync(path.join(tmpdir(), 'layerwise-roundtrip-'));
  execFileSync(PYTHON, [path.join(ZOO, 'roundtrip.py'), dir], { timeout: PY_TIMEOUT_MS, stdio: 'pipe' });
  fixtures = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Fixture[];
}, PY_TIMEOUT_MS + 10_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('export.py round trip', () => {
  it('covers every architecture in models.py and the extra exporter features', () => {
    const archs = fixtures.map((f) => f.arch).sort();
    expect(archs).toEqual(['cifar_medium', 'exporter_features', 'mnist_medium', 'mnist_medium_float16', 'mnist_small', 'pool_cnn', 'resnet20']);
  });

  it('tfjs logits match PyTorch for every architecture', async () => {
    const before = tf.memory().numTensors;
    for (const f of fixtures) {
      const reader = nodeModelReader(path.join(dir, f.arch, 'model.json'));
      const artifacts = await loadModelArtifacts(reader.name, reader.read, f.arch);
      const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      const x = readF32(path.join(dir, f.arch, 'inputs.bin'));
      const expected = readF32(path.join(dir, f.arch, 'logits.bin'));
      const got = tf.tidy(() => {
        const input = tf.tensor4d(x, [f.n, ...f.inputShape]);
        return (model.predict(input) as tf.Tensor).dataSync() as Float32Array;
      });
      model.dispose();
      expect(got.length, f.arch).toBe(f.n * f.numClasses);
      let maxDiff = 0;
      for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected[i]));
      expect(maxDiff, `${f.arch}: max |tfjs - torch|`).toBeLessThanOrEqual(TOLERANCE);
    }
    expect(tf.memory().numTensors).toBe(before);
  }, 90_000);

  it('float16 weights: half the shard bytes, flagged as tfjs float16 quantization', () => {
    const full = JSON.parse(readFileSync(path.join(dir, 'mnist_medium', 'model.json'), 'utf8'));
    const half = JSON.parse(readFileSync(path.join(dir, 'mnist_medium_float16', 'model.json'), 'utf8'));
    const bytes = (arch: string, mj: { weightsManifest: { paths: string[] }[] }) =>
      mj.weightsManifest[0].paths.reduce((sum, p) => sum + readFileSync(path.join(dir, arch, p)).byteLength, 0);
    expect(bytes('mnist_medium_float16', half) * 2).toBe(bytes('mnist_medium', full));
    for (const w of half.weightsManifest[0].weights) expect(w.quantization).toEqual({ dtype: 'float16', original_dtype: 'float32' });
    for (const w of full.weightsManifest[0].weights) expect(w.quantization).toBeUndefined();
  });

  it('names layers after the PyTorch module tree (the CIFAR presets tap ResNet-20 by these names)', async () => {
    const reader = nodeModelReader(path.join(dir, 'resnet20', 'model.json'));
    const artifacts = await loadModelArtifacts(reader.name, reader.read, 'resnet20');
    const topology = artifacts.modelTopology as { config?: { layers: { name: string }[] }; model_config?: { config: { layers: { name: string }[] } } };
    const names = new Set((topology.config ?? topology.model_config!.config).layers.map((l) => l.name));
    for (const layer of RESNET20_BLOCK_OUTPUTS) expect(names.has(layer), layer).toBe(true);
    expect(names.has('stage2.block1.shortcut.conv')).toBe(true);
  });

  it('refuses an unsupported module with one clear line and exit code 2', () => {
    const file = path.join(dir, 'unsupported_net.py');
    writeFileSync(
      file,
      [
        'import torch.nn as nn',
        'class Net(nn.Module):',
        '    def __init__(self):',
        '        super().__init__()',
        '        self.features = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.LSTM(8, 8))',
        '    def forward(self, x):',
        '        return self.features(x)',
        '',
      ].join('\n'),
    );
    const r = spawnSync(
      PYTHON,
      [path.join(ZOO, 'export.py'), '--module', `${file}:Net`, '--input-shape', '1,28,28', '--out', path.join(dir, 'bad')],
      { encoding: 'utf8', timeout: PY_TIMEOUT_MS },
    );
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("unsupported module 'features.3' of type LSTM");
  }, PY_TIMEOUT_MS);
});
