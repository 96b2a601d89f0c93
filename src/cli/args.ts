/**
 * Shared argument parsing for the CLI's commands: one-line errors, exit 2 for usage.
 *
 * Every numeric option is checked here, in one table (RULES), whichever command reads it:
 * integers where integers are meant (no "1.5", "0x10" or "1e300" taken as-is), ranges where
 * a value outside them would give an empty or meaningless answer (a sample of 0, 0 restarts,
 * a perplexity of 0), seeds in the 32-bit range the seeded generators use.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { escapeControl } from '../core/text';
import { UsageError } from '../node/errors';

// The class lives in the Node layer (which throws it too); CLI code keeps importing it from here.
export { UsageError };

export const COMMON = {
  json: { type: 'boolean' },
  backend: { type: 'string', default: 'auto' },
  seed: { type: 'string', default: '0' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parse(args: string[], options: ParseArgsConfig['options']) {
  try {
    return parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: false, strict: true }).values as Record<string, string | boolean | undefined>;
  } catch (e) {
    const first = (e as Error).message.split('\n')[0];
    // Node's own wording for `--seed -1` points at the fix only on its third line.
    const ambiguous = /^Option '(--[^']+)' argument is ambiguous/.exec(first);
    if (ambiguous) throw new UsageError(`${ambiguous[1]} needs a value; write one starting with "-" as ${ambiguous[1]}=-…`);
    throw new UsageError(escapeControl(first));
  }
}

/** The range of a numeric option. `int`: whole numbers only. Bounds are inclusive unless `above`/`below` say otherwise. */
interface Rule {
  int?: boolean;
  min?: number;
  max?: number;
  /** Strict lower bound (value must be greater). */
  above?: number;
  /** Strict upper bound (value must be smaller). */
  below?: number;
}

/** Seeds feed 32-bit generators (random.ts); anything outside would be silently wrapped. */
export const MAX_SEED = 2 ** 32 - 1;
/** Largest count any option may ask for: beyond it, loops and arrays, not answers. */
export const MAX_COUNT = 2 ** 31 - 1;

const count: Rule = { int: true, min: 1, max: MAX_COUNT };
const nonNegative: Rule = { min: 0 };
const positive: Rule = { above: 0 };

/** Every numeric option of every command, by name. */
export const RULES: Record<string, Rule> = {
  seed: { int: true, min: 0, max: MAX_SEED },
  n: count,
  d: count,
  steps: count,
  restarts: count,
  targets: count,
  'target-class': { int: true, min: 0, max: MAX_COUNT },
  batch: count,
  iters: count,
  'max-iter': count,
  'per-class': count,
  projections: count,
  m: count,
  rounds: count,
  'search-steps': count,
  seeds: count,
  nt: count,
  reps: count,
  P: { int: true, min: 2, max: MAX_COUNT },
  M: count,
  'max-dims': count,
  'probe-dims': count,
  'prefix-dims': count,
  eps: nonNegative,
  'eps-list': nonNegative,
  'max-eps': positive,
  'step-size': positive,
  confidence: nonNegative,
  perplexity: { min: 1 },
  kappa: nonNegative,
  gamma: { above: 0, below: 1 },
  'feas-tol': positive,
  sweep: positive,
};

/** Plain decimal notation: no hex, no "Infinity", no blanks (Number() accepts all three). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const INTEGER = /^[+-]?\d+$/;

function describe(rule: Rule): string {
  if (rule.int && rule.min === 1 && rule.max === MAX_COUNT) return 'a positive integer';
  const parts: string[] = [];
  if (rule.min !== undefined) parts.push(`≥ ${rule.min}`);
  if (rule.above !== undefined) parts.push(`> ${rule.above}`);
  if (rule.max !== undefined && rule.max !== MAX_COUNT) parts.push(`≤ ${rule.max}`);
  if (rule.below !== undefined) parts.push(`< ${rule.below}`);
  return `${rule.int ? 'an integer' : 'a number'}${parts.length ? ` ${parts.join(' and ')}` : ''}`;
}

/** Check one value of option `name` against RULES (a finite number when it has no rule). */
export function checkNumber(text: string, name: string): number {
  const rule = RULES[name] ?? {};
  const shown = escapeControl(text.length > 40 ? `${text.slice(0, 40)}…` : text);
  const v = Number(text);
  const bad = () => new UsageError(`--${name} must be ${describe(rule)} (got "${shown}")`);
  if (!(rule.int ? INTEGER : DECIMAL).test(text) || !Number.isFinite(v)) throw bad();
  if (rule.int && !Number.isSafeInteger(v)) throw bad();
  if (rule.min !== undefined && v < rule.min) throw bad();
  if (rule.max !== undefined && v > rule.max) throw bad();
  if (rule.above !== undefined && !(v > rule.above)) throw bad();
  if (rule.below !== undefined && !(v < rule.below)) throw bad();
  return v;
}

export function num(value: string | boolean | undefined, name: string, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  if (typeof value !== 'string') throw new UsageError(`--${name} needs a value`);
  return checkNumber(value, name);
}

/** A comma-separated list of numbers, each checked by RULES[name]; an empty item is an error, not a zero. */
export function numList(value: string | boolean | undefined, name: string): number[] {
  const text = str(value, name);
  const items = text.split(',').map((x) => x.trim());
  if (items.some((x) => x === '')) throw new UsageError(`--${name} has an empty item in "${escapeControl(text)}"`);
  return items.map((x) => checkNumber(x, name));
}

/** A comma-separated list of names (layers, classes); an empty item is an error, not skipped. */
export function nameList(value: string | boolean | undefined, name: string): string[] {
  const text = str(value, name);
  const items = text.split(',').map((x) => x.trim());
  if (items.some((x) => x === '')) throw new UsageError(`--${name} has an empty item in "${escapeControl(text)}"`);
  return items;
}

export function str(value: string | boolean | undefined, name: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** A sample size checked against the data it is drawn from: at least 1, at most what there is. */
export function sampleSize(value: string | boolean | undefined, available: number, what: string, fallback?: number): number {
  const n = num(value, 'n', fallback === undefined ? undefined : Math.min(fallback, available));
  if (n > available) throw new UsageError(`--n ${n} is more than the ${available} samples in ${escapeControl(what)}`);
  return n;
}

/**
 * Print a result: JSON (which escapes control characters itself) or text, each line with its
 * control characters made visible, so a model or layer name cannot drive the terminal.
 */
export function print(json: boolean | undefined, payload: unknown, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(payload) + '\n' : text().split('\n').map(escapeControl).join('\n') + '\n');
}
