/**
 * Runs the attack suite of issue #5 on shipped zoo models and records it in each card as
 * `attackSuite`: FGSM, PGD-40, APGD-CE and the AA-style sequence at the model's evaluation
 * ε (L∞; plus L2 for L2-trained models), on the same class-balanced test images, with the
 * spec's sanity checks (APGD-CE ≤ PGD-40 ≤ FGSM within noise; AA-style the lowest).
 *
 *   node src/cli/run-ts.mjs tools/zoo/attack-cards.ts [--n 500] [id ...]
 * (WASM backend in Node; never in CI: minutes per model.)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { runAttack } from '../../src/core/attacks/runner';
import type { AttackSpec } from '../../src/core/attacks/types';
import { openData, openModel, PUBLIC_DIR, sampleData, setupBackend } from '../../src/cli/common';

const SEED = 0;

function suiteFor(card: { dataset: string; training?: { norm?: string | null; eps?: number | null } }): AttackSpec[] {
  const mnist = card.dataset.startsWith('mnist');
  const linfEps = mnist ? 0.3 : 8 / 255;
  const l2Eps = mnist ? 2.0 : 0.5;
  const specs: AttackSpec[] = [
    { attack: 'fgsm', norm: 'linf', eps: linfEps, steps: 1 },
    { attack: 'pgd', norm: 'linf', eps: linfEps, steps: 40 },
    { attack: 'apgd-ce', norm: 'linf', eps: linfEps, steps: 100 },
    { attack: 'aa', norm: 'linf', eps: linfEps, steps: 100, targets: 9 },
  ];
  if (card.training?.norm === 'l2') {
    specs.push(
      { attack: 'fgsm', norm: 'l2', eps: l2Eps, steps: 1 },
      { attack: 'pgd', norm: 'l2', eps: l2Eps, steps: 40 },
      { attack: 'apgd-ce', norm: 'l2', eps: l2Eps, steps: 100 },
      { attack: 'aa', norm: 'l2', eps: l2Eps, steps: 100, targets: 9 },
    );
  }
  return specs;
}

/** The spec's ordering checks, with a noise allowance of 1.5 points on n samples. */
export function suiteChecks(rows: { attack: string; norm: string; robustAccuracy: number }[]): string[] {
  const problems: string[] = [];
  for (const norm of ['linf', 'l2']) {
    const acc = (a: string) => rows.find((r) => r.attack === a && r.norm === norm)?.robustAccuracy;
    const [fgsm, pgd, apgd, aa] = ['fgsm', 'pgd', 'apgd-ce', 'aa'].map(acc);
    if (fgsm === undefined) continue;
    const tol = 0.015;
    if (pgd! > fgsm + tol) problems.push(`${norm}: PGD-40 ${pgd} above FGSM ${fgsm}`);
    if (apgd! > pgd! + tol) problems.push(`${norm}: APGD-CE ${apgd} above PGD-40 ${pgd}`);
    if (aa! > Math.min(fgsm, pgd!, apgd!) + 1e-9) problems.push(`${norm}: AA-style ${aa} is not the lowest`);
  }
  return problems;
}

export async function main(args: string[]): Promise<number> {
  const nIdx = args.indexOf('--n');
  const n = nIdx >= 0 ? Number(args[nIdx + 1]) : 500;
  const ids = args.filter((a, i) => !a.startsWith('--') && (nIdx < 0 || i !== nIdx + 1));
  const backend = await setupBackend({ backend: 'auto' });
  const index = JSON.parse(readFileSync(path.join(PUBLIC_DIR, 'models/index.json'), 'utf8')) as { id: string }[];
  for (const id of ids.length ? ids : index.map((e) => e.id)) {
    const cardPath = path.join(PUBLIC_DIR, 'models', id, 'card.json');
    const card = JSON.parse(readFileSync(cardPath, 'utf8'));
    const model = await openModel(id);
    const ds = await openData(card.dataset);
    const { data } = sampleData(ds, n, SEED);
    const input = { images: data.images, labels: data.labels, shape: [data.height, data.width, data.channels] as [number, number, number] };
    const rows = [];
    for (const spec of suiteFor(card)) {
      const t0 = performance.now();
      const r = await runAttack(model.logits, input, spec, { seed: SEED, batchSize: 100 });
      const row = { attack: spec.attack, norm: spec.norm, eps: spec.eps, steps: spec.steps, restarts: 1, targets: spec.targets ?? null, n: r.n, seed: SEED, cleanAccuracy: r.cleanAccuracy, robustAccuracy: r.robustAccuracy, seconds: +((performance.now() - t0) / 1000).toFixed(1) };
      rows.push(row);
      console.log(`${id} ${spec.attack} ${spec.norm} ε=${spec.eps.toFixed(4)}: clean ${r.cleanAccuracy.toFixed(3)} robust ${r.robustAccuracy.toFixed(3)} (${row.seconds}s)`);
    }
    model.dispose();
    card.attackSuite = { backend: backend.active, tool: 'tools/zoo/attack-cards.ts (Layerwise tfjs attacks)', date: new Date().toISOString().slice(0, 10), results: rows, sanityProblems: suiteChecks(rows) };
    writeFileSync(cardPath, JSON.stringify(card, null, 2) + '\n');
    console.log(`${id}: sanity ${card.attackSuite.sanityProblems.length ? card.attackSuite.sanityProblems.join('; ') : 'ok'}; tensors ${tf.memory().numTensors}`);
  }
  return 0;
}
