/**
 * Layerwise t-SNE (issue #6; Valentim et al., arXiv 2406.14073): one scatter per tapped
 * layer (clean filled, adversarial hollow, partner lines, colour = true class), and the
 * overlap metric per layer: on the shown layout, mean ± sd over cold-start seeds, the
 * attack-success-restricted variant and the 50-D PCA baseline. Releasing the ε slider
 * re-runs the embedding as a warm start, so the points move instead of jumping.
 */
import { useCallback, useMemo, useRef, useState } from 'react';
import type { LayerEmbedding, TsneJobResult } from '../../core/tsne/job';
import { resultOf, runAnalysis } from '../analyses';
import { applyParams, onApplied } from '../setup';
import { type LineChartData, type LineSeries } from '../charts/lines';
import { createScatter, type ScatterFrame, type ScatterHover } from '../charts/scatter';
import { classColor, COLOR, epsColor } from '../charts/colors';
import { useChart } from '../charts/useChart';
import { classNamesOf, useLab, type ParamsPatch } from '../store';
import { nameOf, useEpsRangeMax, useModelNames } from '../modelNames';
import { AnalysisBar, fmtPct, LineChartView, useAnalysisResult, ViewControls } from './common';

export async function runTsneView(whichOverride?: 'a' | 'b', queue = false): Promise<void> {
  const p = useLab.getState().params;
  const which = whichOverride ?? (p.tsne.model === 'b' && p.lab.compare ? 'b' : 'a');
  // A warm start carries the shown positions: the worker may have been replaced since.
  const shown = queue ? resultOf<TsneJobResult>(`tsne:${which}`) : null;
  const warmFrom = shown ? Object.fromEntries(shown.layers.filter((e) => e.done).map((e) => [e.layer, e.positions])) : undefined;
  await runAnalysis('tsne', { own: { model: which }, slot: `tsne:${which}`, queue, carry: { warmFrom } });
}

/** Both models one after the other, so the overlap chart can compare them. */
async function runBoth(): Promise<void> {
  await runTsneView('a');
  if (useLab.getState().params.lab.compare) await runTsneView('b');
}

/**
 * The seed paper's setting (Valentim et al.): a standard and an adversarially trained model
 * of the zoo, APGD-CE at the AT model's training radius, the overlap over all layers.
 */
const SEED_PAIR = { setup: { model: 'mnist-small-st', data: 'mnist-test' }, lab: { compare: 'mnist-small-pgd-linf' }, view: { layers: [] }, tsne: { n: 300, seeds: 3, iterations: 750 } };
const SEED_PRESETS: Record<'linf' | 'l2', ParamsPatch> = {
  linf: { ...SEED_PAIR, attack: { attack: 'apgd-ce', norm: 'linf', eps: 0.3, steps: 100, restarts: 1 } },
  l2: { ...SEED_PAIR, attack: { attack: 'apgd-ce', norm: 'l2', eps: 2.0, steps: 100, restarts: 1 } },
};

async function applySeedPreset(which: keyof typeof SEED_PRESETS): Promise<void> {
  await applyParams(SEED_PRESETS[which]);
  await runBoth();
}

// The ε slider drives the embeddings: on release, a warm start at the new ε.
onApplied((before, next) => {
  if (!before || next.lab.view !== 'tsne') return;
  const which = next.tsne.model === 'b' && next.lab.compare ? 'b' : 'a';
  // Compare with the ε of the shown embedding, not `before`: while dragging, the preview has
  // already moved params.attack.eps, so the release sees before.eps === next.eps.
  const shownEps = resultOf<TsneJobResult>(`tsne:${which}`)?.eps;
  if (shownEps !== undefined && next.attack.eps !== shownEps) void runTsneView(undefined, true);
});

