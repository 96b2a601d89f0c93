/**
 * Per-sample detail (issue #5): for the one selected strip sample, the logits clean vs
 * adversarial as grouped bars per class (model A; B too in compare mode is left to the
 * views), and the perturbation δ = x_adv − x as a diverging heat map per input channel
 * (blue negative, red positive, symmetric scale at max |δ|), so a user sees where and in
 * which colour channel the attack pushed.
 */
import * as d3 from 'd3';
import { useEffect, useRef, useState } from 'react';
import { channelPlanes, divergingRgb } from '../charts/diverging';
import { getBridge } from '../runtime';
import { shownSlice, useLab } from '../store';

function ChannelHeat({ plane, width, height, maxAbs, label }: { plane: Float32Array; width: number; height: number; maxAbs: number; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current;
    const ctx = c?.getContext('2d');
    if (!c || !ctx) return;
    c.width = width;
    c.height = height;
    const img = ctx.createImageData(width, height);
    for (let p = 0; p < width * height; p++) {
      const [r, g, b] = divergingRgb(maxAbs > 0 ? plane[p] / maxAbs : 0);
      img.data.set([r, g, b, 255], p * 4);
    }
    ctx.putImageData(img, 0, 0);
  }, [plane, width, height, maxAbs]);
  return (
    <figure className="heat-channel">
      <canvas ref={ref} className="thumb large" data-testid="sample-heat" title={`${label}: δ from −${maxAbs.toFixed(3)} (blue) to +${maxAbs.toFixed(3)} (red)`} />
      <figcaption>{label}</figcaption>
    </figure>
  );
}

function LogitBars({ clean, adv, names, label }: { clean: Float32Array; adv: Float32Array; names: string[]; label: number }) {
  const ref = useRef<SVGSVGElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const svg = d3.select(el);
    svg.selectAll('*').remove();
    const w = el.clientWidth || 360;
    const h = el.clientHeight || 180;
    const m = { l: 36, r: 6, t: 8, b: 30 };
    const k = clean.length;
    const x = d3.scaleBand<number>().domain(d3.range(k)).range([m.l, w - m.r]).padding(0.2);
    const lo = Math.min(0, d3.min([...clean, ...adv]) ?? 0);
    const hi = Math.max(0, d3.max([...clean, ...adv]) ?? 0);
    const y = d3.scaleLinear().domain([lo, hi]).nice().range([h - m.b, m.t]);
    const half = x.bandwidth() / 2;
    for (const [series, values, colour, dx] of [['clean', clean, '#1f6feb', 0], ['adversarial', adv, '#d1495b', half]] as const) {
      svg
        .append('g')
        .selectAll('rect')
        .data(Array.from(values))
        .join('rect')
        .attr('x', (_v, i) => (x(i) ?? 0) + dx)
        .attr('width', half)
        .attr('y', (v) => y(Math.max(0, v)))
        .attr('height', (v) => Math.abs(y(v) - y(0)))
        .attr('fill', colour)
        .append('title')
        .text((v, i) => `${series} logit of ${names[i] ?? i}: ${v.toFixed(3)}`);
    }
    svg.append('g').attr('transform', `translate(0,${y(0)})`).call(d3.axisBottom(x).tickFormat((i) => `${names[i] ?? i}${i === label ? '*' : ''}`).tickSizeOuter(0));
    svg.append('g').attr('transform', `translate(${m.l},0)`).call(d3.axisLeft(y).ticks(5));
    svg.append('text').attr('x', m.l).attr('y', h - 4).attr('font-size', 10).attr('fill', '#666').text('logits: clean (blue) vs adversarial (red); * = true class');
  }, [clean, adv, names, label]);
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
