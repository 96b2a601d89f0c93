/**
 * For the definitions' tests: run an analysis definition in-process from command-line
 * arguments, exactly as `layerwise <kind> …` does (runParsedAnalysis), and hand back the parsed
 * values, the typed result (not its JSON) and the summary the CLI prints.
 */
import type { AnyAnalysis } from '../core/analyses/define';
import { parseAnalysisArgs, runParsedAnalysis } from './analysis-command';

export async function runDefinition<R>(def: AnyAnalysis, argv: string[]) {
  const parsed = parseAnalysisArgs(def, argv);
  const run = await runParsedAnalysis<R>(def, parsed);
  return { parsed, ...run, text: def.summarise(run.result, run.params) };
}
