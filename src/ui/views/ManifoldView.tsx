/**
 * Manifold capacity per layer (issue #7; MFTMA, Chung et al. 2018, Cohen et al. 2020):
 * four linked per-layer charts (capacity α_M, radius R_M, dimension D_M, center correlation
 * ρ), one line per σ/ε of the ladder, model B dashed; a layer × σ/ε heat map of capacity.
 */
import { useMemo } from 'react';
import type { MftmaJobResult, MftmaPoint } from '../../core/mftma/job';
import type { SweepAccuracy } from '../../core/mftma/manifolds';
import { runAnalysis } from '../analyses';
import { applyParams } from '../setup';
import { COLOR, epsColor, heatColor, heatInk, sharedDomain } from '../charts/colors';
import { type LineChartData, type LineSeries } from '../charts/lines';
import { availablePreset, MFTMA_PRESETS, type Preset } from '../presets';
import { useLab } from '../store';
import { HeatLegend } from './HeatLegend';
import { useModelNames, type ModelNames } from '../modelNames';
import { AnalysisBar, fmtPct, LineChartView, useAnalysisResult, ViewControls } from './common';

type Metric = 'capacity' | 'radius' | 'dimension' | 'centerCorrelation';

const METRICS: { key: Metric; label: string; axis: string; help: string }[] = [
  { key: 'capacity', label: 'capacity α_M', axis: 'α_M (manifolds per dimension)', help: 'How many manifolds per dimension a linear readout can still separate: higher = more linearly separable; robust layers keep it as the perturbation grows.' },
  { key: 'radius', label: 'radius R_M', axis: 'R_M (relative to the centre norm)', help: 'Size of each manifold relative to its center: perturbations that blow a layer’s manifolds up (non-robust early layers) raise it.' },
  { key: 'dimension', label: 'dimension D_M', axis: 'D_M (dimensions)', help: 'Number of directions the manifold effectively spans against a random readout: high dimension lowers capacity.' },
  { key: 'centerCorrelation', label: 'center correlation ρ', axis: 'ρ (mean |cosine|, 0–1)', help: 'Mean |cosine| between manifold centers: correlated centers are harder to separate.' },
];

async function applyPresetAndRun(preset: Preset): Promise<void> {
  await applyParams(preset.params);
  runManifolds();
}

export function runManifolds(): void {
  void runAnalysis('mftma');
}

/** Every layer × ladder point of a model has arrived (results stream in per point). */
const complete = (r: MftmaJobResult, points: MftmaPoint[]) => points.length >= r.layers.length * r.ladder.length;

function MetricChart({ r, metric, names }: { r: MftmaJobResult; metric: (typeof METRICS)[number]; names: ModelNames }) {
  const data = useMemo<LineChartData | null>(() => {
    if (!r.a.length) return null;
    const layers = r.layers.filter((l) => r.a.some((p) => p.layer === l));
    // The ladder's own range: σ of Gaussian noise and ε of attacks share this view, and a
    // value keeps its colour across runs of the same ladder (colors.ts EpsColors).
    const maxSize = Math.max(...r.ladder);
    const series: LineSeries[] = [];
    const placeholders: string[] = [];
    for (const [name, points] of [[names.a, r.a], [names.b ?? 'B', r.b]] as const) {
      if (!points) continue;
      const pending = !complete(r, points);
      let any = false;
      for (const size of r.ladder) {
        const at = (layer: string) => points.find((p: MftmaPoint) => p.layer === layer && p.size === size);
        if (!layers.some((l) => at(l))) continue;
        any = true;
        series.push({ label: `${name}, σ/ε = ${size}`, color: epsColor(size, maxSize), dashed: points === r.b, pending, y: layers.map((l) => at(l)?.[metric.key] ?? null) });
      }
      if (!any) placeholders.push(`${name}: computing…`);
    }
    return { title: `${metric.label} per layer`, x: layers, series, placeholders, xLabel: 'layer', yLabel: metric.axis };
  }, [r, metric, names]);
  return (
    <figure className="metric-chart">
      <figcaption className="muted">{metric.help}</figcaption>
      <LineChartView data={data} testId={`mftma-${metric.key}`} />
    </figure>
  );
}

/**
 * Layer × σ/ε capacity, with the model's accuracy on the same manifold points under each
 * perturbation as the last row (and the clean accuracy in the caption): the seed reads the
 * capacity profile next to what the perturbation does to the output.
 */
