/**
 * The Train view (issue #25): standard and adversarial training in the browser, in a worker
 * (workers/train.worker.ts) on the lab's backend. Controls come from the training definition's
 * schema (src/core/train/definition.ts: the URL keys tr*, the flags of `layerwise train`);
 * every N steps the fixed probe set gives loss, clean and PGD robust accuracy (Madry et al.
 * 2018's threat model at the training ε), drawn as they arrive, and after each probe the lab's
 * layer-shift analysis on the current weights (src/core/train/layers.ts) shows every layer's
 * response to FGSM moving as the model learns, and the probe images' max-logit and gap
 * distributions as ridgelines over training (Seguin et al.'s Figure 1, src/core/train/logits.ts),
 * and, when asked for, one layer's t-SNE (each probe's layout warm-started from the last, so the
 * points move as the model learns) and MFTMA capacity (src/core/train/embedding.ts).
 * A second run B (same recipe, seed and batches, its own method) trains interleaved with A, and
 * every chart shows both, A solid and B dashed (the ST-vs-AT contrast built by the user). Live
 * metrics are budgeted to 20 % of the run (src/core/train/pair.ts). Pause, single step, resume
 * and cancel act on both runs and keep what was learned; a snapshot (on click, and automatically
 * at every epoch end) is the current weights as model files that every other view uses as model
 * A or B ("this model at step 200 vs the zoo's AT model"). Presets set both runs' recipes.
 */
import { memo, useMemo } from 'react';
import { secondRunValues, trainBSchema, trainCommand, trainSchema, TRAIN_PRESETS, type TrainPreset } from '../../core/train/definition';
import { trainingLogitRidges } from '../../core/train/logits';
import { LIVE_SHARE } from '../../core/train/pair';
import { defaults } from '../../core/schema';
import { classColor, COLOR } from '../charts/colors';
import type { LineChartData, LineSeries } from '../charts/lines';
import { createRidgeline, type RidgelineData } from '../charts/ridgeline';
import { createScatter, type ScatterFrame } from '../charts/scatter';
import { useChart } from '../charts/useChart';
import { controlsOf, ParamControl } from '../components/Controls';
import { useLab, type ParamsPatch } from '../store';
import { cancelTraining, downloadSnapshot, loadSnapshotAs, pauseTraining, resumeTraining, startTraining, stepTraining, takeSnapshots, useTrain, chartRuns, type RunState } from '../train';
import { writeHash } from '../url';
import { fmtPct, LineChartView } from './common';
import { TrainDataPicker, useTrainDataReady } from './TrainDataPicker';

const commit = (patch: ParamsPatch) => {
  useLab.getState().setParams(patch);
  writeHash(useLab.getState().params);
};

/** A preset sets every value of both runs (the defaults, then the preset's), the URL with them. */
function applyPreset(p: TrainPreset): void {
  commit({ train: { ...defaults(trainSchema), ...p.train }, trainB: { ...defaults(trainBSchema), ...p.trainB } });
}

function TrainControls() {
  const second = useLab((s) => s.params.trainB.on === 1);
  return (
    <>
      <div className="muted" data-testid="train-presets">
        presets:{' '}
        {TRAIN_PRESETS.map((p) => (
          <button key={p.id} type="button" data-testid={`train-preset-${p.id}`} title={p.help} onClick={() => applyPreset(p)}>
            {p.label}
          </button>
        ))}
      </div>
      <TrainDataPicker />
      <fieldset className="controls inline" data-testid="train-controls">
        <legend>Training{second ? ' (run A, and the recipe both runs share)' : ''}</legend>
        {controlsOf(trainSchema).filter(([name]) => name !== 'data').map(([name, def]) => (
          <ParamControl key={name} group="train" name={name} def={def} onCommit={commit} />
        ))}
      </fieldset>
      <fieldset className="controls inline" data-testid="train-b-controls">
        <legend>Second run B: the same recipe, seed and batches, interleaved with A</legend>
        {controlsOf(trainBSchema)
          .filter(([name]) => second || name === 'on')
          .map(([name, def]) => (
            <ParamControl key={name} group="trainB" name={name} def={def} onCommit={commit} />
          ))}
      </fieldset>
    </>
  );
}

/** The controls read the lab's store themselves: a step event re-rendering the view leaves them alone. */
const TrainControlsMemo = memo(TrainControls);

