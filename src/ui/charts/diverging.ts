/** Pure helpers of the per-sample perturbation heat map (src/ui/components/SampleDetail.tsx). */

/** Diverging colour of t ∈ [−1, 1]: blue → white → red. */
export function divergingRgb(t: number): [number, number, number] {
  const c = Math.max(-1, Math.min(1, t));
  const fade = (v: number) => Math.round(255 * (1 - Math.abs(c)) + v * Math.abs(c));
  return c >= 0 ? [fade(214), fade(39), fade(40)] : [fade(31), fade(119), fade(180)];
}

/** δ of one image split into channel planes, and the symmetric range max |δ|. */
export function channelPlanes(clean: Float32Array, adv: Float32Array, channels: number): { planes: Float32Array[]; maxAbs: number } {
  const pixels = clean.length / channels;
  const planes = Array.from({ length: channels }, () => new Float32Array(pixels));
  let maxAbs = 0;
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < channels; c++) {
      const v = adv[p * channels + c] - clean[p * channels + c];
      planes[c][p] = v;
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
  }
  return { planes, maxAbs };
}