function Heatmap({ points, accuracy, ladder, layers, label, domain }: { points: MftmaPoint[]; accuracy: SweepAccuracy[] | undefined; ladder: number[]; layers: string[]; label: string; domain: [number, number] }) {
  // Entry 0 is the clean pass; ladder value i is entry i + 1.
  const clean = accuracy?.[0];
  return (
    <table className="heatmap" data-testid="mftma-heatmap">
      <caption>
        capacity α_M, {label} (layer × σ/ε){clean ? ` · clean accuracy on these points ${fmtPct(clean.accuracy)}` : ''}
      </caption>
      <thead>
        <tr>
          <th />
          {ladder.map((s) => (
            <th key={s}>{s}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {layers.map((layer) => (
          <tr key={layer}>
            <th>{layer}</th>
            {ladder.map((s) => {
              const p = points.find((x) => x.layer === layer && x.size === s);
              return (
                <td key={s} style={{ background: p ? heatColor(p.capacity, domain) : COLOR.pending, color: p ? heatInk(p.capacity, domain) : COLOR.inkOnLight }} title={p ? `${label} · ${layer} · σ/ε ${s}: α=${p.capacity.toFixed(4)} R=${p.radius.toFixed(3)} D=${p.dimension.toFixed(2)}${p.projection ? ` (${p.projection.kind === 'span' ? 'exact reduction' : 'random projection'} ${p.width}→${p.projection.toDims} dims)` : ''}` : 'pending'}>
                  {p ? p.capacity.toFixed(3) : '…'}
                </td>
              );
            })}
          </tr>
        ))}
        <tr className="accuracy-row" data-testid="mftma-accuracy-row">
          <th title="The model's accuracy on the P·M manifold points under this perturbation">accuracy</th>
          {ladder.map((s, i) => {
            const a = accuracy?.[i + 1];
            return <td key={s}>{a ? fmtPct(a.accuracy) : '…'}</td>;
          })}
        </tr>
      </tbody>
    </table>
  );
}

export function ManifoldView() {
  const r = useAnalysisResult('mftma');
  const names = useModelNames();
  // One colour scale for A's and B's tables: the same α is the same colour in both.
  const heatDomain = useMemo(() => sharedDomain([r?.a.map((p) => p.capacity) ?? [], r?.b?.map((p) => p.capacity) ?? []]), [r]);
  const projected = r ? [...r.a, ...(r.b ?? [])].filter((p) => p.projection) : [];
  const zoo = useLab((s) => s.zoo);
  const zooIds = useMemo(() => new Set(zoo.map((z) => z.id)), [zoo]);
  const gaussian = availablePreset(MFTMA_PRESETS.gaussian, zooIds);
  const adversarial = availablePreset(MFTMA_PRESETS.adversarial, zooIds);
  return (
    <section data-testid="mftma-view">
      <h2>Manifold capacity per layer (MFTMA)</h2>
      <p className="muted">
        Replica mean-field manifold analysis (Chung, Lee &amp; Sompolinsky 2018): how linearly separable the class or exemplar manifolds are at each layer as the perturbation grows. Non-robust networks lose capacity in early layers because the
        radius grows (Cohen et al. 2020 setting).
      </p>
      {(gaussian || adversarial) && (
        <div className="muted">
          presets (seed settings):{' '}
          {[gaussian, adversarial].map(
            (preset, i) =>
              preset && (
                <button key={i} type="button" data-testid={`mftma-preset-${i === 0 ? 'gaussian' : 'adversarial'}`} onClick={() => void applyPresetAndRun(preset)}>
                  {preset.label}
                </button>
              ),
          )}
        </div>
      )}
      <ViewControls kind="mftma" legend="Manifolds" />
      <AnalysisBar kind="mftma" onRun={runManifolds} runLabel="Run MFTMA">
        {r && (
          <span className="muted" data-testid="mftma-summary">
            {r.a.length} layer×ladder points for A{r.b ? `, ${r.b.length} for B` : ''}
          </span>
        )}
      </AnalysisBar>
      {projected.length > 0 && (
        <div className="muted" data-testid="mftma-projection">
          wide layers reduced before the analysis (exact: onto the span of the points, inner products kept; random: seeded Gaussian projection):{' '}
          {[...new Set(projected.map((p) => `${p.layer} ${p.width}→${p.projection!.toDims} ${p.projection!.kind === 'span' ? 'exact' : 'random'}`))].join(', ')}
        </div>
      )}
      {r && (
        <>
          <div className="chart-row">
            {METRICS.map((m) => (
              <MetricChart key={m.key} r={r} metric={m} names={names} />
            ))}
          </div>
          <div className="chart-row heatmap-row">
            <Heatmap points={r.a} accuracy={r.accuracy?.a} ladder={r.ladder} layers={r.layers} label={names.a} domain={heatDomain} />
            {r.b && r.b.length > 0 && <Heatmap points={r.b} accuracy={r.accuracy?.b ?? undefined} ladder={r.ladder} layers={r.layers} label={names.b ?? 'B'} domain={heatDomain} />}
            {r.b && r.b.length === 0 && (
              <div className="heat-pending" data-testid="mftma-heatmap-b-pending">
                {names.b ?? 'B'}: computing…
              </div>
            )}
          </div>
          {r.a.length > 0 && <HeatLegend domain={heatDomain} label={r.b ? `capacity α_M, one scale for both models` : 'capacity α_M'} testId="mftma-heat-legend" />}
        </>
      )}
    </section>
  );
}
