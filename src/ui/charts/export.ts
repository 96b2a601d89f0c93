/**
 * Exporting views as files: SVG (vector, for papers), PNG (for slides) and CSV (for the
 * numbers behind a chart). Images carry a caption saying how they were made (caption.ts).
 * `toCsv` and the presentation helpers are pure; serialising and rasterising need a browser DOM.
 */
import { neutralizeFormula } from '../../core/text';
import { wrapCaption } from '../caption';

/**
 * Presentation properties written into the exported file, with their initial values (SVG 1.1
 * property index) and whether they inherit. Charts may be styled by the app's CSS (classes,
 * theme variables, `currentColor`); a standalone file sees none of that, so each element gets
 * the resolved value as a presentation attribute (fill="#1f77b4", stroke-width="1.5"), and
 * only where it differs from what the element would inherit (or, for a property that does
 * not inherit, from its initial value). Attributes rather than `style="…"` declarations,
 * and unitless numbers rather than "1px": ImageMagick's own SVG renderer (MSVG) rejects
 * "px" in its drawing primitives ("non-conforming drawing primitive definition `px'");
 * librsvg, Inkscape and browsers read both. Writing all 18 properties on every element as
 * a style made the file 53 KB; the differences alone make it 9 KB.
 */
const PRESENTATION = [
  { name: 'fill', initial: '#000000', inherited: true },
  { name: 'fill-opacity', initial: '1', inherited: true },
  { name: 'fill-rule', initial: 'nonzero', inherited: true },
  { name: 'stroke', initial: 'none', inherited: true },
  { name: 'stroke-width', initial: '1', inherited: true },
  { name: 'stroke-opacity', initial: '1', inherited: true },
  { name: 'stroke-dasharray', initial: 'none', inherited: true },
  { name: 'stroke-linecap', initial: 'butt', inherited: true },
  { name: 'stroke-linejoin', initial: 'miter', inherited: true },
  { name: 'opacity', initial: '1', inherited: false },
  // The root always writes the font: its initial value is whatever the viewer defaults to.
  { name: 'font-family', initial: '', inherited: true },
  { name: 'font-size', initial: '', inherited: true },
  { name: 'font-weight', initial: '400', inherited: true },
  { name: 'font-style', initial: 'normal', inherited: true },
  { name: 'text-anchor', initial: 'start', inherited: true },
  // SVG 1.1 does not inherit it (CSS Inline 3 does): treated as not inherited, it is written
  // on every element that needs it, which is right under either rule.
  { name: 'dominant-baseline', initial: 'auto', inherited: false },
  { name: 'visibility', initial: 'visible', inherited: true },
  { name: 'shape-rendering', initial: 'auto', inherited: true },
] as const;

export type PresentationName = (typeof PRESENTATION)[number]['name'];
export type Presentation = Partial<Record<PresentationName, string>>;

/** The values an element has when nothing is written: the initial ones. */
export const INITIAL_PRESENTATION: Presentation = Object.fromEntries(PRESENTATION.map((p) => [p.name, p.initial]));

/** "#rrggbb" and the alpha of a computed CSS colour ("rgb(…)", "rgba(…)", "#…"); null for anything else. */
export function parseColor(value: string): { hex: string; alpha: number } | null {
  const v = value.trim();
  const rgb = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:\s*[,/]\s*([\d.]+%?))?\s*\)$/.exec(v);
  if (rgb) {
    const hex = '#' + rgb.slice(1, 4).map((c) => Math.max(0, Math.min(255, Math.round(Number(c)))).toString(16).padStart(2, '0')).join('');
    const a = rgb[4] === undefined ? 1 : rgb[4].endsWith('%') ? Number(rgb[4].slice(0, -1)) / 100 : Number(rgb[4]);
    return { hex, alpha: a };
  }
  const short = /^#([0-9a-f])([0-9a-f])([0-9a-f])$/i.exec(v);
  if (short) return { hex: `#${short[1]}${short[1]}${short[2]}${short[2]}${short[3]}${short[3]}`.toLowerCase(), alpha: 1 };
  if (/^#[0-9a-f]{6}$/i.test(v)) return { hex: v.toLowerCase(), alpha: 1 };
  return null;
}

/** "1.5px" → "1.5"; other units and keywords stay as they are. */
const unitless = (v: string) => v.trim().replace(/^(-?[\d.]+(?:e-?\d+)?)px$/, '$1');

/** Opacities multiply; written with at most 4 decimals. */
const times = (a: string, b: number) => String(+(Number(a) * b).toFixed(4));

/**
 * The file's presentation values of one element from its computed style (`computed(name)`
 * is getComputedStyle(el).getPropertyValue): colours as "#rrggbb" with any alpha folded into
 * fill-/stroke-opacity, lengths without "px", dash arrays space-separated, paint servers as
 * a local reference. Empty computed values are left out.
 */
