/**
 * Exports of the current view: the chart as SVG and PNG, its data as CSV and JSON, and a
 * JSON run manifest (model, data, parameters, seed, versions) that reproduces it.
 */
import { serializeSvg, svgToPngBlob, toCsv, downloadBlob } from '../charts/export';
import { runManifest } from '../manifest';
import { ladderOf, shownSlice, useLab } from '../store';

function viewData() {
  const s = useLab.getState();
  const shown = shownSlice(s);
  if (!shown || !s.sample) return null;
  const ladder = ladderOf(s).map((e) => e.slice.a);
  const layerRows = ladder.flatMap((r) =>
    r.shifts.map((sh) => ({ eps: r.eps, attack: r.spec.attack, norm: r.spec.norm, layer: sh.layer, mean: sh.mean, sd: sh.sd, median: sh.median, q25: sh.q25, q75: sh.q75, nonFinite: sh.nonFinite })),
  );
  const sampleRows = Array.from(s.sample.labels, (label, i) => ({
    sample: i, datasetIndex: s.sample!.indices[i], label, cleanPred: shown.cleanPred[i], advPred: shown.advPred[i], success: !!shown.success[i],
    linf: shown.linf[i], l2: shown.l2[i], firstSuccessStep: shown.firstSuccessStep[i],
    ...Object.fromEntries(shown.shifts.map((sh) => [`shift:${sh.layer}`, sh.values[i]])),
  }));
  return { layerRows, sampleRows, shown };
}

const stamp = () => `layerwise-seed${useLab.getState().params.setup.seed}`;

export function ExportMenu({ chartRef }: { chartRef: React.RefObject<SVGSVGElement | null> }) {
  const hasResult = useLab((s) => s.shownKey !== null);
  return (
    <div className="export" data-testid="export">
      <span className="muted">Export:</span>
      <button type="button" disabled={!hasResult} onClick={() => chartRef.current && downloadBlob(new Blob([serializeSvg(chartRef.current)], { type: 'image/svg+xml' }), `${stamp()}-layers.svg`)}>
        SVG
      </button>
      <button type="button" disabled={!hasResult} onClick={async () => chartRef.current && downloadBlob(await svgToPngBlob(chartRef.current, 2), `${stamp()}-layers.png`)}>
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
          const json = { manifest: runManifest(), layers: d.layerRows, samples: d.sampleRows, cleanAccuracy: d.shown.cleanAccuracy, robustAccuracy: d.shown.robustAccuracy };
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
