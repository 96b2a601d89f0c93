import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkInputCompatibility, type LabModel } from '../core/model/model';
import { mismatchFix, parseShapeMismatch, userModelName } from './byo';
import type { DataEntry, ZooEntry } from './store';

const zoo: ZooEntry[] = JSON.parse(readFileSync('public/models/index.json', 'utf8')).models ?? JSON.parse(readFileSync('public/models/index.json', 'utf8'));
const datasets: DataEntry[] = JSON.parse(readFileSync('public/data/index.json', 'utf8')).datasets;

/** The message the worker gives for this model/data pair (the real check, not a copy of its wording). */
function mismatchMessage(model: Pick<LabModel, 'inputShape' | 'flatInput' | 'numClasses'>, data: { height: number; width: number; channels: number; id: string }): string {
  try {
    checkInputCompatibility(model as LabModel, { ...data, classNames: Array.from({ length: model.numClasses }, String) });
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a mismatch');
}

const cifarModel = { inputShape: [32, 32, 3], flatInput: false, numClasses: 10 };
const mnistData = { id: 'mnist-test', height: 28, width: 28, channels: 1 };
const cifarData = { id: 'cifar10-test', height: 32, width: 32, channels: 3 };

describe('userModelName', () => {
  it('reads the file name of a user model id and nothing else', () => {
    expect(userModelName('user:model.json')).toBe('model.json');
    expect(userModelName('user:net.onnx')).toBe('net.onnx');
    expect(userModelName('user:')).toBe('model');
    expect(userModelName('mnist-small-st')).toBeNull();
    expect(userModelName('https://h.example/user:x/model.json')).toBeNull();
    expect(userModelName('')).toBeNull();
  });
});

describe('parseShapeMismatch', () => {
  it('reads both shapes from the worker’s image-shape message', () => {
    expect(parseShapeMismatch(mismatchMessage(cifarModel, mnistData))).toEqual({ model: { shape: [32, 32, 3] }, data: [28, 28, 1] });
  });
  it('reads a flat-input model', () => {
    expect(parseShapeMismatch(mismatchMessage({ inputShape: [784], flatInput: true, numClasses: 10 }, cifarData))).toEqual({ model: { flat: 784 }, data: [32, 32, 3] });
  });
  it('is null for other errors', () => {
    expect(parseShapeMismatch('model has no layer named "x"')).toBeNull();
  });
});

describe('mismatchFix', () => {
  it('a CIFAR model picked over MNIST data: offers the CIFAR-10 test data', () => {
    const fix = mismatchFix(parseShapeMismatch(mismatchMessage(cifarModel, mnistData))!, 'model', zoo, datasets);
    expect(fix).toEqual({ kind: 'data', dataId: 'cifar10-test', label: 'Load CIFAR-10 test data?' });
  });
  it('CIFAR data picked under an MNIST model: offers the zoo’s first MNIST model', () => {
    const fix = mismatchFix(parseShapeMismatch(mismatchMessage({ inputShape: [28, 28, 1], flatInput: false, numClasses: 10 }, cifarData))!, 'data', zoo, datasets);
    expect(fix).toEqual({ kind: 'model', modelId: 'cifar-resnet20-st', dataId: 'cifar10-test', label: 'Switch to a CIFAR-10 model?' });
  });
  it('MNIST data under a CIFAR model: "an MNIST model"', () => {
    const fix = mismatchFix(parseShapeMismatch(mismatchMessage(cifarModel, mnistData))!, 'data', zoo, datasets);
    expect(fix).toEqual({ kind: 'model', modelId: 'mnist-small-st', dataId: 'mnist-test', label: 'Switch to an MNIST model?' });
  });
  it('a flat 784 model fits MNIST', () => {
    const fix = mismatchFix({ model: { flat: 784 }, data: [32, 32, 3] }, 'model', zoo, datasets);
    expect(fix?.dataId).toBe('mnist-test');
  });
  it('nothing built in fits: no button', () => {
    expect(mismatchFix({ model: { shape: [64, 64, 3] }, data: [28, 28, 1] }, 'model', zoo, datasets)).toBeNull();
    expect(mismatchFix({ model: { shape: [28, 28, 1] }, data: [64, 64, 3] }, 'data', zoo, datasets)).toBeNull();
  });
});
