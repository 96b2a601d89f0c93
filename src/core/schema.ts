/**
 * One parameter schema per feature (STYLE.md convention 12): each parameter's default,
 * the control that edits it, its validation and its URL key live together, so the UI
 * controls, the URL hash (the save file, convention 13) and validation cannot drift.
 * Pure data and functions: the UI renders controls from it, the CLI and tests reuse it.
 */

export type ParamKind = 'select' | 'number' | 'int' | 'text' | 'list';

export interface ParamDef<T = unknown> {
  key: string;
  /** Short key in the URL hash. */
  url: string;
  label: string;
  kind: ParamKind;
  default: T;
  help?: string;
  options?: { value: string; label: string }[];
  min?: number;
  max?: number;
  step?: number;
}

export type Schema = ParamDef[];

export const setupSchema: Schema = [
  { key: 'model', url: 'model', label: 'Model', kind: 'select', default: 'mnist-small-st', help: 'A zoo model, or your own via "Load model files".' },
  { key: 'data', url: 'data', label: 'Data', kind: 'select', default: 'mnist-test', help: 'Built-in test sets, or your own image folder.' },
  { key: 'n', url: 'n', label: 'Samples', kind: 'int', default: 16, min: 1, max: 1000, step: 1, help: 'Class-balanced sample drawn with the master seed.' },
  { key: 'seed', url: 'seed', label: 'Master seed', kind: 'int', default: 0, min: 0, max: 2 ** 31 - 1, step: 1, help: 'Drives every random choice (sampling, random starts).' },
  {
    key: 'backend', url: 'backend', label: 'Backend', kind: 'select', default: 'auto',
    options: [
      { value: 'auto', label: 'auto (WebGPU → WebGL → WASM → CPU)' },
      { value: 'webgpu', label: 'WebGPU' },
      { value: 'webgl', label: 'WebGL' },
      { value: 'wasm', label: 'WASM' },
      { value: 'cpu', label: 'CPU' },
    ],
  },
];

export const attackSchema: Schema = [
  {
    key: 'attack', url: 'attack', label: 'Attack', kind: 'select', default: 'pgd',
    options: [
      { value: 'gaussian', label: 'Gaussian noise (σ = ε, baseline)' },
      { value: 'fgsm', label: 'FGSM / FGM (one step)' },
      { value: 'bim', label: 'BIM (iterative, no random start)' },
      { value: 'pgd', label: 'PGD (random start)' },
      { value: 'apgd-ce', label: 'APGD-CE (AutoAttack)' },
      { value: 'apgd-dlr', label: 'APGD-DLR (AutoAttack)' },
      { value: 'apgd-t', label: 'APGD-T, targeted DLR (AutoAttack)' },
      { value: 'aa', label: 'AA-style: APGD-CE then APGD-T' },
      { value: 'deepfool', label: 'DeepFool (L2, minimum norm)' },
      { value: 'fab', label: 'FAB (L∞/L2, minimum norm)' },
      { value: 'cw', label: 'Carlini–Wagner (L2, minimum norm)' },
    ],
  },
  { key: 'norm', url: 'norm', label: 'Norm', kind: 'select', default: 'linf', options: [{ value: 'linf', label: 'L∞' }, { value: 'l2', label: 'L2' }] },
  { key: 'eps', url: 'eps', label: 'ε', kind: 'number', default: 0.1, min: 0, max: 1, step: 0.005, help: 'Radius of the threat-model ball in [0,1] pixel units (×255 for 8-bit units).' },
  { key: 'steps', url: 'steps', label: 'Steps', kind: 'int', default: 10, min: 1, max: 1000, step: 1 },
  { key: 'stepSize', url: 'alpha', label: 'Step size α', kind: 'number', default: 0, min: 0, max: 1, step: 0.001, help: '0 = 2.5·ε/steps (Madry et al.); APGD adapts its own.' },
  { key: 'restarts', url: 'restarts', label: 'Restarts', kind: 'int', default: 1, min: 1, max: 20, step: 1, help: 'APGD-CE/DLR passes over the still-robust points (AutoAttack: 1).' },
  { key: 'targets', url: 'targets', label: 'Targets', kind: 'int', default: 9, min: 1, max: 99, step: 1, help: 'APGD-T / AA-style: target classes by clean-logit rank (AutoAttack: 9).' },
  { key: 'targetClass', url: 'tgt', label: 'Target class', kind: 'int', default: -1, min: -1, max: 999, step: 1, help: 'APGD-T: −1 = the top-k most likely other classes by clean logit (Targets; 1 = the most likely other class); a class index = push every sample toward that class (samples of that class use their most likely other class).' },
  { key: 'draws', url: 'draws', label: 'Noise draws', kind: 'int', default: 10, min: 1, max: 100, step: 1, help: 'Gaussian noise: draws R per image (σ = ε).' },
];

