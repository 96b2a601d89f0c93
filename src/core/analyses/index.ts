/**
 * Every analysis the lab and the CLI offer, in the lab's tab order. The worker's registry,
 * the CLI's commands and --help, the URL's parameters and the views are generated from this
 * list (issue #20). Adding an analysis: src/core/ANALYSES.md.
 */
import { sliceDefinition } from '../analysis/definition';
import { curveDefinition } from '../curve/definition';
import { tsneDefinition } from '../tsne/definition';
import { logitsDefinition } from '../logits/definition';
import { dependencyDefinition } from '../dependency/definition';
import { mftmaDefinition } from '../mftma/definition';
import { collisionDefinition } from '../collision/definition';
import { ckaDefinition } from '../cka/definition';
import type { AnyAnalysis } from './define';

export const ANALYSES = [sliceDefinition, curveDefinition, tsneDefinition, logitsDefinition, dependencyDefinition, mftmaDefinition, collisionDefinition, ckaDefinition] as const;

export type AnalysisKind = (typeof ANALYSES)[number]['kind'];
export type DefinitionOf<K extends AnalysisKind> = Extract<(typeof ANALYSES)[number], { kind: K }>;

/** The definition of a kind, by its name or a CLI alias or an older `view=` name; undefined if none. */
export function findAnalysis(name: string): AnyAnalysis | undefined {
  return (ANALYSES as readonly AnyAnalysis[]).find((d) => d.kind === name || d.cliAliases?.includes(name) || d.viewAliases?.includes(name));
}
