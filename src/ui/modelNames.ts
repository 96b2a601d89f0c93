/**
 * A and B named by their model in every legend (issue #21): "A mnist-small-st", never "A"
 * or "compare" alone. A user model is named by its file, a model URL by its last path part.
 */
import { useMemo } from 'react';
import { threatOf } from './threat';
import { useLab } from './store';

export function shortModelName(id: string): string {
  if (!id) return '';
  if (id.startsWith('user:')) return id.slice(5);
  if (/^https?:\/\//.test(id) || id.includes('/')) {
    const parts = id.split(/[?#]/)[0].split('/').filter(Boolean);
    const last = parts.at(-1) ?? id;
    // "…/my-model/model.json" is better named by its folder.
    return /^model\.json$/i.test(last) && parts.length > 1 ? parts.at(-2)! : last;
  }
  return id;
}

export interface ModelNames {
  /** "A <model>" */
  a: string;
  /** "B <model>", or null without a compare model. */
  b: string | null;
}

/** Legend names of A and B; `which` picks one for series that carry a letter. */
export function modelNamesOf(modelA: string, modelB: string): ModelNames {
  return { a: `A ${shortModelName(modelA)}`.trim(), b: modelB ? `B ${shortModelName(modelB)}` : null };
}

export function useModelNames(): ModelNames {
  const a = useLab((s) => s.params.setup.model);
  const b = useLab((s) => s.params.lab.compare);
  // One object per (A, B), so charts memoised on it do not redraw on every render.
  return useMemo(() => modelNamesOf(a, b), [a, b]);
}

/** "A …"/"B …" for a model letter of a result. */
export function nameOf(names: ModelNames, which: 'A' | 'B' | 'a' | 'b'): string {
  return which.toUpperCase() === 'A' ? names.a : (names.b ?? 'B');
}

/**
 * The fixed range of the lab's threat model (the ε slider's range for this norm and data
 * set): ε colours are placed on it, so they never depend on the ladder shown.
 */
export function useEpsRangeMax(): number {
  return useLab((s) => threatOf(s.params).max);
}
