import { defineConfig } from '@playwright/test';

// e2e runs against the built app (vite preview) in Debian's Chromium; no browser download.
const chromium = process.env.LAYERWISE_CHROMIUM || '/usr/bin/chromium';
// Helpers working in parallel worktrees each take their own port (LAYERWISE_E2E_PORT).
const port = Number(process.env.LAYERWISE_E2E_PORT || 4173);
const QUIET = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'e2e/artifacts/results',
  timeout: 180_000,
  expect: { timeout: 60_000 },
  workers: 1,
  reporter: [['list']],
  use: { baseURL: `http://127.0.0.1:${port}`, trace: 'off', viewport: { width: 1400, height: 1000 } },
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${port} --strictPort`,
    url: `http://127.0.0.1:${port}`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
  projects: [
    {
      name: 'webgpu',
      testIgnore: /fallback/,
      use: { browserName: 'chromium', launchOptions: { executablePath: chromium, args: [...QUIET, '--enable-unsafe-webgpu'] } },
    },
    {
      name: 'no-webgpu-flag',
      testMatch: /fallback/,
      use: { browserName: 'chromium', launchOptions: { executablePath: chromium, args: QUIET } },
    },
  ],
});
