/**
 * Layer dependency (issue #9; Craig et al.): per layer, linear-probe accuracy on held-out
 * clean vs attacked activations, the prefix probe (layers 1..j concatenated), mutual
 * information with the label and with the previous layer (class-conditional), clean vs
 * adversarial; model B dashed in compare mode.
 */
import { useMemo } from 'react';
import type { DependencyJobResult, ModelDependency } from '../../core/dependency/job';
import { runAnalysis } from '../analyses';
import { COLOR } from '../charts/colors';
import { type LineChartData, type LineSeries } from '../charts/lines';
import { useLab } from '../store';
import { useModelNames, type ModelNames } from '../modelNames';
import { AnalysisBar, LineChartView, fmtPct, useAnalysisResult, ViewControls } from './common';

export function runDependency(): void {
  void runAnalysis('dependency');
}

type Pick = (m: ModelDependency, layer: string) => number | null;

interface ChartText {
  title: string;
  yLabel: string;
  names: ModelNames;
  /** B is still being computed: its legend says so. */
  bPending: boolean;
}

function chart(r: DependencyJobResult, picks: { label: string; pick: Pick; light?: boolean }[], text: ChartText, yDomain?: [number, number], format?: (v: number) => string): LineChartData | null {
  if (!r.a) return null;
  const x = r.a.layers.map((l) => l.layer);
  const series: LineSeries[] = [];
  for (const [name, m, color, light] of [[text.names.a, r.a, COLOR.modelA, COLOR.modelALight], [text.names.b ?? 'B', r.b, COLOR.modelB, COLOR.modelBLight]] as const) {
    if (!m) continue;
    for (const p of picks) series.push({ label: `${name}: ${p.label}`, color: p.light ? light : color, dashed: m === r.b, hollow: p.light, y: x.map((layer) => p.pick(m, layer)) });
  }
  const placeholders = text.bPending && text.names.b && !r.b ? [`${text.names.b}: computing…`] : [];
  return { title: text.title, x, series, placeholders, xLabel: 'layer', yLabel: text.yLabel, yDomain, format };
}

const pct = (v: number) => `${(100 * v).toFixed(1)}%`;

const layerOf = (m: ModelDependency, layer: string) => m.layers.find((l) => l.layer === layer);

export function DependencyView() {
  const eps = useLab((s) => s.params.attack.eps);
  const r = useAnalysisResult('dependency');
  const names = useModelNames();
  const bPending = useLab((s) => s.analyses.dependency?.status === 'running');
  const probes = useMemo(() => r && chart(r, [
    { label: 'probe, clean (held out)', pick: (m, l) => layerOf(m, l)?.probeHeldOutCleanAccuracy ?? null },
    { label: `probe, attacked ε=${eps}`, pick: (m, l) => layerOf(m, l)?.probeHeldOutAdversarialAccuracy ?? null, light: true },
  ], { title: 'Linear probe per layer (held out)', yLabel: 'probe accuracy (%)', names, bPending }, [0, 1], pct), [r, eps, names, bPending]);
  const prefix = useMemo(() => r && chart(r, [
    { label: 'prefix probe, clean', pick: (m, l) => m.prefix.find((p) => p.lastLayer === l)?.cleanAccuracy ?? null },
    { label: 'prefix probe, attacked', pick: (m, l) => m.prefix.find((p) => p.lastLayer === l)?.adversarialAccuracy ?? null, light: true },
  ], { title: 'Prefix probe: one linear map from layers 1..j', yLabel: 'probe accuracy (%)', names, bPending }, [0, 1], pct), [r, names, bPending]);
  const miLabel = useMemo(() => r && chart(r, [
    { label: 'I(layer; label), clean', pick: (m, l) => layerOf(m, l)?.labelMi ?? null },
    { label: 'I(layer; label), attacked', pick: (m, l) => layerOf(m, l)?.labelMiAdversarial ?? null, light: true },
  ], { title: 'Mutual information with the label (KSG)', yLabel: 'I(layer; label) (nats)', names, bPending }), [r, names, bPending]);
  const miPrev = useMemo(() => r && chart(r, [
    { label: 'I(prev; layer | class), clean', pick: (m, l) => layerOf(m, l)?.gaussianConditionalMiWithPrevious ?? null },
    { label: 'I(prev; layer | class), attacked', pick: (m, l) => layerOf(m, l)?.gaussianConditionalMiWithPreviousAdversarial ?? null, light: true },
  ], { title: 'Dependency on the previous layer (Gaussian, per class)', yLabel: 'I(prev; layer | class) (nats)', names, bPending }), [r, names, bPending]);
  return (
    <section data-testid="dependency-view">
      <h2>Layer dependency: linear probes and mutual information</h2>
      <p className="muted">Craig et al.: how much each layer depends on the previous one, and what a linear readout of a frozen prefix still predicts under attack (the attack is the one chosen on the left, at the current ε; ε = 0 means clean only).</p>
      <ViewControls kind="dependency" legend="Dependency" />
      <AnalysisBar kind="dependency" onRun={runDependency} runLabel="Run probes and MI">
        {r?.a && (
          <span className="muted" data-testid="dependency-summary">
            {r.n} samples · A robust {fmtPct(r.a.robustAccuracy)}
            {r.b && ` · B robust ${fmtPct(r.b.robustAccuracy)}`} · last-layer probe A clean {fmtPct(r.a.layers.at(-1)?.probeHeldOutCleanAccuracy)} / attacked {fmtPct(r.a.layers.at(-1)?.probeHeldOutAdversarialAccuracy)}
          </span>
        )}
      </AnalysisBar>
      <div className="chart-row">
        <LineChartView data={probes} testId="dependency-probes" />
        <LineChartView data={prefix} testId="dependency-prefix" />
        <LineChartView data={miLabel} testId="dependency-mi-label" />
        <LineChartView data={miPrev} testId="dependency-mi-prev" />
      </div>
    </section>
  );
}