export const viewSchema: Schema = [
  { key: 'layers', url: 'layers', label: 'Layers', kind: 'list', default: [], help: 'Tapped layers; empty = the model’s feature layers.' },
];

/** Which view is open and the compare model (issue #9: every view can show model B too). */
export const labSchema: Schema = [
  {
    key: 'view', url: 'view', label: 'View', kind: 'select', default: 'slice',
    options: [
      { value: 'slice', label: 'Layer shift' },
      { value: 'curve', label: 'Robustness curve' },
      { value: 'tsne', label: 't-SNE' },
      { value: 'logits', label: 'Logits' },
      { value: 'dependency', label: 'Layer dependency' },
      { value: 'manifolds', label: 'Manifolds' },
      { value: 'collision', label: 'Collisions' },
    ],
  },
  { key: 'compare', url: 'vs', label: 'Compare with', kind: 'text', default: '', help: 'A second model B shown next to or over model A in every view (e.g. the adversarially trained twin).' },
];

/** Robustness curve (issue #5). */
export const curveSchema: Schema = [
  { key: 'curveEps', url: 'ceps', label: 'ε ladder', kind: 'list', default: [], help: 'Comma list of ε; empty = 0, ¼, ½, 1, 1.5, 2 and 3 times the current ε.' },
  { key: 'curveN', url: 'cn', label: 'Samples', kind: 'int', default: 100, min: 10, max: 2000, step: 10, help: 'Class-balanced samples for the curve (master seed).' },
];

/** Layerwise t-SNE (issue #6; spec tsne.md defaults). */
export const tsneSchema: Schema = [
  { key: 'tsneN', url: 'tn', label: 'Images', kind: 'int', default: 300, min: 20, max: 5000, step: 10, help: 'Clean images per layer; the embedding has twice as many points (clean + adversarial).' },
  { key: 'perplexity', url: 'perp', label: 'Perplexity', kind: 'number', default: 30, min: 2, max: 100, step: 1 },
  { key: 'tsneIter', url: 'titer', label: 'Iterations', kind: 'int', default: 750, min: 50, max: 5000, step: 50, help: '250 early-exaggeration iterations, the rest plain (openTSNE defaults).' },
  { key: 'tsneSeeds', url: 'tseeds', label: 'Seeds', kind: 'int', default: 3, min: 1, max: 10, step: 1, help: 'Cold starts for the overlap metric’s mean ± sd (spec: ≥ 3).' },
  { key: 'tsneMode', url: 'tmode', label: 'Warm start', kind: 'select', default: 'joint', options: [{ value: 'joint', label: 'joint (all points move; the metric)' }, { value: 'anchored', label: 'anchored (clean frozen; calm)' }] },
  { key: 'tsneImpl', url: 'timpl', label: 'Engine', kind: 'select', default: 'auto', options: [{ value: 'auto', label: 'auto (GPU ops on a hardware GPU, else typed arrays)' }, { value: 'tfjs', label: 'GPU ops (tfjs, any backend)' }, { value: 'typed', label: 'typed arrays (CPU, in the worker)' }] },
  { key: 'tsneModel', url: 'tmodel', label: 'Model', kind: 'select', default: 'a', options: [{ value: 'a', label: 'A' }, { value: 'b', label: 'B (compare)' }] },
];

