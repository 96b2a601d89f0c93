import { describe, expect, it } from 'vitest';
import { plural } from './text';

describe('plural', () => {
  it('uses the singular for exactly one', () => {
    expect(plural(1, 'model file')).toBe('1 model file');
    expect(plural(1, 'error')).toBe('1 error');
  });
  it('uses the plural for zero and many, with thousands separators', () => {
    expect(plural(0, 'error')).toBe('0 errors');
    expect(plural(2, 'model file')).toBe('2 model files');
    expect(plural(12000, 'image')).toBe('12,000 images');
  });
  it('takes an irregular plural', () => {
    expect(plural(3, 'class', 'classes')).toBe('3 classes');
    expect(plural(1, 'class', 'classes')).toBe('1 class');
  });
});
