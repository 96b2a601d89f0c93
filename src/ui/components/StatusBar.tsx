/** Backend badge (with the fallback reason), job progress with cancel, errors and notices. */
import { cancelLane } from '../jobs';
import { useLab } from '../store';

export function BackendBadge() {
  const backend = useLab((s) => s.backend);
  if (!backend) return <span className="badge">backend: starting…</span>;
  return (
    <span className={`badge backend ${backend.fallbackReason ? 'fallback' : ''}`} data-testid="backend-badge" title={backend.fallbackReason ?? backend.adapter ?? ''}>
      {backend.active}
      {backend.adapter ? ` · ${backend.adapter}` : ''}
      {backend.fallbackReason ? ` (fell back: ${backend.fallbackReason})` : ''}
    </span>
  );
}

export function JobStatus() {
  const job = useLab((s) => s.job);
  if (!job) return null;
  return (
    <div className={`job ${job.status}`} data-testid="job-status" data-status={job.status}>
      <span>{job.label}</span>
      <progress max={1} value={job.fraction} />
      <span className="muted">{job.status === 'running' ? job.message : job.status}</span>
      {job.status === 'running' && (
        <button type="button" data-testid="cancel" onClick={() => cancelLane('main')}>
          Cancel
        </button>
      )}
    </div>
  );
}

export function Messages() {
  const error = useLab((s) => s.error);
  const notice = useLab((s) => s.notice);
  const model = useLab((s) => s.model);
  const set = useLab((s) => s.set);
  return (
    <>
      {error && (
        <div className="error" role="alert" data-testid="error">
          {error}
          <button type="button" onClick={() => set({ error: null })} aria-label="dismiss">
            ×
          </button>
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
