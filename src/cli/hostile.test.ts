/**
 * Hostile-input corpus: more than a hundred malformed or adversarial inputs, generated here
 * from the zoo's mnist-small-st model and synthetic data (no files copied from elsewhere),
 * each run through the CLI entry `main()` in-process. Every one must end with exactly one
 * line `layerwise: <reason>` naming the specific problem, the right exit code (2 usage,
 * 1 bad files or data), no raw JavaScript error text, and within a time limit.
 *
 * The slowest case is printed at the end (the issue asks every error path to return in
 * under a second; the limit here is looser because CI shares its cores).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess } from './testing';

/** Per-case limit; measured times are reported, and most cases take a small fraction of this. */
const CASE_LIMIT_MS = 3_000;
const ZOO = path.resolve('public/models/mnist-small-st');
const BASE = JSON.parse(readFileSync(path.join(ZOO, 'model.json'), 'utf8'));
const SHARD = new Uint8Array(readFileSync(path.join(ZOO, 'group1-shard1of1.bin')));
/** Raw JavaScript failures that must never reach the user. */
const RAW = /Cannot read properties|is not a function|is not iterable|Cannot use 'in' operator|Invalid typed array length|memory access out of bounds|Maximum call stack|EEXIST|undefined|\[object Object\]/;

let dir: string;
const tmp = (...p: string[]) => path.join(dir, ...p);
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

interface Case {
  name: string;
  argv: string[];
  /** The one stderr line must match this (after "layerwise: "). */
  expect: RegExp;
  code: 1 | 2;
}
const cases: Case[] = [];
const add = (name: string, argv: string[], expect: RegExp, code: 1 | 2 = 2) => cases.push({ name, argv, expect, code });

/** Write a model folder (model.json as given, or text, plus shards) and return its model.json path. */
function modelDir(name: string, json: unknown, files: Record<string, Uint8Array> = { 'group1-shard1of1.bin': SHARD }): string {
  const d = tmp('models', name);
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, 'model.json'), typeof json === 'string' ? json : JSON.stringify(json));
  for (const [f, b] of Object.entries(files)) writeFileSync(path.join(d, f), b);
  return path.join(d, 'model.json');
}
const layersOf = (j: typeof BASE) => j.modelTopology.config.layers as { name: string; class_name: string; config: Record<string, unknown>; inbound_nodes: unknown[] }[];
const info = (model: string) => ['info', '--backend', 'cpu', '--model', model];
const evalOn = (model: string, data = 'mnist', n = '20') => ['eval', '--backend', 'cpu', '--model', model, '--data', data, '--n', n];
const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Float32 weights of the zoo model, in manifest order, with their byte offsets. */
function weightOffsets(): Map<string, { offset: number; count: number }> {
  const out = new Map<string, { offset: number; count: number }>();
  let offset = 0;
  for (const w of BASE.weightsManifest[0].weights as { name: string; shape: number[] }[]) {
    const count = w.shape.reduce((a, b) => a * b, 1);
    out.set(w.name, { offset, count });
    offset += count * 4;
  }
  return out;
}

