/**
 * `layerwise tsne --input X.f32 --n N --d D [--perplexity 30] [--iters 750] [--seed S]
 * [--engine auto|exact|fft] [--init Y0.f32] --out Y.f32`: the lab's t-SNE on raw
 * little-endian float32 row-major files, for scripting and benchmarks.
 *
 * The model form, `layerwise tsne --model M --data D …` (alias `overlap`), is the t-SNE
 * analysis's generated command (core/tsne/definition.ts, the lab's pipeline).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { runTsne, type TsneEngine } from '../../core/tsne/tsne';
import { LabError } from '../../core/types';
import { num, parse, print, str, UsageError } from '../args';
import { setupBackend } from '../../node/backend';
import { prepareOutFile } from '../../node/files';

function engineArg(value: string | boolean | undefined): 'auto' | TsneEngine {
  const e = value === undefined ? 'auto' : String(value);
  if (e !== 'auto' && e !== 'exact' && e !== 'fft') throw new UsageError(`--engine must be auto, exact or fft (got "${e}")`);
  return e;
}

async function readF32(file: string, expected: number, what: string): Promise<Float32Array> {
  const bytes = await readFile(file).catch(() => {
    throw new LabError(`${file}: cannot read ${what}`);
  });
  if (bytes.byteLength !== expected * 4) throw new LabError(`${file}: ${bytes.byteLength} bytes, expected ${expected * 4} for ${what}`);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

async function cmdTsne(args: string[]) {
  const v = parse(args, {
    input: { type: 'string' }, n: { type: 'string' }, d: { type: 'string' }, perplexity: { type: 'string' },
    iters: { type: 'string' }, init: { type: 'string' }, out: { type: 'string' }, engine: { type: 'string' },
  });
  const engine = engineArg(v.engine);
  const backend = await setupBackend({ ...v, backend: v.backend === 'auto' ? 'cpu' : v.backend });
  const n = num(v.n, 'n');
  const d = num(v.d, 'd');
  const perplexity = num(v.perplexity, 'perplexity', 30);
  if (perplexity >= n) throw new UsageError(`--perplexity ${perplexity} must be less than --n ${n}`);
  const nIter = num(v.iters, 'iters', 750);
  const seed = num(v.seed, 'seed');
  const out = str(v.out, 'out');
  await prepareOutFile(out, 'out');
  const x = await readF32(str(v.input, 'input'), n * d, `${n}×${d} float32 input`);
  const init = v.init ? await readF32(String(v.init), n * 2, `${n}×2 float32 init`) : undefined;
  const t0 = performance.now();
  const result = await runTsne(x, { n, d }, { perplexity, nIter, seed, init, engine });
  const seconds = (performance.now() - t0) / 1000;
  await writeFile(out, new Uint8Array(result.positions.buffer, result.positions.byteOffset, result.positions.byteLength));
  print(v.json as boolean, { n, d, out, iterations: result.iteration, kl: result.kl, seconds, engine: result.engine, backend: backend.active }, () => `t-SNE of ${n}×${d}: ${result.iteration} iterations, KL ${result.kl.toFixed(4)}, ${seconds.toFixed(1)} s (${result.engine}, ${backend.active}) → ${out}`);
}

export const tsneCommands: Record<string, (args: string[]) => Promise<void>> = { tsne: cmdTsne };
