/**
 * `--labels FILE`: class names brought with a model name its classes in the CLI's output
 * (info, eval, per-class minimal ε), and a list whose count is not
 * the model's class count is refused with one line naming the file (exit 2).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from './testing';

const MODEL = 'mnist-small-st';
const NAMES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const dir = mkdtempSync(path.join(tmpdir(), 'layerwise-labels-'));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};
const labelsTxt = file('labels.txt', NAMES.join('\n') + '\n');
const labelsJson = file('classes.json', JSON.stringify(NAMES));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('layerwise --labels', () => {
  it('info lists the names from labels.txt or a JSON list', async () => {
    for (const labels of [labelsTxt, labelsJson]) {
      const r = await runCliInProcess(['info', '--model', MODEL, '--labels', labels, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).classNames).toEqual(NAMES);
    }
    const text = await runCliInProcess(['info', '--model', MODEL, '--labels', labelsTxt]);
    expect(text.stdout).toContain(`classes (${labelsTxt}): zero, one, two, three, four, five, six, seven, eight, nine`);
    const none = await runCliInProcess(['info', '--model', MODEL, '--json']);
    expect(JSON.parse(none.stdout).classNames).toBeNull();
  });

  it('refuses a count that is not the model\'s, a missing file and a shifted list: exit 2, one line naming the file', async () => {
    const nine = file('nine.txt', NAMES.slice(0, 9).join('\n'));
    const gap = file('gap.txt', ['zero', '', ...NAMES.slice(1)].join('\n'));
    const cases: [string[], string][] = [
      [['info', '--model', MODEL, '--labels', nine], `${nine}: 9 class names, but the model has 10 classes; give one name per class, in the order of the model's outputs`],
      [['eval', '--model', MODEL, '--data', 'mnist', '--n', '4', '--labels', gap], `${gap}: line 2 is empty`],
      [['info', '--model', MODEL, '--labels', path.join(dir, 'absent.txt')], 'absent.txt: cannot read the class names (ENOENT)'],
      [['slice', '--model', MODEL, '--data', 'mnist', '--n', '4', '--labels', nine], `${nine}: 9 class names, but the model has 10 classes`],
    ];
    const before = tf.memory().numTensors;
    for (const [argv, want] of cases) {
      const r = await runCliInProcess(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toContain(want);
    }
    // A refused list frees the model it was checked against.
    expect(tf.memory().numTensors).toBe(before);
  });

  it('names the classes of attack --min-eps per class and of eval', async () => {
    const r = await runCliInProcess(['attack', '--model', MODEL, '--data', 'mnist', '--attack', 'deepfool', '--norm', 'l2', '--eps', '1', '--steps', '5', '--n', '10', '--min-eps', '--labels', labelsTxt, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).minimalEps.perClass.map((c: { class: string }) => c.class)).toEqual(NAMES);
    const e = await runCliInProcess(['eval', '--model', MODEL, '--data', 'mnist', '--n', '4', '--labels', labelsJson, '--json']);
    expect(JSON.parse(e.stdout).classNames).toEqual(NAMES);
  }, 60_000);

  it('an analysis takes --labels and its reproducing command keeps it', async () => {
    const r = await runCliInProcess(['slice', '--model', MODEL, '--data', 'mnist', '--n', '4', '--eps', '0.1', '--json', '--labels', labelsTxt]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { command: string };
    expect(out.command).toBe(`layerwise slice --model ${MODEL} --data mnist --n 4 --eps 0.1 --labels ${labelsTxt}`);
  }, 60_000);
});
