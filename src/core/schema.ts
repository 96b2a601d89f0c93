/**
 * Typed parameter schemas (STYLE.md convention 12): each parameter's default, validation,
 * lab control, URL key, CLI flag and help live in one place, so the lab's controls, the URL
 * hash (the save file, convention 13), the CLI's flags and its --help cannot drift.
 *
 * A schema is an object of parameter definitions; `Values<S>` is the type of its values, so the
 * lab's `Params` and every analysis's parameters are derived from the schemas, never written
 * beside them. Pure data and functions: the UI renders controls from it, the CLI parses flags
 * with it, the worker and tests reuse it.
 */

export type ParamKind = 'select' | 'number' | 'int' | 'text' | 'list' | 'numbers';

interface ParamBase<K extends ParamKind, T> {
  kind: K;
  /** Short key in the URL hash; unique across every schema the lab writes to its URL. */
  url: string;
  label: string;
  default: T;
  help?: string;
  /** CLI flag (without "--"); default: the parameter's key in kebab case. */
  flag?: string;
  /** Further CLI spellings the CLI accepts (older flags). */
  aliases?: string[];
  /** The lab has no generated control for it (it is set by another part of the UI). */
  control?: false;
}

export interface NumberParam extends ParamBase<'number' | 'int', number> {
  min?: number;
  max?: number;
  step?: number;
}
export interface SelectParam<V extends string = string> extends ParamBase<'select', V> {
  options: readonly { value: V; label: string }[];
}
export type TextParam = ParamBase<'text', string>;
/** A list of names (layers, model ids), comma-separated in the URL and on the command line. */
export type ListParam = ParamBase<'list', string[]>;
/** A list of numbers (ε ladders), parsed and validated in the schema. */
export interface NumbersParam extends ParamBase<'numbers', number[]> {
  min?: number;
  max?: number;
}

export type ParamDef = NumberParam | SelectParam | TextParam | ListParam | NumbersParam;
export type Schema = Record<string, ParamDef>;

type ValueOf<D> = D extends SelectParam<infer V> ? V : D extends { default: infer T } ? (T extends string ? string : T extends number ? number : T) : never;
/** The values of a schema, typed from its definitions. */
export type Values<S extends Schema> = { -readonly [K in keyof S]: ValueOf<S[K]> };

type Options<T> = Omit<T, 'kind'>;
/** Builders that keep each parameter's value type (a select's literal union) for `Values`. */
export const param = {
  int: (o: Options<NumberParam>): NumberParam => ({ kind: 'int', ...o }),
  number: (o: Options<NumberParam>): NumberParam => ({ kind: 'number', ...o }),
  select: <const V extends string>(o: Options<SelectParam<V>>): SelectParam<V> => ({ kind: 'select', ...o }),
  text: (o: Options<TextParam>): TextParam => ({ kind: 'text', ...o }),
  list: (o: Options<ListParam>): ListParam => ({ kind: 'list', ...o }),
  numbers: (o: Options<NumbersParam>): NumbersParam => ({ kind: 'numbers', ...o }),
};

