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
import { COLOR, epsColor } from '../charts/colors';
import { type LineChartData, type LineSeries } from '../charts/lines';
import { availablePreset, MFTMA_PRESETS, type Preset } from '../presets';
import { useLab } from '../store';
import { AnalysisBar, fmtPct, LineChartView, useAnalysisResult, ViewControls } from './common';

type Metric = 'capacity' | 'radius' | 'dimension' | 'centerCorrelation';

const METRICS: { key: Metric; label: string; help: string }[] = [
  { key: 'capacity', label: 'capacity α_M', help: 'How many manifolds per dimension a linear readout can still separate: higher = more linearly separable; robust layers keep it as the perturbation grows.' },
  { key: 'radius', label: 'radius R_M', help: 'Size of each manifold relative to its center: perturbations that blow a layer’s manifolds up (non-robust early layers) raise it.' },
  { key: 'dimension', label: 'dimension D_M', help: 'Number of directions the manifold effectively spans against a random readout: high dimension lowers capacity.' },
  { key: 'centerCorrelation', label: 'center correlation ρ', help: 'Mean |cosine| between manifold centers: correlated centers are harder to separate.' },
];

async function applyPresetAndRun(preset: Preset): Promise<void> {
  await applyParams(preset.params);
  runManifolds();
}

export function runManifolds(): void {
  void runAnalysis('mftma');
}

function MetricChart({ r, metric }: { r: MftmaJobResult; metric: (typeof METRICS)[number] }) {
  const data = useMemo<LineChartData | null>(() => {
    if (!r.a.length) return null;
    const layers = r.layers.filter((l) => r.a.some((p) => p.layer === l));
    const maxSize = Math.max(...r.ladder);
    const series: LineSeries[] = [];
    for (const [name, points] of [['A', r.a], ['B', r.b]] as const) {
      if (!points) continue;
      for (const size of r.ladder) {
        const at = (layer: string) => points.find((p: MftmaPoint) => p.layer === layer && p.size === size);
        if (!layers.some((l) => at(l))) continue;
        series.push({ label: `${name} ${size}`, color: epsColor(size, maxSize), dashed: name === 'B', y: layers.map((l) => at(l)?.[metric.key] ?? null) });
      }
    }
    return { x: layers, series, xLabel: 'layer', yLabel: metric.label };
  }, [r, metric]);
  return (
    <figure className="metric-chart" title={metric.help}>
      <figcaption>
        <b>{metric.label}</b> <span className="muted">{metric.help}</span>
      </figcaption>
      <LineChartView data={data} testId={`mftma-${metric.key}`} />
    </figure>
  );
}

/**
 * Layer × σ/ε capacity, with the model's accuracy on the same manifold points under each
 * perturbation as the last row (and the clean accuracy in the caption): the seed reads the
 * capacity profile next to what the perturbation does to the output.
 */
function Heatmap({ points, accuracy, ladder, layers, label }: { points: MftmaPoint[]; accuracy: SweepAccuracy[] | undefined; ladder: number[]; layers: string[]; label: string }) {
  // Entry 0 is the clean pass; ladder value i is entry i + 1.
  const clean = accuracy?.[0];
  const values = points.map((p) => p.capacity).filter(Number.isFinite);
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return (
    <table className="heatmap" data-testid="mftma-heatmap">
      <caption>
        capacity, model {label} (layer × σ/ε){clean ? ` · clean accuracy on these points ${fmtPct(clean.accuracy)}` : ''}
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
              const t = p && hi > lo ? (p.capacity - lo) / (hi - lo) : 0.5;
              return (
                <td key={s} style={{ background: p ? epsColor(t, 1) : COLOR.pending, color: t > 0.6 ? COLOR.inkOnLight : COLOR.inkOnDark }} title={p ? `α=${p.capacity.toFixed(4)} R=${p.radius.toFixed(3)} D=${p.dimension.toFixed(2)}${p.projection ? ` (${p.projection.kind === 'span' ? 'exact reduction' : 'random projection'} ${p.width}→${p.projection.toDims} dims)` : ''}` : 'pending'}>
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
              <MetricChart key={m.key} r={r} metric={m} />
            ))}
          </div>
          <div className="chart-row">
            <Heatmap points={r.a} accuracy={r.accuracy?.a} ladder={r.ladder} layers={r.layers} label="A" />
            {r.b && <Heatmap points={r.b} accuracy={r.accuracy?.b ?? undefined} ladder={r.ladder} layers={r.layers} label="B" />}
          </div>
        </>
      )}
    </section>
  );
}
