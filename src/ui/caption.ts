/**
 * The caption of an exported figure: what the chart shows and how it was made (models, data,
 * attack, ε, seed, date, versions), so a PNG pasted into slides or an SVG in a paper still
 * says where it came from. The run manifest carries the phrases (manifest.ts) and the
 * exporter draws them under the chart (charts/export.ts), so the image and the JSON say the
 * same thing. Pure: no DOM, no store.
 */

export interface CaptionFacts {
  /** What the figure shows, e.g. "Relative representation shift per layer". */
  title: string;
  modelA: string;
  /** Compare mode: model B's id. */
  modelB?: string | null;
  data: string;
  samples: number;
  /** The attack of the result on screen (null before the first one). */
  attack: { attack: string; norm: string; eps: number; steps: number; stepSize?: number } | null;
  /** The result on screen is the slider's FGSM preview, not the chosen attack. */
  preview?: boolean;
  /** Other ε values drawn in the figure (the ladder), if any. */
  ladder?: number[];
  seed: number;
  /** ISO date-time the figure was exported. */
  created: string;
  version?: string;
  tfjs?: string | null;
  backend?: string | null;
  /** What the backend stored values in; 'float16' is named in the caption (the numbers differ from float32). */
  precision?: 'float32' | 'float16' | null;
}

const NORM_NAMES: Record<string, string> = { linf: 'L∞', l2: 'L2', l1: 'L1' };

/** "PGD-10", "FGSM": the attack and, for iterative ones, its step count (as the ε badge says it). */
export function attackName(attack: string, steps: number): string {
  return attack === 'fgsm' || attack === 'gaussian' ? attack.toUpperCase() : `${attack.toUpperCase()}-${steps}`;
}

/** Numbers as a reader types them: 4 significant digits, no trailing zeros. */
const num = (v: number) => String(+v.toPrecision(4));

/** "2026-12-03 20:10 UTC" from an ISO date-time (minutes are enough for a caption; the manifest keeps the full one). */
function shortDate(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

/**
 * The caption as phrases: the title first, then one phrase per fact. Phrases are never split
 * when the caption is wrapped, so a model id or an ε value stays on one line.
 */
export function captionPhrases(f: CaptionFacts): string[] {
  const phrases = [f.title, `model A: ${f.modelA}`];
  if (f.modelB) phrases.push(`model B: ${f.modelB}`);
  phrases.push(`data: ${f.data}, ${f.samples} samples`);
  if (f.attack) {
    const a = f.attack;
    const norm = NORM_NAMES[a.norm] ?? a.norm;
    const step = a.stepSize !== undefined && a.attack !== 'fgsm' && a.attack !== 'gaussian' ? `, α = ${num(a.stepSize)}` : '';
    phrases.push(`attack: ${f.preview ? 'FGSM preview' : attackName(a.attack, a.steps)} ${norm}, ε = ${num(a.eps)}${step}`);
  }
  const others = (f.ladder ?? []).filter((e) => !f.attack || e !== f.attack.eps);
  if (others.length) phrases.push(`also ε = ${others.map(num).join(', ')}`);
  phrases.push(`seed ${f.seed}`, shortDate(f.created));
  const made = [f.version && `layerwise ${f.version}`, f.tfjs && `tfjs ${f.tfjs}`, f.backend, f.precision === 'float16' && 'half precision (float16 textures)'].filter(Boolean).join(', ');
  if (made) phrases.push(made);
  return phrases;
}

/**
 * Lines of at most `maxChars` characters (a phrase longer than that gets a line of its own):
 * the title alone on the first line, the facts joined by " · " after it.
 */
export function wrapCaption(phrases: string[], maxChars: number): string[] {
  if (phrases.length === 0) return [];
  const [title, ...facts] = phrases;
  const lines = [title];
  let line = '';
  for (const p of facts) {
    const next = line ? `${line} · ${p}` : p;
    if (line && next.length > maxChars) {
      lines.push(line);
      line = p;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}
