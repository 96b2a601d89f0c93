import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { shardUrl } from './artifacts';
import { loadLabModel } from './model';
import { checkModelJson, MAX_INPUT_ELEMENTS, shardPathProblem } from './validate';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A small functional Layers topology: input → dense "a" → dense "b" (edit `inbound` to break it). */
function functional(inbound: Record<string, unknown[]> = {}, extra: Record<string, unknown> = {}) {
  const layer = (name: string, from: string) => ({ class_name: 'Dense', name, config: { name, units: 2 }, inbound_nodes: inbound[name] ?? [[[from, 0, 0, {}]]] });
  return {
    format: 'layers-model',
    modelTopology: {
      class_name: 'Model',
      config: {
        name: 'm',
        layers: [{ class_name: 'InputLayer', name: 'in', config: { batch_input_shape: [null, 3], name: 'in' }, inbound_nodes: [] }, layer('a', 'in'), layer('b', 'a')],
        input_layers: [['in', 0, 0]],
        output_layers: [['b', 0, 0]],
        ...extra,
      },
    },
    weightsManifest: [],
  };
}

const problems = (json: unknown) => checkModelJson(json, 'm.json').problems;

describe('checkModelJson: Layers models', () => {
  it('passes the zoo models and a sound functional topology', () => {
    expect(problems(functional())).toEqual([]);
    for (const id of ['mnist-small-st', 'cifar-resnet20-st']) {
      expect(problems(JSON.parse(readFileSync(`public/models/${id}/model.json`, 'utf8')))).toEqual([]);
    }
  });

  it('names the layer of a self-reference, a cycle and a missing input', () => {
    expect(problems(functional({ a: [[['a', 0, 0, {}]]] }))).toEqual(['m.json: layer "a": is part of a cycle: its input depends on its own output (a model must be a DAG)']);
    expect(problems(functional({ a: [[['b', 0, 0, {}]]] }))[0]).toMatch(/^m\.json: layer "[ab]": is part of a cycle/);
    expect(problems(functional({ b: [[['ghost', 0, 0, {}]]] }))).toEqual(['m.json: layer "b": takes input from layer "ghost", which does not exist']);
    expect(problems(functional({ b: [[['a', 3, 0, {}]]] }))).toEqual(['m.json: layer "b": takes input from call 3 of layer "a", which is called 1 time']);
    expect(problems(functional({ b: [[['a', 0, 2, {}]]] }))).toEqual(['m.json: layer "b": takes output 2 of layer "a", which has one output']);
    expect(problems(functional({ b: [[]] }))).toEqual(['m.json: layer "b": inbound node 0 has no inputs']);
    expect(problems(functional({ b: ['hello'] }))[0]).toMatch(/inbound node 0 is not a list/);
    expect(problems(functional({}, { output_layers: [['zzz', 0, 0]] }))).toEqual(['m.json: output_layers: takes input from layer "zzz", which does not exist']);
    expect(problems(functional({}, { input_layers: [['a', 0, 0]] }))).toEqual(['m.json: input_layers: names "a", which is not an InputLayer']);
  });

  it('refuses shapes that are not lists of positive integers, huge inputs and unknown dtypes', () => {
    const withInput = (cfg: Record<string, unknown>) => {
      const j = functional();
      j.modelTopology.config.layers[0].config = { name: 'in', ...cfg } as never;
      return problems(j);
    };
    expect(withInput({ batch_input_shape: 'hello' })[0]).toMatch(/layer "in": "batch_input_shape": shape "hello" is not a list/);
    expect(withInput({ batch_input_shape: [null, 0] })[0]).toMatch(/has 0 where a positive integer belongs/);
    expect(withInput({ batch_input_shape: [null, 1.5] })[0]).toMatch(/has 1.5 where a positive integer belongs/);
    expect(withInput({ batch_input_shape: [null, 100000, 100000, 3] })[0]).toMatch(new RegExp(`more than the limit ${MAX_INPUT_ELEMENTS}`));
    expect(withInput({ batch_input_shape: [null, 3], dtype: 'float128' })[0]).toMatch(/dtype "float128", which tfjs does not know/);
    const j = functional();
    (j.modelTopology.config.layers[1].config as Record<string, unknown>).units = -4;
    expect(problems(j)[0]).toMatch(/layer "a": "units" is -4; it must be a positive integer/);
  });

  it('says what is wrong with a topology of the wrong type, without throwing', () => {
    expect(problems('hello')).toEqual(['m.json: is a string, not a model.json object']);
    expect(problems({ modelTopology: 'hello' })).toEqual(['m.json: "modelTopology" is not an object']);
    expect(problems({ modelTopology: { class_name: 'Model', config: { layers: 7 } } })).toEqual(['m.json: "config.layers" is not a list of layers']);
    expect(problems({ modelTopology: { class_name: 'Sequential', config: [] } })).toEqual(['m.json: the model has no layers']);
    expect(problems({ modelTopology: { class_name: 'Sequential', config: { layers: [{ class_name: 'Dense', config: { units: 2 } }] } } })[0]).toMatch(/declares no input shape/);
  });

  it('escapes control characters in names it quotes', () => {
    const j = functional({ b: [[['\u001b]0;owned\u0007', 0, 0, {}]]] });
    expect(problems(j)[0]).toBe('m.json: layer "b": takes input from layer "\\x1b]0;owned\\x07", which does not exist');
  });
});

