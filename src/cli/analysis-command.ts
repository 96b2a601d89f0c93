/**
 * The CLI's analysis commands, generated from the analysis definitions (issue #20): each
 * `layerwise <kind>` reads its flags, defaults and help from the definition's schema, opens
 * the models and data as the lab does, runs the very same `run`, and prints the definition's
 * summary, or with --json the very result object the lab's worker returns.
 */
import * as tf from '@tensorflow/tfjs';
import type { ParseArgsConfig } from 'node:util';
import { type AnalysisSetup, type AnyAnalysis, cliCommand, resultJson, runParams } from '../core/analyses/define';
import { labDefaults, labHash, patchParams, type LabPatch } from '../core/analyses/lab';
import { attackSchema, coerce, defaults, flagOf, setupSchema, type ParamDef, type Schema } from '../core/schema';
import { checkInputCompatibility, type LabModel } from '../core/model/model';
import { predictAll } from '../core/model/predict';
import { escapeControl } from '../core/text';
import { LabError } from '../core/types';
import { parse, print, str, UsageError } from './args';
import { BUILTIN_DATA, checkAttackable, openData, openModel, setupBackend } from './common';
import { nodeContext, nodeResources } from './host';

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

/** A 0/1 parameter is an on/off switch: the CLI also takes it as a bare flag, meaning 1 (`--epochs` = `--epochs 1`). */
function isSwitch(d: ParamDef): boolean {
  return d.kind === 'int' && d.min === 0 && d.max === 1;
}

/** Bare switches (last, or followed by another option) get their value 1 written in. */
function expandSwitches(args: string[], flags: Map<string, FlagTarget>): string[] {
  return args.map((a, i) => {
    const name = /^--([^=]+)$/.exec(a)?.[1];
    const target = name === undefined ? undefined : flags.get(name);
    if (!target || !isSwitch(target.def)) return a;
    const next = args[i + 1];
    return next === undefined || next.startsWith('-') ? `${a}=1` : a;
  });
}

function parseOptions(def: AnyAnalysis, flags: Map<string, FlagTarget>): ParseArgsConfig['options'] {
  const options: NonNullable<ParseArgsConfig['options']> = { model: { type: 'string' }, data: { type: 'string' }, compare: { type: 'string' }, url: { type: 'boolean' } };
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
}

/** Parse an analysis command's arguments into the values its run receives (usage errors exit 2). */
export function parseAnalysisArgs(def: AnyAnalysis, args: string[]): ParsedAnalysisArgs {
  const flags = flagsOf(def);
  const v = parse(expandSwitches(args, flags), parseOptions(def, flags));
  const setup = { ...defaults(setupSchema), model: str(v.model, 'model'), data: str(v.data, 'data') };
  setup.seed = parseFlag('seed', setupSchema.seed, String(v.seed)) as number;
  const attack: Record<string, unknown> = { ...defaults(attackSchema) };
  const own: Record<string, unknown> = { ...defaults(def.schema) };
  for (const [f, legacy] of Object.entries(def.cliLegacy ?? {})) if (v[f] !== undefined && v[f] !== false) legacy.apply(v[f] as string | true, own, attack);
  for (const [f, target] of flags) {
    const text = v[f];
    if (text === undefined) continue;
    const value = parseFlag(f, target.def, String(text));
    (target.group === 'setup' ? (setup as Record<string, unknown>) : target.group === 'attack' ? attack : own)[target.key] = value;
  }
  const layers = def.uses.layers && typeof v.layers === 'string' ? (parseFlag('layers', { kind: 'list', url: 'layers', label: 'Layers', default: [] }, v.layers) as string[]) : [];
  const compare = typeof v.compare === 'string' ? v.compare : '';
  return {
    setup: { setup, compare, attack: attack as AnalysisSetup['attack'], layers },
    own,
    backend: String(v.backend),
    json: !!v.json,
    url: !!v.url,
  };
}

/** The lab URL that opens this analysis with these values. */
export function labUrlOf(def: AnyAnalysis, parsed: ParsedAnalysisArgs, base = process.env.LAYERWISE_LAB_URL || DEFAULT_LAB_URL): string {
  const setup = { ...parsed.setup.setup, data: BUILTIN_DATA[parsed.setup.setup.data] ?? parsed.setup.setup.data };
  const patch = { setup, attack: parsed.setup.attack, view: { layers: parsed.setup.layers }, lab: { view: def.kind, compare: parsed.setup.compare }, [def.kind]: parsed.own } as unknown as LabPatch;
  return `${base.replace(/#.*$/, '')}#${labHash(patchParams(labDefaults(), patch))}`;
}