const finite = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : null);

/** Run A solid in the lab's model-A colour, run B dashed in model B's (COLOR.modelA / modelB). */
const STYLE = [
  { main: COLOR.modelA, light: COLOR.modelALight, dashed: false as const },
  { main: COLOR.modelB, light: COLOR.modelBLight, dashed: true as const },
];

/** Probe steps of all runs (they are probed in the same round, so normally the same steps). */
function stepsOf(runs: RunState[]): number[] {
  return [...new Set(runs.flatMap((r) => r.probes.map((p) => p.step)))].sort((a, b) => a - b);
}

function seriesOf(runs: RunState[], x: number[], specs: { label: string; value: (p: RunState['probes'][number]) => number; light?: boolean; single: string; singleDashed?: boolean }[]): LineSeries[] {
  const out: LineSeries[] = [];
  runs.forEach((r, i) => {
    const byStep = new Map(r.probes.map((p) => [p.step, p]));
    for (const s of specs) {
      const y = x.map((step) => finite(byStep.has(step) ? s.value(byStep.get(step) as RunState['probes'][number]) : undefined));
      if (runs.length === 1) out.push({ label: s.label, color: s.single, dashed: s.singleDashed, y });
      else out.push({ label: `${r.name}: ${s.label}`, color: s.light ? STYLE[i].light : STYLE[i].main, dashed: STYLE[i].dashed, hollow: s.light, y });
    }
  });
  return out;
}

function accuracyChart(runs: RunState[]): LineChartData | null {
  const x = stepsOf(runs);
  if (!x.length) return null;
  const eps = runs.map((r) => r.probes[r.probes.length - 1]?.probeEps).filter((e) => e !== undefined);
  return {
    title: `Probe accuracy while training${runs.length > 1 ? `: ${runs.map((r) => r.name).join(' vs ')}` : ''}`,
    x,
    xLabel: 'training step',
    yLabel: 'accuracy on the probe set',
    yDomain: [0, 1],
    format: (v) => `${(100 * v).toFixed(1)}%`,
    series: seriesOf(runs, x, [
      { label: 'clean', value: (p) => p.cleanAccuracy, single: COLOR.clean },
      { label: `PGD ε = ${[...new Set(eps)].join(' / ')}`, value: (p) => p.robustAccuracy, light: true, single: COLOR.adversarial },
    ]),
  };
}

function lossChart(runs: RunState[]): LineChartData | null {
  const x = stepsOf(runs);
  if (!x.length) return null;
  return {
    title: 'Loss while training',
    x,
    xLabel: 'training step',
    yLabel: 'cross-entropy',
    format: (v) => v.toFixed(3),
    series: seriesOf(runs, x, [
      { label: 'training loss (mean since the last probe)', value: (p) => p.trainLoss, single: COLOR.modelA },
      { label: 'probe loss (clean)', value: (p) => p.probeLoss, light: true, single: COLOR.modelALight, singleDashed: true },
    ]),
  };
}

/** The last few layer probes per run (four for one run, two each for two), oldest lightest. */
function layerChart(runs: RunState[]): LineChartData | null {
  const lines = runs.length > 1 ? 2 : 4;
  const withProbes = runs.filter((r) => r.layerProbes.length);
  if (!withProbes.length) return null;
  const last = withProbes[0].layerProbes[withProbes[0].layerProbes.length - 1];
  const series: LineSeries[] = [];
  runs.forEach((r, i) => {
    const shown = r.layerProbes.slice(-lines);
    shown.forEach((p, k) => {
      const latest = k === shown.length - 1;
      const byLayer = new Map(p.layers.map((l) => [l.layer, l.mean]));
      series.push({
        label: runs.length > 1 ? `${r.name}, step ${p.step}` : `step ${p.step}`,
        color: latest ? STYLE[i].main : STYLE[i].light,
        dashed: runs.length > 1 ? (i === 1 ? (latest ? true : '6,3,2,3') : latest ? false : '2,3') : latest ? false : '2,3',
        y: last.layers.map((l) => finite(byLayer.get(l.layer))),
      });
    });
  });
  const eps = [...new Set(withProbes.map((r) => r.layerProbes[r.layerProbes.length - 1].eps))].join(' / ');
  return {
    title: `Relative shift per layer under FGSM ε = ${eps}, while training`,
    x: last.layers.map((l) => l.layer),
    xLabel: 'layer',
    yLabel: 'mean ‖a(x′) − a(x)‖ / ‖a(x)‖',
    format: (v) => v.toFixed(3),
    series,
  };
}

