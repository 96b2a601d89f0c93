/** Backend badge (what runs, and why: the measured choice of 'auto' or the fallback reason) with a switch to the others, job progress with cancel, errors and notices. */
import { BACKEND_ORDER, describeMeasurement, isSoftwareAdapter, type BackendRequest, type BackendState } from '../../core/backend';
import { HALF_PRECISION_CAVEAT } from '../../core/precision';
import { cancelLane } from '../jobs';
import { applyFix, applyParams, loadModelFiles } from '../setup';
import { secondsLeft, useNow } from '../progress';
import { formatSeconds } from '../../core/analyses/estimate';
import { useLab } from '../store';
import { FileButton } from './Controls';

export function BackendBadge() {
  const backend = useLab((s) => s.backend);
  const requested = useLab((s) => s.params.setup.backend) as BackendRequest;
  if (!backend) return <span className="badge">backend: starting…</span>;
  const choice = backend.choice;
  const softwareOnRequest = backend.requested !== 'auto' && isSoftwareAdapter(backend);
  // What each backend did in the probe, beside its name in the menu (only after an 'auto' start).
  const probed = (name: string) => {
    const m = choice?.measurements.find((x) => x.backend === name);
    return m ? ` (${describeMeasurement(m).slice(name.length + 1)})` : '';
  };
  return (
    <span className="backend-switch">
      <span
        className={`badge backend ${backend.fallbackReason || softwareOnRequest ? 'fallback' : ''}`}
        data-testid="backend-badge"
        data-active={backend.active}
        title={[choice && `'auto' probe: ${choice.probeMs} ms${choice.reused ? ' (decision kept from the first start)' : ''}`, backend.fallbackReason, backend.adapter].filter(Boolean).join('\n')}
      >
        {backend.active}
        {backend.adapter ? ` · ${backend.adapter}` : ''}
        {choice ? ` · ${choice.reason}` : ''}
        {softwareOnRequest ? ' · software adapter: slow here, auto measures a faster backend' : ''}
        {backend.fallbackReason ? ` (fell back: ${backend.fallbackReason})` : ''}
      </span>
      <PrecisionBadge backend={backend} />
      <select
        className="backend-select"
        data-testid="backend-select"
        aria-label="switch backend"
        value={requested}
        onChange={(e) => void applyParams({ setup: { backend: e.target.value as BackendRequest } })}
      >
        <option value="auto">auto{choice ? ` → ${backend.active}` : ' (measure, pick the fastest)'}</option>
        {BACKEND_ORDER.map((name) => (
          <option key={name} value={name}>
            {name}
            {probed(name)}
          </option>
        ))}
      </select>
    </span>
  );
}

/**
 * Half precision changes the numbers, so it is never silent: a badge while values are stored as
 * float16, and one saying why when half precision was asked for and the lab stays float32.
 */
function PrecisionBadge({ backend }: { backend: BackendState }) {
  const p = backend.precision;
  if (!p || (p.requested === 'float32' && p.active === 'float32')) return null;
  if (p.active === 'float16') {
    return (
      <span className="badge precision half" data-testid="precision-badge" data-precision="float16" title={`WebGL stores weights, activations and gradients as float16 textures: half the GPU memory; ${HALF_PRECISION_CAVEAT} (README, ONNX section)`}>
        half precision (float16): numbers differ from float32
      </span>
    );
  }
  return (
    <span className="badge precision fallback" data-testid="precision-badge" data-precision="float32" title={p.note ?? ''}>
      float32: {p.note}
    </span>
  );
}

export function JobStatus() {
  const job = useLab((s) => s.job);
  const running = job?.status === 'running';
  const now = useNow(running);
  if (!job) return null;
  const left = running && job.startedAt ? secondsLeft(job.fraction, (now - job.startedAt) / 1000, null) : null;
  return (
    <div className={`job ${job.status}`} data-testid="job-status" data-status={job.status}>
      <span>{job.label}</span>
      <progress max={1} value={job.fraction} />
      <span className="muted">{running ? `${Math.round(100 * job.fraction)}%${left !== null && left >= 1 ? ` · ${formatSeconds(left)} left` : ''}${job.message ? ` · ${job.message}` : ''}` : job.status}</span>
      {job.status === 'running' && (
        <button type="button" data-testid="cancel" onClick={() => cancelLane('main')}>
          Cancel
        </button>
      )}
    </div>
  );
}

/**
 * Errors (with the one-click fix of a model/data mismatch), notices, and the request for the
 * user's own model files when a link named them (a link carries names, never files).
 */
export function Messages() {
  const error = useLab((s) => s.error);
  const fix = useLab((s) => s.errorFix);
  const filesNeeded = useLab((s) => s.filesNeeded);
  const notice = useLab((s) => s.notice);
  const model = useLab((s) => s.model);
  const set = useLab((s) => s.set);
  return (
    <>
      {filesNeeded && (
        <div className="notice files-needed" data-testid="files-needed">
          <span>
            This link names {filesNeeded.which === 'b' ? 'model B' : 'the model'} as your own files, which a link cannot carry. <b>Load your model files again: {filesNeeded.name}</b> (with its weight
            shards or .data file); every other setting of the link is kept.
          </span>
          <FileButton label={filesNeeded.which === 'b' ? 'Model B files' : 'Model files'} title={`${filesNeeded.name} and the files beside it`} testId="files-needed-input" accept=".json,.bin,.onnx,.data,.txt" onFiles={(files) => loadModelFiles(files, { which: filesNeeded.which })} />
        </div>
      )}
      {error && (
        <div className="error" role="alert" data-testid="error">
          <span>{error}</span>
          <span className="actions">
            {fix && fix.forError === error && (
              <button type="button" className="fix" data-testid="error-fix" onClick={() => void applyFix()}>
                {fix.label}
              </button>
            )}
            <button type="button" onClick={() => set({ error: null, errorFix: null })} aria-label="dismiss">
              ×
            </button>
          </span>
        </div>
      )}
      {notice && (
        <div className="notice" data-testid="notice">
          {notice}
          <button type="button" onClick={() => set({ notice: null })} aria-label="dismiss">
            ×
          </button>
        </div>
      )}
      {model?.softmaxNote && <div className="notice">{model.softmaxNote}</div>}
    </>
  );
}
