/**
 * Robustness curve (issue #5): robust accuracy over an ε ladder for the chosen attack
 * (model B dashed in compare mode), the per-class distribution of the per-sample "broken
 * at" ε (or minimal norm for minimum-norm attacks), and the gradient-masking warnings.
 * Clicking a point sets the lab's ε (the strip and the layer chart follow); the per-sample
 * values can sort the image strip.
 */
import { useMemo } from 'react';
import { runAnalysis } from '../analyses';
import { applyParams } from '../setup';
import { COLOR } from '../charts/colors';
import { type LineChartData } from '../charts/lines';
import { useLab } from '../store';
import { AnalysisBar, LineChartView, fmtPct, useAnalysisResult, ViewControls } from './common';

const NO_NAMES: string[] = [];

export function runCurve(): void {
  void runAnalysis('curve');
}

const onClickEps = (x: number | string) => void applyParams({ attack: { eps: Number(x) } });

export function CurveView() {
  const eps = useLab((s) => s.params.attack.eps);
  const names = useLab((s) => s.dataset?.classNames ?? NO_NAMES);
  const compareLabel = useLab((s) => s.params.lab.compare);
  const modelLabel = useLab((s) => s.params.setup.model);
  const r = useAnalysisResult('curve');
  const norm = r?.spec.norm;

  const curve = useMemo<LineChartData | null>(() => {
    if (!r || !r.a.points.length) return null;
    const x = r.a.points.map((p) => p.eps);
    const series = [{ label: `A ${modelLabel}: robust`, color: COLOR.modelA, y: r.a.points.map((p) => p.robustAccuracy) }];
    if (r.a.points.some((p) => p.meanDrawAccuracy !== undefined)) series.push({ label: 'A: mean over draws', color: COLOR.modelALight, y: r.a.points.map((p) => p.meanDrawAccuracy ?? null) as number[] });
    if (r.b && r.b.points.length) {
      const yb = x.map((e) => r.b!.points.find((p) => p.eps === e)?.robustAccuracy ?? null);
      series.push({ label: `B ${compareLabel}: robust`, color: COLOR.modelB, y: yb as number[], dashed: true } as never);
    }
    return { x, series, xLabel: `ε (${norm === 'linf' ? 'L∞' : 'L2'}; ×255 for 8-bit units) — click a point to show it`, yLabel: 'accuracy', yDomain: [0, 1], markX: eps, format: (v) => `${(100 * v).toFixed(1)}%` };
  }, [r, eps, modelLabel, compareLabel, norm]);

  const perClass = useMemo<LineChartData | null>(() => {
    if (!r || !r.a.perClass.length) return null;
    const fin = (v: number) => (Number.isFinite(v) ? v : null);
    const x = r.a.perClass.map((c) => names[c.cls] ?? String(c.cls));
    const series = [
      { label: 'A median (IQR band)', color: COLOR.modelA, y: r.a.perClass.map((c) => fin(c.median)), band: { low: r.a.perClass.map((c) => fin(c.q25)), high: r.a.perClass.map((c) => fin(c.q75)) } },
    ];
    if (r.b?.perClass.length) series.push({ label: 'B median (IQR band)', color: COLOR.modelB, y: r.b.perClass.map((c) => fin(c.median)), band: { low: r.b.perClass.map((c) => fin(c.q25)), high: r.b.perClass.map((c) => fin(c.q75)) }, dashed: true } as never);
    const what = r.a.minimalNorm ? 'minimal perturbation norm' : 'smallest ladder ε that broke the sample';
    return { x, series, xLabel: 'class (n/a: not broken within the ladder)', yLabel: what, format: (v) => v.toPrecision(3) };
  }, [r, names]);

  const shareScores = () => {
    if (!r) return;
    const values = r.a.minimalNorm ?? r.a.brokenAt;
    const byIndex: Record<number, number> = {};
    r.indices.forEach((idx, i) => (byIndex[idx] = values[i]));
    useLab.getState().set({ sampleScores: { name: r.a.minimalNorm ? 'minimal norm (A)' : 'broken-at ε (A)', byIndex } });
  };

  return (
    <section data-testid="curve-view">
      <h2>Robustness curve</h2>
      <p className="muted">robust accuracy of the chosen attack (left panel) over an ε ladder; per sample, the smallest ε that broke it</p>
      <ViewControls kind="curve" legend="Curve" />
      <AnalysisBar kind="curve" onRun={runCurve} runLabel="Run curve">
        {r && (
          <button type="button" onClick={shareScores} data-testid="curve-sort-strip">
            Sort image strip by it
          </button>
        )}
      </AnalysisBar>
      {r && (
        <div className="muted" data-testid="curve-summary">
          {r.spec.attack.toUpperCase()} {r.spec.norm} · {r.labels.length} samples · A: {r.a.points.map((p) => `${p.eps}→${fmtPct(p.robustAccuracy)}`).join(', ')}
          {r.b && ` · B: ${r.b.points.map((p) => `${p.eps}→${fmtPct(p.robustAccuracy)}`).join(', ')}`}
        </div>
      )}
      {[...(r?.a.warnings ?? []).map((w) => `A: ${w}`), ...(r?.b?.warnings ?? []).map((w) => `B: ${w}`)].map((w) => (
        <div key={w} className="warning" data-testid="curve-warning">
          ⚠ {w}
        </div>
      ))}
      <div className="chart-row">
        <LineChartView data={curve} onClickX={onClickEps} testId="curve-chart" />
        <LineChartView data={perClass} testId="curve-class-chart" />
      </div>
    </section>
  );
}
