/**
 * Exporting views as files: SVG (vector, for papers), PNG (for slides) and CSV (for the
 * numbers behind a chart). Only `toCsv` is pure; the rest needs a browser DOM.
 */
import { neutralizeFormula } from '../../core/text';

/**
 * Presentation properties copied from the computed style into the exported file. Charts
 * may be styled by the app's CSS (classes, theme variables, `currentColor`); a standalone
 * file sees none of that, so the resolved values are written inline on every element.
 */
const INLINED_PROPERTIES = [
  'fill',
  'fill-opacity',
  'fill-rule',
  'stroke',
  'stroke-width',
  'stroke-opacity',
  'stroke-dasharray',
  'stroke-linecap',
  'stroke-linejoin',
  'opacity',
  'font-family',
  'font-size',
  'font-weight',
  'font-style',
  'text-anchor',
  'dominant-baseline',
  'visibility',
  'shape-rendering',
] as const;

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

/**
 * Standalone SVG text for `svg` with styles inlined, xmlns and explicit width/height/viewBox,
 * so it renders the same in a file viewer, Inkscape or an <img>. The live svg is untouched.
 */
export function serializeSvg(svg: SVGSVGElement): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;

  // Walk original and clone in lockstep (same structure, since the clone is deep) to copy
  // the computed style of each live element onto its copy. Skipped and hidden elements are
  // collected first and removed after the walk so the lockstep is not broken.
  const originals = [svg, ...Array.from(svg.querySelectorAll('*'))];
  const copies = [clone, ...Array.from(clone.querySelectorAll('*'))];
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
    const style = INLINED_PROPERTIES.map((p) => `${p}:${cs.getPropertyValue(p)}`)
      .filter((decl) => !decl.endsWith(':'))
      .join(';');
    // Focusability is a page concern; classes stay so the file can be restyled by hand.
    dst.removeAttribute('tabindex');
    if (style) dst.setAttribute('style', style);
  }
  for (const el of drop) el.remove();

  const { width, height } = svgSize(svg);
  clone.setAttribute('xmlns', SVG_NS);
  clone.setAttribute('xmlns:xlink', 'http://www.w3.org/1999/xlink');
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  if (!clone.hasAttribute('viewBox')) clone.setAttribute('viewBox', `0 0 ${width} ${height}`);

  const bg = effectiveBackground(svg);
  if (bg) {
    const rect = document.createElementNS(SVG_NS, 'rect');
    rect.setAttribute('width', '100%');
    rect.setAttribute('height', '100%');
    rect.setAttribute('fill', bg);
    clone.insertBefore(rect, clone.firstChild);
  }

  const text = new XMLSerializer().serializeToString(clone);
  return `<?xml version="1.0" encoding="UTF-8"?>\n${text}`;
}

/**
 * Rasterise the svg to PNG. `scale` multiplies the on-screen size; the default is the
 * device pixel ratio with a floor of 2 so slides stay sharp even when exported from a
 * low-density screen.
 */
export async function svgToPngBlob(svg: SVGSVGElement, scale?: number): Promise<Blob> {
  const s = scale ?? Math.max(2, globalThis.devicePixelRatio || 1);
  const { width, height } = svgSize(svg);
  const url = URL.createObjectURL(new Blob([serializeSvg(svg)], { type: 'image/svg+xml;charset=utf-8' }));
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
