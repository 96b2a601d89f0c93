/**
 * The story panel beside the chart (issue #24): the open step's text with its live numbers
 * filled in as the step's analyses finish, next/previous (also ← and →), progress dots (each a
 * step's URL), presentation mode, and a highlight on the chart element the text points at.
 */
import { useEffect } from 'react';
import { fillText, liveValues, openStep, placeholdersOf, type StoryHighlight } from '../../core/stories';
import { useLab } from '../store';
import { closeStory, goToStep, resumeStep, setPresentation, stepProgress, stepResults } from '../story';

/** How often the highlight is re-applied: the element it names appears when its chart draws. */
const HIGHLIGHT_REFRESH_MS = 400;
/** How long the lab must sit idle with the step's numbers missing before the step runs again. */
const RESUME_AFTER_MS = 1500;

function highlightSelector(h: StoryHighlight, values: Record<string, string | null>): string | null {
  const layer = h.layer ? fillText(h.layer, values) : null;
  if (layer !== null && layer.includes('…')) return `[data-testid="${h.testid}"]`;
  return `[data-testid="${h.testid}"]${layer ? `[data-layer="${CSS.escape(layer)}"]` : ''}`;
}

function useHighlight(selector: string | null) {
  useEffect(() => {
    if (!selector) return;
    let scrolled = false;
    const apply = () => {
      const targets = new Set(document.querySelectorAll(selector));
      for (const el of document.querySelectorAll('.story-highlight')) if (!targets.has(el)) el.classList.remove('story-highlight');
      for (const el of targets) el.classList.add('story-highlight');
      const first = targets.values().next().value as Element | undefined;
      if (first && !scrolled) {
        scrolled = true;
        first.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
      }
    };
    apply();
    const timer = setInterval(apply, HIGHLIGHT_REFRESH_MS);
    return () => {
      clearInterval(timer);
      for (const el of document.querySelectorAll('.story-highlight')) el.classList.remove('story-highlight');
    };
  }, [selector]);
}

export function StoryPanel() {
  const params = useLab((s) => s.params);
  const analyses = useLab((s) => s.analyses);
  const cache = useLab((s) => s.cache);
  const shownKey = useLab((s) => s.shownKey);
  const job = useLab((s) => s.job);
  // The results' keys depend on the loaded models (compare mode, layers): re-render when they change.
  useLab((s) => s.model);
  useLab((s) => s.compareModel);
  const open = openStep(params);
  const step = open?.step ?? null;
  // A few small pure functions of the results: cheap enough to recompute on every render.
  const results = step ? stepResults({ params, analyses, cache, shownKey }, step) : {};
  const values = step ? liveValues(step.text, results) : {};
  const layerValues = step?.highlight.layer ? liveValues(step.highlight.layer, results) : {};
  const progress = step ? stepProgress({ analyses, job }, step) : null;
  useHighlight(step ? highlightSelector(step.highlight, layerValues) : null);
  const ready = step ? placeholdersOf(step.text).every((n) => values[n] !== null) : false;
  const idle = job?.status !== 'running' && progress === null;
  // Idle and still not ready: something under the step was cancelled; run it again (bounded).
  useEffect(() => {
    if (!step || ready || !idle) return;
    const timer = setTimeout(() => resumeStep(step), RESUME_AFTER_MS);
    return () => clearTimeout(timer);
  }, [step, ready, idle]);

  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      // The ε slider and the form fields keep their own arrow keys.
      if (t && (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
      if (e.key === 'ArrowRight') void goToStep(open.story.id, open.index + 1);
      else if (e.key === 'ArrowLeft') void goToStep(open.story.id, open.index - 1);
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [open?.story.id, open?.index]); // eslint-disable-line react-hooks/exhaustive-deps

  if (!open || !step) return null;
  const { story, index } = open;
  // The text, with each live number marked so a reader (and the e2e) can see what was computed.
  const parts = step.text.split(/(\{[A-Za-z][A-Za-z0-9]*\})/);
  const presenting = params.teach.hide.length > 0;
  return (
    <aside className="story-panel" data-testid="story-panel" data-story={story.id} data-step={index + 1} data-ready={ready ? 'true' : 'false'} aria-live="polite">
      <div className="story-head">
        <span className="muted">{story.title}</span>
        <button type="button" className="link" data-testid="story-close" onClick={() => void closeStory()} aria-label="Close the story">
          ×
        </button>
      </div>
      <h2 data-testid="story-step-title">
        {index + 1}. {step.title}
      </h2>
      <p className="story-text" data-testid="story-text">
        {parts.map((part, i) => {
          const m = /^\{(.+)\}$/.exec(part);
          if (!m) return <span key={i}>{part}</span>;
          const v = values[m[1]];
          return (
            <b key={i} className={`story-number${v === null ? ' pending' : ''}`} data-testid="story-number" data-name={m[1]} title={v === null ? 'computing…' : undefined}>
              {v ?? '…'}
            </b>
          );
        })}
      </p>
      <div className="story-status muted" data-testid="story-status">
        {ready ? 'numbers computed live on these models' : progress ? `computing: ${progress.message} ${Math.round(100 * progress.fraction)}%` : 'computing…'}
      </div>
      <nav className="story-nav">
        <button type="button" data-testid="story-prev" disabled={index === 0} onClick={() => void goToStep(story.id, index - 1)}>
          ← Previous
        </button>
        <span className="story-dots" role="tablist" aria-label="steps">
          {story.steps.map((s, i) => (
            <a
              key={i}
              href={`#story=${story.id}&step=${i + 1}`}
              role="tab"
              aria-selected={i === index}
              aria-label={`step ${i + 1}: ${s.title}`}
              title={`${i + 1}. ${s.title}`}
              className={`story-dot${i === index ? ' current' : ''}${i < index ? ' done' : ''}`}
              data-testid="story-dot"
              onClick={(e) => {
                e.preventDefault();
                void goToStep(story.id, i);
              }}
            />
          ))}
        </span>
        <button type="button" data-testid="story-next" disabled={index === story.steps.length - 1} onClick={() => void goToStep(story.id, index + 1)}>
          Next →
        </button>
      </nav>
      <div className="story-foot muted">
        <span>{story.source}</span>
        <label>
          <input type="checkbox" data-testid="story-present" checked={presenting} onChange={(e) => void setPresentation(e.target.checked)} /> presentation mode
        </label>
      </div>
    </aside>
  );
}
