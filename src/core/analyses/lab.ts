/**
 * The lab's whole setup as schema groups: the shared setup, attack and layers, which view is
 * open and the compare model, and one group per analysis (its definition's schema). The URL
 * (the save file), the lab's `Params` type and the CLI's `--url` are all derived from this.
 */
import { attackSchema, defaults, fromHash, param, setupSchema, toHash, viewSchema, type GroupValues, type ParamValues, type Values } from '../schema';
import { ANALYSES, findAnalysis, type AnalysisKind } from './index';
import { analysisKey, cliCommand, type AnalysisSetup, type AnyAnalysis } from './define';
import { trainBSchema, trainSchema } from '../train/definition';
import { teachSchema } from '../stories/teach';

/** A view of the lab: one per analysis, and the Train view (issue #25), which trains rather than analyses. */
export type LabView = AnalysisKind | 'train';

export const labSchema = {
  view: param.select({ url: 'view', label: 'View', default: 'slice' as LabView, options: [...ANALYSES.map((d) => ({ value: d.kind as LabView, label: d.title })), { value: 'train' as LabView, label: 'Train' }], control: false }),
  compare: param.text({ url: 'vs', label: 'Compare with', default: '', help: 'A second model B shown next to or over model A in every view (e.g. the adversarially trained twin).', control: false }),
};

type AnalysisGroups = { [D in (typeof ANALYSES)[number] as D['kind']]: D['schema'] };
const analysisGroups = Object.fromEntries(ANALYSES.map((d) => [d.kind, d.schema])) as AnalysisGroups;

/** `teach`: the open story, its step and presentation mode (issue #24); `train` and `trainB`: the Train view's recipe and its second run (issue #25). No analysis reads either. */
export const LAB_GROUPS = { setup: setupSchema, attack: attackSchema, view: viewSchema, lab: labSchema, teach: teachSchema, ...analysisGroups, train: trainSchema, trainB: trainBSchema };
export type LabGroups = typeof LAB_GROUPS;
/** Every value of the lab, nested per feature: `params.attack.eps`, `params.tsne.perplexity`. */
export type LabParams = GroupValues<LabGroups>;
export type LabPatch = { [G in keyof LabParams]?: Partial<LabParams[G]> };

export function labDefaults(): LabParams {
  return Object.fromEntries(Object.entries(LAB_GROUPS).map(([g, s]) => [g, defaults(s)])) as LabParams;
}

/** Apply a patch group by group (a patch of `attack.eps` keeps the other attack values). */
export function patchParams(params: LabParams, patch: LabPatch): LabParams {
  const out = { ...params } as Record<string, ParamValues>;
  for (const [group, values] of Object.entries(patch)) if (values) out[group] = { ...out[group], ...values };
  return out as LabParams;
}

/** The lab's URL hash of a setup: non-default values only (plus the seed). */
export function labHash(params: LabParams): string {
  return toHash(LAB_GROUPS, params as unknown as Record<string, ParamValues>);
}

/**
 * Parse a lab URL hash: invalid values are reported and fall back to their defaults; older
 * names of a view (`view=manifolds`) open the view they became.
 */
export function parseLabHash(hash: string): { params: LabParams; errors: string[] } {
  const search = new URLSearchParams(hash.replace(/^#/, ''));
  const view = search.get('view');
  if (view) {
    const def = findAnalysis(view);
    if (def) search.set('view', def.kind);
  }
  const { values, errors } = fromHash(LAB_GROUPS, search.toString());
  const base = labDefaults();
  return { params: patchParams(base, values as LabPatch), errors };
}

/** The part of the lab's values one analysis reads. */
export function setupOf(params: LabParams): AnalysisSetup {
  return { setup: params.setup, compare: params.lab.compare, attack: params.attack, layers: params.view.layers };
}

export function ownValues(params: LabParams, def: AnyAnalysis): Record<string, unknown> {
  return (params as unknown as Record<string, Record<string, unknown>>)[def.kind];
}

/** The cache key and the reproducing `layerwise` command of an analysis at the lab's values. */
export function keyOf(params: LabParams, def: AnyAnalysis): string {
  return analysisKey(def, setupOf(params), ownValues(params, def));
}
export function commandOf(params: LabParams, def: AnyAnalysis): string {
  return cliCommand(def, setupOf(params), ownValues(params, def));
}

export type { Values };
