import { describe, expect, it } from 'vitest';
import { checkNumber, MAX_SEED, nameList, numList, print, sampleSize, UsageError } from './args';
import { UsageError as NodeUsageError } from '../node/errors';

describe('numeric options are checked in one place', () => {
  it('seeds are integers in 0…2^32−1 written in decimal', () => {
    expect(checkNumber('0', 'seed')).toBe(0);
    expect(checkNumber(String(MAX_SEED), 'seed')).toBe(MAX_SEED);
    for (const bad of ['1.5', '0x10', '-1', '1e300', '', ' ', 'NaN', 'Infinity', String(MAX_SEED + 1), '1e3']) {
      expect(() => checkNumber(bad, 'seed'), bad).toThrow(UsageError);
    }
  });

  it('counts are positive integers; ranges are enforced per option', () => {
    expect(() => checkNumber('0', 'n')).toThrow('--n must be a positive integer (got "0")');
    expect(() => checkNumber('2.5', 'steps')).toThrow('--steps must be a positive integer');
    expect(() => checkNumber('0', 'restarts')).toThrow('--restarts must be a positive integer');
    expect(() => checkNumber('0', 'batch')).toThrow(UsageError);
    expect(() => checkNumber('0', 'iters')).toThrow(UsageError);
    expect(() => checkNumber('0', 'perplexity')).toThrow('--perplexity must be a number ≥ 1');
    expect(() => checkNumber('-1', 'target-class')).toThrow(UsageError);
    expect(() => checkNumber('1', 'gamma')).toThrow('--gamma must be a number > 0 and < 1');
    expect(checkNumber('0.25', 'eps')).toBe(0.25);
    expect(checkNumber('1e-3', 'eps')).toBe(0.001);
    expect(() => checkNumber('-0.1', 'eps')).toThrow(UsageError);
  });

  it('lists refuse empty items instead of reading them as 0', () => {
    expect(numList('0.1, 0.2', 'eps')).toEqual([0.1, 0.2]);
    expect(() => numList('0.1,', 'eps')).toThrow('--eps has an empty item in "0.1,"');
    expect(() => numList(',', 'eps')).toThrow(UsageError);
    expect(() => nameList('conv1,,fc1', 'layers')).toThrow(UsageError);
  });

  it('a sample size is at least 1 and at most the data', () => {
    expect(sampleSize(undefined, 50, 'd', 100)).toBe(50);
    expect(sampleSize('10', 50, 'd')).toBe(10);
    expect(() => sampleSize('51', 50, 'dataset d')).toThrow('--n 51 is more than the 50 samples in dataset d');
  });

  it('UsageError is one class: the Node layer throws the one the CLI maps to exit 2', () => {
    expect(UsageError).toBe(NodeUsageError);
  });

  it('escapes control characters in a value it quotes', () => {
    expect(() => checkNumber('\u001b[2J', 'n')).toThrow('--n must be a positive integer (got "\\x1b[2J")');
  });
});

describe('terminal output', () => {
  it('print shows control characters as escapes and keeps its own line breaks', () => {
    const chunks: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((s: string) => chunks.push(s)) as never;
    try {
      print(false, {}, () => 'model \u001b]0;pwned\u0007\nlayer \u009b31m');
      print(true, { name: '\u001b[2J' }, () => '');
    } finally {
      process.stdout.write = write;
    }
    expect(chunks).toEqual(['model \\x1b]0;pwned\\x07\nlayer \\x9b31m\n', '{"name":"\\u001b[2J"}\n']);
  });
});
