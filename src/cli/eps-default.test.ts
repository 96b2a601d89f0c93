/**
 * ε follows the data's threat model in the CLI as in the lab (issue #21): without --eps a
 * command runs at the data's start (CIFAR-10 L∞ 8/255, MNIST L2 1), and the command and
 * request it prints state the ε that ran, so the lab reproduces it exactly.
 */
import { describe, expect, it } from 'vitest';
import { runCliInProcess } from './testing';

const json = async (args: string[]) => {
  const run = await runCliInProcess(args);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as { command: string; request: { setup: { attack: { eps: number } } } };
};

describe('the CLI’s default ε', () => {
  it('is the data’s threat-model start without --eps, and stated in the command', async () => {
    const cifar = await json(['slice', '--model', 'cifar-medium-st', '--data', 'cifar10', '--n', '2', '--attack', 'fgsm', '--backend', 'wasm', '--json']);
    expect(cifar.request.setup.attack.eps).toBeCloseTo(8 / 255, 12);
    expect(cifar.command).toContain(`--eps ${8 / 255}`);
    const l2 = await json(['slice', '--model', 'mnist-small-st', '--data', 'mnist', '--n', '2', '--attack', 'fgsm', '--norm', 'l2', '--backend', 'wasm', '--json']);
    expect(l2.request.setup.attack.eps).toBe(1);
    // A stated ε is kept, even the schema's default on CIFAR-10.
    const stated = await json(['slice', '--model', 'cifar-medium-st', '--data', 'cifar10', '--n', '2', '--attack', 'fgsm', '--eps', '0.1', '--backend', 'wasm', '--json']);
    expect(stated.request.setup.attack.eps).toBe(0.1);
    expect(stated.command).toContain('--eps 0.1');
    const url = await runCliInProcess(['slice', '--model', 'cifar-medium-st', '--data', 'cifar10', '--eps', '0.1', '--url']);
    expect(url.stdout).toMatch(/[#&]eps=0\.1(&|\s|$)/);
  }, 120_000);
});