function modelCases() {
  const layers = layersOf(BASE);
  // Self-references: every non-input layer taking its own output (tfjs's fromConfig looped forever).
  for (const l of layers.slice(1)) {
    const j = clone(BASE);
    layersOf(j).find((x) => x.name === l.name)!.inbound_nodes = [[[l.name, 0, 0, {}]]];
    add(`self-reference ${l.name}`, info(modelDir(`self-${l.name}`, j)), new RegExp(`layer "${quote(l.name)}": is part of a cycle`));
  }
  // Cycles through two and three layers.
  for (const [a, b] of [['conv1', 'relu'], ['fc1', 'relu_2'], ['conv2', 'relu_1']]) {
    const j = clone(BASE);
    layersOf(j).find((x) => x.name === a)!.inbound_nodes = [[[b, 0, 0, {}]]];
    add(`cycle ${a}<-${b}`, info(modelDir(`cycle-${a}`, j)), /layer "[^"]+": is part of a cycle/);
  }
  // Inputs from layers that do not exist, calls that do not exist, outputs that do not exist.
  for (const [i, ghost] of ['ghost', '', 'Conv1', 'input ', 'fc3'].entries()) {
    const j = clone(BASE);
    layersOf(j)[3].inbound_nodes = [[[ghost, 0, 0, {}]]];
    add(`missing layer "${ghost}"`, info(modelDir(`ghost-${i}`, j)), new RegExp(`layer "relu": takes input from layer "${quote(ghost)}", which does not exist`));
  }
  for (const [node, tensor, re] of [[1, 0, /takes input from call 1 of layer "conv1", which is called 1 time/], [0, 3, /takes output 3 of layer "conv1", which has one output/], [-1, 0, /inbound node 0 has the entry/], [0.5, 0, /inbound node 0 has the entry/]] as const) {
    const j = clone(BASE);
    layersOf(j)[3].inbound_nodes = [[['conv1', node, tensor, {}]]];
    add(`bad reference ${node}/${tensor}`, info(modelDir(`ref-${node}-${tensor}`, j)), re);
  }
  for (const [name, inbound, re] of [
    ['empty call', [[]], /inbound node 0 has no inputs/],
    ['string call', ['hello'], /inbound node 0 is not a list/],
    ['keras3 dict call', [{ args: [], kwargs: {} }], /Keras 3 configs are not supported/],
    ['inbound not a list', 'conv1', /"inbound_nodes" is not a list/],
  ] as const) {
    const j = clone(BASE);
    layersOf(j)[3].inbound_nodes = inbound as never;
    add(name, info(modelDir(name.replace(/ /g, '-'), j)), re);
  }
  {
    const j = clone(BASE);
    j.modelTopology.config.output_layers = [['nowhere', 0, 0]];
    add('output layer missing', info(modelDir('out-missing', j)), /output_layers: takes input from layer "nowhere", which does not exist/);
    const k = clone(BASE);
    k.modelTopology.config.input_layers = [['fc1', 0, 0]];
    add('input layer not an InputLayer', info(modelDir('in-not-input', k)), /input_layers: names "fc1", which is not an InputLayer/);
    const d = clone(BASE);
    layersOf(d)[4].name = 'conv1';
    layersOf(d)[4].config.name = 'conv1';
    add('duplicate layer name', info(modelDir('dup-name', d)), /layer "conv1": appears twice/);
  }
  // Topologies of the wrong type.
  for (const [name, topo, re] of [
    ['topology string', 'hello', /"modelTopology" is not an object/],
    ['topology number', 42, /"modelTopology" is not an object/],
    ['topology list', [1, 2], /"modelTopology" is not an object/],
    ['topology null', null, /has no "modelTopology"/],
    ['topology empty', {}, /has no "class_name" \(a Layers model\) nor "node"/],
    ['class_name unknown', { class_name: 'Transformer', config: {} }, /"modelTopology.class_name" is "Transformer"/],
    ['layers not a list', { class_name: 'Model', config: { layers: 'abc' } }, /"config.layers" is not a list of layers/],
    ['no layers', { class_name: 'Model', config: { layers: [] } }, /the model has no layers/],
    ['layer not an object', { class_name: 'Sequential', config: { layers: [7] } }, /layer 0 is not an object/],
    ['layer without class', { class_name: 'Sequential', config: { layers: [{ config: {} }] } }, /layer 0: has no "class_name"/],
  ] as const) {
    add(name, info(modelDir(name.replace(/ /g, '-'), { format: 'layers-model', modelTopology: topo, weightsManifest: [] })), re);
  }
  for (const [name, text, re] of [
    ['empty model.json', '', /is not valid JSON/],
    ['truncated model.json', JSON.stringify(BASE).slice(0, 500), /is not valid JSON/],
    ['model.json is a list', '[1,2,3]', /has no "modelTopology"/],
    ['model.json is a string', '"hello"', /has no "modelTopology"/],
    ['model.json is binary', '\u0000\u0001\u0002', /is not valid JSON/],
  ] as const) {
    add(name, info(modelDir(name.replace(/ /g, '-'), text)), re);
  }
  // Shapes and hyperparameters.
  for (const [name, shape, re] of [
    ['input shape string', 'hello', /shape "hello" is not a list/],
    ['input shape zero', [null, 0, 28, 1], /shape .* has 0 where a positive integer belongs/],
    ['input shape negative', [null, -28, 28, 1], /shape .* has -28 where a positive integer belongs/],
    ['input shape fraction', [null, 28.5, 28, 1], /shape .* has 28.5 where a positive integer belongs/],
    ['input shape huge', [null, 100000, 100000, 3], /shape \[null, 100000, 100000, 3\] has 3\.00e\+10 elements, more than the limit 16777216/],
    ['input shape rank 9', [null, 1, 1, 1, 1, 1, 1, 1, 1], /shape has rank 9, more than 8/],
    ['input shape nested', [null, [28], 28, 1], /shape .* has \[28\] where a positive integer belongs/],
  ] as const) {
    const j = clone(BASE);
    layersOf(j)[0].config.batch_input_shape = shape;
    add(name, info(modelDir(name.replace(/ /g, '-'), j)), new RegExp(`layer "input": "batch_input_shape": ${re.source}`));
  }
  for (const [field, value] of [['filters', 0], ['filters', -16], ['kernel_size', [4, 0]], ['strides', 'two'], ['filters', 1e9]] as const) {
    const j = clone(BASE);
    layersOf(j)[2].config[field] = value;
    add(`conv1 ${field} ${JSON.stringify(value)}`, info(modelDir(`conv-${field}-${String(value)}`, j)), new RegExp(`layer "conv1": "${field}" is .*; it must be a positive integer`));
  }
  {
    const j = clone(BASE);
    layersOf(j)[0].config.dtype = 'float128';
    add('unknown layer dtype', info(modelDir('dtype-layer', j)), /layer "input": has dtype "float128", which tfjs does not know/);
  }
  // Weight manifests.
  const withManifest = (name: string, mutate: (m: { paths: unknown; weights: Record<string, unknown>[] }[]) => unknown, re: RegExp) => {
    const j = clone(BASE);
    const r = mutate(j.weightsManifest);
    if (r !== undefined) j.weightsManifest = r;
    add(name, info(modelDir(name.replace(/[ /]/g, '-'), j)), re);
  };
  for (const p of ['../../../etc/hostname', '../group1-shard1of1.bin', '/etc/hostname', 'https://evil.example/w.bin', '//evil.example/w.bin', 'C:\\w.bin', '%2e%2e/w.bin', 'a//b.bin', 'w\u0000.bin']) {
    withManifest(`shard path ${JSON.stringify(p)}`, (m) => void (m[0].paths = [p]), /weightsManifest\[0\] path .*: (climbs out|is absolute|names a URL|contains|has an empty)/);
  }
  withManifest('manifest not a list', () => ({ paths: [] }), /"weightsManifest" is not a list/);
  withManifest('manifest group string', () => ['hello'], /weightsManifest\[0\]: is not an object/);
  withManifest('paths not a list', (m) => void (m[0].paths = 'group1-shard1of1.bin'), /"paths" is not a list/);
  withManifest('weights not a list', (m) => void (m[0].weights = 'x' as never), /"weights" is not a list/);
  withManifest('weight shape string', (m) => void (m[0].weights[0].shape = 'abc'), /weight "conv1\/kernel": shape "abc" is not a list/);
  withManifest('weight shape negative', (m) => void (m[0].weights[0].shape = [4, 4, -1, 16]), /weight "conv1\/kernel": shape .* has -1/);
  withManifest('weight shape huge', (m) => void (m[0].weights[0].shape = [1e6, 1e6]), /weight "conv1\/kernel": shape .* more than the limit/);
  withManifest('weight dtype float64', (m) => void (m[0].weights[0].dtype = 'float64'), /weight "conv1\/kernel": has dtype "float64"/);
  withManifest('weight without name', (m) => void delete m[0].weights[0].name, /weight 0: has no "name"/);
  withManifest('weight quantization bogus', (m) => void (m[0].weights[0].quantization = { dtype: 'int4' }), /has quantization/);
  withManifest('weight quantization NaN scale', (m) => void (m[0].weights[0].quantization = { dtype: 'uint8', scale: null, min: 0 }), /quantization scale or min that is not a finite number/);
  // Shards.
  add('shard missing', info(modelDir('shard-missing', BASE, {})), /weight shard "group1-shard1of1.bin" is missing/);
  add('shard truncated', info(modelDir('shard-short', BASE, { 'group1-shard1of1.bin': SHARD.subarray(0, 1000) })), /hold 1000 bytes but the manifest needs \d+ \(truncated shard\?\)/);
  add('shard too long', info(modelDir('shard-long', BASE, { 'group1-shard1of1.bin': new Uint8Array(SHARD.length + 8) })), /needs only \d+ \(wrong shard\?\)/);
  add('shard empty', info(modelDir('shard-empty', BASE, { 'group1-shard1of1.bin': new Uint8Array(0) })), /hold 0 bytes/);
  // Non-finite weights, named by weight and layer; overflow to Inf named by the first non-finite layer.
  const offsets = weightOffsets();
  for (const [weight, value] of [['conv1/kernel', NaN], ['conv2/bias', Infinity], ['fc1/kernel', -Infinity], ['fc2/bias', NaN]] as const) {
    const bytes = SHARD.slice();
    new DataView(bytes.buffer).setFloat32(offsets.get(weight)!.offset + 4, value, true);
    add(`${value} in ${weight}`, evalOn(modelDir(`nonfinite-${weight.replace('/', '-')}`, BASE, { 'group1-shard1of1.bin': bytes })), new RegExp(`weight "${weight}" \\(layer "${weight.split('/')[0]}"\\) holds 1 non-finite value`));
  }
  {
    const bytes = SHARD.slice();
    const f = new Float32Array(bytes.buffer);
    const { offset, count } = offsets.get('fc1/kernel')!;
    for (let i = offset / 4; i < offset / 4 + count; i++) f[i] *= 1e37;
    add('activations overflow to Inf', evalOn(modelDir('overflow', BASE, { 'group1-shard1of1.bin': bytes })), /logits are not finite .* the first layer to go non-finite is "fc1": no metrics are computed from them/);
  }
  // A 3-class model (fc2 cut to 3 units) on 10-class MNIST: labels would mean other classes.
  {
    const j = clone(BASE);
    layersOf(j).at(-1)!.config.units = 3;
    const fc2k = offsets.get('fc2/kernel')!;
    const w = j.weightsManifest[0].weights as { name: string; shape: number[] }[];
    w.find((x) => x.name === 'fc2/kernel')!.shape = [100, 3];
    w.find((x) => x.name === 'fc2/bias')!.shape = [3];
    const f = new Float32Array(SHARD.buffer.slice(0));
    const head = Array.from(f.subarray(0, fc2k.offset / 4));
    const kernel: number[] = [];
    for (let r = 0; r < 100; r++) for (let c = 0; c < 3; c++) kernel.push(f[fc2k.offset / 4 + r * 10 + c]);
    const shard = new Uint8Array(new Float32Array([...head, ...kernel, 0, 0, 0]).buffer);
    const m = modelDir('three-class', j, { 'group1-shard1of1.bin': shard });
    add('3-class model on 10-class MNIST (eval)', evalOn(m), /model has 3 classes but dataset mnist-test has 10 \(labels would not mean the same classes\)/);
    add('3-class model on 10-class MNIST (attack)', ['attack', '--backend', 'cpu', '--model', m, '--data', 'mnist', '--eps', '0.1', '--n', '5'], /model has 3 classes but dataset mnist-test has 10/);
  }
  // Terminal escape sequences in names are shown escaped.
  {
    const j = clone(BASE);
    layersOf(j)[3].inbound_nodes = [[['\u001b]0;owned\u0007\u001b[2J', 0, 0, {}]]];
    add('escape sequence in a layer name', info(modelDir('escape', j)), /takes input from layer "\\x1b\]0;owned\\x07\\x1b\[2J", which does not exist/);
  }
  // Graph models.
  const f32 = { type: 'DT_FLOAT' };
  const placeholder = (dims: string[]) => ({ name: 'x', op: 'Placeholder', attr: { dtype: f32, shape: { shape: { dim: dims.map((size) => ({ size })) } } } });
  for (const [name, nodes, re] of [
    ['graph input missing', [placeholder(['-1', '784']), { name: 'y', op: 'Relu', input: ['nope'] }], /node "y": takes input from "nope", which is not a node of the graph/],
    ['graph cycle', [placeholder(['-1', '784']), { name: 'a', op: 'Relu', input: ['b'] }, { name: 'b', op: 'Relu', input: ['a'] }], /node "[ab]": is part of a cycle/],
    ['graph huge input', [placeholder(['-1', '100000', '100000', '3'])], /node "x": shape declares 3\.00e\+10 elements/],
    ['graph no placeholder', [{ name: 'y', op: 'Const' }], /the graph has no Placeholder/],
    ['graph node not a list', 'hello', /"modelTopology.node" is not a list/],
    ['graph node without op', [placeholder(['-1', '4']), { name: 'y' }], /node "y": has no "op"/],
    ['graph bad dim', [placeholder(['-1', 'abc'])], /node "x": shape has the dimension/],
    ['graph unknown dtype', [{ ...placeholder(['-1', '4']), attr: { dtype: { type: 'DT_NOPE' } } }], /has dtype "DT_NOPE"/],
  ] as const) {
    add(name, info(modelDir(name.replace(/ /g, '-'), { format: 'graph-model', modelTopology: { node: nodes, versions: { producer: 1 } }, weightsManifest: [] })), re);
  }
  const oneNode = [placeholder(['-1', '1']), { name: 'y', op: 'Relu', input: ['x'], attr: { T: f32 } }];
  add('graph model with 1 class output', info(modelDir('graph-one-class', { format: 'graph-model', modelTopology: { node: oneNode, versions: { producer: 1 } }, weightsManifest: [] })), /graph output y has 1 class; the lab needs at least 2/);
  add('graph signature declaring a huge input', info(modelDir('graph-signature', { format: 'graph-model', modelTopology: { node: oneNode, versions: { producer: 1 } }, signature: { inputs: { 'x:0': { tensorShape: { dim: [{ size: '-1' }, { size: '30000' }, { size: '30000' }, { size: '3' }] } } } }, weightsManifest: [] })), /signature input "x:0": shape declares 2\.70e\+9 elements/);
  add('graph model without versions', info(modelDir('graph-no-versions', { format: 'graph-model', modelTopology: { node: oneNode }, weightsManifest: [] })), /"modelTopology.versions" is not an object/);
  add('model path missing', info(tmp('nope', 'model.json')), /is neither a file nor a zoo id/);
}

