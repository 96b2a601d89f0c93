/**
 * Collisions and optimal adversarial loss per layer (issue #8): for a class pair, the
 * smallest input perturbation of two different-class images that makes A·f_j agree
 * (Algorithm 1), the conflict graph at each ε and the optimal cross-entropy any classifier
 * on f_j can reach (Algorithm 2; log 2 = chance for a balanced pair), the 0-1 loss, a
 * layer × ε heat map, the conflict graph at a chosen ε, and a pair explorer showing the
 * colliding images at every layer. Model B dashed in compare mode; further zoo models
 * ("Also compare", e.g. the PGD and TRADES twins) dotted, on the same pairs.
 */
import { useCallback, useMemo, useState } from 'react';
import type { CollisionAnalysisResult } from '../../core/collision/analysis';
import type { CollisionJobResult } from '../../core/collision/job';
import { runAnalysis } from '../analyses';
import { applyParams } from '../setup';
import { classColor, COLOR, heatColor, heatInk, sequentialColor } from '../charts/colors';
import { createConflictGraph } from '../charts/conflictGraph';
import { type LineChartData, type LineSeries } from '../charts/lines';
import { useChart } from '../charts/useChart';
import { ImageCanvas } from '../components/ImageCanvas';
import { availablePresets, COLLISION_PRESETS } from '../presets';
import { useLab, type Params } from '../store';
import { HeatLegend } from './HeatLegend';
import { nameOf, useModelNames, type ModelNames } from '../modelNames';
import { AnalysisBar, LineChartView, useAnalysisResult, ViewControls } from './common';

export function runCollisions(): void {
  void runAnalysis('collision', { own: { extra: extraModelsOf(useLab.getState().params) } });
}

/** "Also compare" ids that are zoo models for the current data (other than A and B); others are skipped with a notice. */
function extraModelsOf(p: Params): string[] {
  // Only zoo models trained on the current data (the worker checks the input shape too).
  const fits = new Set(useLab.getState().zoo.filter((z) => z.dataset === p.setup.data).map((z) => z.id));
  const ids = [...new Set(p.collision.extra.map((x) => x.trim()))].filter((id) => id && id !== p.setup.model && id !== p.lab.compare);
  const skipped = ids.filter((id) => !fits.has(id));
  if (skipped.length) useLab.getState().set({ notice: `not a zoo model for ${p.setup.data}, skipped: ${skipped.join(', ')}` });
  return ids.filter((id) => fits.has(id));
}

/** Every analysed model of a result with its label and line style (A solid, B dashed, extras dotted). */
const EXTRA_DASHES = ['2,3', '1,4', '8,3,2,3'];
function modelRuns(r: CollisionJobResult, names: ModelNames): { label: string; res: CollisionAnalysisResult; dashed: boolean | string }[] {
  const out: { label: string; res: CollisionAnalysisResult; dashed: boolean | string }[] = [];
  if (r.a) out.push({ label: names.a, res: r.a, dashed: false });
  if (r.b) out.push({ label: names.b ?? 'B', res: r.b, dashed: true });
  (r.extra ?? []).forEach((e, k) => e.result && out.push({ label: e.id, res: e.result, dashed: EXTRA_DASHES[k % EXTRA_DASHES.length] }));
  return out;
}


/** Colour of the i-th of n layers: the sequential scale by depth (not an ε, so not the ε palette). */
const layerColor = (i: number, n: number) => sequentialColor(i / Math.max(1, n - 1));

