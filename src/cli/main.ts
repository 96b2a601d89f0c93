/**
 * `layerwise`: the headless CLI over the same core the lab runs in its workers.
 * Every command prints a readable summary, or JSON with --json; errors print one line
 * `layerwise: <reason>` and exit non-zero: 2 for bad input (arguments, or model files and data
 * the lab refuses: a LabError), 1 for a failure of the run itself.
 */
import { writeFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { isMinimumNormAttack, runAttack } from '../core/attacks/runner';
import type { AttackName, AttackResult } from '../core/attacks/types';
import { DEFAULT_BISECTION_PGD_STEPS, DEFAULT_BISECTION_ROUNDS, minimalEpsilonByBisection, perClassEpsilonSummary } from '../core/attacks/minimal';
import { gradientMaskingWarnings } from '../core/attacks/sanity';
import type { Norm } from '../core/attacks/common';
import { checkInputCompatibility } from '../core/model/model';
import { namedByModel } from '../core/model/classNames';
import type { OnnxLabModel } from '../core/onnx/import';
import { onnxCardRows } from '../core/onnx/card';
import { parseByteSize } from '../core/onnx/memory';
import { predictAll } from '../core/model/predict';
import { num, numList, parse, print, str, UsageError } from './args';
import { collisionCommands } from './commands/collision';
import { tsneCommands } from './commands/tsne';
import { trainCommands, trainHelp } from './commands/train';
import { sampleData } from './common';
import { setupBackend } from '../node/backend';
import { prepareOutFile } from '../node/files';
import { checkAttackable, openData, openModel } from '../node/open';
import { LabError } from '../core/types';
import { mftmaCommands } from './commands/mftma';
import { escapeControl } from '../core/text';
import { ANALYSES, findAnalysis } from '../core/analyses';
import { analysisHelp, runAnalysisCommand } from './analysis-command';

const VERSION = '0.1.0';

/** Commands that are not analyses of a model: inspection, one attack run, and the fixture-format tools. */
const TOOLS_USAGE = `  info    --model <zoo-id|model.json|model.onnx> [--labels FILE]  layers, shapes, sizes, params, logits layer
  eval    --model M --data <mnist|cifar10|path> [--n N]           clean accuracy and per-sample predictions
  attack  --model M --data D --attack gaussian|fgsm|bim|pgd|apgd-ce|apgd-dlr|apgd-t|aa|deepfool|fab|cw
          --norm linf|l2 --eps E[,E2,…] [--steps K] [--step-size A] [--restarts R] [--targets T] [--target-class C] [--n N]
          [--search-steps S] [--confidence κ]                     (C&W: binary-search rounds on c, margin κ)
          [--min-eps [--max-eps E] [--rounds R]] [--out file.f32]  clean/robust accuracy, per-sample outcomes,
                                                                  sanity warnings; --min-eps: per-sample minimal ε
  optloss --graph graph.json                                      optimal adversarial log-loss and 0-1 loss of a conflict graph
  collide --net net.json --pairs pairs.json                       collision distances (Algorithm 1) for an MLP and input pairs
  tsne    --input X.f32 --n N --d D [--perplexity 30] [--iters 750] [--init Y0.f32] [--engine auto|exact|fft] --out Y.f32
                                                                  t-SNE of a raw float32 file (exact ≤ 5,000 points, FFT above)
  mftma   --input X.f32 --header case.json [--kappa 0] [--nt 200]   manifold capacity of raw manifolds
  train   --data mnist|PATH --arch mlp|small|medium|resnet --method standard|fgsm-rs|pgd|trades
          [--norm --eps --epochs --max-steps --batch …] --out DIR   train a model (WASM or CPU): tfjs files, card and
                                                                  a log of probe loss, clean and PGD accuracy`;

/** `layerwise --help`: the tools, then every analysis the lab has, from its definition. */
export function usage(): string {
  return [
    'usage: layerwise <command> [options]     (layerwise <command> --help: that command\'s flags and defaults)',
    'analyses (the lab\'s views; the same run, the same numbers; --json prints the result the lab receives, --url its lab link):',
    ...ANALYSES.map((d) => `  ${d.kind.padEnd(11)} --model M --data D [--compare M2]  ${d.summary}${d.cliAliases?.length ? ` (also: ${d.cliAliases.join(', ')})` : ''}`),
    'tools:',
    TOOLS_USAGE,
    'common: --json  --seed S (default 0)  --backend auto|cpu|wasm (auto: wasm for inference and input',
    '        gradients, which is all these commands need, else cpu)',
    '        --labels FILE (with --model: its class names, a labels.txt with one per line or a JSON list;',
    '        their count must be the model\'s class count)',
    '        --memory-budget SIZE (info, eval, attack with an .onnx model: refuse it when its estimated',
    '        memory, weights and one image\'s forward and backward pass, exceeds SIZE; default 3GiB)',
  ].join('\n');
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** `--labels FILE`: the model's class names (labels.txt or a JSON list), for openModel. */
const labelsOf = (v: Record<string, string | boolean | undefined>): { labels?: string; memoryBudget?: number } => ({
  ...(typeof v.labels === 'string' ? { labels: v.labels } : {}),
  ...(typeof v['memory-budget'] === 'string' ? { memoryBudget: byteSize(v['memory-budget']) } : {}),
});

/** `--memory-budget SIZE`: the bytes an ONNX model may need (src/core/onnx/memory.ts). */
function byteSize(text: string): number {
  const bytes = parseByteSize(text);
  if (bytes === null) throw new UsageError(`--memory-budget must be a size such as 512MB, 2GB or 3GiB (got "${escapeControl(text)}")`);
  return bytes;
}

/** Class names on one line: all of a short list, the first and last few of a long one. */
function namesLine(names: string[]): string {
  const esc = names.map(escapeControl);
  return names.length <= 12 ? esc.join(', ') : `${esc.slice(0, 8).join(', ')}, …, ${esc.slice(-2).join(', ')} (${names.length})`;
}

async function cmdInfo(args: string[]) {
  const v = parse(args, { model: { type: 'string' }, labels: { type: 'string' }, 'memory-budget': { type: 'string' } });
  await setupBackend(v);
  const model = await openModel(str(v.model, 'model'), labelsOf(v));
  const payload = {
    model: v.model,
    kind: model.kind,
    inputShape: model.inputShape,
    flatInput: model.flatInput,
    numClasses: model.numClasses,
    logitsLayer: model.logitsLayer,
    softmaxNote: model.softmaxNote,
    parameters: model.layers.reduce((s, l) => s + l.params, 0),
    classNames: model.classNames ?? null,
    layers: model.layers,
    ...('onnx' in model ? { onnx: (model as OnnxLabModel).onnx } : {}),
  };
  model.dispose();
  const card = payload.onnx;
  print(v.json as boolean, payload, () =>
    [
      `${v.model}: ${model.kind} model, input [${model.inputShape}], ${model.numClasses} classes, ${payload.parameters} parameters`,
      `logits: ${model.logitsLayer}${model.softmaxNote ? ` (${model.softmaxNote})` : ''}`,
      // An .onnx file: the lab's ONNX card, row by row (src/core/onnx/card.ts); names come from files, so escaped.
      ...(card
        ? onnxCardRows({ ...model, onnx: card, classNames: payload.classNames, classNamesFile: typeof v.labels === 'string' ? v.labels : null }).map((r) => `${r.label}: ${escapeControl(r.text)}`)
        : payload.classNames
          ? [`classes (${escapeControl(String(v.labels))}): ${namesLine(payload.classNames)}`]
          : []),
      ...model.layers.map((l) => `  ${l.name.padEnd(28)} ${l.className.padEnd(22)} [${l.outputShape.join(',')}]`.padEnd(72) + ` ${String(l.size).padStart(8)} floats ${String(l.params).padStart(9)} params`),
    ].join('\n'),
  );
}

async function cmdEval(args: string[]) {
  const v = parse(args, { model: { type: 'string' }, data: { type: 'string' }, n: { type: 'string' }, labels: { type: 'string' }, 'memory-budget': { type: 'string' } });
  const backend = await setupBackend(v);
  const seed = num(v.seed, 'seed');
  const model = await openModel(str(v.model, 'model'), labelsOf(v));
  try {
    const given = await openData(str(v.data, 'data'));
    checkInputCompatibility(model, given);
    const ds = namedByModel(given, model);
    checkAttackable(ds);
    const { data, indices } = sampleData(ds, v.n, seed);
    const p = await predictAll(model, data.images, data.labels, [data.height, data.width, data.channels]);
    const payload = {
      model: v.model, data: ds.id, n: data.n, seed, backend: backend.active, accuracy: p.accuracy,
      classNames: ds.classNames,
      samples: Array.from(indices, (index, i) => ({ index, label: data.labels[i], pred: p.pred[i], confidence: +p.confidence[i].toFixed(6) })),
    };
    print(v.json as boolean, payload, () => `${v.model} on ${ds.id} (n=${data.n}, seed ${seed}, ${backend.active}): clean accuracy ${pct(p.accuracy)}`);
  } finally {
    model.dispose();
  }
}

async function cmdAttack(args: string[]) {
  const v = parse(args, {
    model: { type: 'string' }, data: { type: 'string' }, n: { type: 'string' }, attack: { type: 'string', default: 'pgd' },
    norm: { type: 'string', default: 'linf' }, eps: { type: 'string' }, steps: { type: 'string' }, 'step-size': { type: 'string' },
    out: { type: 'string' }, batch: { type: 'string' }, restarts: { type: 'string' }, targets: { type: 'string' }, 'target-class': { type: 'string' },
    'min-eps': { type: 'boolean' }, 'max-eps': { type: 'string' }, rounds: { type: 'string' },
    'search-steps': { type: 'string' }, confidence: { type: 'string' }, labels: { type: 'string' }, 'memory-budget': { type: 'string' },
  });
  const backend = await setupBackend(v);
  const seed = num(v.seed, 'seed');
  const attack = v.attack as AttackName;
  const ATTACKS = ['gaussian', 'fgsm', 'bim', 'pgd', 'apgd-ce', 'apgd-dlr', 'apgd-t', 'aa', 'deepfool', 'fab', 'cw'];
  if (!ATTACKS.includes(attack)) throw new UsageError(`--attack must be one of ${ATTACKS.join(', ')} (got "${attack}")`);
  const norm = v.norm as Norm;
  if (norm !== 'linf' && norm !== 'l2') throw new UsageError(`--norm must be linf or l2 (got "${norm}")`);
  const epsList = numList(v.eps, 'eps');
  // Defaults: AutoAttack's 100 iterations for APGD and FAB, torchattacks' 50 for DeepFool and per C&W search round.
  const steps = num(v.steps, 'steps', attack === 'fgsm' || attack === 'gaussian' ? 1 : attack.startsWith('apgd') || attack === 'aa' || attack === 'fab' ? 100 : attack === 'deepfool' || attack === 'cw' ? 50 : 40);
  const searchSteps = v['search-steps'] === undefined ? undefined : num(v['search-steps'], 'search-steps');
  const confidence = v.confidence === undefined ? undefined : num(v.confidence, 'confidence');
  const bisect = !!v['min-eps'] && (attack === 'pgd' || attack === 'apgd-ce');
  if (bisect && v['max-eps'] === undefined) throw new UsageError(`--min-eps with --attack ${attack} bisects ε with PGD: give the bracket's upper end with --max-eps`);
  if (!bisect && (v['max-eps'] !== undefined || v.rounds !== undefined)) throw new UsageError('--max-eps and --rounds apply to --min-eps with --attack pgd or apgd-ce');
  // Read now, so a bad value fails before the attack runs rather than after it.
  const maxEpsArg = bisect ? num(v['max-eps'], 'max-eps') : undefined;
  const roundsArg = bisect && v.rounds !== undefined ? num(v.rounds, 'rounds') : undefined;
  const restarts = v.restarts === undefined ? undefined : num(v.restarts, 'restarts');
  const targets = v.targets === undefined ? undefined : num(v.targets, 'targets');
  // APGD-T toward one class for every sample (default: the clean-logit ranking, --targets of them).
  const targetClass = v['target-class'] === undefined ? undefined : num(v['target-class'], 'target-class');
  const stepSize = v['step-size'] === undefined ? undefined : num(v['step-size'], 'step-size');
  const batchSize = v.batch === undefined ? undefined : num(v.batch, 'batch');
  // An --out that cannot be written fails now, not after the attack ran.
  const outFiles = v.out === undefined ? [] : epsList.map((eps) => (epsList.length > 1 ? str(v.out, 'out').replace(/(\.f32)?$/, `.eps${eps}.f32`) : str(v.out, 'out')));
  for (const file of outFiles) await prepareOutFile(file, 'out');
  const model = await openModel(str(v.model, 'model'), labelsOf(v));
  try {
    const given = await openData(str(v.data, 'data'));
    checkInputCompatibility(model, given);
    // The model's own class names (--labels), when given, name the classes in the output.
    const ds = namedByModel(given, model);
    checkAttackable(ds);
    if (targetClass !== undefined && targetClass >= model.numClasses) throw new UsageError(`--target-class ${targetClass} is not a class of the model (0…${model.numClasses - 1})`);
    if (targets !== undefined && targets > model.numClasses - 1) throw new UsageError(`--targets ${targets} is more than the model's ${model.numClasses - 1} other classes`);
    const { data, indices } = sampleData(ds, v.n, seed, 100);
    const shape: [number, number, number] = [data.height, data.width, data.channels];
    // One clean pass first: non-finite logits refuse here, with the layer that went non-finite.
    await predictAll(model, data.images, data.labels, shape);
    const curve: Record<string, unknown>[] = [];
    const runs: AttackResult[] = [];
    for (const eps of epsList) {
      const r = await runAttack(model.logits, { images: data.images, labels: data.labels, shape }, { attack, norm, eps, steps, stepSize, restarts, targets, targetClass, searchSteps, confidence }, { seed, batchSize });
      runs.push(r);
      if (v.out) {
        const file = outFiles[epsList.indexOf(eps)];
        await writeFile(file, new Uint8Array(r.adversarial.buffer));
        await writeFile(file + '.json', JSON.stringify({ shape: [data.n, ...shape], dtype: 'float32', layout: 'NHWC little-endian', labels: Array.from(data.labels), indices: Array.from(indices), advPred: Array.from(r.advPred), attack: r.spec, seed }));
      }
      curve.push({
        eps, cleanAccuracy: r.cleanAccuracy, robustAccuracy: r.robustAccuracy, stepSize: r.spec.stepSize,
        zeroGradientSamples: r.zeroGradient.reduce((s, x) => s + x, 0),
        ...(r.meanDrawAccuracy !== undefined ? { meanDrawAccuracy: r.meanDrawAccuracy } : {}),
        samples: Array.from(indices, (index, i) => ({
          index, label: data.labels[i], cleanPred: r.cleanPred[i], advPred: r.advPred[i], success: !!r.success[i],
          linf: +r.linf[i].toFixed(7), l2: +r.l2[i].toFixed(7), firstSuccessStep: r.firstSuccessStep[i],
          ...(r.minimalNorm ? { [norm === 'l2' ? 'minimalL2' : 'minimalLinf']: Number.isFinite(r.minimalNorm[i]) ? +r.minimalNorm[i].toFixed(7) : null } : {}),
        })),
      });
    }
    // Per-sample minimal ε in the run's norm, with its per-class quartiles: a minimum-norm
    // attack's own norms (its ε does not bound the search), PGD bisection up to --max-eps for
    // pgd/apgd-ce, else DeepFool (L2) or FAB (L-inf) run without a bound. Convention: 0 for a
    // clean-misclassified sample, null (∞) when nothing was found.
    let minimalEps: Record<string, unknown> | undefined;
    if (v['min-eps']) {
      const input = { images: data.images, labels: data.labels, shape };
      let values: Float32Array;
      let method: string;
      let bracket: Record<string, number> = {};
      if (bisect) {
        const maxEps = maxEpsArg as number;
        const rounds = roundsArg ?? DEFAULT_BISECTION_ROUNDS;
        const pgdSteps = v.steps === undefined ? DEFAULT_BISECTION_PGD_STEPS : steps;
        const b = await minimalEpsilonByBisection(model.logits, input, { norm, maxEps, rounds, steps: pgdSteps, seed });
        values = b.minimalEps;
        method = `pgd bisection (${pgdSteps} steps, α = ${b.stepFactor}·ε/steps, ${rounds} rounds up to ${maxEps})`;
        bracket = { maxEps, rounds, tolerance: b.tolerance };
      } else {
        let source = runs[runs.length - 1];
        if (isMinimumNormAttack(attack)) {
          method = `${attack} (${steps} steps${attack === 'cw' ? ' per search round' : ''})`;
        } else {
          const fallback = norm === 'l2' ? { attack: 'deepfool' as const, steps: 50 } : { attack: 'fab' as const, steps: 100 };
          source = await runAttack(model.logits, input, { ...fallback, norm, eps: Infinity }, { seed });
          runs.push(source);
          method = fallback.attack === 'deepfool' ? 'deepfool (50 steps, overshoot 0.02, line search)' : 'fab (100 steps, 1 restart)';
        }
        values = Float32Array.from(source.minimalNorm ?? new Float32Array(data.n).fill(Infinity), (x, i) => (source.cleanPred[i] !== data.labels[i] ? 0 : x));
      }
      const finite = (x: number) => (Number.isFinite(x) ? +x.toFixed(6) : null);
      const perClass = perClassEpsilonSummary(values, data.labels, data.classNames.length).map((c) => ({
        class: data.classNames[c.label], n: c.n, cleanMisclassified: c.cleanMisclassified, notFound: c.notFound,
        min: finite(c.min), q1: finite(c.q1), median: finite(c.median), q3: finite(c.q3), max: finite(c.max),
      }));
      const overall = perClassEpsilonSummary(values, new Int32Array(data.n), 1)[0];
      minimalEps = { method, norm, ...bracket, median: finite(overall.median), q1: finite(overall.q1), q3: finite(overall.q3), notFound: overall.notFound, perSample: Array.from(values, finite), perClass };
    }
    const warnings = gradientMaskingWarnings(runs).map((w) => w.message);
    const payload = { model: v.model, data: ds.id, n: data.n, seed, backend: backend.active, attack, norm, steps, logitsLayer: model.logitsLayer, versions: { layerwise: VERSION, tfjs: tf.version.tfjs }, results: curve, ...(minimalEps ? { minimalEps } : {}), warnings };
    print(v.json as boolean, payload, () =>
      [
        `${attack} ${norm} on ${v.model} / ${ds.id} (n=${data.n}, seed ${seed}, ${backend.active})`,
        ...curve.map((c) => `  eps ${c.eps}: clean ${pct(c.cleanAccuracy as number)}  robust ${pct(c.robustAccuracy as number)}`),
        ...(minimalEps ? [`  minimal ${norm} ε (${minimalEps.method}): median ${minimalEps.median ?? '∞'}, quartiles ${minimalEps.q1 ?? '∞'}–${minimalEps.q3 ?? '∞'}, not found ${minimalEps.notFound}`] : []),
        ...warnings.map((w) => `  warning: ${w}`),
      ].join('\n'),
    );
  } finally {
    model.dispose();
  }
}

/** Analyses that also keep a fixture-format form (raw float32 files), chosen by --input. */
const FIXTURE_FORMS: Partial<Record<string, (args: string[]) => Promise<void>>> = { tsne: tsneCommands.tsne, mftma: mftmaCommands.mftma };

const COMMANDS: Record<string, (args: string[]) => Promise<void>> = {
  info: cmdInfo,
  eval: cmdEval,
  attack: cmdAttack,
  optloss: collisionCommands.optloss,
  collide: collisionCommands.collide,
  train: trainCommands.train,
};
for (const def of ANALYSES) {
  for (const name of [def.kind, ...(def.cliAliases ?? [])]) {
    const fixture = FIXTURE_FORMS[name];
    COMMANDS[name] = (args) => (fixture && args.includes('--input') ? fixture(args) : runAnalysisCommand(def, args));
  }
}

/** The help of one command: generated for analyses, the tools' lines otherwise. */
function helpOf(command: string): string {
  const def = findAnalysis(command);
  if (def) return analysisHelp(def);
  if (command === 'train') return trainHelp();
  return usage();
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage() + '\n');
    return command ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) {
    process.stderr.write(`layerwise: unknown command "${command}" (try: ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(helpOf(command) + '\n');
    return 0;
  }
  try {
    await run(rest);
    return 0;
  } catch (e) {
    const message = escapeControl(((e as Error)?.message ?? String(e)).split('\n')[0]);
    process.stderr.write(`layerwise: ${message}\n`);
    return e instanceof UsageError || e instanceof LabError ? 2 : 1;
  }
}