/** An IDX file: magic 0x000008DD, big-endian dims, then bytes. */
function idx(dims: number[], data: Uint8Array | number[], magic?: number): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  const v = new DataView(head.buffer);
  v.setUint32(0, magic ?? 0x800 + dims.length);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d));
  const out = new Uint8Array(head.length + data.length);
  out.set(head);
  out.set(data, head.length);
  return out;
}

function pngBytes(w: number, h: number, gray = 128): Uint8Array {
  const png = new PNG({ width: w, height: h });
  png.data.fill(gray);
  for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
  return new Uint8Array(PNG.sync.write(png));
}

function dataCases() {
  const idxPair = (name: string, images: Uint8Array, labels: Uint8Array, re: RegExp, gz = false) => {
    const d = tmp('data', name);
    mkdirSync(d, { recursive: true });
    writeFileSync(path.join(d, `t10k-images-idx3-ubyte${gz ? '.gz' : ''}`), images);
    writeFileSync(path.join(d, `t10k-labels-idx1-ubyte${gz ? '.gz' : ''}`), labels);
    add(`IDX: ${name}`, evalOn('mnist-small-st', d, '4'), re);
  };
  const n = 10;
  const px = new Uint8Array(n * 784).fill(7);
  const lbl = Uint8Array.from({ length: n }, (_, i) => i % 10);
  const goodImages = idx([n, 28, 28], px);
  const goodLabels = idx([n], lbl);
  idxPair('truncated images', goodImages.subarray(0, 2000), goodLabels, /truncated: header says 10 items of 28×28/);
  idxPair('extra bytes', new Uint8Array([...goodImages, 1, 2, 3]), goodLabels, /3 unexpected bytes after the data/);
  idxPair('bad magic', idx([n, 28, 28], px, 0x12345678), goodLabels, /not an IDX file \(magic 0x12345678\)/);
  idxPair('float element type', idx([n, 28, 28], px, 0x00000d03), goodLabels, /IDX element type 0x0d is not supported/);
  idxPair('swapped files', goodLabels, goodImages, /this looks like a labels file; were the two files swapped\?/);
  idxPair('count mismatch', goodImages, idx([n - 1], lbl.subarray(1)), /has 10 images but .* has 9 labels/);
  idxPair('label out of range', goodImages, idx([n], lbl.map((x) => x + 200)), /label 200 at index 0 is out of range 0..9/);
  idxPair('wrong image size', idx([n, 32, 32], new Uint8Array(n * 1024)), goodLabels, /images are 32×32 but 28×28 was expected/);
  idxPair('zero images', idx([0, 28, 28], []), idx([0], []), /contains no images/);
  idxPair('header only', goodImages.subarray(0, 6), goodLabels, /truncated: the 3-D IDX header needs 16 bytes/);
  idxPair('empty files', new Uint8Array(0), new Uint8Array(0), /empty file/);
  idxPair('huge declared dims', idx([0xffffffff, 0xffffffff, 28], px), goodLabels, /truncated: header says/);
  idxPair('corrupt gzip', gzipSync(goodImages).subarray(0, 40), gzipSync(goodLabels), /corrupt or truncated gzip data/, true);

  const cifar = tmp('data', 'cifar-odd.bin');
  writeFileSync(cifar, new Uint8Array(3073 * 2 + 5));
  add('CIFAR batch of odd length', evalOn('cifar-resnet20-st', cifar, '1'), /cifar-odd\.bin/);

  const folder = (name: string, classes: string[], perClass: number, file: (c: string, i: number) => [string, Uint8Array]) => {
    const d = tmp('data', name);
    for (const c of classes) {
      mkdirSync(path.join(d, c), { recursive: true });
      for (let i = 0; i < perClass; i++) {
        const [f, b] = file(c, i);
        writeFileSync(path.join(d, c, f), b);
      }
    }
    return d;
  };
  const png28 = pngBytes(28, 28);
  const twelve = folder('twelve', Array.from({ length: 12 }, (_, i) => `c${String(i).padStart(2, '0')}`), 2, (_, i) => [`${i}.png`, png28]);
  add('12-class image folder on a 10-class model', evalOn('mnist-small-st', twelve, '4'), /model has 10 classes but dataset .* has 12 \(labels would not mean the same classes\)/);
  const one = folder('one', ['cat'], 3, (_, i) => [`${i}.png`, png28]);
  add('one-class image folder (eval)', evalOn('mnist-small-st', one, '2'), /model has 10 classes but dataset .* has 1/);
  const oneNamed = folder('one-named', ['cat'], 3, (_, i) => [`${i}.png`, png28]);
  writeFileSync(path.join(oneNamed, 'labels.txt'), Array.from({ length: 10 }, (_, i) => (i === 0 ? 'cat' : `k${i}`)).join('\n'));
  add('one-class data with a 10-name labels.txt (attack)', ['attack', '--backend', 'cpu', '--model', 'mnist-small-st', '--data', oneNamed, '--eps', '0.1', '--n', '2'], /holds a single class \(cat\); accuracies and attacks need samples of at least two classes/);
  add('one-class data with a 10-name labels.txt (eval)', evalOn('mnist-small-st', oneNamed, '2'), /holds a single class \(cat\)/);
  // Collision pairs from fewer samples than asked for would answer another question: refused.
  const few = folder('few', Array.from({ length: 10 }, (_, i) => `c${i}`), 2, (_, i) => [`${i}.png`, png28]);
  add('collision --per-class beyond the data', ['collision', '--backend', 'cpu', '--model', 'mnist-small-st', '--data', few, '--classes', '3,7', '--per-class', '3', '--layers', 'fc1'], /per class 3 is more than the 2 samples of class 3 in /);
  const text = folder('text-png', ['a', 'b'], 1, () => ['x.png', new TextEncoder().encode('I am not a PNG')]);
  add('text posing as PNG', evalOn('mnist-small-st', text, '1'), /x\.png: not a PNG or JPEG image/);
  const big = pngBytes(1, 1);
  new DataView(big.buffer).setUint32(16, 30000);
  new DataView(big.buffer).setUint32(20, 30000);
  const huge = folder('huge-png', ['a', 'b'], 1, () => ['big.png', big]);
  add('PNG declaring 30000 × 30000', evalOn('mnist-small-st', huge, '1'), /big\.png: PNG header declares 30000 × 30000 pixels, more than the 16 megapixels/);
  const empty = tmp('data', 'empty');
  mkdirSync(empty, { recursive: true });
  add('empty folder', evalOn('mnist-small-st', empty, '1'), /empty/);
  add('data path missing', evalOn('mnist-small-st', tmp('data', 'nope'), '1'), /is neither mnist, cifar10 nor an existing path/);
}

