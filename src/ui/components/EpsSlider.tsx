/**
 * The ε slider. While dragging: a cheap FGSM preview at each position (latest wins);
 * on release: the chosen attack. Arrow keys step ε (the native range input), and the
 * key release commits. ε is shown in [0,1] units and, for L∞, in 8-bit pixel units. The range
 * and step follow the data's threat model (core/attacks/threat.ts), whose standard radius is
 * named beside the slider.
 */
import { formatEps } from '../../core/attacks/threat';
import { applyParams } from '../setup';
import { shownSlice, useLab } from '../store';
import { threatOf } from '../threat';

export function EpsSlider() {
  const params = useLab((s) => s.params);
  // The threat model reads the loaded data and the data index: re-render when either arrives.
  useLab((s) => s.dataset);
  useLab((s) => s.datasets);
  const job = useLab((s) => s.job);
  const shown = useLab((s) => shownSlice(s));
  const threat = threatOf(params);
  const { max, step } = threat;
  const eps = params.attack.eps;
  const preview = (v: number) => {
    useLab.getState().set({ dragging: true });
    void applyParams({ attack: { eps: v } }, { preview: true });
  };
  const commit = () => {
    useLab.getState().set({ dragging: false });
    void applyParams({ attack: { eps: useLab.getState().params.attack.eps } });
  };
  const shownLabel = shown ? (shown.preview ? `FGSM preview (ε=${shown.eps})` : `${shown.spec.attack.toUpperCase()}${shown.spec.attack === 'fgsm' ? '' : `-${shown.spec.steps}`} (ε=${shown.eps})`) : 'nothing yet';
  return (
    <div className="eps">
      <label htmlFor="eps-slider">
        ε = <strong data-testid="eps-value">{eps.toFixed(params.attack.norm === 'linf' ? 4 : 3)}</strong>
        {params.attack.norm === 'linf' && <span className="muted"> ({(eps * 255).toFixed(1)}/255)</span>}
      </label>
      <span className="muted" data-testid="eps-threat" title={threat.source}>
        {' '}
        {threat.dataLabel} {threat.norm === 'linf' ? 'L∞' : 'L2'} threat model: ε = {formatEps(threat.standard, threat)}
      </span>
      <input
        id="eps-slider"
        data-testid="eps-slider"
        type="range"
        min={0}
        max={max}
        step={step}
        value={Math.min(eps, max)}
        onChange={(e) => preview(+(+e.target.value).toPrecision(6))}
        onPointerUp={commit}
        onKeyUp={(e) => (e.key.startsWith('Arrow') || e.key === 'Home' || e.key === 'End' || e.key.startsWith('Page')) && commit()}
      />
      <span className={`badge ${shown?.preview ? 'preview' : 'full'}`} data-testid="shown-attack" title="which attack produced what you see">
        showing: {shownLabel}
      </span>
      {job?.status === 'running' && job.kind === 'slice' && <span className="muted"> computing {job.label}…</span>}
    </div>
  );
}
