/**
 * Layerwise t-SNE (issue #6; Valentim et al., arXiv 2406.14073): one scatter per tapped
 * layer (clean filled, adversarial hollow, partner lines, colour = true class), and the
 * overlap metric per layer: on the shown layout, mean ± sd over cold-start seeds, the
 * attack-success-restricted variant and the 50-D PCA baseline. Releasing the ε slider
 * re-runs the embedding as a warm start, so the points move instead of jumping.
 */
import { useEffect, useMemo, useRef } from 'react';
import type { LayerEmbedding, TsneJobResult } from '../../core/jobs';
import { tsneSchema } from '../../core/schema';
import { runAnalysis } from '../analyses';
import { attackSpec, layersFor, onApplied } from '../controller';
import { createLineChart, type LineChartData } from '../charts/lines';
import { createScatter } from '../charts/scatter';
import { useLab } from '../store';
import { AnalysisBar, fmtPct, ViewControls } from './common';

export function runTsneView(): void {
  const p = useLab.getState().params;
  const params = {
    spec: attackSpec(p, false),
    layers: layersFor(p),
    n: p.tsneN,
    perplexity: p.perplexity,
    iterations: p.tsneIter,
    seeds: p.tsneSeeds,
    mode: p.tsneMode,
    which: p.tsneModel === 'b' && p.compare ? ('b' as const) : ('a' as const),
  };
  const key = JSON.stringify({ params, model: p.model, compare: p.compare, data: p.data, seed: p.seed });
  void runAnalysis('tsne', key, params);
}

// The ε slider drives the embeddings: on release, a warm start at the new ε.
onApplied((before, next) => {
  if (!before || next.view !== 'tsne') return;
  const have = useLab.getState().analyses.tsne;
  if (have && next.eps !== before.eps) runTsneView();
});

function LayerScatter({ e, r }: { e: LayerEmbedding; r: TsneJobResult }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const scatter = useRef<ReturnType<typeof createScatter> | null>(null);
  useEffect(() => {
    if (!ref.current) return;
    scatter.current = createScatter(ref.current);
    return () => scatter.current?.destroy();
  }, []);
  useEffect(() => {
    scatter.current?.update({ positions: e.positions, labels: r.labels, cleanPred: r.cleanPred, advPred: r.advPred });
  }, [e.positions, r]);
  const startLabel = e.start === 'cold' ? 'cold start' : e.start === 'warm-joint' ? 'warm start, joint' : 'warm start, anchored';
  return (
    <figure className="tsne-cell" data-testid="tsne-cell" data-layer={e.layer}>
      <figcaption>
        <b>{e.layer}</b>{' '}
        <span className="muted">
          overlap {fmtPct(e.overlap?.value)}
          {e.overlapSeeds?.mean !== null && e.overlapSeeds && e.overlapSeeds.n > 1 && ` (${fmtPct(e.overlapSeeds.mean)} ± ${fmtPct(e.overlapSeeds.sd)}, ${e.overlapSeeds.n} seeds)`}
        </span>
      </figcaption>
      <canvas ref={ref} className="tsne-canvas" />
      <div className="muted">
        it {e.iteration}/{e.totalIterations} · KL {Number.isFinite(e.kl) ? e.kl.toFixed(2) : '–'} · {startLabel}
      </div>
    </figure>
  );
}

export function TsneView() {
  const state = useLab((s) => s.analyses.tsne);
  const r = (state?.result as TsneJobResult | null) ?? null;
  const overlapRef = useRef<SVGSVGElement>(null);
  const chart = useRef<ReturnType<typeof createLineChart> | null>(null);
  useEffect(() => {
    if (!overlapRef.current) return;
    chart.current = createLineChart(overlapRef.current);
    return () => chart.current?.destroy();
  }, []);
  const data = useMemo<LineChartData | null>(() => {
    if (!r || !r.layers.length) return null;
    const L = r.layers;
    return {
      x: L.map((e) => e.layer),
      series: [
        { label: 't-SNE overlap (shown layout)', color: '#1f6feb', y: L.map((e) => e.overlap?.value ?? null) },
        {
          label: 'mean ± sd over seeds',
          color: '#7aa6f0',
          y: L.map((e) => e.overlapSeeds?.mean ?? null),
          band: { low: L.map((e) => (e.overlapSeeds?.mean ?? null) !== null && e.overlapSeeds?.sd !== null ? (e.overlapSeeds!.mean as number) - (e.overlapSeeds!.sd as number) : null), high: L.map((e) => (e.overlapSeeds?.mean ?? null) !== null && e.overlapSeeds?.sd !== null ? (e.overlapSeeds!.mean as number) + (e.overlapSeeds!.sd as number) : null) },
        },
        { label: 'successful attacks only', color: '#d1495b', y: L.map((e) => e.overlap?.successRestricted ?? null), dashed: true },
        { label: '50-D PCA space (baseline)', color: '#555', y: L.map((e) => e.overlapPca?.value ?? null), hollow: true, dashed: true },
      ],
      xLabel: 'layer',
      yLabel: 'overlap: adversarial point nearer its clean partner than any other-class clean point',
      yDomain: [0, 1],
      format: (v) => `${(100 * v).toFixed(1)}%`,
    };
  }, [r]);
  useEffect(() => {
    if (data) chart.current?.update(data);
  }, [data]);
  return (
    <section data-testid="tsne-view">
      <h2>Layerwise t-SNE of clean and adversarial activations</h2>
      <p className="muted">
        filled = clean, hollow = adversarial, faint line = a pair, colour = true class, red ring = misclassified. Release the ε slider to move the points
        (warm start). Overlap per spec: misclassified clean images excluded, strict inequality, undefined shown as n/a.
      </p>
      <ViewControls schema={tsneSchema} legend="t-SNE" />
      <AnalysisBar kind="tsne" onRun={runTsneView} runLabel="Run t-SNE">
        {r && (
          <span className="muted" data-testid="tsne-summary">
            model {r.which.toUpperCase()} · ε={r.eps} · {r.labels.length} pairs
          </span>
        )}
      </AnalysisBar>
      <div className="tsne-grid">{r?.layers.map((e) => <LayerScatter key={e.layer} e={e} r={r} />)}</div>
      <svg ref={overlapRef} className="line-chart" data-testid="tsne-overlap-chart" />
    </section>
  );
}
