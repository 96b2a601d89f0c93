/**
 * The JSON run manifest: everything needed to reproduce the current view, and the caption
 * phrases the exported images draw from it (caption.ts), so a figure and its JSON agree.
 */
import type { ModelSummary } from '../../workers/lab.worker';
import { commandFor } from './analyses';
import { captionPhrases } from './caption';
import { APP_VERSION } from './runtime';
import { ladderOf, shownSlice, useLab } from './store';

const modelFacts = (id: string, m: ModelSummary) => ({
  id,
  source: m.source,
  kind: m.kind,
  inputShape: m.inputShape,
  logitsLayer: m.logitsLayer,
  softmaxNote: m.softmaxNote,
  parameters: m.parameters,
  // Names given with the model (labels.txt or a JSON list) label the exported figures.
  ...(m.classNames ? { classNames: m.classNames, classNamesFile: m.classNamesFile } : {}),
});

/** `title` names what the exported figure shows; it leads the caption. */
export function runManifest(title = 'Relative representation shift per layer'): Record<string, unknown> & { caption: string[] } {
  const s = useLab.getState();
  const shown = shownSlice(s);
  const created = new Date().toISOString();
  const modelA = s.params.setup.model;
  const modelB = s.compareModel ? s.params.lab.compare : null;
  const caption = captionPhrases({
    title,
    modelA,
    modelB,
    data: s.dataset?.id ?? s.params.setup.data,
    samples: s.sample?.indices.length ?? 0,
    attack: shown ? { ...shown.spec, eps: shown.eps } : null,
    preview: shown?.preview,
    ladder: ladderOf(s).map((e) => e.eps),
    seed: s.params.setup.seed,
    created,
    version: APP_VERSION,
    tfjs: s.backend?.tfjs ?? null,
    backend: s.backend?.active ?? null,
    precision: s.backend?.precision?.active ?? null,
  });
  return {
    app: 'layerwise',
    version: APP_VERSION,
    created,
    url: location.href,
    seed: s.params.setup.seed,
    params: s.params,
    backend: s.backend,
    /** What the numbers were computed in: float16 textures on WebGL change them (README, ONNX section). */
    precision: s.backend?.precision ?? { requested: s.params.setup.precision, active: 'float32', note: null },
    model: s.model && modelFacts(modelA, s.model),
    /** Compare mode: model B, attacked on the same samples with the same random choices. */
    compareModel: s.compareModel && modelB ? modelFacts(modelB, s.compareModel) : null,
    data: s.dataset,
    sampleIndices: s.sample ? Array.from(s.sample.indices) : [],
    attack: shown?.spec ?? null,
    preview: shown?.preview ?? null,
    command: s.params.lab.view === 'train' ? null : commandFor(s.params.lab.view),
    versions: { layerwise: APP_VERSION, tfjs: s.backend?.tfjs ?? null },
    caption,
  };
}