/** Ridgeline rows shown per run: the drift reads at ten, and more rows get too thin. */
const RIDGE_ROWS = 10;

function Ridge({ data, testId }: { data: RidgelineData | null; testId: string }) {
  const ref = useChart(createRidgeline, data);
  return <svg ref={ref} className="line-chart" data-testid={testId} />;
}

/**
 * Seguin et al.'s Figure 1 built live: max-logit and gap distributions of the probe images at
 * each probe, one ridge per probe step, for each run, on bins shared by both runs.
 */
function LogitRidges({ runs }: { runs: RunState[] }) {
  const ridges = useMemo(() => {
    if (!runs.some((r) => r.logitProbes.length)) return null;
    return trainingLogitRidges(runs.map((r, i) => ({ run: i, probes: r.logitProbes })), RIDGE_ROWS);
  }, [runs]);
  const charts = useMemo(() => {
    if (!ridges) return [];
    return ridges.flatMap(({ model: i, summaries: e }) =>
      (['maxLogit', 'gap'] as const).map((which) => {
        const quantity = which === 'gap' ? 'logit gap (max − second)' : 'max logit';
        const data: RidgelineData = {
          title: `${quantity} over training, ${runs[i].name}${runs.length > 1 ? ` (${i ? 'B' : 'A'})` : ''}`,
          edges: which === 'gap' ? e.gapEdges : e.maxLogitEdges,
          rows: e.epochs.map((x) => ({ label: `step ${x.epoch}`, counts: which === 'gap' ? x.gap.counts : x.maxLogit.counts })),
          xLabel: `${quantity} on the probe images (logit units)`,
        };
        return { key: `${which}-${i}`, testId: `train-ridge-${which}${i ? '-b' : ''}`, data };
      }),
    );
  }, [ridges, runs]);
  if (!charts.length) return null;
  return (
    <div className="chart-row" data-testid="train-ridges">
      {charts.map((c) => (
        <Ridge key={c.key} data={c.data} testId={c.testId} />
      ))}
    </div>
  );
}

/**
 * One run's t-SNE of the chosen layer at the latest probe: the t-SNE view's scatter (class
 * colours, misclassified points outlined), one point per probe image. Each layout is
 * warm-started from the last (src/core/train/embedding.ts) and the scatter animates from the
 * previous frame, so the points are seen moving as the model learns.
 */
function TrainTsne({ run, name, label }: { run: RunState; name: string; label: string }) {
  const t = run.tsne;
  const frame = useMemo<ScatterFrame | null>(() => (t ? { positions: t.positions, labels: t.labels, cleanPred: t.pred } : null), [t]);
  const ref = useChart((el: HTMLCanvasElement) => createScatter(el), frame);
  if (!t) return null;
  const wrong = t.pred.reduce((k, p, i) => k + (p === t.labels[i] ? 0 : 1), 0);
  return (
    <figure className="tsne-cell" data-testid={`train-tsne${label === 'B' ? '-b' : ''}`} data-count={run.tsneCount} data-step={t.step}>
      <figcaption>
        <b>{label ? `${label} ${name}: ` : ''}t-SNE of {t.layer}</b>{' '}
        <span className="muted">
          step {t.step} · {t.labels.length} probe images · {t.start === 'cold' ? `cold start, ${t.iterations} iterations` : `warm start from the last layout, ${t.iterations} iterations`} · KL {t.kl.toFixed(2)} · {(1000 * t.seconds).toFixed(0)} ms · {wrong} misclassified (outlined)
        </span>
      </figcaption>
      <div className="tsne-canvas-box">
        <canvas ref={ref} className="tsne-canvas" />
      </div>
    </figure>
  );
}

/** The class colours of the t-SNE scatters (the t-SNE view's key, one mark kind fewer). */
function TsneKey({ labels }: { labels: Int32Array }) {
  const classes = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  return (
    <div className="class-key">
      <span className="muted">true class:</span>
      {classes.map((k) => (
        <span key={k} className="class-key-entry">
          <span className="swatch" style={{ background: classColor(k) }} />
          {k}
        </span>
      ))}
      <span className="class-key-entry">
        <span className="swatch dot outlined" /> misclassified by the current weights (thin dark outline)
      </span>
    </div>
  );
}

