/**
 * The CLI's analysis commands, generated from the analysis definitions (issue #20): each
 * `layerwise <kind>` reads its flags, defaults and help from the definition's schema, opens
 * the models and data as the lab does, runs the very same `run`, and prints the definition's
 * summary, or with --json the very result object the lab's worker returns.
 */
import * as tf from '@tensorflow/tfjs';
import type { ParseArgsConfig } from 'node:util';
import { type AnalysisEstimate, type AnalysisSetup, type AnyAnalysis, cliCommand, estimateAnalysis, quote, resultJson, runParams, type RunParams } from '../core/analyses/define';
import { formatSeconds } from '../core/analyses/estimate';
import type { Norm } from '../core/attacks/common';
import { threatModel } from '../core/attacks/threat';
import { labDefaults, labHash, patchParams, type LabPatch } from '../core/analyses/lab';
import { attackSchema, coerce, defaults, flagOf, formatValue, setupSchema, type ParamDef, type Schema } from '../core/schema';
import { checkInputCompatibility, type LabModel } from '../core/model/model';
import { namedByModel } from '../core/model/classNames';
import { predictAll } from '../core/model/predict';
import { escapeControl } from '../core/text';
import { LabError, type ImageDataset } from '../core/types';
import { parse, print, str, UsageError } from './args';
import { setupBackend } from '../node/backend';
import { nodeContext, nodeResources } from '../node/host';
import { BUILTIN_DATA, checkAttackable, openData, openModel } from '../node/open';

/** Where `npm start` serves the lab; --url prints links against it (LAYERWISE_LAB_URL overrides). */
export const DEFAULT_LAB_URL = 'http://127.0.0.1:5173/';

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const INTEGER = /^[+-]?\d+$/;

function describeRange(def: ParamDef): string {
  if (def.kind !== 'int' && def.kind !== 'number' && def.kind !== 'numbers') return '';
  const parts: string[] = [];
  if (def.min !== undefined) parts.push(`≥ ${def.min}`);
  if (def.max !== undefined) parts.push(`≤ ${def.max}`);
  return parts.length ? ` ${parts.join(' and ')}` : '';
}

/** One flag's text as a schema value; plain decimal notation only (no hex, no "Infinity"), an empty list item is an error. */
export function parseFlag(flag: string, def: ParamDef, text: string): unknown {
  const shown = escapeControl(text.length > 40 ? `${text.slice(0, 40)}…` : text);
  const what = def.kind === 'int' ? 'an integer' : def.kind === 'number' ? 'a number' : def.kind === 'numbers' ? 'a comma list of numbers' : def.kind === 'select' ? `one of ${def.options.map((o) => o.value).join(', ')}` : 'a value';
  const bad = () => new UsageError(`--${flag} must be ${what}${describeRange(def)} (got "${shown}")`);
  if (def.kind === 'int' && !INTEGER.test(text.trim())) throw bad();
  if (def.kind === 'number' && !DECIMAL.test(text.trim())) throw bad();
  if (def.kind === 'list' || def.kind === 'numbers') {
    const items = text.split(',').map((x) => x.trim());
    if (text.trim() !== '' && items.some((x) => x === '')) throw new UsageError(`--${flag} has an empty item in "${shown}"`);
    if (def.kind === 'numbers' && items.some((x) => x !== '' && !DECIMAL.test(x))) throw bad();
  }
  const { value, error } = coerce(def, text);
  if (error) throw bad();
  return value;
}

interface FlagTarget {
  group: 'setup' | 'attack' | 'own';
  key: string;
  def: ParamDef;
}

/** Every flag of an analysis command: the setup, the shared values it uses, its own, with aliases. */
export function flagsOf(def: AnyAnalysis): Map<string, FlagTarget> {
  const flags = new Map<string, FlagTarget>();
  const add = (group: FlagTarget['group'], schema: Schema, only?: string[]) => {
    for (const [key, d] of Object.entries(schema)) {
      if (only && !only.includes(key)) continue;
      for (const f of [flagOf(key, d), ...(d.aliases ?? [])]) flags.set(f, { group, key, def: d });
    }
  };
  if (def.uses.sample) add('setup', setupSchema, ['n']);
  if (def.uses.attack) add('attack', attackSchema);
  add('own', def.schema);
  return flags;
}

