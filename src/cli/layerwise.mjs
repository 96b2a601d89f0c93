#!/usr/bin/env node
// The headless CLI runs the same TypeScript core as the lab; tsx compiles it on load.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
