import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { suiteTable, trainingLine, type ZooCard } from './ModelCard';

const card = (id: string) => JSON.parse(readFileSync(new URL(`../../../public/models/${id}/card.json`, import.meta.url), 'utf8')) as ZooCard;

describe('model card summary', () => {
  it('says how a zoo model was trained', () => {
    expect(trainingLine(card('mnist-small-pgd-linf'))).toBe('PGD-AT L∞ ε=0.3, 10 steps, 8 epochs, seed 0');
    expect(trainingLine(card('mnist-small-st'))).toBe('standard training, 6 epochs, seed 0');
    expect(trainingLine({ snapshotOf: 'mnist-small-st', epoch: 2 })).toBe('snapshot of mnist-small-st after epoch 2');
  });

  it('turns an attack suite into one row per norm at the evaluation ε, the PGD-40 ladder ascending', () => {
    const c: ZooCard = {
      attackSuite: {
        backend: 'wasm',
        date: '2026-11-24',
        sanityProblems: [],
        results: [
          { attack: 'fgsm', norm: 'linf', eps: 0.3, steps: 1, n: 500, robustAccuracy: 0.21 },
          { attack: 'pgd', norm: 'linf', eps: 0.3, steps: 40, n: 500, robustAccuracy: 0.026 },
          { attack: 'apgd-ce', norm: 'linf', eps: 0.3, steps: 100, n: 500, robustAccuracy: 0.026 },
          { attack: 'aa', norm: 'linf', eps: 0.3, steps: 100, n: 500, robustAccuracy: 0 },
          { attack: 'pgd', norm: 'linf', eps: 0.15, steps: 40, n: 500, robustAccuracy: 0.112 },
          { attack: 'pgd', norm: 'linf', eps: 0.075, steps: 40, n: 500, robustAccuracy: 0.684 },
        ],
      },
    };
    expect(suiteTable(c)).toEqual([
      {
        norm: 'linf', eps: 0.3, n: 500, fgsm: 0.21, pgd: 0.026, apgd: 0.026, aa: 0,
        ladder: [{ eps: 0.075, accuracy: 0.684 }, { eps: 0.15, accuracy: 0.112 }, { eps: 0.3, accuracy: 0.026 }],
      },
    ]);
    expect(suiteTable({})).toEqual([]);
  });

  it('every shipped model carries an attack suite that passes its ordering checks', () => {
    // Issue #5: the suite's numbers live in every zoo model's card (tools/zoo/attack-cards.ts).
    const index = JSON.parse(readFileSync(new URL('../../../public/models/index.json', import.meta.url), 'utf8')) as { id: string }[];
    for (const { id } of index) {
      const c = card(id);
      expect(c.attackSuite, `${id} has no attack suite: run tools/zoo/attack-cards.ts ${id}`).toBeDefined();
      if (!c.attackSuite) continue;
      expect(c.attackSuite.sanityProblems, id).toEqual([]);
      expect(suiteTable(c).length, id).toBeGreaterThan(0);
      for (const row of suiteTable(c)) {
        expect(row.aa, id).toBeLessThanOrEqual(Math.min(row.fgsm!, row.pgd!, row.apgd!));
      }
    }
  });
});