function parseOptions(def: AnyAnalysis, flags: Map<string, FlagTarget>): ParseArgsConfig['options'] {
  const options: NonNullable<ParseArgsConfig['options']> = { model: { type: 'string' }, data: { type: 'string' }, compare: { type: 'string' }, url: { type: 'boolean' }, estimate: { type: 'boolean' }, labels: { type: 'string' } };
  if (def.uses.layers) options.layers = { type: 'string' };
  for (const f of flags.keys()) options[f] = { type: 'string' };
  for (const [f, legacy] of Object.entries(def.cliLegacy ?? {})) options[f] = { type: legacy.boolean ? 'boolean' : 'string' };
  return options;
}

export interface ParsedAnalysisArgs {
  setup: AnalysisSetup;
  own: Record<string, unknown>;
  backend: string;
  json: boolean;
  url: boolean;
  /** Print how long the run would take here instead of running it. */
  estimate: boolean;
  /** Whether --eps was given; without it ε is the data's threat-model start (core/attacks/threat.ts), as in the lab. */
  epsStated: boolean;
  /** --labels: model A's class names (labels.txt or a JSON list), which then name the classes of the run. */
  labels?: string;
}

/** A 0/1 parameter (an int from 0 to 1) is an on/off switch: written bare (`--box`, `--epochs`) it means 1, as the older boolean flags did. */
function isSwitch(d: ParamDef): boolean {
  return d.kind === 'int' && d.min === 0 && d.max === 1;
}

function bareSwitches(def: AnyAnalysis, args: string[], flags: Map<string, FlagTarget>): string[] {
  return args.map((a, i) => {
    const f = a.startsWith('--') ? a.slice(2) : '';
    const target = flags.get(f);
    if (!target || !isSwitch(target.def) || def.cliLegacy?.[f]) return a;
    const next = args[i + 1];
    return next === undefined || next.startsWith('--') ? `${a}=1` : a;
  });
}

/**
 * Parse an analysis command's arguments into the values its run receives (usage errors exit 2).
 * A `cliLegacy` entry named like a parameter's flag reads that flag itself (e.g. `--perturb
 * gaussian:0.1` as well as `--perturb gaussian`); every own value is then checked against the schema.
 */
export function parseAnalysisArgs(def: AnyAnalysis, args: string[]): ParsedAnalysisArgs {
  const flags = flagsOf(def);
  const v = parse(bareSwitches(def, args, flags), parseOptions(def, flags));
  const setup = { ...defaults(setupSchema), model: str(v.model, 'model'), data: str(v.data, 'data') };
  setup.seed = parseFlag('seed', setupSchema.seed, String(v.seed)) as number;
  const attack: Record<string, unknown> = { ...defaults(attackSchema) };
  const own: Record<string, unknown> = { ...defaults(def.schema) };
  for (const [f, legacy] of Object.entries(def.cliLegacy ?? {})) if (v[f] !== undefined && v[f] !== false) legacy.apply(v[f] as string | true, own, attack);
  for (const [f, target] of flags) {
    const text = v[f];
    if (text === undefined || def.cliLegacy?.[f]) continue;
    const value = parseFlag(f, target.def, String(text));
    (target.group === 'setup' ? (setup as Record<string, unknown>) : target.group === 'attack' ? attack : own)[target.key] = value;
  }
  // Values a legacy flag set are held to the schema like any other (same one-line message).
  for (const [key, d] of Object.entries(def.schema as Schema)) parseFlag(flagOf(key, d), d, formatValue(own[key]));
  for (const [key, d] of Object.entries(attackSchema)) parseFlag(flagOf(key, d), d, formatValue(attack[key]));
  const layers = def.uses.layers && typeof v.layers === 'string' ? (parseFlag('layers', { kind: 'list', url: 'layers', label: 'Layers', default: [] }, v.layers) as string[]) : [];
  const compare = typeof v.compare === 'string' ? v.compare : '';
  return {
    setup: { setup, compare, attack: attack as AnalysisSetup['attack'], layers },
    own,
    backend: String(v.backend),
    json: !!v.json,
    url: !!v.url,
    estimate: !!v.estimate,
    epsStated: v.eps !== undefined || Object.keys(def.cliLegacy ?? {}).some((f) => v[f] !== undefined && v[f] !== false),
    ...(typeof v.labels === 'string' ? { labels: v.labels } : {}),
  };
}

