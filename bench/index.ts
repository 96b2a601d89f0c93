/**
 * `npm run bench -- <suite> [options]`
 *
 * Speed is reported as ratios measured in one run against a named baseline; absolute
 * times on shared 2-core machines are noise. One file per suite.
 */
import { benchAttacks } from './attacks';

/** Suites load lazily: each pulls in only its own dependencies (the t-SNE anchors, PyTorch-free). */
const SUITES: Record<string, (args: string[]) => Promise<void>> = {
  attacks: benchAttacks,
  tsne: (a) => import('./tsne').then((m) => m.benchTsne(a)),
  mftma: (a) => import('./mftma').then((m) => m.benchMftma(a)),
  collision: (a) => import('./collision').then((m) => m.benchCollision(a)),
  dependency: (a) => import('./dependency').then((m) => m.benchDependency(a)),
  estimates: (a) => import('./estimates').then((m) => m.benchEstimates(a)),
  onnx: (a) => import('./onnx').then((m) => m.benchOnnx(a)),
  train: (a) => import('./train').then((m) => m.benchTrain(a)),
};

export async function main(args: string[]): Promise<number> {
  const [suite, ...rest] = args;
  const run = SUITES[suite];
  if (!run) {
    console.error(`bench: choose a suite: ${Object.keys(SUITES).join(', ')}`);
    return 2;
  }
  await run(rest);
  return 0;
}
