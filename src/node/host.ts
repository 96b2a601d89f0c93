/**
 * The Node host of the analyses: the same `AnalysisContext` the lab's worker builds, from
 * files instead of fetches (zoo models from public/models, snapshots from its index).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AnalysisContext, AnalysisResources, ZooModelEntry } from '../core/analyses/context';
import { AttackCache } from '../core/attacks/shared';
import { loadPlainLayerTap } from '../core/collision/maps';
import type { LabModel } from '../core/model/model';
import { isOnnxName } from '../core/onnx/import';
import type { ImageDataset } from '../core/types';
import { nodeModelReader } from './files';
import { openModel, resolveModelPath } from './open';
import { PUBLIC_DIR } from './paths';

export function nodeResources(ids: { a: string; b: string | null }): AnalysisResources & { dispose(): void } {
  const sessions = new Map<string, { dispose(): void }>();
  const attacks = new AttackCache();
  return {
    attacks,
    openModel: (id) => openModel(id),
    async zoo() {
      const text = await readFile(path.join(PUBLIC_DIR, 'models', 'index.json'), 'utf8').catch(() => '[]');
      return JSON.parse(text) as ZooModelEntry[];
    },
    async plainTap(which) {
      const id = which === 'a' ? ids.a : which === 'b' ? ids.b : which;
      if (!id) return null;
      const file = resolveModelPath(id);
      if (isOnnxName(file)) return null;
      const reader = nodeModelReader(file);
      return loadPlainLayerTap(reader.name, reader.read, file);
    },
    session(name, make) {
      let s = sessions.get(name);
      if (!s) sessions.set(name, (s = make()));
      return s as ReturnType<typeof make>;
    },
    dispose() {
      for (const s of sessions.values()) s.dispose();
      sessions.clear();
      attacks.clear();
    },
  };
}

export function nodeContext(models: { a: LabModel; b: LabModel | null }, ids: { a: string; b: string | null }, dataset: ImageDataset, seed: number, backend: string, resources: AnalysisResources): AnalysisContext {
  return { models, modelIds: ids, dataset, seed, backend, resources };
}
