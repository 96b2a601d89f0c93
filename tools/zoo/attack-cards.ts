/**
 * Runs the attack suite of issue #5 on shipped zoo models and records it in each card as
 * `attackSuite`: FGSM, PGD-40, APGD-CE and the AA-style sequence at the model's evaluation
 * ε (L∞; plus L2 for L2-trained models), on the same class-balanced test images, with the
 * spec's sanity checks (APGD-CE ≤ PGD-40 ≤ FGSM within noise; AA-style the lowest).
 *
 *   node src/cli/run-ts.mjs tools/zoo/attack-cards.ts [--n 500] [--norms linf,l2] [id ...]
 * --norms restricts a standard model's threat models (e.g. a CIFAR-10 ResNet twin of an L∞ model).
 * (WASM backend in Node; never in CI: minutes per model.)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { runAttack } from '../../src/core/attacks/runner';
import type { AttackResult } from '../../src/core/attacks/types';
import { gradientMaskingWarnings } from '../../src/core/attacks/sanity';
import type { AttackSpec } from '../../src/core/attacks/types';
import { setupBackend } from '../../src/node/backend';
import { openData, openModel, sampleDataset } from '../../src/node/open';
import { PUBLIC_DIR } from '../../src/node/paths';

const SEED = 0;

/** Fractions of the evaluation ε at which PGD-40 is also run, for the accuracy-vs-ε check. */
const LADDER = [0.25, 0.5, 0.75];

function suiteFor(card: { dataset: string; training?: { norm?: string | null } }, only: string[] | null): AttackSpec[] {
  const mnist = card.dataset.startsWith('mnist');
  const specs: AttackSpec[] = [];
  // A standard model under both threat models (it is the twin every AT model is compared
  // with); an adversarially trained one under its training norm (the AA-style run on its
  // many robust points is the costly part: minutes to an hour per model on 2 CPU cores).
  const trainedNorm = card.training?.norm ?? null;
  // --norms narrows a standard model's threat models only; an AT model keeps its training norm.
  const norms = ([['linf', mnist ? 0.3 : 8 / 255], ['l2', mnist ? 2.0 : 0.5]] as const).filter(([norm]) => (trainedNorm === null ? !only || only.includes(norm) : norm === trainedNorm));
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

/** Noise allowance of the ordering checks: 1.5 points on n = 500 (one standard error ≈ 2 points at 50 %). */
const NOISE = 0.015;

/**
 * The spec's ordering checks on one model's suite. FGSM not below the iterative attacks,
 * accuracy not rising with ε and AA-style the lowest are the lab's own gradient-masking checks
 * (src/core/attacks/sanity.ts), here with the noise allowance; APGD-CE ≤ PGD-40, which the lab
 * does not check on its own, is added.
 */
export function suiteChecks(results: AttackResult[]): string[] {
  const problems = gradientMaskingWarnings(results, { tolerance: NOISE, zeroGradientFraction: 1 }).map((w) => w.message);
  for (const apgd of results.filter((r) => r.spec.attack === 'apgd-ce')) {
    const pgd = results.find((r) => r.spec.attack === 'pgd' && r.spec.norm === apgd.spec.norm && r.spec.eps === apgd.spec.eps);
    if (pgd && apgd.robustAccuracy > pgd.robustAccuracy + NOISE) problems.push(`${apgd.spec.norm}: APGD-CE ${apgd.robustAccuracy} above PGD-40 ${pgd.robustAccuracy}`);
  }
  return problems;
}

export async function main(args: string[]): Promise<number> {
  const nIdx = args.indexOf('--n');
  const n = nIdx >= 0 ? Number(args[nIdx + 1]) : 500;
  const normsIdx = args.indexOf('--norms');
  const only = normsIdx >= 0 ? (args[normsIdx + 1] ?? '').split(',') : null;
  if (only && (only.length === 0 || only.some((x) => x !== 'linf' && x !== 'l2'))) throw new Error(`--norms takes linf, l2 or linf,l2 (got "${args[normsIdx + 1] ?? ''}")`);
  const ids = args.filter((a, i) => !a.startsWith('--') && (nIdx < 0 || i !== nIdx + 1) && (normsIdx < 0 || i !== normsIdx + 1));
  const backend = await setupBackend({ backend: 'auto' });
  const index = JSON.parse(readFileSync(path.join(PUBLIC_DIR, 'models/index.json'), 'utf8')) as { id: string }[];
  for (const id of ids.length ? ids : index.map((e) => e.id)) {
    const cardPath = path.join(PUBLIC_DIR, 'models', id, 'card.json');
    const card = JSON.parse(readFileSync(cardPath, 'utf8'));
    const model = await openModel(id);
    const ds = await openData(card.dataset);
    const { data } = sampleDataset(ds, n, SEED);
    const input = { images: data.images, labels: data.labels, shape: [data.height, data.width, data.channels] as [number, number, number] };
    const rows = [];
    const results: AttackResult[] = [];
    const specs = suiteFor(card, only);
    if (specs.length === 0) {
      console.warn(`${id}: no attack to run for these norms; card left unchanged`);
      continue;
    }
    for (const spec of specs) {
      const t0 = performance.now();
      // AA-style starts from the APGD-CE run just made (same inputs, ε, steps and seed).
      const apgdCe = results.find((r) => r.spec.attack === 'apgd-ce' && r.spec.norm === spec.norm && r.spec.eps === spec.eps);
      const r = await runAttack(model.logits, input, spec, { seed: SEED, batchSize: 100, ...(spec.attack === 'aa' && apgdCe ? { apgdCe } : {}) });
      const row = { attack: spec.attack, norm: spec.norm, eps: spec.eps, steps: spec.steps, restarts: 1, targets: spec.targets ?? null, n: r.n, seed: SEED, cleanAccuracy: r.cleanAccuracy, robustAccuracy: r.robustAccuracy };
      // Seconds go to the log only: wall time on a shared 2-core machine is not a property of the model.
      const seconds = +((performance.now() - t0) / 1000).toFixed(1);
      rows.push(row);
      results.push(r);
      console.log(`${id} ${spec.attack} ${spec.norm} ε=${spec.eps.toFixed(4)}: clean ${r.cleanAccuracy.toFixed(3)} robust ${r.robustAccuracy.toFixed(3)} (${seconds}s)`);
    }
    model.dispose();
    card.attackSuite = { backend: backend.active, tool: 'tools/zoo/attack-cards.ts (Layerwise tfjs attacks)', date: new Date().toISOString().slice(0, 10), results: rows, sanityProblems: suiteChecks(results), warnings: gradientMaskingWarnings(results).map((w) => w.message) };
    writeFileSync(cardPath, JSON.stringify(card, null, 2) + '\n');
    console.log(`${id}: sanity ${card.attackSuite.sanityProblems.length ? card.attackSuite.sanityProblems.join('; ') : 'ok'}; tensors ${tf.memory().numTensors}`);
  }
  return 0;
}
