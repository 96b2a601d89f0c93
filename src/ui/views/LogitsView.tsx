/**
 * Logit analysis (issue #9; Seguin et al.): max-logit and gap distributions (A vs B, clean
 * vs adversarial; shared bins, mean and skew), robust accuracy by clean gap with a Wilson
 * band, AO@k between the two models' class rankings with the permutation control, the
 * per-class rank-order scatter of confidences with its far samples shown as images, which
 * classes become the errors, and the per-epoch ridgeline of the zoo's training snapshots.
 */
import { useCallback, useMemo, useState } from 'react';
import type { LogitsJobResult, ModelLogits } from '../../core/logits/job';
import type { Histogram } from '../../core/logits';
import { runAnalysis } from '../analyses';
import { applyParams } from '../setup';
import { adversarialVariant, COLOR } from '../charts/colors';
import { type LineChartData, type LineSeries } from '../charts/lines';
import { createRankScatter } from '../charts/rankScatter';
import { createRidgeline } from '../charts/ridgeline';
import { useChart } from '../charts/useChart';
import { ImageCanvas } from '../components/ImageCanvas';
import { availablePreset, LOGITS_PRESETS } from '../presets';
import { classNamesOf, useLab } from '../store';
import { useModelNames, type ModelNames } from '../modelNames';
import { AnalysisBar, LineChartView, fmtPct, useAnalysisResult, ViewControls } from './common';


export function runLogits(): void {
  void runAnalysis('logits');
}

function density(h: Histogram): number[] {
  const total = h.counts.reduce((a, b) => a + b, 0) || 1;
  return Array.from(h.counts, (c) => c / total);
}

function histChart(r: LogitsJobResult, pick: (m: ModelLogits, adv: boolean) => Histogram | null, title: string, xLabel: string, names: ModelNames): LineChartData | null {
  const first = r.a && pick(r.a, false);
  if (!first) return null;
  const x = Array.from({ length: first.counts.length }, (_, i) => +((first.edges[i] + first.edges[i + 1]) / 2).toPrecision(4));
  const series: LineSeries[] = [];
  for (const [name, m, color] of [[names.a, r.a, COLOR.modelA], [names.b ?? 'B', r.b, COLOR.modelB]] as const) {
    if (!m) continue;
    const c = pick(m, false);
    const a = pick(m, true);
    if (c) series.push({ label: `${name} clean (mean ${c.mean.toFixed(2)}, skew ${c.skewness.toFixed(2)})`, color, y: density(c), dashed: m === r.b });
    if (a) series.push({ label: `${name} adversarial (mean ${a.mean.toFixed(2)}, skew ${a.skewness.toFixed(2)})`, color: adversarialVariant(color), y: density(a), dashed: m === r.b, hollow: true });
  }
  return { title, x, series, xLabel, yLabel: 'share of samples (%)', format: (v) => `${(100 * v).toFixed(1)}%` };
}

function RankScatter({ r, cls, focus, onFocus }: { r: LogitsJobResult; cls: number; focus: number | null; onFocus: (i: number | null) => void }) {
  const c = r.compare?.perClass.find((p) => p.label === cls);
  const create = useCallback((el: SVGSVGElement) => createRankScatter(el, { onFocus }), [onFocus]);
  const names = useModelNames();
  const classNames = useLab(classNamesOf);
  const data = useMemo(() => (c ? { cls: c, focus, nameA: names.a, nameB: names.b ?? 'B', title: `Confidence ranks of class ${classNames?.[cls] ?? cls}` } : null), [c, focus, names, classNames, cls]);
  const ref = useChart(create, data);
  return <svg ref={ref} className="rank-scatter" data-testid="rank-scatter" />;
}

