/**
 * estimates: how close each analysis's "≈ N s" (core/analyses/estimate.ts) comes to the time
 * its run really takes, for its default setting and for variations of its size parameters,
 * in one run on one backend. The ratio actual / estimate is the number to read: the lab
 * promises "within 2×" (issue #21), and the per-kind constants are calibrated from it.
 *
 *   npm run bench -- estimates [--backend wasm] [--kinds curve,tsne] [--model mnist-small-st] [--compare id]
 */
import { arg } from './common';
import { findAnalysis, ANALYSES } from '../src/core/analyses';
import type { AnyAnalysis } from '../src/core/analyses/define';
import { parseAnalysisArgs, runParsedAnalysis } from '../src/cli/analysis-command';

/** Variations per kind beside the defaults: the size parameters a user turns first. */
const VARIANTS: Record<string, string[][]> = {
  slice: [[], ['--n', '64']],
  curve: [[], ['--n', '50', '--ladder', '0,0.1,0.2']],
  logits: [[], ['--n', '150', '--epochs', '0']],
  dependency: [[], ['--n', '150']],
  tsne: [[], ['--n', '100', '--seeds', '1']],
  cka: [[], ['--n', '150']],
  mftma: [[], ['--P', '5', '--M', '10']],
  collision: [[], ['--per-class', '3', '--max-iter', '100']],
};

export async function benchEstimates(args: string[]): Promise<void> {
  const backend = arg(args, 'backend', 'wasm');
  const model = arg(args, 'model', 'mnist-small-st');
  const compare = arg(args, 'compare', '');
  const kinds = arg(args, 'kinds', ANALYSES.map((d) => d.kind).join(',')).split(',');
  console.log(`estimate vs actual on ${backend}, ${model}${compare ? ` vs ${compare}` : ''}, mnist-test`);
  console.log(`${'kind'.padEnd(11)}${'arguments'.padEnd(34)}${'estimate'.padStart(10)}${'actual'.padStart(10)}${'actual/est'.padStart(12)}`);
  for (const kind of kinds) {
    const def = findAnalysis(kind) as AnyAnalysis;
    for (const variant of VARIANTS[kind] ?? [[]]) {
      const argv = ['--model', model, '--data', 'mnist-test', '--backend', backend, ...(compare ? ['--compare', compare] : []), ...variant];
      const estimated = await runParsedAnalysis(def, { ...parseAnalysisArgs(def, argv), estimate: true });
      const t0 = performance.now();
      await runParsedAnalysis(def, parseAnalysisArgs(def, argv));
      const actual = (performance.now() - t0) / 1000;
      const est = estimated.estimate?.seconds ?? NaN;
      console.log(`${kind.padEnd(11)}${(variant.join(' ') || '(defaults)').padEnd(34)}${est.toFixed(1).padStart(10)}${actual.toFixed(1).padStart(10)}${(actual / est).toFixed(2).padStart(12)}`);
    }
  }
}
