/** Test helper: run the CLI in-process (the same `main` the binary calls), capturing its output. */
import { main } from './main';

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall-clock milliseconds of the run. */
  ms: number;
}

export async function runCliInProcess(argv: string[]): Promise<CliOutcome> {
  const out: string[] = [];
  const err: string[] = [];
  const w1 = process.stdout.write;
  const w2 = process.stderr.write;
  process.stdout.write = ((s: string) => out.push(String(s))) as never;
  process.stderr.write = ((s: string) => err.push(String(s))) as never;
  const t0 = performance.now();
  try {
    const code = await main(argv);
    return { code, stdout: out.join(''), stderr: err.join(''), ms: performance.now() - t0 };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
}
