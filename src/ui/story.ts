/**
 * Teacher mode in the lab (issue #24): open a story step (its parameters through the one setup
 * path, so the URL names it), run what the step needs with its small budget, and read the
 * finished results the step's live numbers come from. The stories themselves are data
 * (core/stories).
 */
import { findAnalysis, type AnalysisKind } from '../core/analyses';
import { analysisKey, type AnyAnalysis } from '../core/analyses/define';
import { labHash } from '../core/analyses/lab';
import { findStory, openStep, stepParams, type StoryResults, type StoryRun, type StoryStep } from '../core/stories';
import { requestOf, runAnalysis } from './analyses';
import { runSlice } from './slice';
import { applyParams, onApplied } from './setup';
import { shownSlice, useLab, type LabState, type Params, type SliceEntry } from './store';
import { withStatedEps } from './url';

const get = () => useLab.getState();

/** localStorage key: the first screen was dismissed once, so it stays away. */
export const FIRST_SCREEN_KEY = 'layerwise.firstScreenDismissed';

/** The hash the page was opened with: a shared URL (any setup in it) never shows the first screen. */
const openedWithHash = typeof location === 'undefined' ? '' : location.hash.replace(/^#/, '');

export function firstScreenWanted(): boolean {
  if (openedWithHash !== '') return false;
  try {
    return localStorage.getItem(FIRST_SCREEN_KEY) === null;
  } catch {
    return true;
  }
}

export function rememberFirstScreenDismissed(): void {
  try {
    localStorage.setItem(FIRST_SCREEN_KEY, new Date().toISOString());
  } catch {
    // Private mode without storage: the screen shows again next time, nothing worse.
  }
}

/**
 * A link to a story step (`#story=tsne&step=3`, perhaps nothing else) opens that step's whole
 * setup: before boot, the hash becomes the step's parameters, so the first load is already the
 * step's models and data. Unknown stories are left alone (the URL parser reports nothing; the
 * panel is simply not shown).
 */
export function expandStoryHash(parse: (hash: string) => { params: Params }): void {
  const { params } = parse(location.hash);
  const open = openStep(params);
  if (!open) return;
  const full = stepParams(open.story, open.index, params);
  history.replaceState(null, '', `#${withStatedEps(labHash(full), full)}`);
}

/** Open step `index` (from 0) of a story: its parameters load, then onApplied runs the step. */
export async function goToStep(storyId: string, index: number): Promise<void> {
  const story = findStory(storyId);
  if (!story) return;
  const clamped = Math.min(Math.max(index, 0), story.steps.length - 1);
  await applyParams(stepParams(story, clamped, get().params));
}

export async function closeStory(): Promise<void> {
  await applyParams({ teach: { story: '', step: 1 } });
}

/** Presentation mode: hide the setup column and the advanced controls (or show them again). */
export async function setPresentation(on: boolean): Promise<void> {
  await applyParams({ teach: { hide: on ? ['setup', 'advanced'] : [] } });
}

/** The analysis, store slot and own-value overrides of a run. */
function runTarget(run: Exclude<StoryRun, 'slice'>): { kind: AnalysisKind; slot: string; own?: Record<string, unknown> } {
  if (run === 'tsne-a' || run === 'tsne-b') {
    const which = run === 'tsne-a' ? 'a' : 'b';
    return { kind: 'tsne', slot: `tsne:${which}`, own: { model: which } };
  }
  return { kind: run, slot: run };
}

/** The cache key a run's result has at these parameters. */
function keyOfRun(run: StoryRun, params: Params): string {
  const { kind, own } = run === 'slice' ? { kind: 'slice' as const, own: undefined } : runTarget(run);
  const def = findAnalysis(kind) as AnyAnalysis;
  const request = requestOf(def, params, { own });
  return analysisKey(def, request.setup, request.own);
}

/** Resolve when the slot's job for `key` is no longer running (it may have been started by a view). */
function settled(slot: string, key: string): Promise<void> {
  const running = (s: LabState) => s.analyses[slot]?.key === key && s.analyses[slot]?.status === 'running';
  if (!running(get())) return Promise.resolve();
  return new Promise((resolve) => {
    const stop = useLab.subscribe((s) => {
      if (running(s)) return;
      stop();
      resolve();
    });
  });
}

/** Bumped by every step run: a run left over from a step the user has moved on from stops. */
let generation = 0;

/**
 * Run what a step needs, one analysis after another (they share the view lane, where a new
 * job replaces the running one). Cached results show at once (runAnalysis).
 */
export async function runStep(step: StoryStep): Promise<void> {
  const mine = ++generation;
  for (const run of step.runs) {
    if (mine !== generation) return;
    if (run === 'slice') {
      // applyParams runs the slice whenever the setup changes; this covers one that was cancelled.
      if (get().shownKey !== keyOfRun('slice', get().params) && get().job?.status !== 'running') await runSlice(false);
      continue;
    }
    const { kind, slot, own } = runTarget(run);
    const key = keyOfRun(run, get().params);
    const result = await runAnalysis(kind, { slot, own });
    if (result === null) await settled(slot, key);
  }
}

// Every applied change (a step opened, ε released, a link booted) runs the open step's analyses.
onApplied((_before, next) => {
  const open = openStep(next);
  if (open && get().model) void runStep(open.step);
});

/** Retries per step and parameters: a step left unfinished by a cancelled job runs again, a failing one not forever. */
const retries = new Map<string, number>();
const MAX_RETRIES = 2;

/**
 * The panel calls this when the lab is idle and the step's numbers are still missing: a job
 * cancelled under the step (e.g. a story opened while the page was still booting, whose worker
 * was replaced) leaves nothing running and nothing to show. Failed analyses are not retried.
 */
export function resumeStep(step: StoryStep): void {
  const s = get();
  if (!s.model || !s.sample || s.job?.status === 'running' || s.error) return;
  if (Object.values(s.analyses).some((a) => a.status === 'running')) return;
  if (step.runs.some((run) => run !== 'slice' && s.analyses[runTarget(run).slot]?.status === 'error')) return;
  const id = `${s.params.teach.story}|${s.params.teach.step}|${step.runs.map((r) => keyOfRun(r, s.params)).join('|')}`;
  const n = retries.get(id) ?? 0;
  if (n >= MAX_RETRIES) return;
  retries.set(id, n + 1);
  void runStep(step);
}

/** The finished results of a step's runs at the lab's current parameters (nothing stale). */
export function stepResults(s: Pick<LabState, 'params' | 'analyses' | 'cache' | 'shownKey'>, step: StoryStep): StoryResults {
  const out: StoryResults = {};
  for (const run of step.runs) {
    if (run === 'slice') {
      const a = shownSlice(s, 'a');
      const entry = s.shownKey ? (s.cache[s.shownKey] as SliceEntry | undefined) : undefined;
      // The chosen attack at the lab's ε, not a drag preview or the previous step's slice.
      const fresh = a && entry && s.shownKey === keyOfRun('slice', s.params);
      out.slice = fresh ? { eps: entry.eps, a, b: shownSlice(s, 'b') } : null;
      continue;
    }
    const { slot } = runTarget(run);
    const state = s.analyses[slot];
    const fresh = state?.status === 'done' && state.key === keyOfRun(run, s.params);
    (out as Record<string, unknown>)[run] = fresh ? state.result : null;
  }
  return out;
}

/** Progress of the step's runs that are still computing (0–1), or null when none is. */
export function stepProgress(s: Pick<LabState, 'analyses' | 'job'>, step: StoryStep): { fraction: number; message: string } | null {
  for (const run of step.runs) {
    if (run === 'slice') {
      if (s.job?.status === 'running' && s.job.kind !== 'slice') return { fraction: s.job.fraction, message: s.job.label };
      continue;
    }
    const state = s.analyses[runTarget(run).slot];
    if (state?.status === 'running') return { fraction: state.fraction, message: `${run}: ${state.message}` };
  }
  return null;
}
