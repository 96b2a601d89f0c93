import { describe, expect, it } from 'vitest';
import { modelNamesOf, shortModelName } from './modelNames';

describe('model names in legends', () => {
  it('names A and B by their model, never by the letter alone', () => {
    expect(modelNamesOf('mnist-small-st', 'mnist-small-pgd-linf')).toEqual({ a: 'A mnist-small-st', b: 'B mnist-small-pgd-linf' });
    expect(modelNamesOf('mnist-small-st', '')).toEqual({ a: 'A mnist-small-st', b: null });
  });

  it('names user files by the file and URLs by their folder or last part', () => {
    expect(shortModelName('user:my-net')).toBe('my-net');
    expect(shortModelName('https://example.org/models/resnet/model.json')).toBe('resnet');
    expect(shortModelName('https://example.org/nets/small.onnx?x=1')).toBe('small.onnx');
  });
});