export function presentationOf(computed: (name: PresentationName) => string): Presentation {
  const out: Presentation = {};
  for (const { name } of PRESENTATION) {
    const v = computed(name).trim();
    if (v) out[name] = v;
  }
  for (const paint of ['fill', 'stroke'] as const) {
    const v = out[paint];
    if (v === undefined) continue;
    const color = parseColor(v);
    const opacity = `${paint}-opacity` as const;
    if (color) {
      out[paint] = color.hex;
      if (color.alpha !== 1) out[opacity] = times(out[opacity] ?? '1', color.alpha);
    } else {
      // Browsers resolve url(#id) to an absolute URL; the file needs the fragment only.
      const ref = /^url\(["']?[^#"')]*(#[^"')]+)["']?\)$/.exec(v);
      if (ref) out[paint] = `url(${ref[1]})`;
    }
  }
  for (const length of ['stroke-width', 'font-size'] as const) if (out[length] !== undefined) out[length] = unitless(out[length]);
  if (out['stroke-dasharray'] !== undefined && out['stroke-dasharray'] !== 'none') out['stroke-dasharray'] = out['stroke-dasharray'].split(/[\s,]+/).map(unitless).join(' ');
  if (out['font-weight'] === 'normal') out['font-weight'] = '400';
  if (out['font-weight'] === 'bold') out['font-weight'] = '700';
  return out;
}

/**
 * The attributes one element needs in the file: a property that inherits is written where it
 * differs from the parent's value, one that does not where it differs from its initial value.
 */
export function presentationDiff(own: Presentation, parent: Presentation): Presentation {
  const out: Presentation = {};
  for (const { name, initial, inherited } of PRESENTATION) {
    const v = own[name];
    if (v === undefined) continue;
    if (v !== (inherited ? parent[name] : initial)) out[name] = v;
  }
  return out;
}

/** Path data and transforms to 2 decimals: a hundredth of a pixel is below what any viewer draws. */
export function roundNumbers(text: string): string {
  return text.replace(/-?\d*\.\d{3,}(?:e-?\d+)?/g, (m) => String(+Number(m).toFixed(2)));
}

/** Attributes that only the page uses (hooks for tests and scripts, focus, event targets). */
const PAGE_ONLY_ATTRIBUTE = /^(data-|aria-|tabindex$|role$|style$|pointer-events$)/;

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Elements the chart marks as screen-only (hover guides, brush hit areas) are not exported. */
const SKIP_SELECTOR = '[data-export="skip"]';

function svgSize(svg: SVGSVGElement): { width: number; height: number } {
  // clientWidth is 0 for an svg that is display:inline in some engines; the bounding box is
  // the fallback, and the attributes the last resort for a detached element.
  const rect = svg.getBoundingClientRect();
  const width = svg.clientWidth || rect.width || Number(svg.getAttribute('width')) || 300;
  const height = svg.clientHeight || rect.height || Number(svg.getAttribute('height')) || 150;
  return { width: Math.round(width), height: Math.round(height) };
}

/**
 * The colour the svg is seen against: its own background or the first opaque one among
 * its ancestors. Without it, light text of a dark theme would vanish on a white viewer.
 */
function effectiveBackground(el: Element): string | null {
  for (let node: Element | null = el; node; node = node.parentElement) {
    const bg = getComputedStyle(node).backgroundColor;
    if (bg && bg !== 'transparent' && !/rgba\([^)]*,\s*0\)$/.test(bg)) return bg;
  }
  return null;
}

/** Caption text size and line height (px) under an exported chart. */
const CAPTION_FONT_SIZE = 11;
const CAPTION_LINE = 15;
/** Average glyph width of the caption font, for wrapping without measuring text. */
const CAPTION_CHAR_W = 6.2;
const CAPTION_PAD = 8;

export interface ExportOptions {
  /** Caption phrases (caption.ts captionPhrases), drawn under the chart, wrapped to its width. */
  caption?: string[];
}

/**
 * Standalone SVG text for `svg`: resolved presentation attributes (no stylesheet needed),
 * xmlns, explicit width/height/viewBox, the background it is seen against and the caption
 * drawn under it, so it renders the same in a browser, librsvg or Inkscape, and ImageMagick's
 * own renderer draws every line and label (it ignores translucency: bands and faint lines
 * come out opaque there). The live svg is untouched.
 */
