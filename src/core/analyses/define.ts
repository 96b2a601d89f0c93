/**
 * One analysis, one definition (issue #20). An analysis kind is one object: its parameter
 * schema (defaults, validation, lab controls, URL keys, CLI flags, help), its `run`, its typed
 * result and partial, and a plain-text summariser. The lab's worker registry, the CLI's
 * commands, the URL and the cache keys are all generated from the list of definitions
 * (./index.ts), so the lab and the CLI run the very same pipeline and print the same numbers.
 *
 * How to add one: src/core/ANALYSES.md.
 */
import { flagOf, formatValue, stableKey, type AttackValues, type Schema, type SetupValues, type Values, attackSchema, setupSchema } from '../schema';
import type { JobControl } from '../types';
import type { AnalysisContext, Emit } from './context';
import { secondsOf, throughputOf, type Cost, type Throughput } from './estimate';
import { attackFamily } from '../attacks/shared';
import { attackBatchSize } from '../attacks/runner';
import type { AttackSpec } from '../attacks/types';
import { classBalancedSample } from '../data/sampler';

/** What `run` receives: the analysis's own values plus the shared ones it declared in `uses`. */
export type RunParams<S extends Schema> = Values<S> & {
  /** The attack panel's values (when `uses.attack`; otherwise the defaults). */
  attack: AttackValues;
  /** Requested layers, [] = the model's feature layers (resolve with `tappedLayers`). */
  layers: string[];
  /** The lab's sample size (setup n), for analyses that run on the strip's sample (`uses.sample`). */
  sampleSize: number;
};

export interface AnalysisDefinition<S extends Schema = Schema, R = unknown, P = R, K extends string = string> {
  /** The CLI command, the lab's view (URL `view=`) and the result cache's name. */
  kind: K;
  /** Tab label in the lab and the title of the CLI's help entry. */
  title: string;
  /** One line for `layerwise --help`. */
  summary: string;
  /** Older CLI command names that still run this analysis (e.g. `overlap` for t-SNE). */
  cliAliases?: string[];
  /** Older `view=` values in URLs that still open this view. */
  viewAliases?: string[];
  schema: S;
  /** Which shared parameters it reads (they become its CLI flags and part of its cache key). */
  uses: { attack?: boolean; layers?: boolean; sample?: boolean; /** false: reads the attack panel but not its ε (its own ladder replaces it). */ eps?: boolean };
  /**
   * Flags of the CLI command this analysis replaced that do not map one-to-one onto a
   * parameter (e.g. `--perturb gaussian:0.1`): each sets parameter values; `boolean` ones take no value.
   * An entry named like a parameter's flag reads that flag itself, so it must accept the
   * parameter's own values too; the values it sets are then checked against the schema.
   * (A 0/1 int parameter needs no entry for its older boolean form: `--box` alone means 1.)
   */
  cliLegacy?: Record<string, { boolean?: boolean; help: string; apply(value: string | true, own: Record<string, unknown>, attack: Record<string, unknown>): void }>;
  /** Results are large typed arrays the worker transfers rather than copies (it keeps no reference). */
  transfer?: boolean;
  run(ctx: AnalysisContext, params: RunParams<S>, control: JobControl, emit: Emit<P>): Promise<R>;
  /**
   * The work `run` will do, in units the host prices by measuring them (estimate.ts): the
   * lab shows "≈ 40 s" next to Run, the CLI prints it with --estimate.
   */
  cost(ctx: AnalysisContext, params: RunParams<S>): Cost | Promise<Cost>;
  /** A plain-text summary of a result (the CLI's default output). */
  summarise(result: R, params: RunParams<S>): string;
}

// The registry holds definitions of different schemas and results; their own code stays typed.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyAnalysis = AnalysisDefinition<any, any, any, string>;

/** Identity with type inference: `defineAnalysis({...})` keeps the schema's and result's types. */
export function defineAnalysis<S extends Schema, R, P = R, const K extends string = string>(def: AnalysisDefinition<S, R, P, K>): AnalysisDefinition<S, R, P, K> {
  return def;
}

/** The result type of a definition. */
export type ResultOf<D> = D extends { run(...args: never[]): Promise<infer R> } ? R : never;

/** Everything that decides an analysis's numbers: the setup, the shared values it uses, its own values. */
export interface AnalysisSetup {
  setup: Pick<SetupValues, 'model' | 'data' | 'seed' | 'n'> & Partial<Pick<SetupValues, 'precision'>>;
  compare: string;
  attack: AttackValues;
  layers: string[];
}

/** The `run` parameters of a definition from the setup and its own values. */
export function runParams<S extends Schema>(def: AnalysisDefinition<S, unknown, unknown>, setup: AnalysisSetup, own: Values<S>): RunParams<S> {
  return { ...own, attack: setup.attack, layers: def.uses.layers ? setup.layers : [], sampleSize: setup.setup.n };
}

