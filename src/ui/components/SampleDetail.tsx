/**
 * Per-sample detail (issue #5): for the one selected strip sample, the logits clean vs
 * adversarial as grouped bars per class (model A; B too in compare mode is left to the
 * views), and the perturbation δ = x_adv − x as a diverging heat map per input channel
 * (blue negative, red positive, symmetric scale at max |δ|), so a user sees where and in
 * which colour channel the attack pushed.
 */
import { useEffect, useMemo, useState } from 'react';
import { channelPlanes } from '../charts/diverging';
import { createLogitBars, type LogitBarsData } from '../charts/logitBars';
import { useChart } from '../charts/useChart';
import { getBridge } from '../runtime';
import { shownSlice, useLab } from '../store';
import { DifferenceCanvas } from './ImageCanvas';

function ChannelHeat({ plane, width, height, maxAbs, label }: { plane: Float32Array; width: number; height: number; maxAbs: number; label: string }) {
  return (
    <figure className="heat-channel">
      <DifferenceCanvas plane={plane} width={width} height={height} maxAbs={maxAbs} className="thumb large" testId="sample-heat" title={`${label}: δ from −${maxAbs.toFixed(3)} (blue) to +${maxAbs.toFixed(3)} (red)`} />
      <figcaption>{label}</figcaption>
    </figure>
  );
}

function LogitBars({ clean, adv, names, label }: LogitBarsData) {
  const data = useMemo(() => ({ clean, adv, names, label }), [clean, adv, names, label]);
  const ref = useChart(createLogitBars, data);
  return <svg ref={ref} className="logit-bars" data-testid="sample-logits" />;
}

export function SampleDetail() {
  const sample = useLab((s) => s.sample);
  const result = useLab((s) => shownSlice(s));
  const brushed = useLab((s) => s.brushed);
  const names = useLab((s) => s.dataset?.classNames) ?? [];
  const i = brushed.length === 1 ? brushed[0] : -1;
  const [logits, setLogits] = useState<{ key: string; clean: Float32Array; adv: Float32Array } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const d = sample ? sample.shape[0] * sample.shape[1] * sample.shape[2] : 0;
  const key = `${result?.key ?? 'none'}#${i}`;
  useEffect(() => {
    if (!sample || !result || i < 0) return;
    let live = true;
    const both = new Float32Array(2 * d);
    both.set(sample.images.subarray(i * d, (i + 1) * d));
    both.set(result.adversarial.subarray(i * d, (i + 1) * d), d);
    getBridge()
      .logitsOf(both)
      .then((z) => {
        if (!live) return;
        const k = z.length / 2;
        setLogits({ key, clean: z.slice(0, k), adv: z.slice(k) });
        setError(null);
      })
      .catch((e: Error) => live && setError(String(e.message ?? e).split('\n')[0]));
    return () => {
      live = false;
    };
  }, [sample, result, i, d, key]);
  if (!sample || !result || i < 0) return null;
  const [h, w, ch] = sample.shape;
  const { planes, maxAbs } = channelPlanes(sample.images.subarray(i * d, (i + 1) * d), result.adversarial.subarray(i * d, (i + 1) * d), ch);
  const channelNames = ch === 3 ? ['red', 'green', 'blue'] : Array.from({ length: ch }, (_, c) => `channel ${c}`);
  return (
    <section className="sample-detail" data-testid="sample-detail">
      <h3>
        Sample {sample.indices[i]} (y = {names[sample.labels[i]] ?? sample.labels[i]}) under {result.spec.attack} {result.spec.norm} ε = {result.eps}
      </h3>
      <div className="detail-row">
        {logits && logits.key === key ? <LogitBars clean={logits.clean} adv={logits.adv} names={names} label={sample.labels[i]} /> : <span className="muted">{error ?? 'computing logits…'}</span>}
        <div className="heat-row">
          {planes.map((plane, c) => (
            <ChannelHeat key={c} plane={plane} width={w} height={h} maxAbs={maxAbs} label={channelNames[c]} />
          ))}
          <span className="muted">
            δ per channel, ‖δ‖∞ = {result.linf[i].toFixed(4)}, ‖δ‖₂ = {result.l2[i].toFixed(3)}
          </span>
        </div>
      </div>
    </section>
  );
}
