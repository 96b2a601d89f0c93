/** Pieces every analysis view shares: its schema's controls, the run/cancel/progress bar. */
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { secondsLeft, useNow } from '../progress';
import { analysisKey, type AnyAnalysis } from '../../core/analyses/define';
import { formatSeconds } from '../../core/analyses/estimate';
import { findAnalysis, type AnalysisKind, type DefinitionOf } from '../../core/analyses';
import type { ResultOf } from '../../core/analyses/define';
import { cancelAnalysis, commandFor, estimateOf, requestOf } from '../analyses';
import { writeHash } from '../url';
import { controlsOf, ParamControl } from '../components/Controls';
import { createLineChart, type LineChartData } from '../charts/lines';
import { useChart } from '../charts/useChart';
import { useLab, type Params, type ParamsPatch } from '../store';

/** Controls generated from an analysis's schema; changing one only updates the params (and the URL). */
export function ViewControls({ kind, legend }: { kind: AnalysisKind; legend: string }) {
  const schema = findAnalysis(kind)?.schema ?? {};
  const commit = (patch: ParamsPatch) => {
    useLab.getState().setParams(patch);
    writeHash(useLab.getState().params);
  };
  return (
    <fieldset className="controls inline">
      <legend>{legend}</legend>
      {controlsOf(schema).map(([name, def]) => (
        <ParamControl key={name} group={kind as keyof Params} name={name} def={def} onCommit={commit} />
      ))}
    </fieldset>
  );
}

/** The streamed or finished result of an analysis in its store slot, typed by its definition. */
export function useAnalysisResult<K extends AnalysisKind>(kind: K, slot: string = kind): ResultOf<DefinitionOf<K>> | null {
  return useLab((s) => (s.analyses[slot]?.result ?? null) as ResultOf<DefinitionOf<K>> | null);
}

/**
 * "Copy CLI command": the exact `layerwise` command that reproduces the view's numbers (the
 * same definition, the same values; core/analyses/define.ts cliCommand), shown and copied.
 */
export function CopyCommand({ kind, testId = kind }: { kind: AnalysisKind; testId?: string }) {
  const [shown, setShown] = useState<string | null>(null);
  const copy = () => {
    const command = commandFor(kind);
    setShown(command);
    void navigator.clipboard?.writeText(command).catch(() => undefined);
  };
  return (
    <>
      <button type="button" onClick={copy} data-testid={`${testId}-copy-cli`} title="the layerwise command that reproduces these numbers">
        Copy CLI command
      </button>
      {shown && (
        <code className="cli-command" data-testid={`${testId}-cli-command`}>
          {shown}
        </code>
      )}
    </>
  );
}

/**
 * The estimate of the open view's run at the current values (seconds; null = not known yet):
 * asked of the worker when the values, the models or the run's status change.
 */
function useEstimate(kind: AnalysisKind, slot: string): number | null {
  const params = useLab((s) => s.params);
  const model = useLab((s) => s.model);
  const dataset = useLab((s) => s.dataset);
  const compare = useLab((s) => s.compareModel);
  const status = useLab((s) => s.analyses[slot]?.status);
  const key = useMemo(() => {
    const def = findAnalysis(kind) as AnyAnalysis;
    const { setup, own } = requestOf(def, params);
    return `${analysisKey(def, setup, own)}|${params.setup.backend}`;
  }, [kind, params]);
  const [estimate, setEstimate] = useState<{ key: string; seconds: number | null } | null>(null);
  useEffect(() => {
    setEstimate(null);
    if (!model || !dataset || status === 'running') return;
    let live = true;
    let timer: ReturnType<typeof setTimeout>;
    // The worker answers `busy` when its running jobs (the shown attack, a drag preview, another
    // view's run) outlast its wait; ask again until it can time the model.
    const ask = (delay: number) => {
      timer = setTimeout(
        () =>
          void estimateOf(kind).then((r) => {
            if (!live) return;
            if (r.busy) ask(1000);
            else setEstimate({ key, seconds: r.seconds });
          }),
        delay,
      );
    };
    ask(250);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [kind, key, model, dataset, compare, status]);
  return estimate?.key === key ? estimate.seconds : null;
}

export function AnalysisBar({ kind, slot = kind, onRun, runLabel, children, testId = kind }: { kind: AnalysisKind; slot?: string; onRun: () => void; runLabel: string; children?: ReactNode; testId?: string }) {
  const state = useLab((s) => s.analyses[slot]);
  const ready = useLab((s) => !!s.model && !!s.dataset);
  const backend = useLab((s) => s.backend?.active);
  const estimate = useEstimate(kind, slot);
  const running = state?.status === 'running';
  const now = useNow(running);
  const elapsed = running && state?.startedAt ? (now - state.startedAt) / 1000 : 0;
  const left = running ? secondsLeft(state.fraction, elapsed, estimate) : null;
  return (
    <div className="job analysis-bar" data-testid={`${testId}-bar`}>
      <button type="button" onClick={onRun} disabled={!ready} data-testid={`${testId}-run`}>
        {runLabel}
      </button>
      {!running && estimate !== null && (
        <span className="muted estimate" data-testid={`${testId}-estimate`} data-seconds={estimate.toFixed(2)} title={`estimated from this model's measured speed on ${backend ?? 'this backend'}; attacks already computed by another view are reused`}>
          {formatSeconds(estimate)}
        </span>
      )}
      <CopyCommand kind={kind} testId={testId} />
      {state?.status === 'running' && (
        <>
          <progress max={1} value={state.fraction} />
          <span className="muted" data-testid={`${testId}-eta`}>
            {Math.round(100 * state.fraction)}%{left !== null ? ` · ${formatSeconds(left)} left` : ''} · {state.message}
          </span>
          <button type="button" onClick={cancelAnalysis} data-testid={`${testId}-cancel`}>
            Cancel
          </button>
        </>
      )}
      {state?.status === 'done' && state.startedAt && state.finishedAt && (
        <span className="muted" data-testid={`${testId}-took`} data-seconds={((state.finishedAt - state.startedAt) / 1000).toFixed(2)}>
          took {formatSeconds((state.finishedAt - state.startedAt) / 1000).replace('≈ ', '')}
        </span>
      )}
      {state?.status === 'cancelled' && <span className="muted" data-testid={`${testId}-cancelled`}>{state.result ? 'cancelled — partial result kept' : 'cancelled before a first result'}</span>}
      {state?.status === 'error' && (
        <span className="warning" data-testid={`${testId}-error`}>
          {state.error}
        </span>
      )}
      {children}
    </div>
  );
}

export const fmtPct = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? 'n/a' : `${(100 * v).toFixed(1)}%`);

/** React shell of a D3 line chart: the svg is React's, its inside D3's. Callbacks must keep their identity. */
export function LineChartView({ data, onClickX, onHoverX, testId }: { data: LineChartData | null; onClickX?: (x: number | string) => void; onHoverX?: (x: number | string | null) => void; testId: string }) {
  const create = useCallback((el: SVGSVGElement) => createLineChart(el, { onClickX, onHoverX }), [onClickX, onHoverX]);
  const ref = useChart(create, data);
  return <svg ref={ref} className="line-chart" data-testid={testId} />;
}