function lossChart(r: CollisionJobResult, zeroOne: boolean, names: ModelNames): LineChartData | null {
  const a = r.a;
  const first = a?.layers.find((l) => l.curve.eps.length);
  if (!a || !first) return null;
  const x = first.curve.eps;
  const series: LineSeries[] = [];
  for (const { label, res, dashed } of modelRuns(r, names)) {
    res.layers.forEach((l, i) => {
      const y = zeroOne ? l.curve.meanZeroOne : l.curve.meanLogLoss;
      if (!y) return;
      series.push({ label: `${label} · ${l.layer}${l.complete ? '' : ' (computing…)'}`, color: layerColor(i, res.layers.length), dashed, y });
    });
  }
  return {
    title: zeroOne ? 'Optimal 0-1 loss per layer' : 'Optimal adversarial cross-entropy per layer',
    x,
    series,
    xLabel: 'ε (input-space L2, pixels in [0, 1])',
    yLabel: zeroOne ? 'optimal 0-1 loss (0–1)' : 'optimal cross-entropy (nats)',
    rules: zeroOne ? [{ y: 0.5, label: 'chance' }] : [{ y: Math.log(2), label: 'log 2 (chance)' }],
  };
}

/** Small multiples: one chart per layer, a line per model (the seed's side-by-side trainings). */
function layerCharts(r: CollisionJobResult, names: ModelNames): { layer: string; data: LineChartData }[] {
  const runs = modelRuns(r, names);
  const first = r.a?.layers.find((l) => l.curve.eps.length);
  if (!first || !r.a) return [];
  return r.a.layers.map((la) => ({
    layer: la.layer,
    data: {
      title: la.layer,
      x: first.curve.eps,
      series: runs.flatMap(({ label, res, dashed }, k) => {
        const l = res.layers.find((x) => x.layer === la.layer);
        // A and B in their semantic colours; further models in class-palette hues.
        const color = res === r.a ? COLOR.modelA : res === r.b ? COLOR.modelB : classColor(k);
        return l ? [{ label: `${label}${l.complete ? '' : ' (computing…)'}`, color, dashed, y: l.curve.meanLogLoss }] : [];
      }),
      xLabel: 'ε (input L2)',
      yLabel: 'optimal log-loss (nats)',
      rules: [{ y: Math.log(2), label: 'log 2' }],
    },
  }));
}

/** The seed's sweep of m: optimal log-loss at one ε against the projection size, a line per layer. */
function sweepChart(r: CollisionJobResult, epsIndex: number, names: ModelNames): LineChartData | null {
  if (r.sweep.length < 2) return null;
  const x = r.sweep.map((e) => e.m);
  const series: LineSeries[] = [];
  for (const name of ['a', 'b'] as const) {
    const first = r.sweep[0][name];
    if (!first) continue;
    first.layers.forEach((l, i) => {
      const y = r.sweep.map((e) => e[name]?.layers.find((k) => k.layer === l.layer)?.curve.meanLogLoss[epsIndex] ?? NaN);
      series.push({ label: `${nameOf(names, name)} · ${l.layer}`, color: layerColor(i, first.layers.length), dashed: name === 'b', y });
    });
  }
  const eps = r.sweep[0].a?.layers[0]?.curve.eps[epsIndex];
  return { title: `Optimal log-loss against the projection size at ε = ${eps ?? '?'}`, x, series, xLabel: 'projection size m (dimensions)', yLabel: 'optimal log-loss (nats)', rules: [{ y: Math.log(2), label: 'log 2 (chance)' }] };
}

/** Optimal log-loss lies in [0, log 2] for a balanced pair: one fixed scale for every model's table. */
const LOGLOSS_DOMAIN: [number, number] = [0, Math.log(2)];

