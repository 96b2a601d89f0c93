/**
 * The image strip: per sample the clean image, the adversarial image and the
 * perturbation magnified around mid-grey (one factor for the whole strip, printed), with
 * true label, predictions and confidences. In compare mode a second row per card shows
 * model B's adversarial image and perturbation (same samples, same random choices, same
 * magnification, so A's and B's perturbations compare by eye) and B's prediction. Hover or
 * click links the sample to every view.
 */
import { useMemo, useState } from 'react';
import { classNamesOf, shownSlice, useLab } from '../store';
import { ImageCanvas } from './ImageCanvas';

export function ImageStrip() {
  const sample = useLab((s) => s.sample);
  const result = useLab((s) => shownSlice(s));
  const resultB = useLab((s) => (s.compareModel ? shownSlice(s, 'b') : null));
  const modelB = useLab((s) => s.params.lab.compare);
  const classNames = useLab(classNamesOf);
  const hovered = useLab((s) => s.hovered);
  const brushed = useLab((s) => s.brushed);
  const brushedIndices = useLab((s) => s.brushedIndices);
  const set = useLab((s) => s.set);
  const scores = useLab((s) => s.sampleScores);

  const perturbation = useMemo(() => {
    if (!sample || !result) return null;
    const d = sample.shape[0] * sample.shape[1] * sample.shape[2];
    const deltaOf = (adversarial: Float32Array) => Float32Array.from(adversarial, (v, i) => v - sample.images[i]);
    const delta = deltaOf(result.adversarial);
    const deltaB = resultB ? deltaOf(resultB.adversarial) : null;
    // Samples the attack left untouched at ε > 0: a gradient attack (the FGSM preview most of
    // all) moves nothing where the loss's input gradient is exactly zero, e.g. a saturated
    // softmax in float32, so their adversarial and perturbation tiles look blank.
    const untouched = new Uint8Array(sample.labels.length);
    for (let s = 0; s < untouched.length; s++) {
      let sampleMax = 0;
      for (let i = s * d; i < (s + 1) * d; i++) sampleMax = Math.max(sampleMax, Math.abs(delta[i]));
      untouched[s] = result.eps > 0 && sampleMax === 0 ? 1 : 0;
    }
    // One factor for A and B: the larger perturbation fills the grey range, the other shows smaller.
    let max = 0;
    for (const dd of deltaB ? [delta, deltaB] : [delta]) for (let i = 0; i < dd.length; i++) max = Math.max(max, Math.abs(dd[i]));
    const factor = max > 0 ? 0.5 / max : 1;
    return { delta, deltaB, factor, untouched };
  }, [sample, result, resultB]);

  const factor = perturbation?.factor ?? 1;
  // Stable pixel maps: a new function identity would redraw every canvas on each hover.
  const magnify = useMemo(() => (v: number) => 0.5 + factor * v, [factor]);
  // Own sort keys of the strip (view state); a per-sample value shared by another view (the
  // minimal ε of the robustness curve) takes precedence while it is set.
  const [sortBy, setSortBy] = useState<'order' | 'confidence' | 'success'>('order');
  if (!sample) return <div className="strip empty">no sample yet</div>;
  const d = sample.shape[0] * sample.shape[1] * sample.shape[2];
  const names = classNames ?? [];
  const fromOtherViews = brushedIndices.length ? Array.from(sample.indices.keys()).filter((i) => brushedIndices.includes(sample.indices[i])) : [];
  const focus = hovered !== null ? [hovered] : [...brushed, ...fromOtherViews];
  // Sorted by a per-sample value another view shared (e.g. broken-at ε from the robustness
  // curve); samples the view did not measure go last.
  const scoreOf = (i: number) => scores?.byIndex[sample.indices[i]];
  const order = Array.from(sample.labels, (_, i) => i);
  if (scores) order.sort((a, b) => (scoreOf(a) ?? Infinity) - (scoreOf(b) ?? Infinity) || a - b);
  else if (sortBy === 'confidence' && result) order.sort((a, b) => result.advConfidence[a] - result.advConfidence[b] || a - b);
  else if (sortBy === 'success' && result) order.sort((a, b) => result.success[b] - result.success[a] || a - b);
  return (
    <div className="strip-wrap">
      <div className="strip-legend">
        each card: clean · adversarial · perturbation ×{factor.toFixed(1)} (grey = 0)
        {resultB && <span data-testid="strip-b-legend">; second row: model B = {modelB} (its adversarial · perturbation)</span>} — click to select, shift-click to add
        {!scores && (
          <>
            {' '}· sort{' '}
            <select value={sortBy} onChange={(e) => setSortBy(e.target.value as typeof sortBy)} data-testid="strip-sort">
              <option value="order">sample order</option>
              <option value="confidence">adversarial confidence, lowest first</option>
              <option value="success">attack succeeded first</option>
            </select>{' '}
            (minimal ε: from the robustness curve)
          </>
        )}
        {scores && (
          <span data-testid="strip-sorted">
            {' '}· sorted by {scores.name}{' '}
            <button type="button" onClick={() => set({ sampleScores: null })}>
              unsort
            </button>
          </span>
        )}
      </div>
      <div className="strip" data-testid="image-strip">
        {order.map((i) => {
          const label = sample.labels[i];
          const advPred = result ? result.advPred[i] : sample.cleanPred[i];
          const cleanOk = sample.cleanPred[i] === label;
          const advOk = advPred === label;
          const advPredB = resultB ? resultB.advPred[i] : -1;
          const dim = focus.length > 0 && !focus.includes(i);
          return (
            <div
              key={i}
              className={`card${dim ? ' dim' : ''}${focus.includes(i) ? ' focus' : ''}`}
              data-sample={i}
              onMouseEnter={() => set({ hovered: i })}
              onMouseLeave={() => set({ hovered: null })}
              onClick={(e) => {
                const cur = useLab.getState().brushed;
                if (e.shiftKey) set({ brushed: cur.includes(i) ? cur.filter((x) => x !== i) : [...cur, i], brushedIndices: [] });
                else set({ brushed: cur.length === 1 && cur[0] === i ? [] : [i], brushedIndices: [] });
              }}
            >
              <div className="thumbs">
                <ImageCanvas pixels={sample.images} offset={i * d} shape={sample.shape} label={`clean sample ${i}`} />
                <ImageCanvas pixels={result ? result.adversarial : sample.images} offset={i * d} shape={sample.shape} label={`adversarial sample ${i}`} />
                {perturbation && <ImageCanvas pixels={perturbation.delta} offset={i * d} shape={sample.shape} map={magnify} label={`perturbation sample ${i}`} />}
              </div>
              {resultB && perturbation?.deltaB && (
                <div className="thumbs" data-testid="strip-b-row">
                  <span className="thumb-tag" title={`model B: ${modelB}`}>
                    B
                  </span>
                  <ImageCanvas pixels={resultB.adversarial} offset={i * d} shape={sample.shape} label={`model B adversarial sample ${i}`} />
                  <ImageCanvas pixels={perturbation.deltaB} offset={i * d} shape={sample.shape} map={magnify} label={`model B perturbation sample ${i}`} />
                </div>
              )}
              <div className="meta">
                <span title="true label">y={names[label] ?? label}</span>
                <span className={cleanOk ? 'ok' : 'bad'} title="clean prediction and confidence">
                  {cleanOk ? '✓' : '✗'} {names[sample.cleanPred[i]] ?? sample.cleanPred[i]} {(100 * sample.cleanConfidence[i]).toFixed(0)}%
                </span>
                <span className={advOk ? 'ok' : 'bad'} data-testid="adv-pred" title={resultB ? 'model A: adversarial prediction and confidence' : 'adversarial prediction and confidence'}>
                  {resultB ? 'A ' : ''}
                  {advOk ? '✓' : '✗'} {names[advPred] ?? advPred} {result ? (100 * result.advConfidence[i]).toFixed(0) + '%' : ''}
                </span>
                {resultB && (
                  <span
                    className={advPredB === label ? 'ok' : 'bad'}
                    data-testid="adv-pred-b"
                    title={`model B (${modelB}): adversarial prediction and confidence; clean prediction ${names[resultB.cleanPred[i]] ?? resultB.cleanPred[i]}`}
                  >
                    B {advPredB === label ? '✓' : '✗'} {names[advPredB] ?? advPredB} {(100 * resultB.advConfidence[i]).toFixed(0)}%
                  </span>
                )}
                {perturbation?.untouched[i] === 1 && (
                  <span className="muted no-gradient" data-testid="no-gradient" title="the attack follows the loss's input gradient; for this sample it is exactly zero at the clean image, so nothing moved">
                    no gradient: this sample’s loss is flat here
                  </span>
                )}
                {scores && scoreOf(i) !== undefined && (
                  <span className="muted" title={scores.name}>
                    {Number.isFinite(scoreOf(i)) ? `ε*=${(scoreOf(i) as number).toPrecision(3)}` : 'ε*>ladder'}
                  </span>
                )}
              </div>
            </div>
          );
        })}
      </div>
    </div>
  );
}
