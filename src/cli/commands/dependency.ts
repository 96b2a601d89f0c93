/**
 * `layerwise dependency --model M --data D [--layers a,b] [--attack A --eps E] --json`:
 * ridge probes and mutual information per tapped layer, clean vs adversarial.
 */
import { collectActivations } from '../../core/analysis/activations';
import { runAttack } from '../../core/attacks/runner';
import type { AttackName } from '../../core/attacks/types';
import type { Norm } from '../../core/attacks/common';
import { layerDependency } from '../../core/dependency/layers';
import { checkInputCompatibility } from '../../core/model/model';
import { LabError } from '../../core/types';
import { num, parse, print, str } from '../args';
import { openData, openModel, sampleData, setupBackend } from '../common';

async function cmdDependency(args: string[]) {
  const v = parse(args, {
    model: { type: 'string' }, data: { type: 'string' }, n: { type: 'string' }, layers: { type: 'string' },
    attack: { type: 'string' }, norm: { type: 'string', default: 'linf' }, eps: { type: 'string' }, steps: { type: 'string' },
  });
  const backend = await setupBackend(v);
  const seed = num(v.seed, 'seed');
  const model = await openModel(str(v.model, 'model'));
  try {
    const ds = await openData(str(v.data, 'data'));
    checkInputCompatibility(model, ds);
    const { data } = sampleData(ds, v.n === undefined ? 500 : num(v.n, 'n'), seed);
    const shape: [number, number, number] = [data.height, data.width, data.channels];
    const names = v.layers ? String(v.layers).split(',') : model.layers.filter((l) => l.defaultTap).map((l) => l.name);
    for (const name of names) if (!model.layers.some((l) => l.name === name)) throw new LabError(`model has no layer named "${name}"`);
    const clean = await collectActivations(model, data.images, shape, names);
    let adversarial: Float32Array[] | null = null;
    let robustAccuracy: number | null = null;
    if (v.attack) {
      const r = await runAttack(model.logits, { images: data.images, labels: data.labels, shape }, { attack: v.attack as AttackName, norm: v.norm as Norm, eps: num(v.eps, 'eps'), steps: num(v.steps, 'steps', 20) }, { seed });
      robustAccuracy = r.robustAccuracy;
      adversarial = await collectActivations(model, r.adversarial, shape, names);
    }
    const sizes = names.map((name) => model.layers.find((l) => l.name === name)!.size);
    const result = layerDependency(
      names.map((name, l) => ({ name, size: sizes[l], clean: clean[l], adversarial: adversarial?.[l] })),
      data.labels,
      model.numClasses,
      seed,
    );
    const payload = { model: v.model, data: ds.id, n: data.n, seed, backend: backend.active, attack: v.attack ?? null, eps: v.eps ? Number(v.eps) : null, robustAccuracy, layers: result };
    const f = (x: number | null) => (x === null ? '  n/a' : x.toFixed(3));
    print(v.json as boolean, payload, () =>
      [
        `layer                 probe CV  held-out clean  held-out adv  I(layer;y)  I(prev;layer|y)`,
        ...result.map((r) => `${r.layer.padEnd(22)}${f(r.probeCleanAccuracy).padStart(8)}${f(r.probeHeldOutCleanAccuracy).padStart(16)}${f(r.probeHeldOutAdversarialAccuracy).padStart(14)}${f(r.labelMi).padStart(12)}${f(r.conditionalMiWithPrevious).padStart(17)}`),
      ].join('\n'),
    );
  } finally {
    model.dispose();
  }
}

export const dependencyCommands: Record<string, (args: string[]) => Promise<void>> = { dependency: cmdDependency };
