/// <reference types="vitest/config" />
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The lab's Content-Security-Policy: scripts, workers and WebAssembly from the page's own
 * origin only. Fetches: the own origin, and https: for one thing only, a model the user named
 * by URL on another site (typed, or confirmed when it arrives through a shared link:
 * controller.ts asks first, and the loader keeps its shards in that model's origin and
 * folder). A CSP cannot be widened at run time, so the policy allows what the app gates.
 * 'wasm-unsafe-eval' lets the tfjs WASM backend compile its module
 * (without it WebAssembly.instantiate is blocked); WebGPU and WebGL need no CSP grant. Images
 * may be blob: (PNG export draws the SVG through a blob URL) and data: (the empty favicon).
 * Styles allow inline: React and D3 set style attributes, which carry no script.
 */
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self' https:",
  "img-src 'self' blob: data:",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');
/** Only a header can forbid framing (a meta tag's frame-ancestors is ignored). */
const CSP_HEADER = `${CSP}; frame-ancestors 'none'`;
/**
 * The dev server also runs Vite's client: React Refresh injects an inline module script and
 * HMR talks over a WebSocket to the same host, so dev allows both; builds and preview do not.
 */
const CSP_DEV = CSP.replace("script-src 'self' 'wasm-unsafe-eval'", "script-src 'self' 'wasm-unsafe-eval' 'unsafe-inline'").replace("connect-src 'self' https:", "connect-src 'self' https: ws://127.0.0.1:* ws://localhost:*");

/** The built page carries the policy itself, so it holds on any static host. */
function cspMeta(): Plugin {
  return {
    name: 'layerwise-csp-meta',
    apply: 'build',
    transformIndexHtml: () => [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CSP }, injectTo: 'head-prepend' }],
  };
}

// The lab is a static app: `vite build` emits dist/ that any static server can host.
// Workers are ES modules so they can import tfjs and the core like the main bundle.
export default defineConfig({
  plugins: [react(), cspMeta()],
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
  server: { host: '127.0.0.1', headers: { 'Content-Security-Policy': CSP_DEV } },
  preview: { headers: { 'Content-Security-Policy': CSP_HEADER } },
  test: {
    include: ['src/**/*.test.ts', 'workers/**/*.test.ts', 'tools/**/*.test.ts'],
    environment: 'node',
    setupFiles: ['src/testSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // tfjs CPU kernels are single-threaded; two forks keep both cores busy.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
