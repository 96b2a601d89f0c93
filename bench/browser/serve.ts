/**
 * Shared launch of the browser benches: a Vite dev server on 127.0.0.1 (a secure context, so
 * navigator.gpu exists) serving the repository root, and Debian's headless Chromium through
 * Playwright with the flags of shared spec browser.md (--enable-unsafe-webgpu for a real
 * WebGPU adapter; never --disable-gpu). Used by `attacks --browser` (run.ts) and
 * `mftma --browser` (mftma-run.ts).
 */
import { chromium, type Browser } from '@playwright/test';
import { createServer } from 'vite';
import { ROOT } from '../../src/node/paths';

export const CHROMIUM = process.env.LAYERWISE_CHROMIUM || '/usr/bin/chromium';
export const FLAGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-unsafe-webgpu'];

export interface BenchBrowser {
  browser: Browser;
  /** Base URL of the dev server, ending in '/'. */
  base: string;
  close: () => Promise<void>;
}

/** Serve the repo and launch Chromium; `entry` (e.g. 'bench/browser/attacks.html') is pre-bundled. */
export async function startBenchBrowser(entry: string): Promise<BenchBrowser> {
  const server = await createServer({
    root: ROOT,
    logLevel: 'warn',
    clearScreen: false,
    server: { host: '127.0.0.1', port: 5188, strictPort: false, hmr: false },
    // Pre-bundle everything the bench page imports up front, so the optimiser does not
    // discover a dependency mid-run and reload the page.
    optimizeDeps: { entries: [entry] },
  });
  await server.listen();
  const base = server.resolvedUrls?.local[0] ?? 'http://127.0.0.1:5188/';
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  } catch (e) {
    await server.close();
    throw e;
  }
  return {
    browser,
    base,
    close: async () => {
      try {
        await browser.close();
      } finally {
        await server.close();
      }
    },
  };
}
