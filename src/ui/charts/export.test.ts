import { describe, expect, it } from 'vitest';
import { toCsv } from './export';

// Only the pure CSV writer is tested here: the SVG/PNG paths need a real browser and are
// covered by the end-to-end export flow.
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