/** The lab URL that opens this analysis with these values. */
export function labUrlOf(def: AnyAnalysis, parsed: ParsedAnalysisArgs, base = process.env.LAYERWISE_LAB_URL || DEFAULT_LAB_URL): string {
  const setup = { ...parsed.setup.setup, data: BUILTIN_DATA[parsed.setup.setup.data] ?? parsed.setup.setup.data };
  const patch = { setup, attack: parsed.setup.attack, view: { layers: parsed.setup.layers }, lab: { view: def.kind, compare: parsed.setup.compare }, [def.kind]: parsed.own } as unknown as LabPatch;
  const hash = labHash(patchParams(labDefaults(), patch));
  // A stated ε is written even when it is the schema's default: the lab would otherwise open at the data's threat-model start.
  const eps = parsed.epsStated && def.uses.attack && def.uses.eps !== false && !/(^|&)eps=/.test(hash) ? `&eps=${parsed.setup.attack.eps}` : '';
  return `${base.replace(/#.*$/, '')}#${hash}${eps}`;
}

/** Samples the CLI runs through a model before the analysis: non-finite logits refuse here, with the layer. */
const PROBE_SAMPLES = 2;

/**
 * Run an analysis from parsed arguments as the lab does: open the models and the data, check
 * they fit and that the models give finite logits, build the Node context, run the definition.
 * The command prints the result; the definitions' tests call this directly for the typed result.
 */
export async function runParsedAnalysis<R = unknown>(
  def: AnyAnalysis,
  given: ParsedAnalysisArgs,
): Promise<{ result: R; params: RunParams<Schema>; dataset: ImageDataset; backend: string; estimate: AnalysisEstimate | null; setup: AnalysisSetup }> {
  let parsed = given;
  const backend = await setupBackend({ backend: parsed.backend });
  const { setup } = parsed.setup;
  const ids = { a: setup.model, b: parsed.setup.compare || null };
  const owned: LabModel[] = [];
  const resources = nodeResources(ids);
  try {
    const a = await openModel(setup.model, parsed.labels === undefined ? {} : { labels: parsed.labels });
    owned.push(a);
    const b = ids.b ? await openModel(ids.b) : null;
    if (b) owned.push(b);
    const dataset = await openData(setup.data);
    for (const m of owned) checkInputCompatibility(m, dataset);
    if (b && b.numClasses !== a.numClasses) throw new LabError(`compare model has ${b.numClasses} classes, model A has ${a.numClasses}`);
    if (def.uses.attack) checkAttackable(dataset);
    if (def.uses.attack && !parsed.epsStated) {
      const attack = parsed.setup.attack;
      parsed = { ...parsed, setup: { ...parsed.setup, attack: { ...attack, eps: threatModel({ height: dataset.height, width: dataset.width, channels: dataset.channels }, attack.norm as Norm).start } } };
    }
    const per = dataset.height * dataset.width * dataset.channels;
    const probe = Math.min(PROBE_SAMPLES, dataset.n);
    if (probe === 0) throw new LabError(`dataset ${escapeControl(dataset.id)} has no samples`);
    for (const m of owned) await predictAll(m, dataset.images.subarray(0, probe * per), dataset.labels.subarray(0, probe), [dataset.height, dataset.width, dataset.channels]);
    // Model A's own class names (--labels) name the classes, as in the lab (workers/lab.worker.ts).
    const ctx = nodeContext({ a, b }, ids, namedByModel(dataset, a), setup.seed, backend.active, resources);
    const params = runParams(def, parsed.setup, parsed.own as never);
    if (parsed.estimate) return { result: null as R, params, dataset, backend: backend.active, estimate: await estimateAnalysis(def, ctx, params), setup: parsed.setup };
    const result = (await def.run(ctx, params, {}, () => undefined)) as R;
    return { result, params, dataset, backend: backend.active, estimate: null, setup: parsed.setup };
  } finally {
    resources.dispose();
    for (const m of owned) m.dispose();
  }
}

