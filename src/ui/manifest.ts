/** The JSON run manifest: everything needed to reproduce the current view. */
import { commandFor } from './analyses';
import { APP_VERSION } from './runtime';
import { shownSlice, useLab } from './store';

export function runManifest(): Record<string, unknown> {
  const s = useLab.getState();
  const shown = shownSlice(s);
  return {
    app: 'layerwise',
    version: APP_VERSION,
    created: new Date().toISOString(),
    url: location.href,
    seed: s.params.setup.seed,
    params: s.params,
    backend: s.backend,
    model: s.model && { source: s.model.source, kind: s.model.kind, inputShape: s.model.inputShape, logitsLayer: s.model.logitsLayer, softmaxNote: s.model.softmaxNote, parameters: s.model.parameters },
    data: s.dataset,
    sampleIndices: s.sample ? Array.from(s.sample.indices) : [],
    attack: shown?.spec ?? null,
    preview: shown?.preview ?? null,
    command: commandFor(s.params.lab.view),
    versions: { layerwise: APP_VERSION, tfjs: s.backend?.tfjs ?? null },
  };
}
