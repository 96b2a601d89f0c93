import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAB_GROUPS, labDefaults, labHash, parseLabHash, patchParams } from '../core/analyses/lab';
import { coerce, type Schema } from '../core/schema';
import { availablePreset, availablePresets, COLLISION_PRESETS, LOGITS_PRESETS, MFTMA_PRESETS, type Preset } from './presets';

const zoo = JSON.parse(readFileSync(new URL('../../public/models/index.json', import.meta.url), 'utf8')) as { id: string; dataset: string }[];
const groups = LAB_GROUPS as unknown as Record<string, Schema>;
const everyPreset: Preset[] = [...MFTMA_PRESETS.gaussian, ...MFTMA_PRESETS.adversarial, ...LOGITS_PRESETS, ...COLLISION_PRESETS.mnist, ...COLLISION_PRESETS.cifar];

describe('seed presets', () => {
  it.each(everyPreset.map((p) => [p.label, p] as const))('%s: every value is a valid parameter and survives the URL', (_label, preset) => {
    for (const [group, values] of Object.entries(preset.params)) {
      for (const [key, value] of Object.entries(values ?? {})) {
        const def = groups[group]?.[key];
        expect(def, `unknown parameter ${group}.${key}`).toBeDefined();
        expect(coerce(def!, value).error).toBeUndefined();
      }
    }
    const applied = patchParams(labDefaults(), preset.params);
    const { params, errors } = parseLabHash(labHash(applied));
    expect(errors).toEqual([]);
    expect(params).toEqual(applied);
  });

  it.each(everyPreset.map((p) => [p.label, p] as const))('%s: needs exactly its model pair, on the dataset those models were trained on', (_label, preset) => {
    expect(preset.needs).toEqual([preset.params.setup?.model, preset.params.lab?.compare, ...(preset.params.collision?.extra ?? [])]);
    for (const id of preset.needs) {
      const entry = zoo.find((z) => z.id === id);
      if (entry) expect(entry.dataset).toBe(preset.params.setup?.data);
    }
  });

  it('named layers exist in every shipped model the preset needs', () => {
    for (const preset of everyPreset) {
      const layers = preset.params.view?.layers ?? [];
      for (const id of preset.needs) {
        if (!layers.length || !zoo.some((z) => z.id === id)) continue;
        const topology = JSON.parse(readFileSync(new URL(`../../public/models/${id}/model.json`, import.meta.url), 'utf8')).modelTopology;
        const names = new Set((topology.config ?? topology.model_config.config).layers.map((l: { name: string }) => l.name));
        for (const layer of layers) expect(names.has(layer), `${id}: ${layer}`).toBe(true);
      }
    }
  });

  it('the first shipped variant of each seed setting wins; the MNIST ones are always available', () => {
    const ids = new Set(zoo.map((z) => z.id));
    for (const group of [MFTMA_PRESETS.gaussian, MFTMA_PRESETS.adversarial, LOGITS_PRESETS, COLLISION_PRESETS.mnist, COLLISION_PRESETS.cifar]) {
      expect(availablePreset(group, ids)).toBe(group.find((p) => p.needs.every((id) => ids.has(id))) ?? null);
    }
    // Every group but CIFAR-10 collisions falls back to the MNIST small pair, which ships.
    for (const group of [MFTMA_PRESETS.gaussian, MFTMA_PRESETS.adversarial, LOGITS_PRESETS, COLLISION_PRESETS.mnist]) expect(availablePreset(group, ids)).not.toBeNull();
    expect(availablePreset(COLLISION_PRESETS.cifar, new Set(['cifar-resnet20-st', 'cifar-resnet20-fast-linf']))).toBe(COLLISION_PRESETS.cifar[1]);
    expect(availablePreset(LOGITS_PRESETS, new Set(['mnist-small-st']))).toBeNull();
    // The collision view lists every shipped variant, each under its own key.
    const resnetOnly = new Set(['cifar-resnet20-st', 'cifar-resnet20-fast-linf']);
    expect(availablePresets(COLLISION_PRESETS.cifar, resnetOnly).map((p) => p.key)).toEqual(['cifar-resnet']);
    expect(availablePresets(COLLISION_PRESETS.cifar, new Set([...resnetOnly, 'cifar-medium-st', 'cifar-medium-pgd-l2'])).map((p) => p.key)).toEqual(['cifar-medium', 'cifar-resnet']);
    const keys = [...COLLISION_PRESETS.mnist, ...COLLISION_PRESETS.cifar].map((p) => p.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(availablePreset(LOGITS_PRESETS, new Set(['cifar-resnet20-st', 'cifar-resnet20-fast-linf', 'mnist-small-st', 'mnist-small-pgd-linf']))).toBe(LOGITS_PRESETS[0]);
  });
});
