/**
 * The one zustand store (STYLE.md convention 11): serialisable state only, sliced by
 * concern: params (the URL save file), environment (backend, loaded model/data
 * summaries), jobs, results by key, selection. No tensors, DOM nodes or worker handles:
 * those live in controller.ts.
 */
import { create } from 'zustand';
import type { BackendState } from '../core/backend';
import { labDefaults, patchParams, type LabParams, type LabPatch, type LabView } from '../core/analyses/lab';
import type { SliceModelResult } from '../core/analysis/definition';
import type { DatasetSummary, ModelSummary, SampleData } from '../../workers/lab.worker';
import type { CacheEntry } from './resultCache';
import type { MismatchFix } from './byo';

/** Every value of the lab, nested per feature and typed from the schemas (core/analyses/lab.ts). */
export type Params = LabParams;
export type ParamsPatch = LabPatch;
export type ViewName = LabView;

export const DEFAULT_PARAMS: Params = labDefaults();

/** One analysis view's job and result (the result types come from src/core/jobs). */
export interface AnalysisState {
  /** Key of the parameters the result belongs to. */
  key: string;
  status: 'running' | 'done' | 'cancelled' | 'error';
  fraction: number;
  message: string;
  result: unknown;
  error?: string;
  /** When the run started and finished (ms since the epoch), for the ETA and "took 12 s". */
  startedAt?: number;
  finishedAt?: number;
}

/** One model's ε-slice result as the main view shows it: the numbers plus where it sits on the ε ladder. */
export interface StoredResult extends SliceModelResult {
  key: string;
  /** Key of everything except ε: results sharing it form the ε ladder. */
  ladderKey: string;
  eps: number;
  preview: boolean;
}

/** The cache entry of an ε slice, with A's and B's results ready for the views. */
export interface SliceEntry extends CacheEntry {
  ladderKey: string;
  eps: number;
  preview: boolean;
  slice: { a: StoredResult; b: StoredResult | null };
}

export interface ZooEntry {
  id: string;
  label: string;
  dataset: string;
  architecture?: string;
  method?: string;
  cleanAccuracy?: number;
  /** Training epochs of the shipped model (the last row after its snapshots). */
  epochs?: number;
  /** Training snapshots of this model in the zoo. */
  snapshots?: { epoch: number; id: string }[];
}

export interface DataEntry {
  id: string;
  name: string;
  n: number;
  height: number;
  width: number;
  channels: number;
  source?: string;
}

export interface JobState {
  id: number;
  kind: 'load' | 'sample' | 'slice';
  label: string;
  fraction: number;
  message: string;
  status: 'running' | 'done' | 'cancelled' | 'error';
  preview?: boolean;
  /** When it started (ms since the epoch), for the time left. */
  startedAt?: number;
}


export interface LabState {
  params: Params;
  backend: BackendState | null;
  zoo: ZooEntry[];
  datasets: DataEntry[];
  model: ModelSummary | null;
  /** Model ids loaded from the user's files (not in the zoo). */
  userModelLabel: string | null;
  dataset: DatasetSummary | null;
  sample: SampleData | null;
  job: JobState | null;
  /** The one result cache (resultCache.ts): every finished analysis result by its key, LRU-bounded. */
  cache: Record<string, CacheEntry>;
  /** Key of the ε slice on screen (an entry of `cache`). */
  shownKey: string | null;
  dragging: boolean;
  hovered: number | null;
  brushed: number[];
  /** Dataset indices brushed in a view with its own sample set (t-SNE scatters); the strip highlights those it shows. */
  brushedIndices: number[];
  error: string | null;
  /** The one-click way out of a model/data mismatch (setup.ts applyFix), shown while `error` is still `forError`. */
  errorFix: (MismatchFix & { forError: string }) | null;
  /** A shared link named the user's own model files (which a link cannot carry): which model, and the file name to load again. */
  filesNeeded: { which: 'a' | 'b'; name: string } | null;
  notice: string | null;
  /** Compare mode: model B's summary. */
  compareModel: ModelSummary | null;
  analyses: Record<string, AnalysisState>;
  /** Per-sample values shared across views (e.g. minimal ε from the robustness curve), keyed by dataset index. */
  sampleScores: { name: string; byIndex: Record<number, number> } | null;
  set(partial: Partial<LabState>): void;
  setParams(patch: ParamsPatch): void;
}

/**
 * The class names every view shows: model A's own, when the user gave them with it (labels.txt
 * or a JSON list; the worker checked their count), else the data's. A selector, so views
 * re-render only when the names change.
 */
export const classNamesOf = (s: Pick<LabState, 'model' | 'dataset'>): string[] | undefined => s.model?.classNames ?? s.dataset?.classNames;

export const useLab = create<LabState>((set) => ({
  params: { ...DEFAULT_PARAMS },
  backend: null,
  zoo: [],
  datasets: [],
  model: null,
  userModelLabel: null,
  dataset: null,
  sample: null,
  job: null,
  cache: {},
  shownKey: null,
  dragging: false,
  hovered: null,
  brushed: [],
  brushedIndices: [],
  error: null,
  errorFix: null,
  filesNeeded: null,
  notice: null,
  compareModel: null,
  analyses: {},
  sampleScores: null,
  set: (partial) => set(partial),
  setParams: (patch) => set((s) => ({ params: patchParams(s.params, patch) })),
}));

/** The ε slice on screen for model A or B (null before the first result). */
export function shownSlice(s: Pick<LabState, 'cache' | 'shownKey'>, which: 'a' | 'b' = 'a'): StoredResult | null {
  const entry = s.shownKey ? (s.cache[s.shownKey] as SliceEntry | undefined) : undefined;
  return entry?.slice?.[which] ?? null;
}

/** The cached ε slices on the ladder of the shown one, by ε. */
export function ladderOf(s: Pick<LabState, 'cache' | 'shownKey'>): SliceEntry[] {
  const shown = s.shownKey ? (s.cache[s.shownKey] as SliceEntry | undefined) : undefined;
  if (!shown?.slice) return [];
  return (Object.values(s.cache) as SliceEntry[]).filter((e) => e.slice && e.ladderKey === shown.ladderKey).sort((x, y) => x.eps - y.eps);
}