/**
 * The cache key of a result: the analysis, the models and data, the seed, and exactly the
 * parameters it reads (a change of ε does not invalidate a result that ignores the attack).
 */
export function analysisKey(def: AnyAnalysis, setup: AnalysisSetup, own: Record<string, unknown>): string {
  return stableKey({
    kind: def.kind, model: setup.setup.model, compare: setup.compare, data: setup.setup.data, seed: setup.setup.seed,
    ...(def.uses.sample ? { n: setup.setup.n } : {}),
    ...(def.uses.attack ? { attack: def.uses.eps === false ? { ...setup.attack, eps: null } : setup.attack } : {}),
    ...(def.uses.layers ? { layers: setup.layers } : {}),
    // Backends give the same numbers within float32 rounding, so the backend is not in the key;
    // half precision (core/precision.ts) gives other numbers, so a float16 result keys apart.
    ...(setup.setup.precision === 'float16' ? { precision: 'float16' } : {}),
    own,
  });
}

/** A shell word: as is when plain, else single-quoted. */
export function quote(v: string): string {
  return /^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
}

/**
 * The `layerwise` command that reproduces a result: the definition's command with the setup
 * and every value that differs from its default (the CLI fills in the same defaults).
 */
export function cliCommand(def: AnyAnalysis, setup: AnalysisSetup, own: Record<string, unknown>): string {
  const parts = ['layerwise', def.kind, '--model', quote(setup.setup.model), '--data', quote(setup.setup.data)];
  if (setup.compare) parts.push('--compare', quote(setup.compare));
  if (setup.setup.seed !== 0) parts.push('--seed', String(setup.setup.seed));
  const add = (schema: Schema, values: Record<string, unknown>, always: string[] = []) => {
    for (const [key, d] of Object.entries(schema)) {
      const v = values[key];
      if (v === undefined || (formatValue(v) === formatValue(d.default) && !always.includes(key))) continue;
      parts.push(`--${flagOf(key, d)}`, quote(formatValue(v)));
    }
  };
  if (def.uses.sample) add({ n: setupSchema.n }, { n: setup.setup.n });
  // ε always stated where it is read: without it each side would use its data's threat-model start.
  if (def.uses.attack) add(attackSchema, setup.attack, def.uses.eps === false ? [] : ['eps']);
  if (def.uses.layers && setup.layers.length) parts.push('--layers', quote(setup.layers.join(',')));
  add(def.schema, own);
  return parts.join(' ');
}

/**
 * A result as JSON text: typed arrays as arrays, non-finite numbers as null (JSON has no
 * Infinity). The CLI's --json prints exactly this, and the parity tests compare it.
 */
export function resultJson(value: unknown, space?: number): string {
  return JSON.stringify(
    value,
    (_k, v) => {
      if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>, (x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x));
      if (typeof v === 'number' && !Number.isFinite(v)) return null;
      if (v instanceof Map) return Object.fromEntries(v);
      return v;
    },
    space,
  );
}

export interface AnalysisEstimate {
  /** Predicted wall time of `run` in seconds. */
  seconds: number;
  cost: Cost;
  throughput: Throughput;
}

/** How long `run` will take with these parameters on this machine, before running it. */
export async function estimateAnalysis<S extends Schema>(def: AnalysisDefinition<S, unknown, unknown>, ctx: AnalysisContext, params: RunParams<S>): Promise<AnalysisEstimate> {
  // Attacks the host already holds (attacks/shared.ts) cost nothing but their re-evaluation.
  const cost = (await def.cost(ctx, params)).map((part) => (part.attack && attackIsShared(ctx, part.which ?? 'a', part.attack.spec, part.attack.n) ? { ...part, gradients: 0 } : part));
  const throughput = await throughputOf(ctx.models, [ctx.dataset.height, ctx.dataset.width, ctx.dataset.channels]);
  return { seconds: secondsOf(cost, throughput), cost, throughput };
}

function attackIsShared(ctx: AnalysisContext, which: 'a' | 'b', spec: AttackSpec, n: number): boolean {
  const model = ctx.models[which];
  const modelId = ctx.modelIds[which];
  if (!model || !modelId || !ctx.resources.attacks) return false;
  const ds = ctx.dataset;
  const indices = classBalancedSample(ds.labels, ds.classNames.length, Math.min(n, ds.n), ctx.seed);
  const family = attackFamily({ modelId, dataId: ds.id, seed: ctx.seed }, spec, [ds.height, ds.width, ds.channels]);
  return ctx.resources.attacks.has(family, indices, attackBatchSize(model.logits, indices.length), spec);
}
