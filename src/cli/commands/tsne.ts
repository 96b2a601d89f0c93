/**
 * `layerwise tsne --input X.f32 --n N --d D [--perplexity 30] [--iters 750] [--seed S]
 * [--engine auto|exact|fft] [--init Y0.f32] --out Y.f32`: the lab's t-SNE on raw
 * little-endian float32 row-major files, for scripting and benchmarks.
 *
 * `layerwise overlap --model M --data D --attack A --norm linf|l2 --eps E [--layers a,b]
 * [--n N] [--seeds 3] [--init random|pca] [--steps K] [--perplexity 30] [--iters 750] [--engine auto|exact|fft]`:
 * the t-SNE overlap metric per layer (specs/tsne.md §3; Valentim, Antunes & Lourenço,
 * arXiv 2406.14073): mean ± sd over cold-start seeds, the attack-success-restricted variant
 * and the same metric in the 50-D PCA space as baseline.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { collectActivations } from '../../core/analysis/activations';
import { runAttack } from '../../core/attacks/runner';
import type { AttackName } from '../../core/attacks/types';
import type { Norm } from '../../core/attacks/common';
import { checkInputCompatibility } from '../../core/model/model';
import { layerOverlap, type LayerOverlapResult } from '../../core/tsne/layer-overlap';
import { runTsne, type TsneEngine } from '../../core/tsne/tsne';
import { LabError } from '../../core/types';
import { nameList, num, parse, print, str, UsageError } from '../args';
import { sampleData } from '../common';
import { setupBackend } from '../../node/backend';
import { prepareOutFile } from '../../node/files';
import { checkAttackable, openData, openModel } from '../../node/open';
import { predictAll } from '../../core/model/predict';

function engineArg(value: string | boolean | undefined): 'auto' | TsneEngine {
  const e = value === undefined ? 'auto' : String(value);
  if (e !== 'auto' && e !== 'exact' && e !== 'fft') throw new UsageError(`--engine must be auto, exact or fft (got "${e}")`);
  return e;
}

async function readF32(file: string, expected: number, what: string): Promise<Float32Array> {
  const bytes = await readFile(file).catch(() => {
    throw new LabError(`${file}: cannot read ${what}`);
  });
  if (bytes.byteLength !== expected * 4) throw new LabError(`${file}: ${bytes.byteLength} bytes, expected ${expected * 4} for ${what}`);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

async function cmdTsne(args: string[]) {
  const v = parse(args, {
    input: { type: 'string' }, n: { type: 'string' }, d: { type: 'string' }, perplexity: { type: 'string' },
    iters: { type: 'string' }, init: { type: 'string' }, out: { type: 'string' }, engine: { type: 'string' },
  });
  const engine = engineArg(v.engine);
  const backend = await setupBackend({ ...v, backend: v.backend === 'auto' ? 'cpu' : v.backend });
  const n = num(v.n, 'n');
  const d = num(v.d, 'd');
  const perplexity = num(v.perplexity, 'perplexity', 30);
  if (perplexity >= n) throw new UsageError(`--perplexity ${perplexity} must be less than --n ${n}`);
  const nIter = num(v.iters, 'iters', 750);
  const seed = num(v.seed, 'seed');
  const out = str(v.out, 'out');
  await prepareOutFile(out, 'out');
  const x = await readF32(str(v.input, 'input'), n * d, `${n}×${d} float32 input`);
  const init = v.init ? await readF32(String(v.init), n * 2, `${n}×2 float32 init`) : undefined;
  const t0 = performance.now();
  const result = await runTsne(x, { n, d }, { perplexity, nIter, seed, init, engine });
  const seconds = (performance.now() - t0) / 1000;
  await writeFile(out, new Uint8Array(result.positions.buffer, result.positions.byteOffset, result.positions.byteLength));
  print(v.json as boolean, { n, d, out, iterations: result.iteration, kl: result.kl, seconds, engine: result.engine, backend: backend.active }, () => `t-SNE of ${n}×${d}: ${result.iteration} iterations, KL ${result.kl.toFixed(4)}, ${seconds.toFixed(1)} s (${result.engine}, ${backend.active}) → ${out}`);
}

const ATTACKS: AttackName[] = ['gaussian', 'fgsm', 'bim', 'pgd', 'apgd-ce', 'apgd-dlr', 'apgd-t', 'aa', 'deepfool', 'fab', 'cw'];

async function cmdOverlap(args: string[]) {
  const v = parse(args, {
    model: { type: 'string' }, data: { type: 'string' }, n: { type: 'string' }, layers: { type: 'string' },
    attack: { type: 'string' }, norm: { type: 'string', default: 'linf' }, eps: { type: 'string' }, steps: { type: 'string' },
    seeds: { type: 'string' }, perplexity: { type: 'string' }, iters: { type: 'string' }, engine: { type: 'string' },
    init: { type: 'string', default: 'random' },
  });
  const init = v.init as 'pca' | 'random';
  if (init !== 'pca' && init !== 'random') throw new UsageError(`--init must be random or pca (got "${init}")`);
  const attack = str(v.attack, 'attack') as AttackName;
  if (!ATTACKS.includes(attack)) throw new UsageError(`--attack must be one of ${ATTACKS.join(', ')} (got "${attack}")`);
  const norm = v.norm as Norm;
  if (norm !== 'linf' && norm !== 'l2') throw new UsageError(`--norm must be linf or l2 (got "${norm}")`);
  const eps = num(v.eps, 'eps');
  const seeds = num(v.seeds, 'seeds', 3);
  const engine = engineArg(v.engine);
  const steps = num(v.steps, 'steps', attack === 'fgsm' || attack === 'gaussian' ? 1 : attack.startsWith('apgd') || attack === 'aa' ? 100 : attack === 'deepfool' || attack === 'fab' ? 50 : 40);
  const perplexity = num(v.perplexity, 'perplexity', 30);
  const nIter = num(v.iters, 'iters', 750);
  const backend = await setupBackend(v);
  const seed = num(v.seed, 'seed');
  const model = await openModel(str(v.model, 'model'));
  try {
    const ds = await openData(str(v.data, 'data'));
    checkInputCompatibility(model, ds);
    checkAttackable(ds);
    const { data } = sampleData(ds, v.n, seed, 500);
    if (perplexity >= data.n) throw new UsageError(`--perplexity ${perplexity} must be less than the ${data.n} samples`);
    const shape: [number, number, number] = [data.height, data.width, data.channels];
    await predictAll(model, data.images, data.labels, shape);
    const names = v.layers ? nameList(v.layers, 'layers') : model.layers.filter((l) => l.defaultTap).map((l) => l.name);
    for (const name of names) if (!model.layers.some((l) => l.name === name)) throw new LabError(`model has no layer named "${name}"`);
    const r = await runAttack(model.logits, { images: data.images, labels: data.labels, shape }, { attack, norm, eps, steps }, { seed });
    const clean = await collectActivations(model, data.images, shape, names);
    const adversarial = await collectActivations(model, r.adversarial, shape, names);
    const layers: (LayerOverlapResult & { layer: string; size: number })[] = [];
    for (let l = 0; l < names.length; l++) {
      const size = model.layers.find((x) => x.name === names[l])!.size;
      const o = await layerOverlap(
        { clean: clean[l], adversarial: adversarial[l], size, labels: data.labels, cleanPred: r.cleanPred, advPred: r.advPred },
        { seeds, seed, init, tsne: { perplexity, nIter, engine } },
      );
      layers.push({ layer: names[l], size, ...o });
    }
    const payload = {
      model: v.model, data: ds.id, n: data.n, seed, seeds, backend: backend.active, attack, norm, eps, steps,
      cleanAccuracy: r.cleanAccuracy, robustAccuracy: r.robustAccuracy, perplexity, iterations: nIter, init, layout: 'joint', layers,
    };
    const f = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
    const ms = (s: { mean: number | null; sd: number | null }) => (s.mean === null ? 'n/a' : `${f(s.mean)} ± ${s.sd === null ? 'n/a' : s.sd.toFixed(3)}`);
    print(v.json as boolean, payload, () =>
      [
        `t-SNE overlap, ${attack} ${norm} eps ${eps} on ${v.model} / ${ds.id} (n=${data.n}, ${seeds} seeds, ${backend.active}): clean ${(100 * r.cleanAccuracy).toFixed(1)}%, robust ${(100 * r.robustAccuracy).toFixed(1)}%`,
        `layer                   |S|   t-SNE overlap      success-only (|S∩succ|)   PCA-${layers[0]?.pcaDims ?? 50} overlap  engine`,
        ...layers.map((x) => `${x.layer.padEnd(22)}${String(x.count).padStart(5)}   ${ms(x.tsne).padEnd(17)}  ${`${ms(x.tsneSuccess)} (${x.successCount})`.padEnd(24)}  ${f(x.pca.value).padStart(9)}     ${x.engine}`),
      ].join('\n'),
    );
  } finally {
    model.dispose();
  }
}

export const tsneCommands: Record<string, (args: string[]) => Promise<void>> = { tsne: cmdTsne, overlap: cmdOverlap };