/** What the tooltip of a hovered scatter point says: which sample, which half, true and predicted class. */
export function scatterPointText(hover: ScatterHover, r: Pick<TsneJobResult, 'indices' | 'labels' | 'cleanPred' | 'advPred'>, classNames: readonly string[] | undefined): string[] {
  const k = hover.pair;
  const name = (c: number) => classNames?.[c] ?? String(c);
  const truth = r.labels[k];
  const pred = hover.adversarial ? r.advPred[k] : r.cleanPred[k];
  return [`sample #${r.indices[k]} · ${hover.adversarial ? 'adversarial' : 'clean'}`, `true class ${name(truth)} · predicted ${name(pred)}${pred === truth ? '' : ' (misclassified)'}`];
}

function LayerScatter({ e, r, variant = 'cell', hovered = false }: { e: LayerEmbedding; r: TsneJobResult; variant?: 'cell' | 'enlarged'; hovered?: boolean }) {
  const indices = useRef(r.indices);
  indices.current = r.indices;
  // Linked selection: pairs brushed in any scatter, or samples selected in the image strip.
  const brushedIndices = useLab((s) => s.brushedIndices);
  const brushed = useLab((s) => s.brushed);
  const stripIndices = useLab((s) => s.sample?.indices);
  const highlighted = useMemo(() => {
    const want = new Set(brushedIndices);
    if (stripIndices) for (const i of brushed) want.add(stripIndices[i]);
    const out = new Set<number>();
    r.indices.forEach((idx, k) => {
      if (want.has(idx)) out.add(k);
    });
    return out;
  }, [brushedIndices, brushed, stripIndices, r.indices]);
  const [hover, setHover] = useState<ScatterHover | null>(null);
  const classNames = useLab(classNamesOf);
  const create = useCallback(
    (el: HTMLCanvasElement) => createScatter(el, { onBrush: (pairs) => useLab.getState().set({ brushedIndices: pairs.map((k) => indices.current[k]), brushed: [] }), onHoverPoint: setHover }),
    [],
  );
  // Enlarging the cell needs no new frame: the scatter redraws itself when its canvas resizes.
  const frame = useMemo<ScatterFrame>(() => ({ positions: e.positions, labels: r.labels, cleanPred: r.cleanPred, advPred: r.advPred, highlighted }), [e.positions, r, highlighted]);
  const ref = useChart(create, frame);
  const startLabel = e.start === 'cold' ? 'cold start' : e.start === 'warm-joint' ? 'warm start, joint' : 'warm start, anchored';
  return (
    <figure className={`tsne-cell${variant === 'enlarged' ? ' enlarged' : ''}${hovered ? ' hovered' : ''}`} data-testid={variant === 'enlarged' ? 'tsne-enlarged' : 'tsne-cell'} data-layer={e.layer}>
      <figcaption>
        <b>{e.layer}</b>{' '}
        <span className="muted">
          overlap {fmtPct(e.overlap?.value)}
          {e.overlapSeeds?.mean !== null && e.overlapSeeds && e.overlapSeeds.n > 1 && ` (${fmtPct(e.overlapSeeds.mean)} ± ${fmtPct(e.overlapSeeds.sd)}, ${e.overlapSeeds.n} seeds)`}
        </span>
      </figcaption>
      <div className="tsne-canvas-box">
        <canvas ref={ref} className="tsne-canvas" />
        {hover && (
          <div className="chart-tooltip-html" data-testid="tsne-tooltip" style={{ left: hover.x + 10, top: hover.y + 10 }}>
            {scatterPointText(hover, r, classNames).map((line, i) => (
              <div key={i} className={i === 0 ? 'first' : undefined}>
                {line}
              </div>
            ))}
          </div>
        )}
      </div>
      <div className="muted">
        it {e.iteration}/{e.totalIterations} · KL {Number.isFinite(e.kl) ? e.kl.toFixed(2) : '–'}{e.impl ? ` · ${e.impl === 'typed' ? 'typed arrays' : 'GPU ops'}` : ''} · {startLabel}
      </div>
    </figure>
  );
}

/**
 * The scatters' colour key (issue #21): one swatch per class present, and the marks: filled =
 * clean, hollow = adversarial, thin dark outline = misclassified by the model.
 */
