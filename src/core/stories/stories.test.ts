/**
 * The stories are data the lab applies blindly, so a broken step must fail here (issue #24):
 * every step's parameters go through the lab's own URL code (labHash → parseLabHash, which
 * validates each value against its schema), name zoo models and layers that exist, run what
 * its numbers need, and point at a chart element the UI renders.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAB_GROUPS, labDefaults, labHash, parseLabHash, patchParams } from '../analyses/lab';
import { coerce, type Schema } from '../schema';
import { LIVE_NUMBERS, openStep, placeholdersOf, stepParams, STORIES, STORY_RUNS } from './index';

const zoo = JSON.parse(readFileSync(new URL('../../../public/models/index.json', import.meta.url), 'utf8')) as { id: string; dataset: string }[];
const groups = LAB_GROUPS as unknown as Record<string, Schema>;
const uiSource = (dir: URL): string =>
  readdirSync(dir, { withFileTypes: true })
    .map((e) => (e.isDirectory() ? uiSource(new URL(`${e.name}/`, dir)) : e.name.endsWith('.tsx') ? readFileSync(new URL(e.name, dir), 'utf8') : ''))
    .join('\n');
const ui = uiSource(new URL('../../ui/', import.meta.url));
const layerNames = (id: string): Set<string> => {
  const topology = JSON.parse(readFileSync(new URL(`../../../public/models/${id}/model.json`, import.meta.url), 'utf8')).modelTopology;
  return new Set((topology.config ?? topology.model_config.config).layers.map((l: { name: string }) => l.name));
};

const everyStep = STORIES.flatMap((story) => story.steps.map((step, i) => [`${story.id} step ${i + 1}`, story, step, i] as const));

describe('stories', () => {
  it('six stories, in the order of the issue, of 4–8 steps with unique ids', () => {
    expect(STORIES.map((s) => s.id)).toEqual(['adversarial-example', 'tsne', 'collisions', 'logits', 'mftma', 'dependency']);
    expect(new Set(STORIES.map((s) => s.id)).size).toBe(STORIES.length);
    for (const s of STORIES) expect(s.steps.length, s.id).toBeGreaterThanOrEqual(4);
    for (const s of STORIES) expect(s.steps.length, s.id).toBeLessThanOrEqual(8);
  });

  it.each(everyStep)('%s: every value is a lab parameter within its schema', (_name, story, step) => {
    for (const patch of [story.base, step.state]) {
      for (const [group, values] of Object.entries(patch)) {
        for (const [key, value] of Object.entries(values ?? {})) {
          const def = groups[group]?.[key];
          expect(def, `unknown parameter ${group}.${key}`).toBeDefined();
          expect(coerce(def!, value).error, `${group}.${key}`).toBeUndefined();
        }
      }
    }
  });

  it.each(everyStep)('%s: its URL opens exactly its parameters and names this step', (_name, story, step, i) => {
    const params = stepParams(story, i);
    const { params: parsed, errors } = parseLabHash(labHash(params));
    expect(errors).toEqual([]);
    expect(parsed).toEqual(params);
    expect(openStep(parsed)?.step).toBe(step);
  });

  it.each(everyStep)('%s: its models ship in the zoo, on their data set, with the named layers', (_name, story, _step, i) => {
    const params = stepParams(story, i);
    const ids = [params.setup.model, params.lab.compare, ...params.collision.extra].filter(Boolean);
    for (const id of ids) {
      const entry = zoo.find((z) => z.id === id);
      expect(entry, `${id} is not in public/models/index.json`).toBeDefined();
      expect(entry!.dataset).toBe(params.setup.data);
      for (const layer of params.view.layers) expect(layerNames(id).has(layer), `${id}: ${layer}`).toBe(true);
    }
  });

  it.each(everyStep)('%s: each placeholder has a live number computed from what the step runs', (_name, _story, step) => {
    const names = placeholdersOf(step.text);
    expect(names.length, 'a step states at least one live number').toBeGreaterThan(0);
    for (const name of [...names, ...(step.highlight.layer ? placeholdersOf(step.highlight.layer) : [])]) {
      expect(LIVE_NUMBERS[name], `{${name}} has no function in LIVE_NUMBERS`).toBeDefined();
      expect(step.runs, `{${name}} reads ${LIVE_NUMBERS[name].needs}, which the step does not run`).toContain(LIVE_NUMBERS[name].needs);
    }
    for (const run of step.runs) expect(STORY_RUNS).toContain(run);
  });

  it.each(everyStep)('%s: two or three sentences, and its highlight is an element the lab renders', (_name, _story, step) => {
    // Sentence ends: . ! ? before a capital, a placeholder or the end ("et al." is not one).
    const sentences = step.text.replace(/\bal\./g, 'al').match(/[.!?](?=\s+[A-Z{(]|$)/g) ?? [];
    expect(sentences.length).toBeGreaterThanOrEqual(2);
    expect(sentences.length).toBeLessThanOrEqual(3);
    const id = step.highlight.testid;
    const rendered = ui.includes(`"${id}"`) || ui.includes(`'${id}'`) || (id === 'ridge-maxLogit' && ui.includes('data-testid={`ridge-${which}') && ui.includes('which="maxLogit"')) || (['mftma-capacity', 'mftma-radius'].includes(id) && ui.includes('testId={`mftma-${metric.key}`}') && ui.includes(`key: '${id.slice(6)}'`));
    expect(rendered, `no element with data-testid "${id}" in src/ui`).toBe(true);
  });

  it('a broken step fails: an out-of-range value and an unknown placeholder are caught', () => {
    const broken = patchParams(labDefaults(), { tsne: { n: 3 } });
    expect(parseLabHash(labHash(broken)).errors).toEqual(['Images: 3 is below 20']);
    expect(LIVE_NUMBERS[placeholdersOf('at {noSuchNumber}')[0]]).toBeUndefined();
  });

  it('a step keeps the viewer’s backend, seed and presentation flags', () => {
    const current = patchParams(labDefaults(), { setup: { backend: 'wasm', seed: 7, model: 'mnist-medium-st' }, teach: { hide: ['setup'] } });
    const p = stepParams(STORIES[1], 2, current);
    expect(p.setup).toMatchObject({ backend: 'wasm', seed: 7, model: 'mnist-small-st' });
    expect(p.teach).toEqual({ story: STORIES[1].id, step: 3, hide: ['setup'] });
    expect(() => stepParams(STORIES[1], 99)).toThrow(/has no step 100/);
  });
});