/** Samples the CLI runs through a model before the analysis: non-finite logits refuse here, with the layer. */
const PROBE_SAMPLES = 2;

export async function runAnalysisCommand(def: AnyAnalysis, args: string[]): Promise<void> {
  const parsed = parseAnalysisArgs(def, args);
  if (parsed.url) {
    process.stdout.write(labUrlOf(def, parsed) + '\n');
    return;
  }
  const backend = await setupBackend({ backend: parsed.backend });
  const { setup } = parsed.setup;
  const ids = { a: setup.model, b: parsed.setup.compare || null };
  const owned: LabModel[] = [];
  const resources = nodeResources(ids);
  try {
    const a = await openModel(setup.model);
    owned.push(a);
    const b = ids.b ? await openModel(ids.b) : null;
    if (b) owned.push(b);
    const dataset = await openData(setup.data);
    for (const m of owned) checkInputCompatibility(m, dataset);
    if (b && b.numClasses !== a.numClasses) throw new LabError(`compare model has ${b.numClasses} classes, model A has ${a.numClasses}`);
    if (def.uses.attack) checkAttackable(dataset);
    const per = dataset.height * dataset.width * dataset.channels;
    const probe = Math.min(PROBE_SAMPLES, dataset.n);
    if (probe === 0) throw new LabError(`dataset ${escapeControl(dataset.id)} has no samples`);
    for (const m of owned) await predictAll(m, dataset.images.subarray(0, probe * per), dataset.labels.subarray(0, probe), [dataset.height, dataset.width, dataset.channels]);
    const ctx = nodeContext({ a, b }, ids, dataset, setup.seed, backend.active, resources);
    const params = runParams(def, parsed.setup, parsed.own as never);
    const result = await def.run(ctx, params, {}, () => undefined);
    const command = cliCommand(def, parsed.setup, parsed.own);
    const payload = { analysis: def.kind, model: setup.model, compare: ids.b, data: dataset.id, seed: setup.seed, backend: backend.active, versions: { tfjs: tf.version.tfjs }, command, result };
    if (parsed.json) process.stdout.write(resultJson(payload) + '\n');
    else print(false, payload, () => `${def.title}: ${setup.model}${ids.b ? ` vs ${ids.b}` : ''} on ${dataset.id} (seed ${setup.seed}, ${backend.active})\n${def.summarise(result, params)}`);
  } finally {
    resources.dispose();
    for (const m of owned) m.dispose();
  }
}

/** The help of one analysis command, generated from its definition. */
export function analysisHelp(def: AnyAnalysis): string {
  const lines = [`usage: layerwise ${def.kind} --model M --data D [--compare M2] [options]${def.cliAliases?.length ? `   (also: ${def.cliAliases.join(', ')})` : ''}`, `  ${def.summary}`];
  const row = (flag: string, d: ParamDef) => {
    const values = d.kind === 'select' ? d.options.map((o) => o.value).join('|') : isSwitch(d) ? '0|1' : d.kind;
    const dflt = Array.isArray(d.default) ? d.default.join(',') || '(none)' : String(d.default);
    lines.push(`  --${flag.padEnd(14)} ${values.padEnd(12)} default ${dflt.padEnd(10)} ${d.label}${d.help ? `: ${d.help}` : ''}`);
  };
  for (const [f, t] of flagsOf(def)) if (f === flagOf(t.key, t.def)) row(f, t.def);
  if (def.uses.layers) lines.push(`  --layers         a,b,…        default (the model's feature layers)`);
  for (const [f, legacy] of Object.entries(def.cliLegacy ?? {})) lines.push(`  --${f.padEnd(14)} ${legacy.help}`);
  if ([...flagsOf(def).values()].some((t) => isSwitch(t.def))) lines.push('  a 0|1 switch given alone (--flag) means 1');
  lines.push('  common: --json (the result object the lab receives)  --url (print the lab URL of this run)  --seed S  --backend auto|cpu|wasm');
  return lines.join('\n');
}
