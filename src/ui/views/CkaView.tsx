/**
 * CKA (Kornblith et al. 2019; definition in core/cka): heat maps of the layer × layer linear
 * CKA on clean inputs (A, B beside it and A's layers × B's in compare mode; hovering a cell
 * names both layers), and per layer how much the attack changes each layer's geometry
 * (CKA of clean vs attacked activations of the same images; B dashed), with A vs B per
 * shared layer in compare mode. Heat maps are tables, as in the MFTMA and collision views.
 */
import { COLOR, heatColor, heatInk } from '../charts/colors';
import { useMemo, useState } from 'react';
import type { CkaResult } from '../../core/cka/definition';
import { runAnalysis } from '../analyses';
import type { LineChartData, LineSeries } from '../charts/lines';
import { useLab } from '../store';
import { HeatLegend } from './HeatLegend';
import { useModelNames, type ModelNames } from '../modelNames';
import { AnalysisBar, LineChartView, fmtPct, useAnalysisResult, ViewControls } from './common';

const A = COLOR.modelA;
const B = COLOR.modelB;

const shown = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? null : v);
const fmt = (v: number | null | undefined) => (shown(v) === null ? 'n/a' : (v as number).toFixed(3));

/** CKA lies in [0, 1]: every map (A, B, A × B) uses this one fixed scale, so they read alike. */
const CKA_DOMAIN: [number, number] = [0, 1];