function ScatterKey({ r, classNames }: { r: TsneJobResult; classNames: readonly string[] | undefined }) {
  const classes = useMemo(() => [...new Set(Array.from(r.labels))].sort((a, b) => a - b), [r.labels]);
  return (
    <div className="class-key" data-testid="tsne-class-key">
      <span className="muted">true class:</span>
      {classes.map((c) => (
        <span key={c} className="class-key-entry" data-class={c}>
          <span className="swatch" style={{ background: classColor(c) }} />
          {classNames?.[c] ?? c}
        </span>
      ))}
      <span className="class-key-entry">
        <span className="swatch dot" /> clean
      </span>
      <span className="class-key-entry">
        <span className="swatch ring" /> adversarial
      </span>
      <span className="class-key-entry">
        <span className="swatch dot outlined" /> misclassified (thin dark outline)
      </span>
      <span className="class-key-entry muted">faint line: a clean–adversarial pair</span>
    </div>
  );
}

export function TsneView() {
  const which = useLab((s) => (s.params.tsne.model === 'b' && s.params.lab.compare ? 'b' : 'a'));

  const compare = useLab((s) => s.params.lab.compare);
  const datasetSize = useLab((s) => s.dataset?.n ?? 0);
  const selectedCount = useLab((s) => s.brushedIndices.length);
  const r = useAnalysisResult('tsne', `tsne:${which}`);
  const rOther = useAnalysisResult('tsne', `tsne:${which === 'a' ? 'b' : 'a'}`);
  const [hoveredLayer, setHoveredLayer] = useState<string | null>(null);
  // The enlarged scatter beside the overlap chart keeps the last hovered layer, so leaving the
  // chart does not make the panel jump; it never reflows the chart the pointer is on.
  const [enlargedLayer, setEnlargedLayer] = useState<string | null>(null);
  const onHoverLayer = useCallback((x: number | string | null) => {
    setHoveredLayer(x === null ? null : String(x));
    if (x !== null) setEnlargedLayer(String(x));
  }, []);
  const names = useModelNames();
  const epsMax = useEpsRangeMax();
  const classNames = useLab(classNamesOf);
  // One line per ε the slider visited (the cached ladder of this model, sample and layers):
  // the overlap of each finished embedding, kept while the setup stays the same.
  const history = useRef<{ setup: string; byEps: Map<number, Map<string, number | null>> }>({ setup: '', byEps: new Map() });
  if (r && r.layers.length && r.layers.every((e) => e.iteration >= e.totalIterations)) {
    const setup = `${r.which}|${Array.from(r.indices).join(',')}|${r.layers.map((e) => e.layer).join(',')}`;
    if (history.current.setup !== setup) history.current = { setup, byEps: new Map() };
    history.current.byEps.set(r.eps, new Map(r.layers.map((e) => [e.layer, e.overlap?.value ?? null])));
  }
  const data = useMemo<LineChartData | null>(() => {
    if (!r || !r.layers.length) return null;
    const L = r.layers;
    const self = nameOf(names, r.which);
    const otherLayers = rOther?.layers ?? [];
    const otherSeries: LineSeries[] = otherLayers.length
      ? [{ label: `${nameOf(names, rOther!.which)} (ε=${rOther!.eps})`, color: COLOR.otherModel, dashed: true, y: L.map((e) => otherLayers.find((o) => o.layer === e.layer)?.overlap?.value ?? null) }]
      : [];
    const visited = [...history.current.byEps.entries()].filter(([eps]) => eps !== r.eps).sort((a, b) => a[0] - b[0]);
    // ε colours from the lab's threat-model range: an ε keeps its colour as more are visited.
    const ladderSeries: LineSeries[] = visited.map(([eps, byLayer]) => ({ label: `${self}, ε=${eps}`, color: epsColor(eps, epsMax), dashed: true, y: L.map((e) => byLayer.get(e.layer) ?? null) }));
    return {
      title: `t-SNE overlap per layer, ${self}`,
      x: L.map((e) => e.layer),
      series: [
        ...ladderSeries,
        ...otherSeries,
        { label: `${self}, ε=${r.eps} (shown layout)`, color: COLOR.modelA, y: L.map((e) => e.overlap?.value ?? null) },
        {
          label: `${self}: mean ± sd over seeds`,
          color: COLOR.modelALight,
          y: L.map((e) => e.overlapSeeds?.mean ?? null),
          band: { low: L.map((e) => (e.overlapSeeds?.mean ?? null) !== null && e.overlapSeeds?.sd !== null ? (e.overlapSeeds!.mean as number) - (e.overlapSeeds!.sd as number) : null), high: L.map((e) => (e.overlapSeeds?.mean ?? null) !== null && e.overlapSeeds?.sd !== null ? (e.overlapSeeds!.mean as number) + (e.overlapSeeds!.sd as number) : null) },
        },
        { label: `${self}: successful attacks only`, color: COLOR.adversarial, y: L.map((e) => e.overlap?.successRestricted ?? null), dashed: true },
        { label: `${self}: 50-D PCA space (baseline)`, color: COLOR.baseline, y: L.map((e) => e.overlapPca?.value ?? null), hollow: true, dashed: true },
      ],
      xLabel: 'layer — hover one to enlarge its scatter',
      yLabel: 'overlap (% of pairs)',
      yDomain: [0, 1],
      format: (v) => `${(100 * v).toFixed(1)}%`,
    };
  }, [r, rOther, names, epsMax]);
  const enlarged = r?.layers.find((e) => e.layer === enlargedLayer) ?? null;
  return (
    <section data-testid="tsne-view">
      <h2>Layerwise t-SNE of clean and adversarial activations</h2>
      <p className="muted">
        Release the ε slider to move the points (warm start). Overlap: the share of pairs whose adversarial point is nearer its clean partner than any
        other-class clean point (misclassified clean images excluded, strict inequality, undefined shown as n/a).
      </p>
      <ViewControls kind="tsne" legend="t-SNE" />
      <div className="muted">
        preset (seed paper): <button type="button" data-testid="tsne-preset-linf" onClick={() => void applySeedPreset('linf')}>ST vs AT, APGD-CE L∞ 0.3</button>{' '}
        <button type="button" onClick={() => void applySeedPreset('l2')}>ST vs AT, APGD-CE L2 2.0</button>
        {compare && (
          <>
            {' '}· <button type="button" data-testid="tsne-run-both" onClick={() => void runBoth()}>Run A and B</button>
          </>
        )}
      </div>
      <AnalysisBar kind="tsne" slot={`tsne:${which}`} testId="tsne" onRun={() => void runTsneView()} runLabel="Run t-SNE">
        {r && (
          <span className="muted" data-testid="tsne-summary">
            model {r.which.toUpperCase()} · ε={r.eps} · {r.labels.length} pairs
            {datasetSize > r.labels.length && (
              <span data-testid="tsne-subsampled">
                {' '}
                · subsampled: a class-balanced {r.labels.length} of {datasetSize} images ({2 * r.labels.length} points per layer; raise Images for more, up to 5,000)
              </span>
            )}
          </span>
        )}
      </AnalysisBar>
      {r && <ScatterKey r={r} classNames={classNames} />}
      <div className="tsne-grid">{r?.layers.map((e) => <LayerScatter key={e.layer} e={e} r={r} hovered={e.layer === hoveredLayer} />)}</div>
      <div className="muted">
        drag a rectangle in a scatter to select those samples everywhere (a click clears); hover a layer in the chart to enlarge its scatter
        {selectedCount > 0 && (
          <span data-testid="tsne-selection">
            {' '}
            · {selectedCount} selected{' '}
            <button type="button" onClick={() => useLab.getState().set({ brushedIndices: [] })}>
              clear
            </button>
          </span>
        )}
      </div>
      <div className="tsne-overlap-row">
        <LineChartView data={data} onHoverX={onHoverLayer} testId="tsne-overlap-chart" />
        {r && r.layers.length > 0 && (enlarged ? <LayerScatter key={`enlarged-${enlarged.layer}`} e={enlarged} r={r} variant="enlarged" /> : <div className="tsne-enlarged-empty muted">hover a layer in the chart to see its scatter here, enlarged</div>)}
      </div>
    </section>
  );
}
