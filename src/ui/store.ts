/**
 * The one zustand store (STYLE.md convention 11): serialisable state only, sliced by
 * concern: params (the URL save file), environment (backend, loaded model/data
 * summaries), jobs, results by key, selection. No tensors, DOM nodes or worker handles:
 * those live in controller.ts.
 */
import { create } from 'zustand';
import type { BackendState } from '../core/backend';
import type { AttackName } from '../core/attacks/types';
import { attackSchema, curveSchema, defaults, labSchema, logitsSchema, dependencySchema, mftmaSchema, collisionSchema, setupSchema, tsneSchema, viewSchema } from '../core/schema';
import type { DatasetSummary, ModelSummary, SampleData, SliceTransfer } from '../../workers/lab.worker';

export interface Params {
  model: string;
  data: string;
  n: number;
  seed: number;
  backend: string;
  attack: AttackName;
  norm: 'linf' | 'l2';
  eps: number;
  steps: number;
  stepSize: number;
  restarts: number;
  targets: number;
  targetClass: number;
  draws: number;
  layers: string[];
  view: ViewName;
  compare: string;
  curveEps: string[];
  curveN: number;
  tsneN: number;
  perplexity: number;
  tsneIter: number;
  tsneSeeds: number;
  tsneImpl: 'auto' | 'tfjs' | 'typed';
  tsneMode: 'joint' | 'anchored';
  tsneModel: 'a' | 'b';
  logitsN: number;
  logitsAttack: number;
  logitsEpochs: number;
  depN: number;
  mfKind: 'class' | 'exemplar';
  mfPerturb: 'gaussian' | 'linf' | 'l2' | 'attack';
  mfLadder: string[];
  mfP: number;
  mfM: number;
  mfMaxDims: number;
  colClasses: string[];
  colPerClass: number;
  colM: number;
  colN: number;
  colProjection: 'gaussian' | 'none';
  colEps: string[];
  colMSweep: string[];
  colBox: number;
  colIter: number;
  colExtra: string[];
}

export type ViewName = 'slice' | 'curve' | 'tsne' | 'logits' | 'dependency' | 'manifolds' | 'collision';

/** Every schema whose values live in the URL. */
export const URL_SCHEMAS = [setupSchema, attackSchema, viewSchema, labSchema, curveSchema, tsneSchema, logitsSchema, dependencySchema, mftmaSchema, collisionSchema];

export const DEFAULT_PARAMS = Object.assign({}, ...URL_SCHEMAS.map(defaults)) as unknown as Params;

/** One analysis view's job and result (the result types come from src/core/jobs). */
export interface AnalysisState {
  /** Key of the parameters the result belongs to. */
  key: string;
  status: 'running' | 'done' | 'cancelled' | 'error';
  fraction: number;
  message: string;
  result: unknown;
  error?: string;
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
}

export interface StoredResult extends SliceTransfer {
  key: string;
  /** Key of everything except ε: results sharing it form the ε ladder. */
  ladderKey: string;
  eps: number;
  preview: boolean;
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
  results: Record<string, StoredResult>;
  /** Key of the result on screen. */
  shownKey: string | null;
  dragging: boolean;
  hovered: number | null;
  brushed: number[];
  /** Dataset indices brushed in a view with its own sample set (t-SNE scatters); the strip highlights those it shows. */
  brushedIndices: number[];
  error: string | null;
  notice: string | null;
  /** Compare mode: model B's summary. */
  compareModel: ModelSummary | null;
  analyses: Record<string, AnalysisState>;
  /** Per-sample values shared across views (e.g. minimal ε from the robustness curve), keyed by dataset index. */
  sampleScores: { name: string; byIndex: Record<number, number> } | null;
  set(partial: Partial<LabState>): void;
  setParams(partial: Partial<Params>): void;
}

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
  results: {},
  shownKey: null,
  dragging: false,
  hovered: null,
  brushed: [],
  brushedIndices: [],
  error: null,
  notice: null,
  compareModel: null,
  analyses: {},
  sampleScores: null,
  set: (partial) => set(partial),
  setParams: (partial) => set((s) => ({ params: { ...s.params, ...partial } })),
}));

/** The parameters that define a slice result; ε separately so ladders can group. */
export function sliceKeys(p: Params, preview: boolean, layers: string[]): { key: string; ladderKey: string } {
  const ladder = {
    model: p.model,
    data: p.data,
    n: p.n,
    seed: p.seed,
    attack: preview ? 'fgsm' : p.attack,
    norm: p.norm,
    steps: preview ? 1 : p.steps,
    stepSize: preview ? 0 : p.stepSize,
    restarts: preview ? 1 : p.restarts,
    targets: preview ? 0 : p.targets,
    draws: preview ? 0 : p.draws,
    layers,
  };
  const ladderKey = JSON.stringify(ladder);
  return { ladderKey, key: `${ladderKey}|eps=${p.eps}` };
}