export function serializeSvg(svg: SVGSVGElement, opts: ExportOptions = {}): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;

  // Walk original and clone in lockstep (same structure, since the clone is deep) to write
  // the resolved presentation of each live element onto its copy. Skipped and hidden
  // elements are collected first and removed after the walk so the lockstep is not broken.
  const originals = [svg, ...Array.from(svg.querySelectorAll('*'))];
  const copies = [clone, ...Array.from(clone.querySelectorAll('*'))];
  const resolved = new Map<Element, Presentation>();
  const drop: Element[] = [];
  for (let i = 0; i < originals.length; i++) {
    const src = originals[i];
    const dst = copies[i];
    if (src.matches(SKIP_SELECTOR)) {
      drop.push(dst);
      continue;
    }
    const cs = getComputedStyle(src);
    if (cs.display === 'none') {
      drop.push(dst);
      continue;
    }
    const own = presentationOf((name) => cs.getPropertyValue(name));
    resolved.set(src, own);
    const parent = (src !== svg && src.parentElement && resolved.get(src.parentElement)) || INITIAL_PRESENTATION;
    for (const attr of Array.from(dst.attributes)) {
      if (PAGE_ONLY_ATTRIBUTE.test(attr.name) || INITIAL_PRESENTATION[attr.name as PresentationName] !== undefined) dst.removeAttribute(attr.name);
    }
    for (const [name, value] of Object.entries(presentationDiff(own, parent))) dst.setAttribute(name, value);
    for (const name of ['d', 'transform', 'points']) {
      const v = dst.getAttribute(name);
      if (v) dst.setAttribute(name, roundNumbers(v));
    }
    if (clipsNothing(svg, src)) dst.removeAttribute('clip-path');
  }
  for (const el of drop) el.remove();
  // A <title> inside <text> is a tooltip for the page; ImageMagick then draws the title
  // instead of the label. On the parent it is still a tooltip in a browser.
  for (const title of Array.from(clone.querySelectorAll('text > title'))) {
    const parent = title.parentElement?.parentElement;
    if (parent && !Array.from(parent.children).some((c) => c.localName === 'title')) parent.insertBefore(title, parent.firstChild);
    else title.remove();
  }

  const { width, height } = svgSize(svg);
  const lines = opts.caption?.length ? wrapLines(opts.caption, width) : [];
  const captionH = lines.length ? CAPTION_PAD + lines.length * CAPTION_LINE : 0;
  clone.setAttribute('xmlns', SVG_NS);
  clone.setAttribute('xmlns:xlink', 'http://www.w3.org/1999/xlink');
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height + captionH));
  clone.setAttribute('viewBox', `0 0 ${width} ${height + captionH}`);

  const bg = effectiveBackground(svg);
  const bgColor = bg ? (parseColor(bg)?.hex ?? bg) : null;
  if (bgColor) {
    const rect = document.createElementNS(SVG_NS, 'rect');
    // Lengths in user units: ImageMagick's renderer does not resolve percentages here.
    rect.setAttribute('width', String(width));
    rect.setAttribute('height', String(height + captionH));
    rect.setAttribute('fill', bgColor);
    clone.insertBefore(rect, clone.firstChild);
  }
  if (lines.length) clone.appendChild(captionGroup(lines, height, bgColor));

  const text = new XMLSerializer().serializeToString(clone);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${text}`;
}

/**
 * True when `el` is clipped by a plain rectangle that contains all of its content: the clip
 * changes no pixel, and dropping it keeps the file renderable by ImageMagick, whose renderer
 * mishandles clip paths (it drew none of the chart's data lines). A clip that does cut
 * something (a line above the y range) stays.
 */
function clipsNothing(svg: SVGSVGElement, el: Element): boolean {
  const ref = /^url\(["']?#([^"')]+)["']?\)$/.exec(el.getAttribute('clip-path') ?? '');
  if (!ref || !(el instanceof SVGGraphicsElement)) return false;
  const clip = Array.from(svg.querySelectorAll('clipPath')).find((c) => c.id === ref[1]);
  const rect = clip?.children.length === 1 ? clip.children[0] : null;
  if (!(rect instanceof SVGRectElement) || rect.hasAttribute('transform') || clip?.getAttribute('clipPathUnits') === 'objectBoundingBox') return false;
  const box = el.getBBox();
  const x = rect.x.baseVal.value;
  const y = rect.y.baseVal.value;
  return box.x >= x && box.y >= y && box.x + box.width <= x + rect.width.baseVal.value && box.y + box.height <= y + rect.height.baseVal.value;
}

function wrapLines(phrases: string[], width: number): string[] {
  const maxChars = Math.max(20, Math.floor((width - 2 * CAPTION_PAD) / CAPTION_CHAR_W));
  return wrapCaption(phrases, maxChars);
}

/** Caption lines under the chart: the title in bold, the facts after it, in a grey that reads on the background. */
function captionGroup(lines: string[], top: number, background: string | null): SVGGElement {
  const g = document.createElementNS(SVG_NS, 'g');
  g.setAttribute('class', 'caption');
  g.setAttribute('font-size', String(CAPTION_FONT_SIZE));
  g.setAttribute('text-anchor', 'start');
  const dark = background ? luminance(background) < 0.4 : false;
  g.setAttribute('fill', dark ? '#d0d4dc' : '#333333');
  lines.forEach((line, k) => {
    const t = document.createElementNS(SVG_NS, 'text');
    t.setAttribute('x', String(CAPTION_PAD));
    t.setAttribute('y', String(top + CAPTION_PAD + (k + 1) * CAPTION_LINE - 4));
    if (k === 0) t.setAttribute('font-weight', '700');
    t.textContent = line;
    g.appendChild(t);
  });
  return g;
}

function luminance(color: string): number {
  const c = parseColor(color);
  if (!c) return 1;
  const [r, g, b] = [1, 3, 5].map((k) => parseInt(c.hex.slice(k, k + 2), 16) / 255);
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/**
 * Rasterise the svg to PNG. `scale` multiplies the on-screen size; the default is the
 * device pixel ratio with a floor of 2 so slides stay sharp even when exported from a
 * low-density screen.
 */
export async function svgToPngBlob(svg: SVGSVGElement, scale?: number, opts: ExportOptions = {}): Promise<Blob> {
  const s = scale ?? Math.max(2, globalThis.devicePixelRatio || 1);
  const text = serializeSvg(svg, opts);
  // The file's own size: the caption makes it taller than the chart on screen.
  const width = Number(/<svg[^>]*\swidth="(\d+)"/.exec(text)?.[1] ?? svgSize(svg).width);
  const height = Number(/<svg[^>]*\sheight="(\d+)"/.exec(text)?.[1] ?? svgSize(svg).height);
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml;charset=utf-8' }));
  try {
    const img = new Image();
    img.decoding = 'async';
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('svgToPngBlob: the serialised SVG could not be loaded as an image'));
      img.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = Math.max(1, Math.round(width * s));
    canvas.height = Math.max(1, Math.round(height * s));
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('svgToPngBlob: 2D canvas context unavailable');
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    return await new Promise<Blob>((resolve, reject) => {
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('svgToPngBlob: canvas.toBlob returned null'))), 'image/png');
    });
  } finally {
    URL.revokeObjectURL(url);
  }
}

type CsvValue = string | number | boolean | null | undefined;

/**
 * Significant digits for floats: float32 results (everything computed on the GPU) carry
 * ~7.2 decimal digits, so 8 keeps all real information without 17-digit noise like
 * 0.30000001192092896.
 */
const CSV_SIGNIFICANT_DIGITS = 8;

function formatNumber(v: number): string {
  if (Number.isNaN(v)) return '';
  if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
  // Integers (sample indices, seeds up to 2^31, counts) are identifiers as much as values:
  // rounding 2147483647 to 8 digits would corrupt them, so they are printed exactly.
  if (Number.isSafeInteger(v)) return String(v);
  // Number(...) drops the trailing zeros toPrecision pads with (0.1 → "0.1", not "0.10000000").
  return String(Number(v.toPrecision(CSV_SIGNIFICANT_DIGITS)));
}

function formatField(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  // Text (names from model and data files) is neutralised against formula injection; numbers stay numbers.
  const s = typeof v === 'number' ? formatNumber(v) : typeof v === 'boolean' ? String(v) : neutralizeFormula(v);
  // RFC 4180 §2.6–2.7: fields containing a comma, quote or line break are quoted and
  // inner quotes doubled. A bare CR counts as a line break for most readers.
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * CSV text (RFC 4180: comma separator, CRLF line ends, header row). The header is the union
 * of keys in first-seen order, so rows may be ragged; a missing key, null or NaN is an empty
 * field. No rows gives the empty string.
 */
export function toCsv(rows: Record<string, string | number | boolean | null>[]): string {
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) {
    for (const k of Object.keys(row)) {
      if (!seen.has(k)) {
        seen.add(k);
        keys.push(k);
      }
    }
  }
  if (keys.length === 0) return '';
  const lines = [keys.map(formatField).join(',')];
  for (const row of rows) {
    lines.push(keys.map((k) => formatField(Object.prototype.hasOwnProperty.call(row, k) ? row[k] : undefined)).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/**
 * Revoking right after click() can cancel the download in Firefox and old Safari, which
 * read the blob URL asynchronously; a minute is generous for the browser to start reading.
 */
const REVOKE_DELAY_MS = 60_000;

/** Save `blob` as `filename` through a temporary anchor. */
export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  a.style.display = 'none';
  // Firefox only honours click() on anchors that are in the document.
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), REVOKE_DELAY_MS);
}
