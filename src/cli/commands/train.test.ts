import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classBalancedSample, takeSamples } from '../../core/data/sampler';
import { predictAll } from '../../core/model/predict';
import { deriveSeed } from '../../core/random';
import { openData, openModel } from '../../node/open';
import { runCliInProcess } from '../testing';

const dir = mkdtempSync(path.join(tmpdir(), 'layerwise-train-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The CPU backend: WASM's leak check under vitest trips over its convolution buffers (see core/train/backends.test.ts).
const ARGS = ['train', '--backend', 'cpu', '--data', 'mnist', '--arch', 'mlp', '--method', 'pgd', '--steps', '2', '--max-steps', '4', '--batch', '32', '--probe-every', '2', '--probe-n', '40', '--probe-steps', '2', '--seed', '3', '--json'];

describe('layerwise train', () => {
  it('trains a few steps, writes model files the loader reads back and a probe log that matches them', async () => {
    const out = path.join(dir, 'a');
    const r = await runCliInProcess([...ARGS, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const log = JSON.parse(r.stdout);
    expect(log.steps).toBe(4);
    expect(log.probes.map((p: { step: number }) => p.step)).toEqual([2, 4]);
    expect(JSON.parse(readFileSync(path.join(out, 'train-log.json'), 'utf8')).probes).toEqual(log.probes);
    const card = JSON.parse(readFileSync(path.join(out, 'card.json'), 'utf8'));
    expect(card.recipe).toMatchObject({ arch: 'mlp', method: 'pgd', seed: 3, batch: 32 });
    expect(card.command).toBe(log.command);
    expect(log.command).toContain('--max-steps 4');
    expect(log.command).toContain('--backend cpu');

    // The saved model, loaded by the product loader, has the last probe's clean accuracy on the same probe images.
    const model = await openModel(out);
    try {
      const test = await openData('mnist');
      const probe = takeSamples(test, classBalancedSample(test.labels, 10, 40, deriveSeed(3, 'probe-sample')));
      const p = await predictAll(model, probe.images, probe.labels, [28, 28, 1]);
      expect(p.accuracy).toBe(log.probes[1].cleanAccuracy);
    } finally {
      model.dispose();
    }

    // Same command, same seed: the same weights, byte for byte.
    const again = path.join(dir, 'b');
    expect((await runCliInProcess([...ARGS, '--out', again])).code).toBe(0);
    expect(readFileSync(path.join(again, 'group1-shard1of1.bin')).equals(readFileSync(path.join(out, 'group1-shard1of1.bin')))).toBe(true);
  });

  it('refuses bad input with one line and exit 2', async () => {
    const bad = await runCliInProcess(['train', '--arch', 'vgg', '--out', path.join(dir, 'c')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('--arch must be one of mlp, small, medium, resnet');
    const badMethod = await runCliInProcess(['train', '--method', 'free', '--out', path.join(dir, 'c')]);
    expect(badMethod.code).toBe(2);
    expect(badMethod.stderr).toContain('--method must be one of standard, fgsm-rs, pgd, trades');
    const badBatch = await runCliInProcess(['train', '--batch', '1', '--out', path.join(dir, 'c')]);
    expect(badBatch.code).toBe(2);
    expect(badBatch.stderr).toContain('--batch must be an integer ≥ 2');
    const noOut = await runCliInProcess(['train', '--arch', 'mlp']);
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain('--out is required');
  });

  it('with --probe-tsne and --probe-mftma, logs one layer’s t-SNE layout per probe (the first cold, then warm) and its MFTMA capacity; an unknown layer is refused before training', async () => {
    const out = path.join(dir, 'tsne');
    const r = await runCliInProcess(['train', '--backend', 'cpu', '--data', 'mnist', '--arch', 'mlp', '--max-steps', '4', '--batch', '32', '--probe-every', '2', '--probe-n', '40', '--probe-steps', '1', '--probe-tsne', 'auto', '--probe-mftma', 'auto', '--seed', '3', '--json', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const log = JSON.parse(readFileSync(path.join(out, 'train-log.json'), 'utf8'));
    expect(log.tsne.layer).toBe('relu_1');
    expect(log.tsne.labels).toHaveLength(40);
    expect(log.tsne.layouts.map((t: { step: number; start: string }) => `${t.step} ${t.start}`)).toEqual(['2 cold', '4 warm']);
    for (const t of log.tsne.layouts) expect(t.positions.length === 80 && t.positions.every(Number.isFinite)).toBe(true);
    expect(log.mftma.map((m: { step: number; layer: string; p: number; m: number }) => `${m.step} ${m.layer} ${m.p}×${m.m}`)).toEqual(['2 relu_1 10×4', '4 relu_1 10×4']);
    expect(log.mftma.every((m: { capacity: number }) => m.capacity > 0)).toBe(true);

    const bad = await runCliInProcess(['train', '--backend', 'cpu', '--arch', 'mlp', '--max-steps', '2', '--batch', '32', '--probe-n', '40', '--probe-tsne', 'conv9', '--out', path.join(dir, 'bad')]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--probe-tsne: the model has no layer "conv9"');
  });
});