function Heat({ res, label }: { res: CollisionAnalysisResult; label: string }) {
  const eps = res.layers[0]?.curve.eps ?? [];
  return (
    <table className="heatmap" data-testid="collision-heatmap">
      <caption>optimal log-loss, {label} (layer × ε; brighter = nearer chance, more robust features lost)</caption>
      <thead>
        <tr>
          <th />
          {eps.map((e) => (
            <th key={e}>{e}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {res.layers.map((l) => (
          <tr key={l.layer}>
            <th>{l.layer}</th>
            {l.curve.meanLogLoss.map((v, i) => (
              <td key={i} title={`${label} · ${l.layer} · ε ${eps[i]}: optimal log-loss ${v.toFixed(4)} nats`} style={{ background: heatColor(v, LOGLOSS_DOMAIN), color: heatInk(v, LOGLOSS_DOMAIN) }}>
                {v.toFixed(3)}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * Bipartite conflict graph at ε for one layer (first projection): class A left, class B right.
 * A vertex is a sample: hovering it (or its card in the samples row below) highlights its
 * edges; clicking selects it in every view (shared dataset-index brush).
 */
function ConflictGraph({ res, layer, eps, onPair, focus, onFocus }: { res: CollisionAnalysisResult; layer: string; eps: number; onPair: (k: number) => void; focus: number | null; onFocus: (v: number | null) => void }) {
  const create = useCallback((el: SVGSVGElement) => createConflictGraph(el, { onPair, onFocus, onSelectSample: selectSample }), [onPair, onFocus]);
  const data = useMemo(() => ({ res, layer, eps, focus }), [res, layer, eps, focus]);
  const ref = useChart(create, data);
  return <svg ref={ref} className="line-chart" data-testid="conflict-graph" />;
}

/** Select a sample in every view (shared dataset-index brush); shift adds it. */
function selectSample(idx: number, add: boolean): void {
  const prev = useLab.getState().brushedIndices;
  useLab.getState().set({ brushedIndices: add ? [...new Set([...prev, idx])] : [idx] });
}

/** The collision samples (the graph's vertices), linked with the graph and the lab's brush. */
function VertexStrip({ r, res, focus, onFocus }: { r: CollisionJobResult; res: CollisionAnalysisResult; focus: number | null; onFocus: (v: number | null) => void }) {
  const brushed = useLab((s) => s.brushedIndices);
  if (!r.images) return null;
  const d = r.shape[0] * r.shape[1] * r.shape[2];
  return (
    <div className="strip" data-testid="collision-vertices">
      {Array.from(res.sampleIndices, (idx, v) => (
        <div
          key={v}
          className={`card${v === focus || brushed.includes(idx) ? ' focus' : ''}`}
          onMouseEnter={() => onFocus(v)}
          onMouseLeave={() => onFocus(null)}
          onClick={(e) => useLab.getState().set({ brushedIndices: e.shiftKey ? [...new Set([...brushed, idx])] : [idx] })}
        >
          <ImageCanvas pixels={r.images!} offset={v * d} shape={r.shape} title={`sample ${idx}`} />
          <div className="meta">
            <span>#{idx}</span>
            <span>y={res.sampleLabels[v]}</span>
          </div>
        </div>
      ))}
    </div>
  );
}

/**
 * The seed's Figure 3: one pair's colliding images x̃, x̃′ at every layer with their
 * perturbation sizes, a row per model (same pair and projection seeds for every model).
 */
function PairExplorer({ r, pair, names }: { r: CollisionJobResult; pair: number; names: ModelNames }) {
  const runs = modelRuns(r, names);
  const res = r.a;
  if (!res || !r.images || pair >= res.pairI.length) return null;
  const d = r.shape[0] * r.shape[1] * r.shape[2];
  const i = res.pairI[pair];
  const j = res.pairJ[pair];
  const x = r.images.subarray(i * d, (i + 1) * d);
  const xp = r.images.subarray(j * d, (j + 1) * d);
  return (
    <div data-testid="pair-explorer">
      <div className="muted">
        pair {pair}: samples {i} and {j} (projection 1){runs.length > 1 ? `, a row per model: ${runs.map((m) => m.label).join(', ')}` : ''}
      </div>
      {runs.map(({ label, res: mr }) => (
        <div className="strip" key={label} data-testid="pair-row">
          <div className="card">
            <div className="thumbs">
              <ImageCanvas pixels={x} shape={r.shape} title="x" />
              <ImageCanvas pixels={xp} shape={r.shape} title="x′" />
            </div>
            <div className="meta">
              <b>{label}</b> clean pair
            </div>
          </div>
          {mr.layers.map((l) => {
            const pts = l.points?.[0];
            if (!pts || pair >= mr.pairI.length) return null;
            const xt = pts.xTilde.subarray(pair * d, (pair + 1) * d);
            const xpt = pts.xPrimeTilde.subarray(pair * d, (pair + 1) * d);
            let n1 = 0;
            let n2 = 0;
            for (let k = 0; k < d; k++) {
              n1 += (xt[k] - x[k]) ** 2;
              n2 += (xpt[k] - xp[k]) ** 2;
            }
            return (
              <div className="card" key={l.layer}>
                <div className="thumbs">
                  <ImageCanvas pixels={xt} shape={r.shape} title="x̃" />
                  <ImageCanvas pixels={xpt} shape={r.shape} title="x̃′" />
                </div>
                <div className="meta">
                  <b>{l.layer}</b>
                  <span>‖δ‖ {Math.sqrt(n1).toFixed(2)} / {Math.sqrt(n2).toFixed(2)}</span>
                  <span>d = {Number.isFinite(l.distances[0][pair]) ? l.distances[0][pair].toFixed(3) : '∞'}</span>
                </div>
              </div>
            );
          })}
        </div>
      ))}
    </div>
  );
}

export function CollisionView() {
  const r = useAnalysisResult('collision');
  const [graphLayer, setGraphLayer] = useState('');
  const [graphEps, setGraphEps] = useState(2);
  const [pair, setPair] = useState(0);
  const [focusVertex, setFocusVertex] = useState<number | null>(null);
  const epsCount = r?.a?.layers[0]?.curve.eps.length ?? 0;
  const [sweepEps, setSweepEps] = useState(-1);
  const sweepEpsIndex = sweepEps >= 0 && sweepEps < epsCount ? sweepEps : Math.floor(epsCount / 2);
  const names = useModelNames();
  const sweep = useMemo(() => (r ? sweepChart(r, sweepEpsIndex, names) : null), [r, sweepEpsIndex, names]);
  const log = useMemo(() => (r ? lossChart(r, false, names) : null), [r, names]);
  const zeroOne = useMemo(() => (r ? lossChart(r, true, names) : null), [r, names]);
  const multiples = useMemo(() => (r ? layerCharts(r, names) : []), [r, names]);
  const runs = r ? modelRuns(r, names) : [];
  const [graphModel, setGraphModel] = useState('');
  const graphRun = runs.find((m) => m.label === graphModel) ?? runs[0];
  const zoo = useLab((s) => s.zoo);
  const params = useLab((s) => s.params);
  const presets = useMemo(() => {
    const ids = new Set(zoo.map((z) => z.id));
    return [...availablePresets(COLLISION_PRESETS.mnist, ids), ...availablePresets(COLLISION_PRESETS.cifar, ids)];
  }, [zoo]);
  const twins = zoo.filter((z) => z.id !== params.setup.model && z.id !== params.lab.compare && z.dataset === params.setup.data);
  const layerNames = r?.a?.layers.map((l) => l.layer) ?? [];
  const shownLayer = graphLayer && layerNames.includes(graphLayer) ? graphLayer : layerNames[layerNames.length - 1] ?? '';
  return (
    <section data-testid="collision-view">
      <h2>Collisions and optimal adversarial loss per layer</h2>
      <p className="muted">
        For a random projection A of the layer, d(x, x′) is the smallest L2 perturbation of two different-class inputs that makes A·f(x̃) = A·f(x̃′); no classifier on that layer can then get both right. The curve is the lowest
        cross-entropy any classifier on the layer can reach against perturbations of size ε (averaged over projections; log 2 = chance). Distances are {useLab.getState().params.collision.box ? 'box-constrained (not the paper)' : 'unconstrained, as in the seed paper'}.
      </p>
      {presets.length > 0 && (
        <div className="muted">
          presets (seed settings):{' '}
          {presets.map((preset) => (
            <button key={preset.key ?? preset.label} type="button" data-testid={`collision-preset-${preset.key ?? 'unnamed'}`} onClick={() => void applyParams(preset.params).then(runCollisions)}>
              {preset.label}
            </button>
          ))}
        </div>
      )}
      <ViewControls kind="collision" legend="Collisions" />
      {twins.length > 0 && (
        <div className="muted" data-testid="collision-extra-picker">
          also compare (same pairs):{' '}
          {twins.map((z) => {
            const on = params.collision.extra.includes(z.id);
            return (
              <label key={z.id} style={{ marginRight: 8 }}>
                <input type="checkbox" checked={on} onChange={() => void applyParams({ collision: { extra: on ? params.collision.extra.filter((x) => x !== z.id) : [...params.collision.extra, z.id] } })} /> {z.id}
              </label>
            );
          })}
        </div>
      )}
      <AnalysisBar kind="collision" onRun={runCollisions} runLabel="Run collision search">
        {r?.a && r.a.seconds > 0 && (
          <span className="muted" data-testid="collision-summary">
            {r.a.pairI.length} pairs × {r.a.layers.length} layers{r.a.approximate ? ' (multi-class: approximate)' : ''} · A {r.a.seconds.toFixed(1)} s
            {r.b && r.b.seconds > 0 ? ` · B ${r.b.seconds.toFixed(1)} s` : ''}
            {(r.extra ?? []).map((e) => (e.result && e.result.seconds > 0 ? ` · ${e.id} ${e.result.seconds.toFixed(1)} s` : '')).join('')}
          </span>
        )}
      </AnalysisBar>
      <div className="chart-row">
        <LineChartView data={log} testId="collision-logloss" />
        <LineChartView data={zeroOne} testId="collision-zeroone" />
      </div>
      {r?.a && r.a.seconds > 0 && (
        <>
          {sweep && (
            <div data-testid="collision-sweep">
              <div className="control-row">
                m sweep at ε{' '}
                <select value={sweepEpsIndex} onChange={(e) => setSweepEps(Number(e.target.value))}>
                  {(r.a.layers[0]?.curve.eps ?? []).map((e, i) => (
                    <option key={i} value={i}>
                      {e}
                    </option>
                  ))}
                </select>
              </div>
              <LineChartView data={sweep} testId="collision-sweep-chart" />
            </div>
          )}
          {multiples.length > 1 && (
            <div className="small-multiples" data-testid="collision-multiples">
              {multiples.map((m) => (
                <LineChartView key={m.layer} data={m.data} testId={`collision-multiple-${m.layer}`} />
              ))}
            </div>
          )}
          <div className="chart-row heatmap-row">
            {runs.map((m) => (m.res.seconds > 0 ? <Heat key={m.label} res={m.res} label={m.label} /> : null))}
          </div>
          <HeatLegend domain={LOGLOSS_DOMAIN} label="optimal log-loss (nats; log 2 ≈ 0.693 = chance), one scale for every model" testId="collision-heat-legend" />
          <div className="control-row">
            layer{' '}
            <select value={shownLayer} onChange={(e) => setGraphLayer(e.target.value)}>
              {layerNames.map((l) => (
                <option key={l}>{l}</option>
              ))}
            </select>{' '}
            ε <input type="number" step={0.25} value={graphEps} onChange={(e) => setGraphEps(Number(e.target.value))} style={{ width: 70 }} />
            {runs.length > 1 && (
              <>
                {' '}
                model{' '}
                <select value={graphRun?.label} onChange={(e) => setGraphModel(e.target.value)}>
                  {runs.map((m) => (
                    <option key={m.label}>{m.label}</option>
                  ))}
                </select>
              </>
            )}
          </div>
          {graphRun && <ConflictGraph res={graphRun.res} layer={shownLayer} eps={graphEps} onPair={setPair} focus={focusVertex} onFocus={setFocusVertex} />}
          {graphRun && <VertexStrip r={r} res={graphRun.res} focus={focusVertex} onFocus={setFocusVertex} />}
          <PairExplorer r={r} pair={pair} names={names} />
        </>
      )}
    </section>
  );
}