/** Logit analysis (issue #9). */
export const logitsSchema: Schema = [
  { key: 'logitsN', url: 'ln', label: 'Samples', kind: 'int', default: 500, min: 20, max: 10000, step: 10 },
  { key: 'logitsAttack', url: 'latt', label: 'Under attack', kind: 'int', default: 1, min: 0, max: 1, step: 1, help: '1 = also the distributions under the chosen attack at the current ε; 0 = clean only.' },
  { key: 'logitsEpochs', url: 'lep', label: 'Epochs', kind: 'int', default: 1, min: 0, max: 1, step: 1, help: '1 = include the zoo’s training snapshots of model A (ridgeline per epoch), when it has them.' },
];

/** Layer dependency (issue #9). */
export const dependencySchema: Schema = [
  { key: 'depN', url: 'dn', label: 'Samples', kind: 'int', default: 500, min: 50, max: 5000, step: 50, help: 'Probes train on 70% and are scored on the held-out 30%, clean and attacked.' },
];

/** Manifold capacity (issue #7; MFTMA). */
export const mftmaSchema: Schema = [
  { key: 'mfKind', url: 'mfk', label: 'Manifolds', kind: 'select', default: 'exemplar', options: [{ value: 'exemplar', label: 'exemplar (P images × M perturbations)' }, { value: 'class', label: 'class (P classes × M images)' }] },
  { key: 'mfPerturb', url: 'mfp', label: 'Perturbation', kind: 'select', default: 'gaussian', options: [{ value: 'gaussian', label: 'Gaussian noise σ' }, { value: 'linf', label: 'uniform in the L∞ ball ε' }, { value: 'l2', label: 'uniform in the L2 ball ε' }, { value: 'attack', label: 'APGD-CE runs in the ball ε (norm from the attack panel)' }] },
  { key: 'mfLadder', url: 'mfl', label: 'σ / ε ladder', kind: 'list', default: ['0.0001', '0.01', '0.1', '0.3', '1'], help: 'One line per value; the seed’s σ ladder is 0.0001 … 1.0.' },
  { key: 'mfP', url: 'mfP', label: 'P', kind: 'int', default: 10, min: 2, max: 100, step: 1, help: 'Number of manifolds.' },
  { key: 'mfM', url: 'mfM', label: 'M', kind: 'int', default: 20, min: 2, max: 500, step: 1, help: 'Points per manifold.' },
  { key: 'mfMaxDims', url: 'mfd', label: 'Max dims', kind: 'int', default: 5000, min: 50, max: 100000, step: 50, help: 'Wider layers are randomly projected to this many dimensions first (stated per layer).' },
];

