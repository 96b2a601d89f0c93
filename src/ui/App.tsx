/** Layout of the lab: controls on the left, the linked views on the right. */
import { useRef, useState } from 'react';
import { handleDrop } from './dropFiles';
import { Accuracy } from './components/Accuracy';
import { AttackControls, LayerPicker, SetupControls } from './components/Controls';
import { EpsSlider } from './components/EpsSlider';
import { ExportMenu } from './components/ExportMenu';
import { ImageStrip } from './components/ImageStrip';
import { SampleDetail } from './components/SampleDetail';
import { LayerChartView } from './components/LayerChartView';
import { ModelCard, OnnxModelCard } from './components/ModelCard';
import { BackendBadge, JobStatus, Messages } from './components/StatusBar';
import { useLab, type ViewName } from './store';
import { TrainView } from './views/TrainView';
import { labSchema } from '../core/analyses/lab';
import { findAnalysis } from '../core/analyses';
import { applyParams } from './setup';
import { CurveView } from './views/CurveView';
import { TsneView } from './views/TsneView';
import { LogitsView } from './views/LogitsView';
import { DependencyView } from './views/DependencyView';
import { ManifoldView } from './views/ManifoldView';
import { CollisionView } from './views/CollisionView';
import { CkaView } from './views/CkaView';
import { FirstScreen } from './components/FirstScreen';
import { StoryPanel } from './components/StoryPanel';
import { openStep } from '../core/stories';

const VIEWS: Partial<Record<ViewName, () => React.JSX.Element>> = { curve: CurveView, tsne: TsneView, logits: LogitsView, dependency: DependencyView, mftma: ManifoldView, collision: CollisionView, cka: CkaView, train: TrainView };
/** Tab test ids that predate the kinds' names. */
const TAB_IDS: Partial<Record<ViewName, string>> = { mftma: 'manifolds' };

function Tabs() {
  const view = useLab((s) => s.params.lab.view);
  const options = labSchema.view.options;
  return (
    <nav className="tabs" role="tablist">
      {options
        .filter((o) => o.value === 'slice' || VIEWS[o.value])
        .map((o) => (
          <button key={o.value} type="button" role="tab" aria-selected={view === o.value} className={view === o.value ? 'active' : ''} data-testid={`tab-${TAB_IDS[o.value] ?? o.value}`} onClick={() => void applyParams({ lab: { view: o.value } })}>
            {o.label}
          </button>
        ))}
    </nav>
  );
}

/**
 * One sentence on what an analysis shows (its definition's summary), above its controls until
 * it has a result; the estimate of how long it will take stands beside its Run button.
 */
function ViewIntro({ kind }: { kind: ViewName }) {
  const def = findAnalysis(kind);
  const hasResult = useLab((s) => Object.entries(s.analyses).some(([slot, a]) => (slot === kind || slot.startsWith(`${kind}-`) || slot.startsWith(`${kind}:`)) && a.result != null));
  if (!def || hasResult) return null;
  return (
    <p className="view-intro muted" data-testid={`${TAB_IDS[kind] ?? kind}-intro`}>
      <b>{def.title}</b>: {def.summary}. Nothing computed yet: Run computes it for the model, data and attack on the left, in about the time shown beside it.
    </p>
  );
}

export function App() {
  const chartRef = useRef<SVGSVGElement>(null);
  const seed = useLab((s) => s.params.setup.seed);
  const model = useLab((s) => s.model);
  const view = useLab((s) => s.params.lab.view);
  const compareModel = useLab((s) => s.compareModel);
  const compareId = useLab((s) => s.params.lab.compare);
  const View = VIEWS[view];
  const [dragOver, setDragOver] = useState(false);
  // Teacher mode (issue #24): a story panel beside the chart; `hide=` hides parts for a projector.
  const storyOpen = useLab((s) => openStep(s.params) !== null);
  const hide = useLab((s) => s.params.teach.hide);
  const layout = [storyOpen && 'story-open', hide.length > 0 && 'presentation', hide.includes('setup') && 'hide-setup', hide.includes('advanced') && 'hide-advanced'].filter(Boolean).join(' ');
  return (
    <div
      className={`app${dragOver ? ' drag-over' : ''}${layout ? ` ${layout}` : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setDragOver(true);
      }}
      onDragLeave={(e) => e.currentTarget === e.target && setDragOver(false)}
      onDrop={(e) => {
        setDragOver(false);
        // A drop zone inside took the files for itself (the Train view's data).
        if (e.isDefaultPrevented()) return;
        e.preventDefault();
        void handleDrop(e.dataTransfer);
      }}
    >
      <header>
        <h1>Layerwise</h1>
        <span className="muted">adversarial robustness, layer by layer — everything runs on your machine</span>
        <span className="spacer" />
        <span className="badge" data-testid="seed-badge" title="the master seed drives every random choice">seed {seed}</span>
        <BackendBadge />
      </header>
      {dragOver && <div className="drop-hint">Drop a model (model.json + shards, or an .onnx file with its .data; a labels.txt or JSON list of class names with it) or data (image folder, MNIST IDX pair, CIFAR-10 batches)</div>}
      <aside className="setup-column" hidden={hide.includes('setup')}>
        <SetupControls />
        <AttackControls />
        <LayerPicker />
        {model && (
          <div className="model-info muted" data-testid="model-info">
            {model.kind} model · input [{model.inputShape.join('×')}] · {model.numClasses} classes{model.classNamesFile ? ` (names from ${model.classNamesFile})` : ''} · {model.parameters.toLocaleString()} params · logits: {model.logitsLayer}
          </div>
        )}
        <OnnxModelCard />
        <ModelCard />
      </aside>
      <main>
        <Messages />
        {/* Sticky: the slider and the accuracy stay in sight while the strip and the charts below scroll. */}
        <div className="lab-bar" data-testid="lab-bar">
          <EpsSlider />
          <JobStatus />
          <Accuracy />
        </div>
        {compareModel && (
          <div className="muted" data-testid="compare-info">
            compare mode: A = {useLab.getState().params.setup.model}, B = {compareId} ({compareModel.parameters.toLocaleString()} params); views draw B dashed
          </div>
        )}
        <Tabs />
        {View ? (
          <>
            <ViewIntro kind={view} />
            <View />
          </>
        ) : (
          <section>
            <h2>Relative representation shift per layer</h2>
            <p className="muted">one line per ε of the cached ladder; faint lines are single samples; drag vertically on the chart to select samples</p>
            <LayerChartView svgRef={chartRef} />
            <ExportMenu chartRef={chartRef} />
          </section>
        )}
        <section>
          <h2>Samples</h2>
          <ImageStrip />
          <SampleDetail />
        </section>
      </main>
      <StoryPanel />
      <FirstScreen />
    </div>
  );
}
