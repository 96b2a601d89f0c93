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
import type { AttackResult } from '../../src/core/attacks/types';
import { gradientMaskingWarnings } from '../../src/core/attacks/sanity';
import type { AttackSpec } from '../../src/core/attacks/types';
import { openData, openModel, PUBLIC_DIR, sampleData, setupBackend } from '../../src/cli/common';

const SEED = 0;

/** Fractions of the evaluation ε at which PGD-40 is also run, for the accuracy-vs-ε check. */
const LADDER = [0.25, 0.5, 0.75];

function suiteFor(card: { dataset: string; training?: { norm?: string | null } }): AttackSpec[] {
  const mnist = card.dataset.startsWith('mnist');
  const specs: AttackSpec[] = [];
  // A standard model under both threat models (it is the twin every AT model is compared
  // with); an adversarially trained one under its training norm (the AA-style run on its
  // many robust points is the costly part: minutes to an hour per model on 2 CPU cores).
  const trainedNorm = card.training?.norm ?? null;
  const norms = ([['linf', mnist ? 0.3 : 8 / 255], ['l2', mnist ? 2.0 : 0.5]] as const).filter(([norm]) => trainedNorm === null || norm === trainedNorm);
  for (const [norm, eps] of norms) {
    specs.push(
      { attack: 'fgsm', norm, eps, steps: 1 },
      { attack: 'pgd', norm, eps, steps: 40 },
      { attack: 'apgd-ce', norm, eps, steps: 100 },
      { attack: 'aa', norm, eps, steps: 100, targets: 9 },
      ...LADDER.map((f) => ({ attack: 'pgd' as const, norm, eps: f * eps, steps: 40 })),
    );
  }
  return specs;
}

/**
 * The spec's ordering checks, with a noise allowance of 1.5 points: APGD-CE ≤ PGD-40 ≤ FGSM,
 * the AA-style number the lowest, and PGD-40 accuracy non-increasing along the ε ladder.
 */
export function suiteChecks(rows: { attack: string; norm: string; eps: number; robustAccuracy: number }[]): string[] {
  const problems: string[] = [];
  const tol = 0.015;
  for (const norm of ['linf', 'l2']) {
    const atEval = rows.filter((r) => r.norm === norm);
    if (!atEval.length) continue;
    const evalEps = Math.max(...atEval.map((r) => r.eps));
    const acc = (a: string) => atEval.find((r) => r.attack === a && r.eps === evalEps)?.robustAccuracy;
    const [fgsm, pgd, apgd, aa] = ['fgsm', 'pgd', 'apgd-ce', 'aa'].map(acc);
    if (fgsm === undefined || pgd === undefined || apgd === undefined || aa === undefined) continue;
    if (pgd > fgsm + tol) problems.push(`${norm}: PGD-40 ${pgd} above FGSM ${fgsm}`);
    if (apgd > pgd + tol) problems.push(`${norm}: APGD-CE ${apgd} above PGD-40 ${pgd}`);
    if (aa > Math.min(fgsm, pgd, apgd) + 1e-9) problems.push(`${norm}: AA-style ${aa} is not the lowest`);
    const curve = atEval.filter((r) => r.attack === 'pgd').sort((a, b) => a.eps - b.eps);
    for (let i = 1; i < curve.length; i++) {
      if (curve[i].robustAccuracy > curve[i - 1].robustAccuracy + tol) {
        problems.push(`${norm}: PGD-40 accuracy rises with ε (${curve[i - 1].robustAccuracy} at ${curve[i - 1].eps.toFixed(4)}, ${curve[i].robustAccuracy} at ${curve[i].eps.toFixed(4)})`);
      }
    }
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
    const results: AttackResult[] = [];
    for (const spec of suiteFor(card)) {
      const t0 = performance.now();
      const r = await runAttack(model.logits, input, spec, { seed: SEED, batchSize: 100 });
      const row = { attack: spec.attack, norm: spec.norm, eps: spec.eps, steps: spec.steps, restarts: 1, targets: spec.targets ?? null, n: r.n, seed: SEED, cleanAccuracy: r.cleanAccuracy, robustAccuracy: r.robustAccuracy };
      // Seconds go to the log only: wall time on a shared 2-core machine is not a property of the model.
      const seconds = +((performance.now() - t0) / 1000).toFixed(1);
      rows.push(row);
      results.push(r);
      console.log(`${id} ${spec.attack} ${spec.norm} ε=${spec.eps.toFixed(4)}: clean ${r.cleanAccuracy.toFixed(3)} robust ${r.robustAccuracy.toFixed(3)} (${seconds}s)`);
    }
    model.dispose();
    card.attackSuite = { backend: backend.active, tool: 'tools/zoo/attack-cards.ts (Layerwise tfjs attacks)', date: new Date().toISOString().slice(0, 10), results: rows, sanityProblems: suiteChecks(rows), warnings: gradientMaskingWarnings(results).map((w) => w.message) };
    writeFileSync(cardPath, JSON.stringify(card, null, 2) + '\n');
    console.log(`${id}: sanity ${card.attackSuite.sanityProblems.length ? card.attackSuite.sanityProblems.join('; ') : 'ok'}; tensors ${tf.memory().numTensors}`);
  }
  return 0;
}
