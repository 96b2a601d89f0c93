#!/usr/bin/env node
// Test setup: make sure the system dependencies of `npm test` exist — Debian's Chromium
// for the e2e tests, and PyTorch (python3-torch) for the exporter round-trip test. As root
// on Debian they are installed with apt-get; otherwise we stop with what to install. No
// test ever downloads a browser.
import { existsSync } from 'node:fs';
import { execSync, spawnSync } from 'node:child_process';

const CHROMIUM = process.env.LAYERWISE_CHROMIUM || '/usr/bin/chromium';
const missing = [];
if (!existsSync(CHROMIUM)) missing.push('chromium');
const torch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
if (torch.status !== 0) missing.push('python3-torch');

if (missing.length) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = existsSync('/usr/bin/apt-get');
  if (isRoot && hasApt) {
    console.log(`test setup: installing ${missing.join(' ')} with apt-get`);
    execSync('apt-get update -qq', { stdio: 'inherit' });
    execSync(`DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${missing.join(' ')}`, { stdio: 'inherit' });
  } else {
    console.error(`test setup: missing ${missing.join(', ')}. Install them (Debian: sudo apt-get install -y ${missing.join(' ')}), or set LAYERWISE_CHROMIUM to a Chromium binary.`);
    process.exit(1);
  }
}
