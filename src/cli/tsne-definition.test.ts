/**
 * The t-SNE definition (issue #20): its reproducing command parses back to the same values,
 * the older CLI spellings still parse, and the summary the CLI prints carries the result's numbers.
 */
import { describe, expect, it } from 'vitest';
import { cliCommand, type AnalysisSetup } from '../core/analyses/define';
import { attackSchema, defaults } from '../core/schema';
import { parseAnalysisArgs } from './analysis-command';
import { runDefinition } from './definition-harness';
import { tsneDefinition } from '../core/tsne/definition';
import type { TsneJobResult } from '../core/tsne/job';

const setup: AnalysisSetup = {
  setup: { model: 'mnist-small-st', data: 'mnist', seed: 7, n: 16 },
  compare: 'mnist-small-pgd-linf',
  attack: { ...defaults(attackSchema), attack: 'apgd-t', norm: 'l2', eps: 0.5, steps: 20, targetClass: 3 },
  layers: ['conv1', 'fc1'],
};

describe('t-SNE definition', () => {
  it('cliCommand → parseAnalysisArgs round-trips every value', () => {
    const own = { n: 40, perplexity: 12.5, iterations: 100, seeds: 4, mode: 'anchored', impl: 'typed', engine: 'fft', init: 'random', model: 'b' };
    const command = cliCommand(tsneDefinition, setup, own);
    expect(command).toBe('layerwise tsne --model mnist-small-st --data mnist --compare mnist-small-pgd-linf --seed 7 --attack apgd-t --norm l2 --eps 0.5 --steps 20 --target-class 3 --layers conv1,fc1 --n 40 --perplexity 12.5 --iters 100 --seeds 4 --mode anchored --impl typed --engine fft --init random --which b');
    const parsed = parseAnalysisArgs(tsneDefinition, command.split(' ').slice(2));
    expect(parsed.own).toEqual(own);
    expect(parsed.setup.attack).toEqual(setup.attack);
    expect(parsed.setup.layers).toEqual(setup.layers);
    expect(parsed.setup.compare).toBe(setup.compare);
    expect(parsed.setup.setup.seed).toBe(7);
    expect(cliCommand(tsneDefinition, parsed.setup, parsed.own)).toBe(command);
    // Defaults: the lab's (seed 0 from PCA, engine auto); the old overlap command's flags keep their names.
    const plain = parseAnalysisArgs(tsneDefinition, ['--model', 'm', '--data', 'd']);
    expect(plain.own).toEqual(defaults(tsneDefinition.schema));
    expect(plain.own).toMatchObject({ init: 'pca', engine: 'auto', seeds: 3, n: 200, iterations: 750 });
  });

  it('runs on mnist-small-st, and the summary prints the numbers of the result', async () => {
    const { result: r, text } = await runDefinition<TsneJobResult>(tsneDefinition, ['--model', 'mnist-small-st', '--data', 'mnist', '--backend', 'cpu', '--n', '20', '--seeds', '2', '--iters', '60', '--perplexity', '5', '--layers', 'conv1,fc1', '--attack', 'fgsm', '--eps', '0.3']);
    expect(r.layers.map((l) => l.layer)).toEqual(['conv1', 'fc1']);
    const f = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(3));
    expect(text).toContain(`clean ${(100 * r.cleanAccuracy).toFixed(1)}%, robust ${(100 * r.robustAccuracy).toFixed(1)}%`);
    expect(text).toContain('2 seeds, seed 0 from PCA');
    const rows = text.split('\n').slice(2);
    expect(rows).toHaveLength(2);
    r.layers.forEach((l, i) => {
      // Seed 0 is the layout shown: its value opens the per-seed list.
      expect(l.overlapSeeds!.values).toHaveLength(2);
      expect(l.overlapSeeds!.values[0]).toBe(l.overlap!.value);
      expect(l.pcaDims).toBe(19);
      expect(l.engine).toBe('exact');
      const row = rows[i];
      expect(row.startsWith(l.layer)).toBe(true);
      for (const s of [String(l.overlapPca!.count), f(l.overlap!.value), `${f(l.overlapSeeds!.mean)} ± ${f(l.overlapSeeds!.sd)}`, `(${l.overlapPca!.successCount})`, `${f(l.overlapPca!.value)} (19)`, 'exact']) expect(row).toContain(s);
    });
  }, 120_000);
});
