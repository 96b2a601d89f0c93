/**
 * A shipped zoo model brought back as ONNX gives the numbers of its tfjs copy: zoo_twin.py
 * rebuilds mnist-small-st in PyTorch with the shipped weights and exports it with
 * torch.onnx.export; both files then run through the product's own path (the CLI's `attack`,
 * in process, WASM) on the same 300 class-balanced MNIST test images: clean accuracy and FGSM
 * robust accuracy (L∞ ε = 0.1 and the threat model's 0.3) must be equal, and so must the clean
 * predictions. The two graphs sum in different orders (the tfjs copy flattens H,W,C against
 * reordered weights, the ONNX graph returns to C,H,W first), so logits agree to float32
 * rounding, not bit for bit; the test reports how many adversarial predictions differ.
 *
 * Needs /usr/bin/python3 with torch (Debian: apt-get install -y python3-torch).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PYTHON, requireTorch } from '../zoo/torch-testing';
import { runCliInProcess } from '../../src/cli/testing';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ZOO_ID = 'mnist-small-st';
const N = '300';
const EPS = '0.1,0.3';
const PY_TIMEOUT_MS = 120_000;

let dir = '';
let twin = '';

beforeAll(() => {
  requireTorch();
  dir = mkdtempSync(path.join(tmpdir(), 'layerwise-twin-'));
  twin = path.join(dir, `${ZOO_ID}.onnx`);
  execFileSync(PYTHON, [path.join(HERE, 'zoo_twin.py'), ZOO_ID, twin, '--labels'], { timeout: PY_TIMEOUT_MS, stdio: 'pipe' });
}, PY_TIMEOUT_MS + 10_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface AttackJson {
  results: { eps: number; cleanAccuracy: number; robustAccuracy: number; samples: { index: number; cleanPred: number; advPred: number }[] }[];
}

async function attack(model: string): Promise<AttackJson> {
  const r = await runCliInProcess(['attack', '--model', model, '--data', 'mnist', '--attack', 'fgsm', '--norm', 'linf', '--eps', EPS, '--n', N, '--backend', 'wasm', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as AttackJson;
}

describe('the ONNX twin of a zoo model', () => {
  it(`${ZOO_ID}: the same clean and FGSM robust accuracy as the tfjs copy on ${N} MNIST test images`, async () => {
    const tfjs = await attack(ZOO_ID);
    const before = tf.memory().numTensors;
    const onnx = await attack(twin);
    // Loading, attacking and disposing the imported model leaves no tensors behind.
    expect(tf.memory().numTensors).toBe(before);
    const lines: string[] = [];
    tfjs.results.forEach((a, k) => {
      const b = onnx.results[k];
      expect(b.eps).toBe(a.eps);
      expect(b.samples.map((s) => s.index)).toEqual(a.samples.map((s) => s.index));
      expect(b.samples.map((s) => s.cleanPred), `clean predictions at ε = ${a.eps}`).toEqual(a.samples.map((s) => s.cleanPred));
      const advDiffer = a.samples.filter((s, i) => s.advPred !== b.samples[i].advPred).length;
      lines.push(`  ε ${a.eps}: clean ${a.cleanAccuracy} / ${b.cleanAccuracy}, FGSM robust ${a.robustAccuracy} / ${b.robustAccuracy} (tfjs / ONNX), adversarial predictions differing ${advDiffer} of ${a.samples.length}`);
      expect(b.cleanAccuracy, `clean accuracy at ε = ${a.eps}`).toBe(a.cleanAccuracy);
      expect(b.robustAccuracy, `FGSM robust accuracy at ε = ${a.eps}`).toBe(a.robustAccuracy);
    });
    console.log(`${ZOO_ID} tfjs vs ONNX twin (WASM):\n${lines.join('\n')}`);
  }, 60_000);

  it('its card: the input, no normalisation, the parameters PyTorch counts, the class names written beside it', async () => {
    const r = await runCliInProcess(['info', '--model', twin, '--labels', `${twin}.labels.txt`, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout) as { kind: string; inputShape: number[]; numClasses: number; classNames: string[]; onnx: { normalisation: unknown; parameters: number; declaredInput: unknown[] } };
    const card = JSON.parse(readFileSync(path.join(HERE, '../../public/models', ZOO_ID, 'card.json'), 'utf8')) as { parameterCount: number; classNames: string[] };
    expect(info.kind).toBe('onnx');
    expect(info.inputShape).toEqual([28, 28, 1]);
    expect(info.onnx.declaredInput).toEqual(['N', 1, 28, 28]);
    expect(info.onnx.normalisation).toBeNull();
    expect(info.numClasses).toBe(10);
    expect(info.onnx.parameters).toBe(card.parameterCount);
    expect(info.classNames).toEqual(card.classNames);
    // The text is the lab's ONNX card, row by row.
    const text = await runCliInProcess(['info', '--model', twin, '--labels', `${twin}.labels.txt`]);
    expect(text.stdout).toContain('\ninput: input [N×1×28×28]: the lab feeds 28×28×1 images (H×W×C), [0, 1] pixels\n');
    expect(text.stdout).toContain(`\nclasses: 10 named by ${twin}.labels.txt: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9\n`);
    expect(text.stdout).toContain(`\nparameters: ${card.parameterCount.toLocaleString('en')} weights in the graph\n`);
  });
});
