import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAB_GROUPS } from '../analyses/lab';
import { duplicateUrlKeys, fromHash, toHash, defaults, type Schema } from '../schema';
import { buildArch, describeArch } from './arch';
import { kerasTopology } from './export';
import { secondRunValues, trainBSchema, trainSchema, TRAIN_PRESETS } from './definition';

const cardOf = (id: string) => JSON.parse(readFileSync(new URL(`../../../public/models/${id}/card.json`, import.meta.url), 'utf8')) as { parameterCount: number };
const trainableParams = (arch: 'small' | 'medium') => describeArch(buildArch(arch, [28, 28, 1], 10)).weights.filter((w) => w.trainable).reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);

describe('training definition', () => {
  it('has URL keys no other lab schema uses', () => {
    expect(duplicateUrlKeys({ ...(LAB_GROUPS as unknown as Record<string, Schema>), train: trainSchema })).toEqual([]);
    expect(duplicateUrlKeys(LAB_GROUPS as unknown as Record<string, Schema>)).toEqual([]);
    expect(Object.values(trainSchema).every((d) => d.url.startsWith('tr'))).toBe(true);
    expect(Object.values(trainBSchema).every((d) => d.url.startsWith('tr2'))).toBe(true);
  });

  it('gives run B run A’s recipe with B’s method, norm, ε and attack steps; presets set only schema keys', () => {
    const a = { ...defaults(trainSchema), arch: 'small', seed: 4, batch: 32, method: 'standard' } as const;
    const b = { ...defaults(trainBSchema), on: 1, method: 'trades', eps: 0.2, beta: 3 } as const;
    expect(secondRunValues(a, b)).toEqual({ ...a, method: 'trades', eps: 0.2, beta: 3 });
    for (const p of TRAIN_PRESETS) {
      expect(Object.keys(p.train).every((k) => k in trainSchema), p.id).toBe(true);
      expect(Object.keys(p.trainB).every((k) => k in trainBSchema), p.id).toBe(true);
    }
  });

  it('round-trips non-default values through the URL hash', () => {
    const values = { ...defaults(trainSchema), arch: 'resnet', method: 'trades', beta: 3, schedule: 'onecycle', seed: 7 };
    const hash = toHash({ train: trainSchema }, { train: values });
    expect(fromHash({ train: trainSchema }, hash)).toEqual({ values: { train: { arch: 'resnet', method: 'trades', beta: 3, schedule: 'onecycle', seed: 7 } }, errors: [] });
  });

  it('builds the zoo CNNs with the zoo cards’ parameter counts (tools/zoo/models.py)', () => {
    expect(trainableParams('small')).toBe(cardOf('mnist-small-st').parameterCount);
    expect(trainableParams('medium')).toBe(cardOf('mnist-medium-st').parameterCount);
  });

  it.each([
    ['small', 'mnist-small-st'],
    ['medium', 'mnist-medium-st'],
  ] as const)('exports %s with the zoo model’s layers, padding and shapes (%s)', (arch, zooId) => {
    type Layer = { class_name: string; name: string; config: Record<string, unknown>; inbound_nodes: unknown };
    const pick = (l: Layer) => ({ cls: l.class_name, name: l.name, inbound: l.inbound_nodes, ...Object.fromEntries(['filters', 'kernel_size', 'strides', 'padding', 'units', 'activation', 'use_bias'].map((k) => [k, l.config[k]])) });
    const zoo = JSON.parse(readFileSync(new URL(`../../../public/models/${zooId}/model.json`, import.meta.url), 'utf8')).modelTopology.config.layers as Layer[];
    const ours = (kerasTopology(buildArch(arch, [28, 28, 1], 10), 'x').config as { layers: Layer[] }).layers;
    expect(ours.map(pick)).toEqual(zoo.map(pick));
  });
});