function argumentCases() {
  const ev = (...extra: string[]) => ['eval', '--backend', 'cpu', '--model', 'mnist-small-st', '--data', 'mnist', ...extra];
  const at = (...extra: string[]) => ['attack', '--backend', 'cpu', '--model', 'mnist-small-st', '--data', 'mnist', '--n', '4', ...extra];
  add('--seed -1 as a separate word', ev('--n', '4', '--seed', '-1'), /--seed needs a value; write one starting with "-" as --seed=-…/, 2);
  for (const seed of ['1.5', '0x10', '-1', '1e300', '', 'abc', '4294967296', ' 7']) {
    add(`--seed ${JSON.stringify(seed)}`, ev('--n', '4', `--seed=${seed}`), new RegExp(`--seed must be an integer ≥ 0 and ≤ 4294967295 \\(got "${quote(seed)}"\\)`), 2);
  }
  for (const n of ['0', '', '-5', '2.5', '1e3', 'ten']) add(`--n ${JSON.stringify(n)}`, ev(`--n=${n}`), new RegExp(`--n must be a positive integer \\(got "${quote(n)}"\\)`), 2);
  add('--n beyond the data', ev('--n', '10001'), /--n 10001 is more than the 10000 samples in dataset mnist-test/, 2);
  for (const eps of ['0.1,', ',0.1', '0.1,,0.2', ',']) add(`--eps ${JSON.stringify(eps)}`, at('--eps', eps), /--eps has an empty item/, 2);
  for (const eps of ['-0.1', 'abc', 'Infinity', '0x1']) add(`--eps ${eps}`, at(`--eps=${eps}`), /--eps must be a number ≥ 0/, 2);
  add('--rounds 0', at('--eps', '0.1', '--min-eps', '--max-eps', '1', '--rounds', '0'), /--rounds must be a positive integer/, 2);
  for (const [opt, v] of [['restarts', '0'], ['steps', '0'], ['steps', '1.5'], ['batch', '0'], ['targets', '0'], ['search-steps', '-1']] as const) {
    add(`--${opt} ${v}`, at('--eps', '0.1', `--${opt}=${v}`), new RegExp(`--${opt} must be a positive integer`), 2);
  }
  add('--target-class -1', at('--eps', '0.1', '--attack', 'apgd-t', '--target-class=-1'), /--target-class must be an integer ≥ 0/, 2);
  add('--target-class 10', at('--eps', '0.1', '--attack', 'apgd-t', '--target-class', '10'), /--target-class 10 is not a class of the model \(0…9\)/, 2);
  add('--targets 10', at('--eps', '0.1', '--attack', 'apgd-t', '--targets', '10'), /--targets 10 is more than the model's 9 other classes/, 2);
  add('--step-size 0', at('--eps', '0.1', '--step-size', '0'), /--step-size must be a number > 0/, 2);
  add('--attack unknown', at('--eps', '0.1', '--attack', 'magic'), /--attack must be one of/, 2);
  add('--backend unknown', ['info', '--model', 'mnist-small-st', '--backend', 'tpu'], /--backend must be auto, cpu or wasm/, 2);
  add('unknown flag', ['info', '--model', 'mnist-small-st', '--frobnicate'], /Unknown option '--frobnicate'/, 2);
  add('unknown command', ['frobnicate'], /unknown command "frobnicate"/, 2);
  // --out that cannot be written: under a regular file, under /proc, a folder.
  const file = tmp('regular-file');
  writeFileSync(file, 'x');
  add('--out under a regular file', at('--eps', '0.1', '--out', path.join(file, 'adv.f32')), /--out .*: .*regular-file is not a folder/, 2);
  add('--out under /proc', at('--eps', '0.1', '--out', '/proc/layerwise-corpus/x/adv.f32'), /--out \/proc\/layerwise-corpus\/x\/adv\.f32: cannot create the folder/, 2);
  add('--out is a folder', at('--eps', '0.1', '--out', dir), /--out .*: is a folder/, 2);
  // collision.
  const co = (...extra: string[]) => ['collision', '--backend', 'cpu', '--model', 'mnist-small-st', '--data', 'mnist', '--layers', 'fc1', '--projections', '1', '--m', '3', ...extra];
  add('collision --batch 0', co('--batch', '0'), /--batch must be an integer ≥ 1 and ≤ 1024 \(got "0"\)/, 2);
  add('collision --max-iter 0', co('--max-iter', '0'), /--max-iter must be an integer ≥ 10 and ≤ 5000 \(got "0"\)/, 2);
  add('collision --per-class 5000', co('--classes', '3,7', '--per-class', '5000'), /--per-class must be an integer ≥ 2 and ≤ 200 \(got "5000"\)/, 2);
  add('collision --classes with an empty item', co('--classes', '3,,7'), /--classes has an empty item/, 2);
  add('collision --classes not of the data', co('--classes', '3,12'), /classes must be "all" or class indices 0…9 of mnist-test \(got "3,12"\)/, 2);
  add('collision --gamma 1', co('--gamma', '1'), /--gamma must be a number ≥ 0\.01 and ≤ 0\.999 \(got "1"\)/, 2);
  add('collision --m 0,10', co('--m', '0,10'), /--m must be an integer ≥ 1 and ≤ 200, or a comma list of them/, 2);
  add('collision --box 2', co('--box', '2'), /--box must be an integer ≥ 0 and ≤ 1 \(got "2"\)/, 2);
  // mftma (the analysis of a model).
  const mf = (...extra: string[]) => ['mftma', '--backend', 'cpu', '--model', 'mnist-small-st', '--data', 'mnist', '--P', '2', '--M', '2', '--layers', 'fc2', ...extra];
  add('mftma --manifolds unknown', mf('--manifolds', 'spheres'), /--manifolds must be one of exemplar, class \(got "spheres"\)/, 2);
  add('mftma --perturb unknown', mf('--perturb', 'blur:2'), /--perturb must be gaussian, linf, l2, attack/, 2);
  add('mftma --perturb attack without a random start', mf('--perturb', 'attack:fgsm:0.3'), /--perturb attack:fgsm:0\.3: manifold attacks need a random start/, 2);
  add('mftma --P 1', mf('--P', '1'), /--P must be an integer ≥ 2 and ≤ 100 \(got "1"\)/, 2);
  add('mftma --sweep with an empty item', mf('--sweep', '0.1,,1'), /--sweep has an empty item/, 2);
  add('mftma exemplar manifolds unperturbed', mf('--perturb', 'none'), /exemplar manifolds need a perturbation/, 2);
  add('mftma class manifolds beyond the classes', mf('--manifolds', 'class', '--P', '11', '--sweep', '0.1'), /class manifolds: P = 11 but mnist-test has only 10 classes/, 2);
}

function arrayCases() {
  const f32 = (name: string, values: number[]) => {
    const p = tmp('arrays', name);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, new Uint8Array(new Float32Array(values).buffer));
    return p;
  };
  const points = Array.from({ length: 40 * 3 }, (_, i) => Math.sin(i));
  const ts = (input: string, ...extra: string[]) => ['tsne', '--input', input, '--n', '40', '--d', '3', '--out', tmp('arrays', 'y.f32'), ...extra];
  add('tsne NaN input', ts(f32('nan.f32', points.map((x, i) => (i === 17 ? NaN : x)))), /t-SNE: input has non-finite values \(point 5/);
  add('tsne Inf input', ts(f32('inf.f32', points.map((x, i) => (i === 0 ? Infinity : x)))), /t-SNE: input has non-finite values \(point 0/);
  const ok = f32('ok.f32', points);
  add('tsne --iters 0', ts(ok, '--iters', '0'), /--iters must be a positive integer/, 2);
  add('tsne --iters 2.5', ts(ok, '--iters', '2.5'), /--iters must be a positive integer/, 2);
  add('tsne --perplexity 0', ts(ok, '--perplexity', '0'), /--perplexity must be a number ≥ 1/, 2);
  add('tsne perplexity above n', ts(ok, '--perplexity', '45'), /--perplexity 45 must be less than --n 40/, 2);
  add('tsne wrong size', ['tsne', '--input', ok, '--n', '41', '--d', '3', '--out', tmp('arrays', 'y.f32')], /expected 492 for 41×3 float32 input/);
  add('tsne --out under a file', ts(ok, '--out', path.join(ok, 'y.f32')), /is not a folder/, 2);
  // The model forms: tsne (overlap), logits and dependency, generated from their definitions.
  const an = (kind: string, ...extra: string[]) => [kind, '--backend', 'cpu', '--model', 'mnist-small-st', '--data', 'mnist', ...extra];
  add('overlap --engine bh', an('overlap', '--engine', 'bh'), /--engine must be one of auto, exact, fft \(got "bh"\)/, 2);
  add('tsne --init umap', an('tsne', '--init', 'umap'), /--init must be one of pca, random \(got "umap"\)/, 2);
  add('tsne --seeds 0', an('tsne', '--seeds', '0'), /--seeds must be an integer ≥ 1 and ≤ 10 \(got "0"\)/, 2);
  add('tsne --perplexity abc', an('tsne', '--perplexity', 'abc'), /--perplexity must be a number ≥ 2 and ≤ 100 \(got "abc"\)/, 2);
  add('logits --epochs 2', an('logits', '--epochs', '2'), /--epochs must be an integer ≥ 0 and ≤ 1 \(got "2"\)/, 2);
  add('logits --n 5', an('logits', '--n', '5'), /--n must be an integer ≥ 20 and ≤ 10000 \(got "5"\)/, 2);
  add('dependency --probe-dims 0', an('dependency', '--probe-dims', '0'), /--probe-dims must be an integer ≥ 1 and ≤ 100000 \(got "0"\)/, 2);
  add('dependency --layers with an empty item', an('dependency', '--layers', 'fc1,,fc2'), /--layers has an empty item/, 2);
  add('dependency --layers unknown', an('dependency', '--layers', 'nope'), /model has no layer named "nope"/, 2);
  const header = tmp('arrays', 'case.json');
  writeFileSync(header, JSON.stringify({ N: 3, M: [4, 4] }));
  const manifold = Array.from({ length: 24 }, (_, i) => Math.cos(i * 1.3));
  const mf = (input: string) => ['mftma', '--input', input, '--header', header];
  add('mftma NaN input', mf(f32('m-nan.f32', manifold.map((x, i) => (i === 13 ? NaN : x)))), /MFTMA: input has non-finite values \(manifold 1, point 0/);
  add('mftma Inf input', mf(f32('m-inf.f32', manifold.map((x, i) => (i === 2 ? -Infinity : x)))), /MFTMA: input has non-finite values \(manifold 0, point 0/);
  const badHeader = tmp('arrays', 'bad.json');
  writeFileSync(badHeader, JSON.stringify({ N: 3, M: [4] }));
  add('mftma one manifold', ['mftma', '--input', f32('m-ok.f32', manifold), '--header', badHeader], /"M" must list at least 2 positive point counts/);
}

const runCli = runCliInProcess;

const timings: { name: string; ms: number }[] = [];

describe('hostile-input corpus through the CLI', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lw-hostile-'));
    modelCases();
    dataCases();
    argumentCases();
    arrayCases();
    // Warm-up: backend, module and built-in data caches, so case times are the error paths' own.
    const warm = await runCli(['eval', '--backend', 'cpu', '--model', 'mnist-small-st', '--data', 'mnist', '--n', '10']);
    expect(warm.code, warm.stderr).toBe(0);
  });

  afterAll(() => {
    const slow = [...timings].sort((a, b) => b.ms - a.ms).slice(0, 3);
    process.stdout.write(`hostile corpus: ${timings.length} cases; slowest ${slow.map((s) => `${s.name} ${s.ms.toFixed(0)} ms`).join(', ')}\n`);
  });

  it('has at least a hundred generated cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(100);
  });

  it('every case ends with one specific line, the right exit code, in time', async () => {
    const failures: string[] = [];
    for (const c of cases) {
      const r = await runCli(c.argv);
      timings.push({ name: c.name, ms: r.ms });
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      const line = lines[0] ?? '';
      const problems = [
        r.code !== c.code && `exit ${r.code}, expected ${c.code}`,
        lines.length !== 1 && `${lines.length} stderr lines`,
        !line.startsWith('layerwise: ') && 'no "layerwise: " prefix',
        !c.expect.test(line) && `does not match ${c.expect}`,
        RAW.test(line) && 'raw JavaScript error text',
        r.stdout !== '' && 'printed a result',
        r.ms > CASE_LIMIT_MS && `took ${r.ms.toFixed(0)} ms`,
      ].filter(Boolean);
      if (problems.length) failures.push(`${c.name}: ${problems.join('; ')} — ${line || r.stdout.slice(0, 120)}`);
    }
    expect(failures).toEqual([]);
  }, 600_000);
});