/** MFTMA capacity of the chosen layer over training, A solid and B dashed. */
function capacityChart(runs: RunState[]): LineChartData | null {
  const x = [...new Set(runs.flatMap((r) => r.mftmaProbes.map((p) => p.step)))].sort((a, b) => a - b);
  if (!x.length) return null;
  const first = runs.find((r) => r.mftmaProbes.length)?.mftmaProbes[0];
  return {
    title: `Manifold capacity of ${first?.layer} while training (MFTMA, ${first?.p} class manifolds × ${first?.m} probe images, clean)`,
    x,
    xLabel: 'training step',
    yLabel: 'capacity α_M',
    format: (v) => v.toFixed(3),
    series: runs.map((r, i) => {
      const byStep = new Map(r.mftmaProbes.map((p) => [p.step, p.capacity]));
      return { label: runs.length > 1 ? r.name : 'capacity', color: STYLE[i].main, dashed: STYLE[i].dashed, y: x.map((step) => finite(byStep.get(step))) };
    }),
  };
}

const eta = (steps: number, perSecond: number) => {
  if (!(perSecond > 0) || steps <= 0) return '';
  const s = steps / perSecond;
  return s < 90 ? `${Math.ceil(s)} s left` : `${Math.ceil(s / 60)} min left`;
};