/** One matrix as a table: viridis on the shared scale CKA_DOMAIN, hover names both layers. */
function CkaHeatmap({ rows, cols, matrix, caption, testId, onHover }: { rows: string[]; cols: string[]; matrix: number[][]; caption: string; testId: string; onHover: (text: string | null) => void }) {
  return (
    <table className="heatmap" data-testid={testId} onMouseLeave={() => onHover(null)}>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th />
          {cols.map((c, j) => (
            <th key={c} title={c}>
              {j + 1}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={r}>
            <th>
              {i + 1} {r}
            </th>
            {cols.map((c, j) => {
              const v = shown(matrix[i]?.[j]);
              const text = `${r} × ${c}: CKA ${fmt(v)}`;
              return (
                <td key={c} title={text} onMouseEnter={() => onHover(text)} style={{ background: v === null ? COLOR.pending : heatColor(v, CKA_DOMAIN), color: v === null ? COLOR.inkOnLight : heatInk(v, CKA_DOMAIN) }}>
                  {fmt(v)}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The y axis starts a step of 0.1 below the lowest value (CKA near 1 differs in the second
 * decimal; a [0, 1] axis would flatten it); the axis says where it starts.
 */
function floorOf(series: LineSeries[]): number {
  const values = series.flatMap((s) => s.y.filter((v): v is number => v !== null));
  return values.length ? Math.min(0.9, Math.floor(10 * Math.min(...values)) / 10 - 0.1) : 0;
}

/** Clean vs attacked per layer: A solid, B dashed, on the layers of both (A's order first). */
function attackChart(r: CkaResult, names: ModelNames): LineChartData | null {
  if (!r.a) return null;
  const x = [...r.a.layers, ...(r.b?.layers.filter((l) => !r.a!.layers.includes(l)) ?? [])];
  const series: LineSeries[] = [];
  for (const [name, m, color] of [[names.a, r.a, A], [names.b ?? 'B', r.b, B]] as const) {
    if (m) series.push({ label: `${name}: clean vs attacked`, color, dashed: m === r.b, y: x.map((l) => (m.layers.includes(l) ? shown(m.cleanVsAttacked[m.layers.indexOf(l)]) : null)) });
  }
  return {
    title: r.attacked ? `How much ${r.attack.toUpperCase()} at ε=${r.eps} reshapes each layer` : 'Each layer against itself (ε = 0)',
    x,
    series,
    xLabel: 'layer',
    yLabel: r.attacked ? 'CKA(clean, attacked) (0–1)' : 'CKA(clean, clean) (0–1)',
    yDomain: [floorOf(series), 1],
  };
}

/** A vs B per layer both have: clean, and both models on A's and on B's attacked images. */
function compareChart(r: CkaResult, names: ModelNames): LineChartData | null {
  const ab = r.ab;
  if (!ab || !ab.shared.length) return null;
  const b = names.b ?? 'B';
  const series: LineSeries[] = [{ label: `${names.a} vs ${b}, clean`, color: COLOR.baseline, y: ab.clean.map(shown) }];
  if (ab.onAttackA) series.push({ label: `on ${names.a}'s attacked images`, color: A, hollow: true, y: ab.onAttackA.map(shown) });
  if (ab.onAttackB) series.push({ label: `on ${b}'s attacked images`, color: B, hollow: true, dashed: true, y: ab.onAttackB.map(shown) });
  return { title: `${names.a} vs ${b}, layer by layer`, x: ab.shared, series, xLabel: 'layer (same name in A and B)', yLabel: 'CKA(A’s layer, B’s layer) (0–1)', yDomain: [floorOf(series), 1] };
}

export function CkaView() {
  const r = useAnalysisResult('cka');
  const [hover, setHover] = useState<string | null>(null);
  const names = useModelNames();
  const running = useLab((s) => s.analyses.cka?.status === 'running');
  const lines = useMemo(() => r && attackChart(r, names), [r, names]);
  const ab = useMemo(() => r && compareChart(r, names), [r, names]);
  const estimator = r?.estimator === 'debiased' ? 'debiased CKA' : 'linear CKA';
  return (
    <section data-testid="cka-view">
      <h2>CKA: how similar are the layers’ representations?</h2>
      <p className="muted">
        Centred kernel alignment (Kornblith et al., ICML 2019) compares two representations of the same images by their geometry: which images each layer puts close together and far apart. 1 means the same geometry up to a rotation and a uniform scale; 0 means unrelated. The heat map compares every layer with every other on clean images; the
        line chart compares each layer on clean images with the same layer on the attacked images (the attack chosen on the left, at the current ε), so a drop shows where the attack reshapes the representation. With a compare model, A’s layers are also compared with B’s on the same images.
      </p>
      <ViewControls kind="cka" legend="CKA" />
      <AnalysisBar kind="cka" onRun={() => void runAnalysis('cka')} runLabel="Run CKA">
        {r?.a && (
          <span className="muted" data-testid="cka-summary">
            {estimator} · {r.n} samples · {r.attacked ? `${r.attack} ε=${r.eps} · A robust ${fmtPct(r.a.robustAccuracy)}${r.b ? ` · B robust ${fmtPct(r.b.robustAccuracy)}` : ''}` : 'ε = 0: clean only'}
          </span>
        )}
      </AnalysisBar>
      <div data-testid="cka-heatmap" style={{ display: 'flex', flexWrap: 'wrap', gap: 16, alignItems: 'flex-start' }}>
        {r?.a && <CkaHeatmap rows={r.a.layers} cols={r.a.layers} matrix={r.a.matrix} caption={`${estimator}, ${names.a}, layer × layer (clean)`} testId="cka-heatmap-a" onHover={setHover} />}
        {r?.b && <CkaHeatmap rows={r.b.layers} cols={r.b.layers} matrix={r.b.matrix} caption={`${estimator}, ${names.b ?? 'B'}, layer × layer (clean)`} testId="cka-heatmap-b" onHover={setHover} />}
        {r?.a && !r.b && names.b && running && (
          <div className="heat-pending" data-testid="cka-heatmap-b-pending">
            {names.b}: computing…
          </div>
        )}
        {r?.ab && <CkaHeatmap rows={r.ab.layersA} cols={r.ab.layersB} matrix={r.ab.matrix} caption={`${estimator}, ${names.a} (rows) × ${names.b ?? 'B'} (columns), clean`} testId="cka-heatmap-ab" onHover={setHover} />}
      </div>
      {r?.a && (
        <div className="muted" data-testid="cka-hover">
          {hover ?? 'hover a cell: the two layers and their CKA'} · one colour scale for every map:
        </div>
      )}
      {r?.a && <HeatLegend domain={CKA_DOMAIN} label={`${estimator} (0 = unrelated, 1 = same geometry)`} format={(v) => v.toFixed(1)} testId="cka-heat-legend" />}
      {[...(r?.a?.notes.map((n) => `A: ${n}`) ?? []), ...(r?.b?.notes.map((n) => `B: ${n}`) ?? [])].map((note) => (
        <div key={note} className="warning">
          n/a — {note}
        </div>
      ))}
      <div className="chart-row">
        <LineChartView data={lines} testId="cka-lines" />
        {ab && <LineChartView data={ab} testId="cka-ab-lines" />}
      </div>
    </section>
  );
}
