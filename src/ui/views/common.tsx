/** Pieces every analysis view shares: its schema's controls, the run/cancel/progress bar. */
import { useCallback, type ReactNode } from 'react';
import type { Schema } from '../../core/schema';
import { cancelAnalysis } from '../analyses';
import { writeHash } from '../controller';
import { ParamControl } from '../components/Controls';
import { createLineChart, type LineChartData } from '../charts/lines';
import { useChart } from '../charts/useChart';
import { useLab, type Params } from '../store';

/** Controls generated from a view's schema; changing one only updates the params (and the URL). */
export function ViewControls({ schema, legend }: { schema: Schema; legend: string }) {
  const commit = (partial: Partial<Params>) => {
    useLab.getState().setParams(partial);
    writeHash(useLab.getState().params);
  };
  return (
    <fieldset className="controls inline">
      <legend>{legend}</legend>
      {schema.map((def) => (
        <ParamControl key={def.key} def={def} onCommit={commit} />
      ))}
    </fieldset>
  );
}

export function AnalysisBar({ kind, onRun, runLabel, children, testId = kind }: { kind: string; onRun: () => void; runLabel: string; children?: ReactNode; testId?: string }) {
  const state = useLab((s) => s.analyses[kind]);
  const ready = useLab((s) => !!s.model && !!s.dataset);
  return (
    <div className="job analysis-bar" data-testid={`${testId}-bar`}>
      <button type="button" onClick={onRun} disabled={!ready} data-testid={`${testId}-run`}>
        {runLabel}
      </button>
      {state?.status === 'running' && (
        <>
          <progress max={1} value={state.fraction} />
          <span className="muted">{state.message}</span>
          <button type="button" onClick={cancelAnalysis} data-testid={`${testId}-cancel`}>
            Cancel
          </button>
        </>
      )}
      {state?.status === 'cancelled' && <span className="muted">cancelled — partial result kept</span>}
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
