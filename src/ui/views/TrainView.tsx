/**
 * The Train view (issue #25): standard and adversarial training in the browser, in a worker
 * (workers/train.worker.ts) on the lab's backend. Controls come from the training definition's
 * schema (src/core/train/definition.ts: the URL keys tr*, the flags of `layerwise train`);
 * every N steps the fixed probe set gives loss, clean and PGD robust accuracy (Madry et al.
 * 2018's threat model at the training ε), drawn as they arrive, and after each probe the lab's
 * layer-shift analysis on the current weights (src/core/train/layers.ts) shows every layer's
 * response to FGSM moving as the model learns. Pause, single step, resume and
 * cancel keep what was learned; a snapshot is the current weights as model files that every
 * other view uses as model A or B ("this model at step 200 vs the zoo's AT model").
 */
import { useMemo } from 'react';
import { trainCommand, trainSchema } from '../../core/train/definition';
import type { TrainLayerProbe } from '../../core/train/layers';
import type { ProbeMetrics } from '../../core/train/trainer';
import { COLOR } from '../charts/colors';
import type { LineChartData } from '../charts/lines';
import { controlsOf, ParamControl } from '../components/Controls';
import { useLab, type ParamsPatch } from '../store';
import { cancelTraining, downloadSnapshot, loadSnapshotAs, pauseTraining, resumeTraining, startTraining, stepTraining, takeSnapshot, useTrain } from '../train';
import { writeHash } from '../url';
import { fmtPct, LineChartView } from './common';

function TrainControls() {
  const commit = (patch: ParamsPatch) => {
    useLab.getState().setParams(patch);
    writeHash(useLab.getState().params);
  };
  return (
    <fieldset className="controls inline" data-testid="train-controls">
      <legend>Training</legend>
      {controlsOf(trainSchema).map(([name, def]) => (
        <ParamControl key={name} group="train" name={name} def={def} onCommit={commit} />
      ))}
    </fieldset>
  );
}

const finite = (v: number) => (Number.isFinite(v) ? v : null);

function accuracyChart(probes: ProbeMetrics[]): LineChartData | null {
  if (!probes.length) return null;
  const eps = probes[probes.length - 1].probeEps;
  return {
    title: 'Probe accuracy while training',
    x: probes.map((p) => p.step),
    xLabel: 'training step',
    yLabel: 'accuracy on the probe set',
    yDomain: [0, 1],
    format: (v) => `${(100 * v).toFixed(1)}%`,
    series: [
      { label: 'clean', color: COLOR.clean, y: probes.map((p) => finite(p.cleanAccuracy)) },
      { label: `PGD ε = ${eps}`, color: COLOR.adversarial, y: probes.map((p) => finite(p.robustAccuracy)) },
    ],
  };
}

function lossChart(probes: ProbeMetrics[]): LineChartData | null {
  if (!probes.length) return null;
  return {
    title: 'Loss while training',
    x: probes.map((p) => p.step),
    xLabel: 'training step',
    yLabel: 'cross-entropy',
    format: (v) => v.toFixed(3),
    series: [
      { label: 'training loss (mean since the last probe)', color: COLOR.modelA, y: probes.map((p) => finite(p.trainLoss)) },
      { label: 'probe loss (clean)', color: COLOR.modelALight, dashed: true, y: probes.map((p) => finite(p.probeLoss)) },
    ],
  };
}

/** The last few layer probes, oldest lightest: the layers' response moving as the model learns. */
const LAYER_LINES = 4;