export function TrainView() {
  const t = useTrain();
  const recipe = useLab((s) => s.params.train);
  const second = useLab((s) => s.params.trainB);
  // Training runs on the backend the lab picked; until it has picked one there is nothing to run on.
  const backend = useLab((s) => s.backend?.active ?? null);
  const dataReady = useTrainDataReady();
  const command = useMemo(() => {
    const a = trainCommand(recipe, 'my-model', backend ?? 'wasm');
    return second.on ? `${a}\n${trainCommand(secondRunValues(recipe, second), 'my-model-b', backend ?? 'wasm')}` : a;
  }, [recipe, second, backend]);
  // The charts' runs change only with a live round, not with every step event (train.ts chartRuns).
  const runs = chartRuns(t.runs);
  const accuracy = useMemo(() => accuracyChart(runs), [runs]);
  const loss = useMemo(() => lossChart(runs), [runs]);
  const layers = useMemo(() => layerChart(runs), [runs]);
  const capacity = useMemo(() => capacityChart(runs), [runs]);
  const tsneLabels = runs.find((r) => r.tsne)?.tsne?.labels;
  const active = t.status === 'running' || t.status === 'paused';
  const lead = t.runs[0];
  const stepped = t.runs.some((r) => r.step > 0);
  return (
    <section className="view train-view" data-testid="train-view">
      {!active && !lead?.probes.length && (
        <p className="view-intro muted" data-testid="train-intro">
          <b>Train</b>: train a model here, standard or adversarially (FGSM-RS, PGD-AT, TRADES), on the MNIST train split or data you load, and watch its clean and
          robust accuracy on a fixed probe set as it learns; with a second run B, a standard and an adversarially trained model learn side by side on the
          same batches. Snapshots (on click and at every epoch end) become models A or B in every other view. It runs on the lab's backend, in a worker of
          its own.
        </p>
      )}
      <TrainControlsMemo />
      <div className="analysis-bar" data-testid="train-bar">
        <button type="button" data-testid="train-start" disabled={active || !backend || !dataReady} title={!dataReady ? 'load the training data first' : backend ? `train on ${backend}, the lab's backend` : 'waiting for the lab to pick its backend'} onClick={() => void startTraining(command)}>
          {second.on ? 'Train both' : 'Train'}
        </button>
        {t.status === 'running' && (
          <button type="button" data-testid="train-pause" onClick={pauseTraining}>
            Pause
          </button>
        )}
        {t.status === 'paused' && (
          <>
            <button type="button" data-testid="train-resume" onClick={resumeTraining}>
              Resume
            </button>
            <button type="button" data-testid="train-step" onClick={stepTraining}>
              One step
            </button>
          </>
        )}
        {active && (
          <button type="button" data-testid="train-cancel" onClick={cancelTraining}>
            Cancel
          </button>
        )}
        <button type="button" data-testid="train-snapshot" disabled={!stepped} onClick={() => void takeSnapshots()}>
          Snapshot
        </button>
        <button type="button" data-testid="train-copy-cli" title={command} onClick={() => void navigator.clipboard?.writeText(command)}>
          Copy CLI command{second.on ? 's' : ''}
        </button>
        <span className="muted" data-testid="train-status" data-status={t.status}>
          {t.status === 'error' ? '' : t.message}
          {active && lead && lead.totalSteps > 0 && ` · step ${lead.step}/${lead.totalSteps} (${Math.round((100 * lead.step) / lead.totalSteps)} %) · ${lead.stepsPerSecond.toFixed(1)} steps/s${t.runs.length > 1 ? ' per run' : ''} · ${eta(lead.totalSteps - lead.step, lead.stepsPerSecond)}`}
          {t.status === 'paused' && ' · paused'}
          {t.runs.map((r, i) => r.loss !== null && ` · ${t.runs.length > 1 ? `${i ? 'B' : 'A'} ` : ''}loss ${r.loss.toFixed(4)}`)}
        </span>
        {t.budget && <span className="muted">{' · '}</span>}
        {t.budget && (
          <span className="muted" data-testid="train-budget" title={`Probes, layer shifts, logits, t-SNE, MFTMA and epoch snapshots may take ${Math.round((100 * LIVE_SHARE) / (1 + LIVE_SHARE))} % of the run; a due probe waits while they would take more.`}>
            live metrics {(100 * t.budget.share).toFixed(0)} % of the time{t.status === 'done' && ', the final probe included'} (cap {Math.round((100 * LIVE_SHARE) / (1 + LIVE_SHARE))} % while training){t.budget.deferred > 0 && `, ${t.budget.deferred} probe${t.budget.deferred === 1 ? '' : 's'} postponed`}
          </span>
        )}
        {t.error && (
          <span className="error" data-testid="train-error">
            {t.error}
          </span>
        )}
      </div>
      {t.runs.map((r, i) => {
        const last = r.probes[r.probes.length - 1];
        return (
          last && (
            <p key={i} className="muted" data-testid={i ? 'train-last-probe-b' : 'train-last-probe'}>
              {t.runs.length > 1 && <b>{`${i ? 'B' : 'A'} ${r.name}: `}</b>}
              Probe at step {last.step} (epoch {last.epoch + 1}): clean {fmtPct(last.cleanAccuracy)}, PGD ε = {last.probeEps} {fmtPct(last.robustAccuracy)}, {last.imagesPerSecond.toFixed(0)} training images/s
            </p>
          )
        );
      })}
      <div className="chart-row">
        <LineChartView data={accuracy} testId="train-accuracy-chart" />
        <LineChartView data={loss} testId="train-loss-chart" />
      </div>
      <LineChartView data={layers} testId="train-layer-chart" />
      <LogitRidges runs={runs} />
      {tsneLabels && (
        <div data-testid="train-tsne-row">
          <div className="chart-row">
            {runs.map((r, i) => (
              <TrainTsne key={i} run={r} name={r.name} label={runs.length > 1 ? (i ? 'B' : 'A') : ''} />
            ))}
          </div>
          <TsneKey labels={tsneLabels} />
        </div>
      )}
      {capacity && <LineChartView data={capacity} testId="train-mftma-chart" />}
      {t.snapshots.length > 0 && (
        <table className="suite" data-testid="train-snapshots">
          <caption>Snapshots (on click, and kept automatically at every epoch end): the weights at that step, usable as model A or B in every view</caption>
          <tbody>
            {t.snapshots.map((s) => (
              <tr key={s.id} data-testid={`snapshot-${s.id}`}>
                <td>{s.id}</td>
                <td className="muted">
                  {t.runs.length > 1 ? `run ${s.run ? 'B' : 'A'}, ` : ''}step {s.step}
                  {s.epoch !== null ? `, end of epoch ${s.epoch}` : ''}
                </td>
                <td>
                  <button type="button" data-testid={`snapshot-a-${s.id}`} onClick={() => void loadSnapshotAs(s, 'a')}>
                    Use as A
                  </button>{' '}
                  <button type="button" data-testid={`snapshot-b-${s.id}`} onClick={() => void loadSnapshotAs(s, 'b')}>
                    Use as B
                  </button>{' '}
                  <button type="button" data-testid={`snapshot-download-${s.id}`} onClick={() => downloadSnapshot(s)}>
                    Download
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
