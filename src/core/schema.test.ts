import { describe, expect, it } from 'vitest';
import { attackSchema, coerce, defaults, duplicateUrlKeys, fromHash, param, setupSchema, stableKey, toHash, viewSchema, type Values } from './schema';

const GROUPS = { setup: setupSchema, attack: attackSchema, view: viewSchema };

describe('parameter schema and the URL', () => {
  it('round-trips every parameter through the hash', () => {
    const values = { setup: { ...defaults(setupSchema), n: 64, seed: 42, backend: 'wasm' }, attack: { ...defaults(attackSchema), eps: 0.03, norm: 'l2' }, view: { layers: ['conv1', 'fc1'] } };
    const hash = toHash(GROUPS, values);
    expect(hash).toBe('n=64&seed=42&backend=wasm&norm=l2&eps=0.03&layers=conv1%2Cfc1');
    const back = fromHash(GROUPS, '#' + hash);
    expect(back.errors).toEqual([]);
    expect({ ...defaults(setupSchema), ...back.values.setup }).toEqual(values.setup);
    expect({ ...defaults(attackSchema), ...back.values.attack }).toEqual(values.attack);
    expect(back.values.view).toEqual(values.view);
  });

  it('writes only values that differ from their defaults, and always the seed', () => {
    expect(toHash(GROUPS, { setup: defaults(setupSchema), attack: defaults(attackSchema), view: defaults(viewSchema) })).toBe('seed=0');
  });

  it('opens old URLs that wrote every value', () => {
    const { values, errors } = fromHash(GROUPS, 'model=mnist-small-st&data=mnist-test&n=16&seed=0&backend=auto&attack=pgd&norm=linf&eps=0.1&steps=10&alpha=0&restarts=1&targets=9&tgt=-1&draws=10&layers=');
    expect(errors).toEqual([]);
    expect(values.attack.eps).toBe(0.1);
    expect(values.view.layers).toEqual([]);
  });

  it('reports invalid values and falls back, never throws', () => {
    const { values, errors } = fromHash(GROUPS, 'n=abc&eps=-1&norm=l7&steps=2.5');
    expect(values.setup.n).toBe(16);
    expect(values.attack.eps).toBe(0);
    expect(values.attack.norm).toBe('linf');
    expect(values.attack.steps).toBe(10);
    expect(errors).toHaveLength(4);
    expect(values.attack.restarts).toBeUndefined();
  });

  it('coerces numbers, name lists and number lists', () => {
    expect(coerce(attackSchema.eps, '0.25')).toEqual({ value: 0.25 });
    expect(coerce(viewSchema.layers, 'a,b,,c').value).toEqual(['a', 'b', 'c']);
    const ladder = param.numbers({ url: 'l', label: 'ladder', default: [1], min: 0 });
    expect(coerce(ladder, '0.5, 1,2')).toEqual({ value: [0.5, 1, 2] });
    expect(coerce(ladder, '0.5,x').error).toMatch(/"x" is not a number/);
    expect(coerce(ladder, '-1').error).toMatch(/below 0/);
    expect(coerce(attackSchema.steps, '').error).toMatch(/not a number/);
  });

  it('types values from the schema', () => {
    const v: Values<typeof attackSchema> = defaults(attackSchema);
    const norm: 'linf' | 'l2' = v.norm;
    expect(norm).toBe('linf');
  });

  it('finds URL keys used twice', () => {
    expect(duplicateUrlKeys(GROUPS)).toEqual([]);
    expect(duplicateUrlKeys({ a: { x: param.int({ url: 'k', label: 'x', default: 0 }) }, b: { y: param.int({ url: 'k', label: 'y', default: 0 }) } })).toEqual(['k']);
  });

  it('makes stable keys whatever the object key order', () => {
    expect(stableKey({ b: 1, a: { d: [1, 2], c: 'x' } })).toBe(stableKey({ a: { c: 'x', d: [1, 2] }, b: 1 }));
  });
});
