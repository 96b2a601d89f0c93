/** Shared argument parsing for the CLI's commands: one-line errors, exit 2 for usage. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

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
    throw new UsageError((e as Error).message.split('\n')[0]);
  }
}

export function num(value: string | boolean | undefined, name: string, fallback?: number): number {
  if (value === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  const v = Number(value);
  if (!Number.isFinite(v)) throw new UsageError(`--${name} must be a number (got "${value}")`);
  return v;
}

export function str(value: string | boolean | undefined, name: string): string {
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}


export function print(json: boolean | undefined, payload: unknown, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(payload) + '\n' : text() + '\n');
}