/** Collision search and optimal adversarial loss (issue #8). */
export const collisionSchema: Schema = [
  { key: 'colClasses', url: 'cc', label: 'Classes', kind: 'list', default: ['3', '7'], help: 'A class pair (the seed: 3 vs 7), or more classes (approximate multi-class fallback).' },
  { key: 'colPerClass', url: 'cs', label: 'Per class S', kind: 'int', default: 10, min: 2, max: 200, step: 1 },
  { key: 'colM', url: 'cm', label: 'Projection m', kind: 'int', default: 10, min: 1, max: 200, step: 1, help: 'Rows of the random Gaussian projection A (m × n_j).' },
  { key: 'colMSweep', url: 'cms', label: 'm sweep', kind: 'list', default: [], help: 'Extra projection sizes to compare (e.g. 3,30): the analysis reruns for each m and a chart shows the optimal loss against m per layer.' },
  { key: 'colN', url: 'cN', label: 'Projections N', kind: 'int', default: 3, min: 1, max: 50, step: 1, help: 'Losses are averaged over N projections (not distances).' },
  { key: 'colProjection', url: 'cp', label: 'Projection', kind: 'select', default: 'gaussian', options: [{ value: 'gaussian', label: 'random Gaussian A' }, { value: 'none', label: 'none (A = I; baseline, narrow layers only)' }] },
  { key: 'colEps', url: 'ce', label: 'ε list', kind: 'list', default: ['0.5', '1', '1.5', '2', '2.5', '3', '4', '5'], help: 'Input-space L2 radii of the conflict graph.' },
  { key: 'colIter', url: 'cit', label: 'Iterations', kind: 'int', default: 600, min: 10, max: 5000, step: 10, help: 'Algorithm 1 iteration cap per pair (spec: 600). Fewer is faster; a pair that has not converged keeps its best feasible iterate, an upper bound on its distance.' },
  { key: 'colExtra', url: 'cx', label: 'Also compare', kind: 'list', default: [], help: 'Further zoo models (ids, comma-separated) run on the same pairs and projections, e.g. the PGD and TRADES twins next to the standard model: the seed compares three trainings side by side.' },
  { key: 'colBox', url: 'cbox', label: '[0,1] box', kind: 'int', default: 0, min: 0, max: 1, step: 1, help: 'NOT the seed paper: keep colliding points inside the pixel box (heuristic distances).' },
];

export type ParamValues = Record<string, unknown>;

export function defaults(schema: Schema): ParamValues {
  return Object.fromEntries(schema.map((p) => [p.key, p.default]));
}

/** Coerce and validate one value; returns the default (and a reason) when invalid. */
export function coerce(def: ParamDef, raw: unknown): { value: unknown; error?: string } {
  switch (def.kind) {
    case 'int':
    case 'number': {
      const v = typeof raw === 'number' ? raw : Number(raw);
      if (!Number.isFinite(v)) return { value: def.default, error: `${def.label}: "${raw}" is not a number` };
      if (def.kind === 'int' && !Number.isInteger(v)) return { value: def.default, error: `${def.label}: ${v} is not an integer` };
      if (def.min !== undefined && v < def.min) return { value: def.min, error: `${def.label}: ${v} is below ${def.min}` };
      if (def.max !== undefined && v > def.max) return { value: def.max, error: `${def.label}: ${v} is above ${def.max}` };
      return { value: v };
    }
    case 'select': {
      const v = String(raw);
      if (def.options && !def.options.some((o) => o.value === v)) return { value: def.default, error: `${def.label}: unknown value "${v}"` };
      return { value: v };
    }
    case 'list':
      return { value: Array.isArray(raw) ? raw.map(String) : String(raw).split(',').filter(Boolean) };
    default:
      return { value: String(raw) };
  }
}

/** Serialise values to a URL hash fragment (without '#'), only keys that differ from defaults… plus the seed, always. */
export function toHash(schemas: Schema[], values: ParamValues): string {
  const params = new URLSearchParams();
  for (const schema of schemas) {
    for (const def of schema) {
      const v = values[def.key];
      if (v === undefined) continue;
      params.set(def.url, Array.isArray(v) ? v.join(',') : String(v));
    }
  }
  return params.toString();
}

/** Parse a hash fragment; unknown keys are ignored, invalid values reported. */
export function fromHash(schemas: Schema[], hash: string): { values: ParamValues; errors: string[] } {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const values: ParamValues = {};
  const errors: string[] = [];
  for (const schema of schemas) {
    for (const def of schema) {
      const raw = params.get(def.url);
      if (raw === null) continue;
      const { value, error } = coerce(def, raw);
      values[def.key] = value;
      if (error) errors.push(error);
    }
  }
  return { values, errors };
}
