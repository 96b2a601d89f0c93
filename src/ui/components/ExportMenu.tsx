/**
 * Exports of the current view: the chart as SVG and PNG with a caption drawn in (models,
 * data, attack, ε, seed, date: the manifest's caption), its data as CSV and JSON (model A's
 * and, in compare mode, model B's rows, each named by model id), and a JSON run manifest
 * (model, data, parameters, seed, versions) that reproduces it.
 */
import { serializeSvg, svgToPngBlob, toCsv, downloadBlob } from '../charts/export';
import { runManifest } from '../manifest';
import { ladderOf, shownSlice, useLab, type StoredResult } from '../store';

type Role = 'A' | 'B';

/** One row per (model, ε, layer): the shift statistics of every ε on the shown ladder. */
function layerRowsOf(role: Role, model: string, ladder: StoredResult[]) {
  return ladder.flatMap((r) =>
    r.shifts.map((sh) => ({ model, role, eps: r.eps, attack: r.spec.attack, norm: r.spec.norm, layer: sh.layer, mean: sh.mean, sd: sh.sd, median: sh.median, q25: sh.q25, q75: sh.q75, nonFinite: sh.nonFinite })),
  );
}

/** One row per sample of the shown ε: predictions, perturbation norms and per-layer shifts. */
function sampleRowsOf(shown: StoredResult, sample: NonNullable<ReturnType<typeof useLab.getState>['sample']>) {
  return Array.from(sample.labels, (label, i) => ({
    sample: i, datasetIndex: sample.indices[i], label, cleanPred: shown.cleanPred[i], advPred: shown.advPred[i], success: !!shown.success[i],
    linf: shown.linf[i], l2: shown.l2[i], firstSuccessStep: shown.firstSuccessStep[i],
    ...Object.fromEntries(shown.shifts.map((sh) => [`shift:${sh.layer}`, sh.values[i]])),
  }));
}

function viewData() {
  const s = useLab.getState();
  const shown = shownSlice(s);
  const sample = s.sample;
  if (!shown || !sample) return null;
  const ladder = ladderOf(s);
  const modelA = s.params.setup.model;
  const modelB = s.compareModel ? s.params.lab.compare : null;
  const shownB = modelB ? shownSlice(s, 'b') : null;
  const ladderB = modelB ? ladder.map((e) => e.slice.b).filter((r): r is StoredResult => r !== null) : [];
  const layerRows = [...layerRowsOf('A', modelA, ladder.map((e) => e.slice.a)), ...(modelB ? layerRowsOf('B', modelB, ladderB) : [])];
  const compare =
    modelB && shownB ? { model: modelB, samples: sampleRowsOf(shownB, sample), cleanAccuracy: shownB.cleanAccuracy, robustAccuracy: shownB.robustAccuracy } : null;
  return { layerRows, sampleRows: sampleRowsOf(shown, sample), shown, modelA, compare };
}

const stamp = () => `layerwise-seed${useLab.getState().params.setup.seed}`;
const caption = () => ({ caption: runManifest().caption });

export function ExportMenu({ chartRef }: { chartRef: React.RefObject<SVGSVGElement | null> }) {
  const hasResult = useLab((s) => s.shownKey !== null);
  return (
    <div className="export" data-testid="export">
      <span className="muted">Export:</span>
      <button type="button" disabled={!hasResult} onClick={() => chartRef.current && downloadBlob(new Blob([serializeSvg(chartRef.current, caption())], { type: 'image/svg+xml' }), `${stamp()}-layers.svg`)}>
        SVG
      </button>
      <button type="button" disabled={!hasResult} onClick={async () => chartRef.current && downloadBlob(await svgToPngBlob(chartRef.current, 2, caption()), `${stamp()}-layers.png`)}>
        PNG
      </button>
      <button
        type="button"
        disabled={!hasResult}
        onClick={() => {
          const d = viewData();
          if (d) downloadBlob(new Blob([toCsv(d.layerRows)], { type: 'text/csv' }), `${stamp()}-layers.csv`);
        }}
      >
        CSV
      </button>
      <button
        type="button"
        disabled={!hasResult}
        onClick={() => {
          const d = viewData();
          if (!d) return;
          const json = { manifest: runManifest(), model: d.modelA, layers: d.layerRows, samples: d.sampleRows, cleanAccuracy: d.shown.cleanAccuracy, robustAccuracy: d.shown.robustAccuracy, compare: d.compare };
          downloadBlob(new Blob([JSON.stringify(json, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)], { type: 'application/json' }), `${stamp()}-data.json`);
        }}
      >
        JSON
      </button>
      <button type="button" onClick={() => downloadBlob(new Blob([JSON.stringify(runManifest(), null, 2)], { type: 'application/json' }), `${stamp()}-manifest.json`)}>
        Manifest
      </button>
    </div>
  );
}