function Ridge({ epochs, which, names }: { epochs: NonNullable<LogitsJobResult['epochs']>[number]; which: 'maxLogit' | 'gap'; names: ModelNames }) {
  const data = useMemo(() => {
    const e = epochs.summaries;
    const model = epochs.model === 'B' ? (names.b ?? 'B') : names.a;
    const quantity = which === 'gap' ? 'logit gap (max − second)' : 'max logit';
    return {
      title: `${quantity} over training, ${model}`,
      edges: which === 'gap' ? e.gapEdges : e.maxLogitEdges,
      rows: e.epochs.map((x) => ({ label: `epoch ${x.epoch}`, counts: which === 'gap' ? x.gap.counts : x.maxLogit.counts })),
      xLabel: `${quantity} (logit units)`,
    };
  }, [epochs, which, names]);
  const ref = useChart(createRidgeline, data);
  return <svg ref={ref} className="line-chart" data-testid={`ridge-${which}${epochs.model === 'B' ? '-b' : ''}`} />;
}

export function LogitsView() {
  const classNames = useLab(classNamesOf);
  const r = useAnalysisResult('logits');
  const [cls, setCls] = useState(0);
  const [focus, setFocus] = useState<number | null>(null);
  const zoo = useLab((s) => s.zoo);
  const preset = useMemo(() => availablePreset(LOGITS_PRESETS, new Set(zoo.map((z) => z.id))), [zoo]);
  const names = useModelNames();
  const maxLogit = useMemo(() => (r ? histChart(r, (m, adv) => (adv ? m.adversarial?.maxLogit ?? null : m.clean.maxLogit), 'Distribution of the max logit', 'max logit (bin centre, logit units)', names) : null), [r, names]);
  const gap = useMemo(() => (r ? histChart(r, (m, adv) => (adv ? m.adversarial?.gap ?? null : m.clean.gap), 'Distribution of the logit gap', 'logit gap, max − second max (bin centre, logit units)', names) : null), [r, names]);
  const byGap = useMemo<LineChartData | null>(() => {
    const bins = r?.a?.robustByGap;
    if (!r || !bins) return null;
    const x = bins.map((b) => +((b.low + b.high) / 2).toPrecision(3));
    const series: LineSeries[] = [];
    for (const [name, m, color] of [[names.a, r.a, COLOR.modelA], [names.b ?? 'B', r.b, COLOR.modelB]] as const) {
      const bs = m?.robustByGap;
      if (!bs) continue;
      // A's bins set x; B's bins differ in range, so B is plotted only when its bins align.
      if (m === r.b && bs.length !== bins.length) continue;
      const nan = (v: number) => (Number.isFinite(v) ? v : null);
      series.push({ label: `${name}: robust accuracy (Wilson 95% band)`, color, dashed: m === r.b, y: bs.map((b) => nan(b.accuracy)), band: { low: bs.map((b) => nan(b.wilsonLow)), high: bs.map((b) => nan(b.wilsonHigh)) } });
    }
    return { title: 'Does a large clean gap predict robustness?', x, series, xLabel: `clean logit gap (bin centre of ${names.a}’s bins, logit units)`, yLabel: 'robust accuracy (%)', yDomain: [0, 1], format: (v) => `${(100 * v).toFixed(1)}%` };
  }, [r, names]);
  const aok = useMemo<LineChartData | null>(() => {
    if (!r?.compare) return null;
    const k = Array.from(r.compare.aok, (_, i) => i + 1);
    return {
      x: k,
      title: 'Do the two models rank the classes alike? (AO@k)',
      series: [
        { label: `AO@k, ${names.a} vs ${names.b ?? 'B'} (same images)`, color: COLOR.modelA, y: Array.from(r.compare.aok) },
        { label: `control: ${names.b ?? 'B'} permuted within class`, color: COLOR.control, y: Array.from(r.compare.aokControl), dashed: true },
      ],
      xLabel: 'k (top-k classes)',
      yLabel: 'average overlap (0–1)',
      yDomain: [0, 1],
    };
  }, [r, names]);
  const errors = useMemo<LineChartData | null>(() => {
    if (!r?.a) return null;
    const x = Array.from(r.a.errorClasses, (_, i) => i + 1);
    const series: LineSeries[] = [{ label: `${names.a} (${r.a.errorCount} ${r.a.errorCount === 1 ? 'error' : 'errors'})`, color: COLOR.modelA, y: Array.from(r.a.errorClasses) }];
    if (r.b) series.push({ label: `${names.b ?? 'B'} (${r.b.errorCount} ${r.b.errorCount === 1 ? 'error' : 'errors'})`, color: COLOR.modelB, y: Array.from(r.b.errorClasses), dashed: true });
    return { title: 'Which classes become the errors', x, series, xLabel: 'rank k of the predicted class among the true class’s average logits', yLabel: 'share of errors (%)', yDomain: [0, 1], format: (v) => `${(100 * v).toFixed(1)}%` };
  }, [r, names]);
  const farShown = r?.compare?.farImages.filter((f) => f.label === cls) ?? [];
  return (
    <section data-testid="logits-view">
      <h2>Logit distributions{r?.b ? ': model A vs model B' : ''}</h2>
      <p className="muted">Seguin et al.: adversarially trained models have lower max logits and smaller gaps; a large gap predicts robustness for AT models only; AT and ST models are confident on different images.</p>
      {preset && (
        <div className="muted">
          preset (seed setting):{' '}
          <button type="button" data-testid="logits-preset" onClick={() => void applyParams(preset.params).then(runLogits)}>
            {preset.label}
          </button>
        </div>
      )}
      <ViewControls kind="logits" legend="Logits" />
      <AnalysisBar kind="logits" onRun={runLogits} runLabel="Run logit analysis">
        {r && (
          <span className="muted" data-testid="logits-summary">
            {r.n} samples · A clean {fmtPct(r.a?.cleanAccuracy)}
            {r.a?.robustAccuracy !== null && ` / robust ${fmtPct(r.a?.robustAccuracy)}`}
            {r.b && ` · B clean ${fmtPct(r.b.cleanAccuracy)}${r.b.robustAccuracy !== null ? ` / robust ${fmtPct(r.b.robustAccuracy)}` : ''}`}
            {r.compare && ` · ${fmtPct(r.compare.fractionFar)} of samples ranked far apart`}
          </span>
        )}
      </AnalysisBar>
      <div className="chart-row">
        <LineChartView data={maxLogit} testId="logits-max" />
        <LineChartView data={gap} testId="logits-gap" />
        <LineChartView data={byGap} testId="logits-bygap" />
        <LineChartView data={errors} testId="logits-errors" />
        {aok && <LineChartView data={aok} testId="logits-aok" />}
      </div>
      {r?.compare && (
        <div className="rank-row">
          <label>
            class{' '}
            <select value={cls} onChange={(e) => setCls(Number(e.target.value))} data-testid="rank-class">
              {r.compare.perClass.map((c) => (
                <option key={c.label} value={c.label}>
                  {classNames?.[c.label] ?? c.label} ({fmtPct(c.fractionFar)} far, ρ={c.spearman.toFixed(2)})
                </option>
              ))}
            </select>
          </label>
          <RankScatter r={r} cls={cls} focus={focus} onFocus={setFocus} />
          <div>
            <div className="muted">samples ranked far apart (red in the scatter; click one to mark it)</div>
            <div className="strip" data-testid="far-strip">
              {farShown.map((f) => (
                <div key={f.index} className={`card${focus === f.index ? ' focus' : ''}`} onClick={() => setFocus(f.index)}>
                  <ImageCanvas pixels={f.pixels} shape={r.compare!.shape} />
                  <div className="meta">
                    <span>#{f.index}</span>
                    <span>A {(100 * f.confA).toFixed(0)}%</span>
                    <span>B {(100 * f.confB).toFixed(0)}%</span>
                  </div>
                </div>
              ))}
            </div>
          </div>
        </div>
      )}
      {r?.epochs?.map((e) => (
        <div className="chart-row" key={e.model}>
          <Ridge epochs={e} which="maxLogit" names={names} />
          <Ridge epochs={e} which="gap" names={names} />
        </div>
      ))}
    </section>
  );
}
