/**
 * `npm run bench -- <suite> [options]`
 *
 * Speed is reported as ratios measured in one run against a named baseline; absolute
 * times on shared 2-core machines are noise. One file per suite.
 */
import { benchAttacks } from './attacks';

const SUITES: Record<string, (args: string[]) => Promise<void>> = { attacks: benchAttacks };

export async function main(args: string[]): Promise<number> {
  const [suite, ...rest] = args;
  const run = SUITES[suite];
  if (!run) {
    console.error(`bench: choose a suite: ${Object.keys(SUITES).join(', ')}`);
    return 2;
  }
  await run(rest);
  return 0;
}
