import { describe, expect, it } from 'vitest';
import { INITIAL_PRESENTATION, parseColor, presentationDiff, presentationOf, roundNumbers, toCsv, type PresentationName } from './export';

// The pure parts are tested here: the CSV writer and the presentation values the SVG export
// writes. Serialising a live svg and rasterising it need a real browser; e2e/compare.spec.ts
// exports one and renders it with librsvg.
describe('toCsv', () => {
  it('writes a header and CRLF-terminated records', () => {
    expect(toCsv([{ a: 1, b: 'x' }, { a: 2, b: 'y' }])).toBe('a,b\r\n1,x\r\n2,y\r\n');
  });

  it('returns the empty string for no rows or no keys', () => {
    expect(toCsv([])).toBe('');
    expect(toCsv([{}, {}])).toBe('');
  });

  it('builds the header from the union of keys in first-seen order', () => {
    const csv = toCsv([{ b: 1, a: 2 }, { c: 3, a: 4 }, { d: 5 }]);
    expect(csv).toBe('b,a,c,d\r\n1,2,,\r\n,4,3,\r\n,,,5\r\n');
  });

  it('quotes commas, quotes and line breaks (RFC 4180)', () => {
    const csv = toCsv([{ s: 'a,b' }, { s: 'say "hi"' }, { s: 'two\nlines' }, { s: 'cr\rhere' }, { s: 'plain' }]);
    expect(csv).toBe('s\r\n"a,b"\r\n"say ""hi"""\r\n"two\nlines"\r\n"cr\rhere"\r\nplain\r\n');
  });

  it('neutralises text cells a spreadsheet would run as a formula; numbers stay numbers', () => {
    const csv = toCsv([{ layer: '=HYPERLINK("http://x")', v: -1 }, { layer: '+1', v: 0 }, { layer: '-cmd', v: 0 }, { layer: '@SUM(A1)', v: 0 }, { layer: '\tx', v: 0 }, { layer: 'conv1', v: 0 }]);
    expect(csv).toBe('layer,v\r\n"\'=HYPERLINK(""http://x"")",-1\r\n\'+1,0\r\n\'-cmd,0\r\n\'@SUM(A1),0\r\n\'\tx,0\r\nconv1,0\r\n');
  });

  it('quotes header names that need it', () => {
    expect(toCsv([{ 'ε, linf': 0.5 }])).toBe('"ε, linf"\r\n0.5\r\n');
  });

  it('prints null and NaN as empty fields, booleans as true/false', () => {
    expect(toCsv([{ a: null, b: NaN, c: true, d: false }])).toBe('a,b,c,d\r\n,,true,false\r\n');
  });

  it('keeps empty strings distinct from quoting', () => {
    expect(toCsv([{ a: '', b: 1 }])).toBe('a,b\r\n,1\r\n');
  });

  it('rounds floats to 8 significant digits without padding zeros', () => {
    expect(toCsv([{ x: 1 / 3 }, { x: 0.1 }, { x: 0.30000001192092896 }, { x: 123.456789012 }, { x: -2.5e-7 }])).toBe(
      'x\r\n0.33333333\r\n0.1\r\n0.30000001\r\n123.45679\r\n-2.5e-7\r\n',
    );
  });

  it('prints integers exactly, even beyond 8 digits', () => {
    expect(toCsv([{ seed: 2147483647, i: 0, neg: -12 }])).toBe('seed,i,neg\r\n2147483647,0,-12\r\n');
  });

  it('prints infinities by name', () => {
    expect(toCsv([{ a: Infinity, b: -Infinity }])).toBe('a,b\r\nInfinity,-Infinity\r\n');
  });
});

describe('parseColor', () => {
  it('reads computed rgb() and rgba() colours as hex and alpha', () => {
    expect(parseColor('rgb(31, 119, 180)')).toEqual({ hex: '#1f77b4', alpha: 1 });
    expect(parseColor('rgba(0, 0, 0, 0.25)')).toEqual({ hex: '#000000', alpha: 0.25 });
    expect(parseColor('rgb(255 0 0 / 50%)')).toEqual({ hex: '#ff0000', alpha: 0.5 });
    expect(parseColor('#ABC')).toEqual({ hex: '#aabbcc', alpha: 1 });
  });

  it('returns null for keywords and paint servers', () => {
    expect(parseColor('none')).toBeNull();
    expect(parseColor('url("#g")')).toBeNull();
  });
});

/** A computed style as a getter: every property at its initial value except those given. */
const computed = (values: Partial<Record<PresentationName, string>>) => (name: PresentationName) => values[name] ?? '';

describe('presentationOf', () => {
  it('writes colours as hex, folds their alpha into the opacity, and drops px', () => {
    const p = presentationOf(computed({ fill: 'rgba(255, 0, 0, 0.5)', 'fill-opacity': '0.5', stroke: 'rgb(0, 0, 255)', 'stroke-width': '1.5px', 'font-size': '11px' }));
    expect(p).toEqual({ fill: '#ff0000', 'fill-opacity': '0.25', stroke: '#0000ff', 'stroke-width': '1.5', 'font-size': '11' });
  });

  it('writes dash arrays space-separated without units, keeps "none"', () => {
    expect(presentationOf(computed({ 'stroke-dasharray': '6px, 4px' }))['stroke-dasharray']).toBe('6 4');
    expect(presentationOf(computed({ 'stroke-dasharray': 'none' }))['stroke-dasharray']).toBe('none');
  });

  it('keeps only the fragment of a resolved paint-server URL', () => {
    expect(presentationOf(computed({ fill: 'url("http://127.0.0.1:4173/#grad-1")' })).fill).toBe('url(#grad-1)');
  });

  it('names font weights by number', () => {
    expect(presentationOf(computed({ 'font-weight': 'bold' }))['font-weight']).toBe('700');
  });
});

describe('presentationDiff', () => {
  it('writes an inherited property only where it differs from the parent', () => {
    const parent = { ...INITIAL_PRESENTATION, stroke: '#ff0000' };
    expect(presentationDiff({ ...parent }, parent)).toEqual({});
    expect(presentationDiff({ ...parent, stroke: '#00ff00' }, parent)).toEqual({ stroke: '#00ff00' });
  });

  it('writes a property that does not inherit wherever it is not its initial value', () => {
    const parent = { ...INITIAL_PRESENTATION, opacity: '0.5' };
    expect(presentationDiff({ ...INITIAL_PRESENTATION, opacity: '0.5' }, parent)).toEqual({ opacity: '0.5' });
    expect(presentationDiff({ ...INITIAL_PRESENTATION, opacity: '1' }, parent)).toEqual({});
  });

  it('always writes the font on the root (no initial value to inherit)', () => {
    expect(presentationDiff({ ...INITIAL_PRESENTATION, 'font-family': 'system-ui', 'font-size': '11' }, INITIAL_PRESENTATION)).toEqual({ 'font-family': 'system-ui', 'font-size': '11' });
  });
});

describe('roundNumbers', () => {
  it('rounds coordinates to 2 decimals and leaves short numbers alone', () => {
    expect(roundNumbers('M12.345678,-0.004999L3.5,7')).toBe('M12.35,0L3.5,7');
    expect(roundNumbers('translate(56.123456,12)')).toBe('translate(56.12,12)');
  });
});
