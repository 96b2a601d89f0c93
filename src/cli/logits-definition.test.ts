/**
 * The logits definition (issue #20): its reproducing command parses back to the same values,
 * the older `--epochs` switch still parses bare, and the summary carries the result's numbers.
 */
import { describe, expect, it } from 'vitest';
import { cliCommand, type AnalysisSetup } from '../core/analyses/define';
import { attackSchema, defaults } from '../core/schema';
import { parseAnalysisArgs } from './analysis-command';
import { runDefinition } from './definition-harness';
import { logitsDefinition } from '../core/logits/definition';
import { LOGIT_MANIPULATIONS, type LogitsJobResult } from '../core/logits/job';

const setup: AnalysisSetup = {
  setup: { model: 'cifar-resnet20-st', data: 'cifar10', seed: 3, n: 16 },
  compare: 'cifar-resnet20-fast-linf',
  attack: { ...defaults(attackSchema), attack: 'apgd-ce', eps: 0.0314, steps: 20 },
  layers: [],
};
const base = ['--model', 'm', '--data', 'd'];

describe('logits definition', () => {
  it('cliCommand → parseAnalysisArgs round-trips every value', () => {
    for (const own of [{ n: 200, underAttack: 0, epochs: 0 }, { n: 200, underAttack: 1, epochs: 1 }]) {
      const command = cliCommand(logitsDefinition, setup, own);
      const parsed = parseAnalysisArgs(logitsDefinition, command.split(' ').slice(2));
      expect(parsed.own).toEqual(own);
      expect(parsed.setup.attack).toEqual(setup.attack);
      expect(parsed.setup.compare).toBe(setup.compare);
      expect(parsed.setup.setup.seed).toBe(3);
      expect(cliCommand(logitsDefinition, parsed.setup, parsed.own)).toBe(command);
    }
    expect(cliCommand(logitsDefinition, setup, { n: 200, underAttack: 0, epochs: 0 })).toBe(
      'layerwise logits --model cifar-resnet20-st --data cifar10 --compare cifar-resnet20-fast-linf --seed 3 --attack apgd-ce --eps 0.0314 --steps 20 --n 200 --under-attack 0 --epochs 0',
    );
  });

  it('0/1 switches: bare (the old --epochs), with a value, or with =', () => {
    const own = (...args: string[]) => parseAnalysisArgs(logitsDefinition, [...base, ...args]).own;
    expect(own('--epochs')).toMatchObject({ epochs: 1 });
    expect(own('--epochs', '--json')).toMatchObject({ epochs: 1 });
    expect(parseAnalysisArgs(logitsDefinition, [...base, '--epochs', '--json']).json).toBe(true);
    expect(own('--epochs', '0')).toMatchObject({ epochs: 0 });
    expect(own('--epochs=0', '--under-attack')).toMatchObject({ epochs: 0, underAttack: 1 });
    expect(own('--under-attack', '0', '--epochs')).toMatchObject({ epochs: 1, underAttack: 0 });
    expect(() => own('--epochs', '2')).toThrow(/--epochs must be an integer ≥ 0 and ≤ 1 \(got "2"\)/);
  });

  it('runs on mnist-small-st vs its AT twin with snapshots, and the summary prints the numbers of the result', async () => {
    const n = 30;
    const { result: r, text } = await runDefinition<LogitsJobResult>(logitsDefinition, ['--model', 'mnist-small-st', '--compare', 'mnist-small-pgd-linf', '--data', 'mnist', '--backend', 'cpu', '--n', String(n), '--attack', 'fgsm', '--eps', '0.1', '--epochs']);
    const a = r.a!;
    const b = r.b!;
    expect(r.indices).toHaveLength(n);
    expect(a.perSample.clean.maxLogit).toHaveLength(n);
    expect(a.perSample.adversarial!.argmax).toHaveLength(n);
    expect(a.manipulations).toHaveLength(LOGIT_MANIPULATIONS.length + 1);
    // Errors under attack: every attacked sample the model gets wrong (robust = right clean and attacked).
    expect(a.adversarialErrorCount).toBe(Array.from(a.perSample.adversarial!.argmax).filter((p, i) => p !== r.labels[i]).length);
    expect(a.adversarialErrorCount).toBeLessThanOrEqual(n - Math.round(a.robustAccuracy! * n));
    expect(r.compare!.aokExcludingLabel).toHaveLength(9);
    // mnist-small-st ships training snapshots (index.json): one ridgeline, closed by the model itself.
    expect(r.epochs!.map((e) => e.model)).toEqual(['A']);
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    expect(text).toContain(`${n} samples, under fgsm linf ε=0.1`);
    expect(text).toContain(`model A: clean ${pct(a.cleanAccuracy)}, robust ${pct(a.robustAccuracy!)}`);
    expect(text).toContain(`model B: clean ${pct(b.cleanAccuracy)}, robust ${pct(b.robustAccuracy!)}`);
    expect(text).toContain(`max logit ${a.clean.maxLogit.mean.toFixed(2)} (skew ${a.clean.maxLogit.skewness.toFixed(2)}), gap ${a.clean.gap.mean.toFixed(2)}`);
    expect(text).toContain(`max logit ${b.adversarial!.maxLogit.mean.toFixed(2)}`);
    expect(text).toContain(`far-rank fraction ${r.compare!.fractionFar.toFixed(3)}; AO @1 ${r.compare!.aok[0].toFixed(3)}`);
    expect(text).toContain(`@10 ${r.compare!.aok[9].toFixed(3)}`);
    expect(text).toContain(`epochs of model A: ${r.epochs![0].summaries.epochs.map((x) => `${x.epoch}: max logit ${x.maxLogit.mean.toFixed(2)}`)[0]}`);
  }, 120_000);
});
