/** Clean and robust accuracy at the current ε, with counts and masking warnings. */
import { shownSlice, useLab } from '../store';

export function Accuracy() {
  const sample = useLab((s) => s.sample);
  const shown = useLab((s) => shownSlice(s));
  const shownB = useLab((s) => (s.compareModel ? shownSlice(s, 'b') : null));
  if (!sample) return null;
  const n = sample.labels.length;
  const clean = shown ? shown.cleanAccuracy : sample.cleanAccuracy;
  const robust = shown?.robustAccuracy;
  return (
    <div className="accuracy" data-testid="accuracy">
      <div>
        <span className="big" data-testid="clean-acc">{(100 * clean).toFixed(1)}%</span>
        <span className="muted">clean accuracy ({Math.round(clean * n)}/{n})</span>
      </div>
      <div>
        <span className="big" data-testid="robust-acc">{robust === undefined ? '…' : `${(100 * robust).toFixed(1)}%`}</span>
        <span className="muted">robust accuracy at ε={shown?.eps ?? '…'}{shown?.preview ? ' (FGSM preview)' : ''}</span>
      </div>
      {shownB && (
        <div data-testid="compare-acc">
          <span className="big">
            {(100 * shownB.cleanAccuracy).toFixed(1)}% / {(100 * shownB.robustAccuracy).toFixed(1)}%
          </span>
          <span className="muted">model B clean / robust</span>
        </div>
      )}
      {shown && shown.zeroGradient > 0 && (
        <div className="warning" title="a zero input gradient, or an attacked image that did not change, means its robustness is unproven (gradient masking, a broken model or kernel)">
          ⚠ {shown.zeroGradient} sample(s) had an exactly zero input gradient or did not move: gradient masking or a broken model?
        </div>
      )}
      {shown?.shifts
        .filter((l) => l.nonFinite > 0)
        .map((l) => (
          <div key={l.layer} className="warning" data-testid="nonfinite-warning">
            ⚠ layer {l.layer}: {l.nonFinite} sample(s) produced NaN/Inf activations; they are left out of its shift statistics
          </div>
        ))}
    </div>
  );
}
