/**
 * For the definitions' tests: run an analysis definition in-process from command-line
 * arguments, as `layerwise <kind> …` does (the same parsing, context and `run`), and hand back
 * the parsed values, the typed result (not its JSON) and the summary the CLI prints.
 */
import { runParams, type AnyAnalysis, type RunParams } from '../core/analyses/define';
import type { Schema } from '../core/schema';
import { parseAnalysisArgs, type ParsedAnalysisArgs } from './analysis-command';
import { openData, openModel, setupBackend } from './common';
import { nodeContext, nodeResources } from './host';

export async function runDefinition<R>(def: AnyAnalysis, argv: string[]): Promise<{ parsed: ParsedAnalysisArgs; params: RunParams<Schema>; result: R; text: string }> {
  const parsed = parseAnalysisArgs(def, argv);
  const backend = await setupBackend({ backend: parsed.backend });
  const { setup, compare } = parsed.setup;
  const ids = { a: setup.model, b: compare || null };
  const a = await openModel(ids.a);
  const b = ids.b ? await openModel(ids.b) : null;
  const resources = nodeResources(ids);
  try {
    const dataset = await openData(setup.data);
    const params = runParams(def, parsed.setup, parsed.own as never);
    const result = (await def.run(nodeContext({ a, b }, ids, dataset, setup.seed, backend.active, resources), params, {}, () => undefined)) as R;
    return { parsed, params, result, text: def.summarise(result, params) };
  } finally {
    resources.dispose();
    a.dispose();
    b?.dispose();
  }
}