describe('checkModelJson: weight manifests', () => {
  const withManifest = (m: unknown) => problems({ ...functional(), weightsManifest: m });
  it('keeps shard paths inside the model folder', () => {
    for (const bad of ['../../etc/passwd', '/etc/passwd', 'a/../../x.bin', 'https://evil.example/w.bin', '//evil.example/w.bin', 'C:\\w.bin', '%2e%2e/w.bin', 'data:application/octet-stream,AAAA']) {
      expect(shardPathProblem(bad), bad).not.toBeNull();
    }
    for (const good of ['group1-shard1of1.bin', 'weights/w.bin', './w.bin']) expect(shardPathProblem(good), good).toBeNull();
    expect(withManifest([{ paths: ['../../secret.bin'], weights: [] }])).toEqual([`m.json: weightsManifest[0] path "../../secret.bin": climbs out of the model's folder (..)`]);
  });

  it('refuses malformed entries with a reason', () => {
    expect(withManifest({})).toEqual(['m.json: "weightsManifest" is not a list']);
    expect(withManifest([{ paths: 'w.bin', weights: [] }])).toEqual(['m.json: weightsManifest[0]: "paths" is not a list']);
    expect(withManifest([{ paths: ['w.bin'], weights: [{ name: 'k', shape: 'abc' }] }])[0]).toMatch(/weight "k": shape "abc" is not a list/);
    expect(withManifest([{ paths: ['w.bin'], weights: [{ name: 'k', shape: [2], dtype: 'float64' }] }])[0]).toMatch(/weight "k": has dtype "float64"/);
    expect(withManifest([{ paths: ['w.bin'], weights: [{ name: 'k', shape: [1e6, 1e6] }] }])[0]).toMatch(/weight "k": shape .* more than the limit/);
  });
});

describe('checkModelJson: Graph models', () => {
  const f32 = { type: 'DT_FLOAT' };
  const graph = (nodes: unknown[]) => ({ format: 'graph-model', modelTopology: { node: nodes, versions: { producer: 1 } }, weightsManifest: [] });
  const x = (dims = ['-1', '4']) => ({ name: 'x', op: 'Placeholder', attr: { dtype: f32, shape: { shape: { dim: dims.map((size) => ({ size })) } } } });
  it('passes a sound graph and names a node whose input is missing or cyclic', () => {
    expect(problems(graph([x(), { name: 'r', op: 'Relu', input: ['x'] }]))).toEqual([]);
    expect(problems(graph([x(), { name: 'r', op: 'Relu', input: ['nope:0'] }]))).toEqual(['m.json: node "r": takes input from "nope", which is not a node of the graph']);
    expect(problems(graph([x(), { name: 'r', op: 'Relu', input: ['s'] }, { name: 's', op: 'Relu', input: ['r', '^x'] }]))[0]).toMatch(/node "[rs]": is part of a cycle/);
    // A while loop's back edge through NextIteration is not a fault.
    expect(problems(graph([x(), { name: 'm', op: 'Merge', input: ['x', 'n'] }, { name: 'n', op: 'NextIteration', input: ['m'] }]))).toEqual([]);
  });

  it('refuses a huge declared input and an unknown dtype', () => {
    expect(problems(graph([x(['-1', '100000', '100000', '3'])]))[0]).toMatch(/node "x": shape declares 3\.00e\+10 elements/);
    expect(problems(graph([{ ...x(), attr: { dtype: { type: 'DT_QUUX' } } }]))[0]).toMatch(/dtype "DT_QUUX"/);
    const signed = { ...graph([x()]), signature: { inputs: { 'x:0': { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '-1' }, { size: '30000' }, { size: '30000' }, { size: '3' }] } } } } };
    expect(problems(signed)).toEqual(['m.json: signature input "x:0": shape declares 2.70e+9 elements, more than the limit 16777216']);
    expect(problems(graph([{ name: 'c', op: 'Const' }]))).toEqual(['m.json: the graph has no Placeholder (input) node']);
    expect(problems(graph([x(), { name: 'm', op: 'MatMul', input: ['x'] }]))).toEqual(['m.json: node "m": is a "MatMul" op with 1 input; it needs at least 2']);
  });
});

describe('loading a hostile model returns promptly with the reason', () => {
  const files = (json: unknown) => async (name: string) => {
    if (name === 'model.json') return new TextEncoder().encode(JSON.stringify(json));
    throw new Error('ENOENT');
  };
  it('self-referencing inbound nodes (used to hang tfjs) fail in well under a second', async () => {
    const t0 = performance.now();
    await expect(loadLabModel('model.json', files(functional({ a: [[['a', 0, 0, {}]]] })), 'bad/model.json')).rejects.toThrow('bad/model.json: layer "a": is part of a cycle');
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('a graph model with a single compute node loads (execute returns a bare tensor for one name)', async () => {
    const json = {
      format: 'graph-model',
      modelTopology: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '4' }] } } } },
          { name: 'y', op: 'Relu', input: ['x'], attr: { T: { type: 'DT_FLOAT' } } },
        ],
        versions: { producer: 1 },
      },
      weightsManifest: [],
    };
    const m = await loadLabModel('model.json', files(json), 'one-node');
    expect(m.numClasses).toBe(4);
    expect(m.layers.map((l) => l.name)).toEqual(['y']);
    m.dispose();
  });
});

describe('shardUrl', () => {
  const base = new URL('https://lab.example/models/m/model.json');
  it('resolves shards beside model.json and refuses other hosts and folders', () => {
    expect(shardUrl(base, 'w.bin').href).toBe('https://lab.example/models/m/w.bin');
    expect(shardUrl(base, 'sub/w.bin').href).toBe('https://lab.example/models/m/sub/w.bin');
    for (const bad of ['../other/w.bin', '/w.bin', 'https://evil.example/models/m/w.bin', '//evil.example/w.bin', '%2e%2e/x.bin']) {
      expect(() => shardUrl(base, bad), bad).toThrow(/lies outside the model's folder/);
    }
  });
});
