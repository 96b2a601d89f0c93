/**
 * The ε slice under the slider (core/analysis/definition.ts, run through the one analysis
 * path): while the slider is dragged a cheap FGSM preview of model A runs, the chosen attack on
 * release (with model B in compare mode), then a small ε ladder around it fills in the
 * background so the per-layer chart has lines to compare.
 */
import { previewAttack } from '../core/attacks/spec';
import { runAnalysis } from './analyses';
import { useLab } from './store';

const get = () => useLab.getState();

/** Run (or show from the cache) the slice at the current parameters. */
export async function runSlice(preview = false): Promise<void> {
  if (!get().sample) return;
  const attack = get().params.attack;
  const result = await runAnalysis('slice', preview ? { preview: true, attack: previewAttack(attack), own: { models: 'a' } } : {});
  if (result && !preview) void fillLadder();
}

/**
 * After a full result, compute a small ε ladder around it (½ε and 2ε, clamped) in the
 * background so the per-layer chart has lines to compare; any user action cancels it.
 */
async function fillLadder(): Promise<void> {
  const { attack } = get().params;
  if (attack.eps <= 0) return;
  const max = attack.norm === 'linf' ? 1 : 20;
  for (const eps of [attack.eps / 2, Math.min(max, attack.eps * 2)].map((e) => +e.toPrecision(4))) {
    if (get().params.attack.eps !== attack.eps) return;
    const r = await runAnalysis('slice', { background: true, attack: { eps }, label: `ladder: ${attack.attack.toUpperCase()} at ε=${eps}` });
    if (r === null) return;
  }
}
