import { describe, expect, it } from 'vitest';
import { classifyFetchError, describeFetchFailure } from './fetchFailure';

const PAGE = 'http://127.0.0.1:4173';
/** A probe that the server answers (opaque) or that fails like an unreachable host. */
const answers: typeof fetch = async () => new Response(null, { status: 200 });
const unreachable: typeof fetch = async () => {
  throw new TypeError('Failed to fetch');
};

describe('classifyFetchError', () => {
  it('calls a cross-origin https failure CORS when the no-cors probe is answered', async () => {
    expect(await classifyFetchError(new URL('https://models.example/m/model.json'), PAGE, answers)).toEqual({ kind: 'cors' });
  });
  it('calls it network when the probe fails too', async () => {
    expect(await classifyFetchError(new URL('https://models.example/m/model.json'), PAGE, unreachable)).toEqual({ kind: 'network' });
  });
  it('calls a same-origin failure network without probing (CORS does not apply)', async () => {
    let probed = false;
    const spy: typeof fetch = async () => {
      probed = true;
      return new Response(null);
    };
    expect(await classifyFetchError(new URL(`${PAGE}/models/x/model.json`), PAGE, spy)).toEqual({ kind: 'network' });
    expect(probed).toBe(false);
  });
  it('calls a cross-origin http URL blocked by the page policy', async () => {
    expect(await classifyFetchError(new URL('http://other.example/model.json'), PAGE, answers)).toEqual({ kind: 'blocked-scheme' });
  });
});

describe('describeFetchFailure', () => {
  it('names the HTTP status and what it means', () => {
    expect(describeFetchFailure({ kind: 'http', status: 404 })).toBe('HTTP 404 (not found: no file at this address)');
    expect(describeFetchFailure({ kind: 'http', status: 418, statusText: "I'm a teapot" })).toBe("HTTP 418 (I'm a teapot)");
  });
  it('says CORS and network apart, each with a way out', () => {
    expect(describeFetchFailure({ kind: 'cors' })).toMatch(/blocked by CORS.*Access-Control-Allow-Origin.*load its files/);
    expect(describeFetchFailure({ kind: 'network' })).toMatch(/network error: the server could not be reached/);
  });
});