/** The CLI flag of a parameter. */
export function flagOf(key: string, def: ParamDef): string {
  return def.flag ?? key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

export const setupSchema = {
  model: param.text({ url: 'model', label: 'Model', default: 'mnist-small-st', help: 'A zoo model, or your own via "Load model files".' }),
  data: param.text({ url: 'data', label: 'Data', default: 'mnist-test', help: 'Built-in test sets, or your own image folder.' }),
  n: param.int({ url: 'n', label: 'Samples', default: 16, min: 1, max: 1000, step: 1, help: 'Class-balanced sample drawn with the master seed.' }),
  seed: param.int({ url: 'seed', label: 'Master seed', default: 0, min: 0, max: 2 ** 31 - 1, step: 1, help: 'Drives every random choice (sampling, random starts).' }),
  backend: param.select({
    url: 'backend', label: 'Backend', default: 'auto',
    options: [
      { value: 'auto', label: 'auto (measure at start-up, pick the fastest)' },
      { value: 'webgpu', label: 'WebGPU' },
      { value: 'webgl', label: 'WebGL' },
      { value: 'wasm', label: 'WASM' },
      { value: 'cpu', label: 'CPU' },
    ],
  }),
  precision: param.select({
    url: 'prec', label: 'Precision', default: 'float32',
    options: [
      { value: 'float32', label: 'float32' },
      { value: 'float16', label: 'half precision (GPU)' },
    ],
    help: 'Half precision stores weights, activations and gradients as float16 textures on WebGL: half the GPU memory, different numbers (README, ONNX section: a very confident sample can get a zero gradient). WebGPU in tfjs 4.22 has no float16 storage and stays float32; WASM and CPU compute in float32.',
  }),
};

export const attackSchema = {
  attack: param.select({
    url: 'attack', label: 'Attack', default: 'pgd',
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
  }),
  norm: param.select({ url: 'norm', label: 'Norm', default: 'linf', options: [{ value: 'linf', label: 'L∞' }, { value: 'l2', label: 'L2' }] }),
  eps: param.number({ url: 'eps', label: 'ε', default: 0.1, min: 0, max: 50, step: 0.005, help: 'Radius of the threat-model ball in [0,1] pixel units (×255 for 8-bit units); L2 radii can exceed 1.' }),
  steps: param.int({ url: 'steps', label: 'Steps', default: 10, min: 1, max: 1000, step: 1 }),
  stepSize: param.number({ url: 'alpha', label: 'Step size α (0 = auto)', default: 0, min: 0, max: 1, step: 0.001, help: 'PGD/BIM step per iteration; 0 = auto, 2.5·ε/steps (Madry et al. 2018), so the steps can cross the ε ball and back. FGSM takes one step of ε; APGD adapts its own (starting at 2·ε).' }),
  restarts: param.int({ url: 'restarts', label: 'Restarts', default: 1, min: 1, max: 20, step: 1, help: 'APGD-CE/DLR passes over the still-robust points (AutoAttack: 1).' }),
  targets: param.int({ url: 'targets', label: 'Targets', default: 9, min: 1, max: 99, step: 1, help: 'APGD-T / AA-style: target classes by clean-logit rank (AutoAttack: 9).' }),
  targetClass: param.int({ url: 'tgt', label: 'Target class', default: -1, min: -1, max: 999, step: 1, help: 'APGD-T: −1 = the top-k most likely other classes by clean logit (Targets; 1 = the most likely other class); a class index = push every sample toward that class (samples of that class use their most likely other class).' }),
  draws: param.int({ url: 'draws', label: 'Noise draws', default: 10, min: 1, max: 100, step: 1, help: 'Gaussian noise: draws R per image (σ = ε).' }),
};

export const viewSchema = {
  layers: param.list({ url: 'layers', label: 'Layers', default: [], help: 'Tapped layers; empty = the model’s feature layers.', control: false }),
};

export type SetupValues = Values<typeof setupSchema>;
export type AttackValues = Values<typeof attackSchema>;

export type ParamValues = Record<string, unknown>;

export function defaults<S extends Schema>(schema: S): Values<S> {
  return Object.fromEntries(Object.entries(schema).map(([k, d]) => [k, Array.isArray(d.default) ? [...d.default] : d.default])) as Values<S>;
}

function checkRange(def: { label: string; min?: number; max?: number }, v: number): string | undefined {
  if (def.min !== undefined && v < def.min) return `${def.label}: ${v} is below ${def.min}`;
  if (def.max !== undefined && v > def.max) return `${def.label}: ${v} is above ${def.max}`;
  return undefined;
}

/** Coerce and validate one value; returns the default (or the nearest bound) and a reason when invalid. */
export function coerce(def: ParamDef, raw: unknown): { value: unknown; error?: string } {
  switch (def.kind) {
    case 'int':
    case 'number': {
      const v = typeof raw === 'number' ? raw : String(raw).trim() === '' ? NaN : Number(raw);
      if (!Number.isFinite(v)) return { value: def.default, error: `${def.label}: "${raw}" is not a number` };
      if (def.kind === 'int' && !Number.isInteger(v)) return { value: def.default, error: `${def.label}: ${v} is not an integer` };
      const out = checkRange(def, v);
      if (out) return { value: def.min !== undefined && v < def.min ? def.min : def.max, error: out };
      return { value: v };
    }
    case 'select': {
      const v = String(raw);
      if (!def.options.some((o) => o.value === v)) return { value: def.default, error: `${def.label}: unknown value "${v}" (one of ${def.options.map((o) => o.value).join(', ')})` };
      return { value: v };
    }
    case 'list':
      return { value: Array.isArray(raw) ? raw.map(String) : String(raw).split(',').map((s) => s.trim()).filter(Boolean) };
    case 'numbers': {
      const items = Array.isArray(raw) ? raw : String(raw).split(',').map((s) => s.trim()).filter(Boolean);
      const values: number[] = [];
      for (const item of items) {
        const v = typeof item === 'number' ? item : Number(item);
        if (!Number.isFinite(v)) return { value: def.default, error: `${def.label}: "${item}" is not a number` };
        const out = checkRange(def, v);
        if (out) return { value: def.default, error: out };
        values.push(v);
      }
      return { value: values };
    }
    default:
      return { value: String(raw) };
  }
}

function same(a: unknown, b: unknown): boolean {
  return Array.isArray(a) && Array.isArray(b) ? a.length === b.length && a.every((x, i) => x === b[i]) : a === b;
}

/** One value as the URL and the command line write it. */
export function formatValue(v: unknown): string {
  return Array.isArray(v) ? v.join(',') : String(v);
}

/**
 * A group of schemas by name: the lab's parameters are `{ setup: …, attack: …, curve: … }`,
 * one schema per feature, and the URL holds them all under their (unique) short keys.
 */
export type SchemaGroups = Record<string, Schema>;
export type GroupValues<G extends SchemaGroups> = { [K in keyof G]: Values<G[K]> };

/**
 * Serialise grouped values to a URL hash fragment (without '#'): only values that differ from
 * their defaults, so a link says what was chosen and picks up improved defaults later.
 * The master seed is always written, so a shared link states it.
 */
export function toHash(groups: SchemaGroups, values: Record<string, ParamValues | undefined>): string {
  const params = new URLSearchParams();
  for (const [group, schema] of Object.entries(groups)) {
    for (const [key, def] of Object.entries(schema)) {
      const v = values[group]?.[key];
      if (v === undefined) continue;
      if (same(v, def.default) && !(group === 'setup' && key === 'seed')) continue;
      params.set(def.url, formatValue(v));
    }
  }
  return params.toString();
}

/** Parse a hash fragment into grouped values; unknown keys are ignored, invalid values reported. */
export function fromHash(groups: SchemaGroups, hash: string): { values: Record<string, ParamValues>; errors: string[] } {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const values: Record<string, ParamValues> = {};
  const errors: string[] = [];
  for (const [group, schema] of Object.entries(groups)) {
    for (const [key, def] of Object.entries(schema)) {
      const raw = params.get(def.url);
      if (raw === null) continue;
      const { value, error } = coerce(def, raw);
      (values[group] ??= {})[key] = value;
      if (error) errors.push(error);
    }
  }
  return { values, errors };
}

/** URL keys used twice across the groups (must be none: a test checks the lab's groups). */
export function duplicateUrlKeys(groups: SchemaGroups): string[] {
  const seen = new Map<string, number>();
  for (const schema of Object.values(groups)) for (const def of Object.values(schema)) seen.set(def.url, (seen.get(def.url) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([k]) => k);
}

/** A stable key of values (object keys sorted), for result caches. */
export function stableKey(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v));
}