function layerChart(probes: TrainLayerProbe[]): LineChartData | null {
  if (!probes.length) return null;
  const shown = probes.slice(-LAYER_LINES);
  const last = shown[shown.length - 1];
  return {
    title: `Relative shift per layer under FGSM ε = ${last.eps}, while training`,
    x: last.layers.map((l) => l.layer),
    xLabel: 'layer',
    yLabel: 'mean ‖a(x′) − a(x)‖ / ‖a(x)‖',
    format: (v) => v.toFixed(3),
    series: shown.map((p, i) => ({
      label: `step ${p.step}`,
      color: i === shown.length - 1 ? COLOR.modelA : COLOR.modelALight,
      dashed: i === shown.length - 1 ? false : '2,3',
      y: p.layers.map((l) => finite(l.mean)),
    })),
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
  // Training runs on the backend the lab picked; until it has picked one there is nothing to run on.
  const backend = useLab((s) => s.backend?.active ?? null);
  const command = useMemo(() => trainCommand(recipe, 'my-model', backend ?? 'wasm'), [recipe, backend]);
  const accuracy = useMemo(() => accuracyChart(t.probes), [t.probes]);
  const loss = useMemo(() => lossChart(t.probes), [t.probes]);
  const layers = useMemo(() => layerChart(t.layerProbes), [t.layerProbes]);
  const active = t.status === 'running' || t.status === 'paused';
  const last = t.probes[t.probes.length - 1];
  return (
    <section className="view train-view" data-testid="train-view">
      {!active && !t.probes.length && (
        <p className="view-intro muted" data-testid="train-intro">
          <b>Train</b>: train a model here, standard or adversarially (FGSM-RS, PGD-AT, TRADES), on the MNIST train split, and watch its clean and
          robust accuracy on a fixed probe set as it learns. Snapshots become models A or B in every other view. It runs on the lab's backend, in a worker of
          its own.
        </p>
      )}
      <TrainControls />
      <div className="analysis-bar" data-testid="train-bar">
        <button type="button" data-testid="train-start" disabled={active || !backend} title={backend ? `train on ${backend}, the lab's backend` : 'waiting for the lab to pick its backend'} onClick={() => void startTraining(command)}>
          Train
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
        <button type="button" data-testid="train-snapshot" disabled={t.step === 0} onClick={() => void takeSnapshot()}>
          Snapshot
        </button>
        <button type="button" data-testid="train-copy-cli" title={command} onClick={() => void navigator.clipboard?.writeText(command)}>
          Copy CLI command
        </button>
        <span className="muted" data-testid="train-status" data-status={t.status}>
          {t.status === 'error' ? '' : t.message}
          {active && t.totalSteps > 0 && ` · step ${t.step}/${t.totalSteps} (${Math.round((100 * t.step) / t.totalSteps)} %) · ${t.stepsPerSecond.toFixed(1)} steps/s · ${eta(t.totalSteps - t.step, t.stepsPerSecond)}`}
          {t.status === 'paused' && ' · paused'}
          {t.loss !== null && ` · loss ${t.loss.toFixed(4)}`}
        </span>
        {t.error && (
          <span className="error" data-testid="train-error">
            {t.error}
          </span>
        )}
      </div>
      {last && (
        <p className="muted" data-testid="train-last-probe">
          Probe at step {last.step} (epoch {last.epoch + 1}): clean {fmtPct(last.cleanAccuracy)}, PGD ε = {last.probeEps} {fmtPct(last.robustAccuracy)}, {last.imagesPerSecond.toFixed(0)} training images/s
        </p>
      )}
      <div className="chart-row">
        <LineChartView data={accuracy} testId="train-accuracy-chart" />
        <LineChartView data={loss} testId="train-loss-chart" />
      </div>
      <LineChartView data={layers} testId="train-layer-chart" />
      {t.snapshots.length > 0 && (
        <table className="suite" data-testid="train-snapshots">
          <caption>Snapshots: the weights at that step, usable as model A or B in every view</caption>
          <tbody>
            {t.snapshots.map((s) => (
              <tr key={s.id}>
                <td>{s.id}</td>
                <td>
                  <button type="button" data-testid={`snapshot-a-${s.step}`} onClick={() => void loadSnapshotAs(s, 'a')}>
                    Use as A
                  </button>{' '}
                  <button type="button" data-testid={`snapshot-b-${s.step}`} onClick={() => void loadSnapshotAs(s, 'b')}>
                    Use as B
                  </button>{' '}
                  <button type="button" data-testid={`snapshot-download-${s.step}`} onClick={() => downloadSnapshot(s)}>
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
