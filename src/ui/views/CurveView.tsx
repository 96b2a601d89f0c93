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
import { type LineChartData, type LineSeries } from '../charts/lines';
import { classNamesOf, useLab } from '../store';
import { useModelNames } from '../modelNames';
import { AnalysisBar, LineChartView, fmtPct, useAnalysisResult, ViewControls } from './common';

const NO_NAMES: string[] = [];

export function runCurve(): void {
  void runAnalysis('curve');
}

const onClickEps = (x: number | string) => void applyParams({ attack: { eps: Number(x) } });

export function CurveView() {
  const eps = useLab((s) => s.params.attack.eps);
  const classNames = useLab((s) => classNamesOf(s) ?? NO_NAMES);
  const names = useModelNames();
  const running = useLab((s) => s.analyses.curve?.status === 'running');
  const r = useAnalysisResult('curve');
  const norm = r?.spec.norm;

  const curve = useMemo<LineChartData | null>(() => {
    if (!r || !r.a.points.length) return null;
    const x = r.a.points.map((p) => p.eps);
    const series: LineSeries[] = [{ label: `${names.a}: robust`, color: COLOR.modelA, y: r.a.points.map((p) => p.robustAccuracy) }];
    if (r.a.points.some((p) => p.meanDrawAccuracy !== undefined)) series.push({ label: `${names.a}: mean over draws`, color: COLOR.modelALight, y: r.a.points.map((p) => p.meanDrawAccuracy ?? null) });
    if (r.b && r.b.points.length) {
      const yb = x.map((e) => r.b!.points.find((p) => p.eps === e)?.robustAccuracy ?? null);
      series.push({ label: `${names.b ?? 'B'}: robust`, color: COLOR.modelB, y: yb, dashed: true, pending: yb.some((v) => v === null) });
    }
    const placeholders = running && names.b && !r.b?.points.length ? [`${names.b}: computing…`] : [];
    return {
      title: `Robust accuracy under ${r.spec.attack.toUpperCase()} over ε`,
      x,
      series,
      placeholders,
      xLabel: `ε (${norm === 'linf' ? 'L∞' : 'L2'}, pixels in [0, 1]) — click a point to show it`,
      yLabel: 'robust accuracy (%)',
      yDomain: [0, 1],
      markX: eps,
      format: (v) => `${(100 * v).toFixed(1)}%`,
    };
  }, [r, eps, names.a, names.b, norm, running]);

  const perClass = useMemo<LineChartData | null>(() => {
    if (!r || !r.a.perClass.length) return null;
    const fin = (v: number) => (Number.isFinite(v) ? v : null);
    const x = r.a.perClass.map((c) => classNames[c.cls] ?? String(c.cls));
    const series: LineSeries[] = [
      { label: `${names.a}: median (IQR band)`, color: COLOR.modelA, y: r.a.perClass.map((c) => fin(c.median)), band: { low: r.a.perClass.map((c) => fin(c.q25)), high: r.a.perClass.map((c) => fin(c.q75)) } },
    ];
    if (r.b?.perClass.length) series.push({ label: `${names.b ?? 'B'}: median (IQR band)`, color: COLOR.modelB, y: r.b.perClass.map((c) => fin(c.median)), band: { low: r.b.perClass.map((c) => fin(c.q25)), high: r.b.perClass.map((c) => fin(c.q75)) }, dashed: true });
    const placeholders = running && names.b && !r.b?.perClass.length ? [`${names.b}: computing…`] : [];
    const unit = r.spec.norm === 'linf' ? 'L∞' : 'L2';
    const what = r.a.minimalNorm ? `minimal perturbation norm (${unit})` : `smallest ladder ε that broke it (${unit})`;
    return { title: r.a.minimalNorm ? 'Per class: minimal perturbation per sample' : 'Per class: ε at which samples break', x, series, placeholders, xLabel: 'class (n/a: not broken within the ladder)', yLabel: what, format: (v) => String(Number(v.toPrecision(3))) };
  }, [r, classNames, names.a, names.b, running]);

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
