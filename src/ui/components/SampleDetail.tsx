/**
 * Per-sample detail (issue #5): for the one selected strip sample, the logits clean vs
 * adversarial as grouped bars per class, and the perturbation δ = x_adv − x as a diverging
 * heat map per input channel (blue negative, red positive, symmetric scale at max |δ|), so
 * a user sees where and in which colour channel the attack pushed. In compare mode the same
 * for model B (its own adversarial image of the sample, its logits) in a second row, both
 * rows on one δ scale so the two perturbations compare by colour.
 */
import { useEffect, useMemo, useState } from 'react';
import { channelPlanes } from '../charts/diverging';
import { createLogitBars, type LogitBarsData } from '../charts/logitBars';
import { useChart } from '../charts/useChart';
import { getBridge } from '../runtime';
import { classNamesOf, shownSlice, useLab, type StoredResult } from '../store';
import { DifferenceCanvas } from './ImageCanvas';

function ChannelHeat({ plane, width, height, maxAbs, label, testId }: { plane: Float32Array; width: number; height: number; maxAbs: number; label: string; testId: string }) {
  return (
    <figure className="heat-channel">
      <DifferenceCanvas plane={plane} width={width} height={height} maxAbs={maxAbs} className="thumb large" testId={testId} title={`${label}: δ from −${maxAbs.toFixed(3)} (blue) to +${maxAbs.toFixed(3)} (red)`} />
      <figcaption>{label}</figcaption>
    </figure>
  );
}

function LogitBars({ clean, adv, names, label, testId }: LogitBarsData & { testId: string }) {
  const data = useMemo(() => ({ clean, adv, names, label }), [clean, adv, names, label]);
  const ref = useChart(createLogitBars, data);
  return <svg ref={ref} className="logit-bars" data-testid={testId} />;
}

type Logits = { clean: Float32Array; adv: Float32Array };

/** Clean and adversarial logits of sample `i` through model `which` (one worker call of two images). */
async function logitsOfSample(images: Float32Array, adversarial: Float32Array, i: number, d: number, which: 'a' | 'b'): Promise<Logits> {
  const both = new Float32Array(2 * d);
  both.set(images.subarray(i * d, (i + 1) * d));
  both.set(adversarial.subarray(i * d, (i + 1) * d), d);
  const z = await getBridge().logitsOf(both, which);
  const k = z.length / 2;
  return { clean: z.slice(0, k), adv: z.slice(k) };
}

/** One model's row: its logits and its δ per channel. */
function ModelRow({ role, model, result, logits, error, planes, maxAbs, i, shape, names, label }: {
  role: 'A' | 'B' | null; model: string; result: StoredResult; logits: Logits | null; error: string | null; planes: Float32Array[]; maxAbs: number;
  i: number; shape: [number, number, number]; names: string[]; label: number;
}) {
  const [h, w, ch] = shape;
  const suffix = role === 'B' ? '-b' : '';
  const channelNames = ch === 3 ? ['red', 'green', 'blue'] : Array.from({ length: ch }, (_, c) => `channel ${c}`);
  const pred = result.advPred[i];
  return (
    <div className="detail-row" data-testid={`sample-detail-row${suffix}`}>
      {role && (
        <span className={`detail-model ${pred === label ? 'ok' : 'bad'}`} data-testid={`sample-detail-model${suffix}`}>
          {role}: {model} → {names[pred] ?? pred} ({(100 * result.advConfidence[i]).toFixed(0)}%)
        </span>
      )}
      {logits ? <LogitBars clean={logits.clean} adv={logits.adv} names={names} label={label} testId={`sample-logits${suffix}`} /> : <span className="muted">{error ?? 'computing logits…'}</span>}
      <div className="heat-row">
        {planes.map((plane, c) => (
          <ChannelHeat key={c} plane={plane} width={w} height={h} maxAbs={maxAbs} label={channelNames[c]} testId={`sample-heat${suffix}`} />
        ))}
        <span className="muted">
          δ per channel, ‖δ‖∞ = {result.linf[i].toFixed(4)}, ‖δ‖₂ = {result.l2[i].toFixed(3)}
        </span>
      </div>
    </div>
  );
}

export function SampleDetail() {
  const sample = useLab((s) => s.sample);
  const result = useLab((s) => shownSlice(s));
  const resultB = useLab((s) => (s.compareModel ? shownSlice(s, 'b') : null));
  const modelA = useLab((s) => s.params.setup.model);
  const modelB = useLab((s) => s.params.lab.compare);
  const brushed = useLab((s) => s.brushed);
  const names = useLab(classNamesOf) ?? [];
  const i = brushed.length === 1 ? brushed[0] : -1;
  const [logits, setLogits] = useState<{ key: string; a: Logits | null; b: Logits | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const d = sample ? sample.shape[0] * sample.shape[1] * sample.shape[2] : 0;
  const key = `${result?.key ?? 'none'}#${resultB?.key ?? 'none'}#${i}`;
  useEffect(() => {
    if (!sample || !result || i < 0) return;
    let live = true;
    Promise.all([logitsOfSample(sample.images, result.adversarial, i, d, 'a'), resultB ? logitsOfSample(sample.images, resultB.adversarial, i, d, 'b') : null])
      .then(([a, b]) => {
        if (!live) return;
        setLogits({ key, a, b });
        setError(null);
      })
      .catch((e: Error) => live && setError(String(e.message ?? e).split('\n')[0]));
    return () => {
      live = false;
    };
  }, [sample, result, resultB, i, d, key]);
  if (!sample || !result || i < 0) return null;
  const ch = sample.shape[2];
  const clean = sample.images.subarray(i * d, (i + 1) * d);
  const deltaA = channelPlanes(clean, result.adversarial.subarray(i * d, (i + 1) * d), ch);
  const deltaB = resultB ? channelPlanes(clean, resultB.adversarial.subarray(i * d, (i + 1) * d), ch) : null;
  const maxAbs = Math.max(deltaA.maxAbs, deltaB?.maxAbs ?? 0);
  const current = logits && logits.key === key ? logits : null;
  const label = sample.labels[i];
  return (
    <section className="sample-detail" data-testid="sample-detail">
      <h3>
        Sample {sample.indices[i]} (y = {names[label] ?? label}) under {result.spec.attack} {result.spec.norm} ε = {result.eps}
      </h3>
      <ModelRow role={resultB ? 'A' : null} model={modelA} result={result} logits={current?.a ?? null} error={error} planes={deltaA.planes} maxAbs={maxAbs} i={i} shape={sample.shape} names={names} label={label} />
      {resultB && deltaB && (
        <ModelRow role="B" model={modelB} result={resultB} logits={current?.b ?? null} error={error} planes={deltaB.planes} maxAbs={maxAbs} i={i} shape={sample.shape} names={names} label={label} />
      )}
    </section>
  );
}
