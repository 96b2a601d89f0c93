#!/usr/bin/env node
// Runs a TypeScript entry (benchmarks) with tsx: node src/cli/run-ts.mjs bench/index.ts args…
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

register();
const [entry, ...args] = process.argv.slice(2);
const mod = await import(pathToFileURL(path.resolve(entry)).href);
if (typeof mod.main === 'function') process.exitCode = await mod.main(args);
