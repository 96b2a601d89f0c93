/**
 * A sample of the hostile-input corpus (src/cli/hostile.test.ts runs all of it through the
 * CLI) through the lab's worker in Chromium: each malformed model dropped into the lab gives
 * one specific message within a second or two, the loaded model stays, and the lab still
 * computes afterwards. Built from the zoo's small CNN; nothing copied from elsewhere.
 */
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';

const ZOO = 'public/models/mnist-small-st';
const BASE = JSON.parse(readFileSync(`${ZOO}/model.json`, 'utf8'));
const SHARD_NAME: string = BASE.weightsManifest[0].paths[0];
const SHARD = readFileSync(`${ZOO}/${SHARD_NAME}`);

type Layer = { name: string; class_name: string; config: Record<string, unknown>; inbound_nodes: unknown[] };
const clone = () => JSON.parse(JSON.stringify(BASE));
const layers = (j: typeof BASE): Layer[] => j.modelTopology.config.layers;

/** [name, model.json text, shard bytes, the message it must give] */
function cases(): [string, string, Buffer, RegExp][] {
  const out: [string, string, Buffer, RegExp][] = [];
  const add = (name: string, j: unknown, re: RegExp, shard = SHARD) => out.push([name, typeof j === 'string' ? j : JSON.stringify(j), shard, re]);
  const self = clone();
  layers(self)[2].inbound_nodes = [[[layers(self)[2].name, 0, 0, {}]]];
  add('a layer that takes its own output', self, /is part of a cycle/);
  const cycle = clone();
  layers(cycle)[2].inbound_nodes = [[[layers(cycle)[3].name, 0, 0, {}]]];
  add('a cycle through two layers', cycle, /is part of a cycle/);
  const ghost = clone();
  layers(ghost)[3].inbound_nodes = [[['ghost', 0, 0, {}]]];
  add('an input from a layer that does not exist', ghost, /takes input from layer "ghost", which does not exist/);
  const huge = clone();
  layers(huge)[0].config.batch_input_shape = [null, 100000, 100000, 3];
  add('a huge declared input', huge, /more than the limit/);
  const negative = clone();
  layers(negative)[0].config.batch_input_shape = [null, -28, 28, 1];
  add('a negative dimension', negative, /has -28 where a positive integer belongs/);
  const climb = clone();
  climb.weightsManifest[0].paths = ['../../etc/passwd'];
  add('a shard path that climbs out of the folder', climb, /outside|folder/);
  const dtype = clone();
  layers(dtype)[0].config.dtype = 'float128';
  add('an unknown dtype', dtype, /dtype "float128"/);
  add('a truncated model.json', JSON.stringify(BASE).slice(0, 300), /is not valid JSON/);
  add('a topology that is a string', { format: 'layers-model', modelTopology: 'hello', weightsManifest: [] }, /"modelTopology" is not an object/);
  const nan = Buffer.from(SHARD);
  new Float32Array(nan.buffer, nan.byteOffset, 4).fill(NaN);
  add('NaN weights', clone(), /non-finite|NaN/, nan);
  return out;
}

test('malformed models dropped into the lab: one specific message each, quickly; the model stays; the lab still works', async ({ page }) => {
  test.setTimeout(300_000);
  // WASM: this test is about the worker's input handling, not a backend (SwiftShader WebGPU is slow).
  await page.goto('/#model=mnist-small-st&data=mnist-test&n=8&seed=3&attack=fgsm&norm=linf&eps=0.1&backend=wasm');
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM', { timeout: 120_000 });
  const modelInfo = await page.getByTestId('model-info').textContent();
  const files = page.getByTestId('model-files');
  const timings: string[] = [];
  for (const [name, json, shard, message] of cases()) {
    const start = Date.now();
    await files.setInputFiles([
      { name: 'model.json', mimeType: 'application/json', buffer: Buffer.from(json) },
      { name: SHARD_NAME, mimeType: 'application/octet-stream', buffer: shard },
    ]);
    await expect(page.getByTestId('error'), name).toContainText(message, { timeout: 10_000 });
    timings.push(`${name}: ${Date.now() - start} ms`);
    await expect(page.getByTestId('error'), name).not.toContainText(/Cannot read properties|is not a function|is not iterable|undefined/);
    await expect(page.getByTestId('model-info'), name).toHaveText(modelInfo!);
  }
  console.log(timings.join('\n'));
  // Still usable: a new ε runs on the model that was there all along.
  await page.getByTestId('eps-slider').focus();
  for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('eps-value')).toHaveText('0.2000');
  await expect(page.getByTestId('shown-attack')).toContainText('FGSM (ε=0.2)', { timeout: 120_000 });
});