export async function runAnalysisCommand(def: AnyAnalysis, args: string[]): Promise<void> {
  const parsed = parseAnalysisArgs(def, args);
  if (parsed.url) {
    process.stdout.write(labUrlOf(def, parsed) + '\n');
    return;
  }
  const run = await runParsedAnalysis(def, parsed);
  const { result, params, dataset, backend, estimate } = run;
  // The values that ran (ε resolved from the data's threat model when --eps was not given).
  const resolved = { ...parsed, setup: run.setup };
  const { setup, compare } = resolved.setup;
  if (estimate) {
    const { seconds, throughput: t } = estimate;
    const payload = { analysis: def.kind, model: setup.model, compare: compare || null, data: dataset.id, backend, estimate: { seconds, throughput: t } };
    print(parsed.json, payload, () =>
      `${def.title}: ${formatSeconds(seconds)} here (${seconds.toFixed(1)} s; ${backend}: ${(t.gradient.a * 1e3).toFixed(2)} ms per input gradient and ${(t.forward.a * 1e3).toFixed(2)} ms per forward pass of one image through ${setup.model}, ${(t.operation * 1e9).toFixed(2)} ns per arithmetic operation)`,
    );
    return;
  }
  // The names are checked against the model (a wrong count is refused), so the command that reproduces the run keeps them.
  const command = cliCommand(def, resolved.setup, resolved.own) + (parsed.labels === undefined ? '' : ` --labels ${quote(parsed.labels)}`);
  // `request` is what the lab's worker receives for the same run (window.layerwise.analysis takes it).
  const payload = { analysis: def.kind, model: setup.model, compare: compare || null, data: dataset.id, seed: setup.seed, backend, versions: { tfjs: tf.version.tfjs }, command, request: { setup: resolved.setup, own: resolved.own }, result };
  if (parsed.json) process.stdout.write(resultJson(payload) + '\n');
  else print(false, payload, () => `${def.title}: ${setup.model}${compare ? ` vs ${compare}` : ''} on ${dataset.id} (seed ${setup.seed}, ${backend})\n${def.summarise(result, params)}`);
}

/** The help of one analysis command, generated from its definition. */
export function analysisHelp(def: AnyAnalysis): string {
  const lines = [`usage: layerwise ${def.kind} --model M --data D [--compare M2] [options]${def.cliAliases?.length ? `   (also: ${def.cliAliases.join(', ')})` : ''}`, `  ${def.summary}`];
  const row = (flag: string, d: ParamDef) => {
    const values = d.kind === 'select' ? d.options.map((o) => o.value).join('|') : isSwitch(d) ? '0|1 (bare = 1)' : d.kind;
    const dflt = Array.isArray(d.default) ? d.default.join(',') || '(none)' : String(d.default);
    lines.push(`  --${flag.padEnd(14)} ${values.padEnd(12)} default ${dflt.padEnd(10)} ${d.label}${d.help ? `: ${d.help}` : ''}`);
  };
  for (const [f, t] of flagsOf(def)) if (f === flagOf(t.key, t.def)) row(f, t.def);
  if (def.uses.layers) lines.push(`  --layers         a,b,…        default (the model's feature layers)`);
  for (const [f, legacy] of Object.entries(def.cliLegacy ?? {})) lines.push(`  --${f.padEnd(14)} ${legacy.help}`);
  if ([...flagsOf(def).values()].some((t) => isSwitch(t.def))) lines.push('  a 0|1 switch given alone (--flag) means 1');
  lines.push('  common: --json (the result object the lab receives)  --url (print the lab URL of this run)  --estimate (how long it would take here)  --seed S  --backend auto|cpu|wasm');
  lines.push('          --labels FILE (model A\'s class names: a labels.txt with one per line or a JSON list)');
  return lines.join('\n');
}
