import { describe, expect, it } from 'vitest';
import { attackSchema, coerce, defaults, fromHash, setupSchema, toHash, viewSchema } from './schema';

const SCHEMAS = [setupSchema, attackSchema, viewSchema];

describe('parameter schema and the URL', () => {
  it('round-trips every parameter through the hash', () => {
    const values = { ...defaults(setupSchema), ...defaults(attackSchema), n: 64, seed: 42, eps: 0.03, norm: 'l2', layers: ['conv1', 'fc1'], backend: 'wasm' };
    const hash = toHash(SCHEMAS, values);
    expect(hash).toContain('seed=42');
    const back = fromHash(SCHEMAS, '#' + hash);
    expect(back.errors).toEqual([]);
    expect(back.values).toEqual(values);
  });

  it('reports invalid values and falls back, never throws', () => {
    const { values, errors } = fromHash(SCHEMAS, 'n=abc&eps=-1&norm=l7&steps=2.5');
    expect(values.n).toBe(16);
    expect(values.eps).toBe(0);
    expect(values.norm).toBe('linf');
    expect(values.steps).toBe(10);
    expect(errors).toHaveLength(4);
    expect(values.restarts).toBeUndefined();
  });

  it('coerces numbers and lists', () => {
    const eps = attackSchema.find((d) => d.key === 'eps')!;
    expect(coerce(eps, '0.25')).toEqual({ value: 0.25 });
    expect(coerce(viewSchema[0], 'a,b,,c').value).toEqual(['a', 'b', 'c']);
  });
});
