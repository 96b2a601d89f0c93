/**
 * Stories as the lab applies them: a step's full parameters are the lab's defaults, then the
 * story's base, then the step's state, so a step's URL (`story=tsne&step=3`) opens the same
 * lab whether it was reached by Next or by a link.
 */
import { labDefaults, patchParams, type LabParams } from '../analyses/lab';
import { findStory, STORIES, type Story, type StoryStep } from './stories';

export * from './stories';
export * from './numbers';

/**
 * The lab's parameters at a story step (index from 0). The backend, the master seed and the
 * presentation flags are the viewer's, not the story's: they carry over from `current`.
 */
export function stepParams(story: Story, index: number, current: LabParams = labDefaults()): LabParams {
  const step = story.steps[index];
  if (!step) throw new Error(`story "${story.id}" has no step ${index + 1} (it has ${story.steps.length})`);
  const params = patchParams(patchParams(labDefaults(), story.base), step.state);
  return patchParams(params, {
    setup: { backend: current.setup.backend, seed: current.setup.seed },
    teach: { story: story.id, step: index + 1, hide: current.teach.hide },
  });
}

/** The story and step (index from 0) the parameters name, or null when none (or an unknown one). */
export function openStep(params: LabParams): { story: Story; index: number; step: StoryStep } | null {
  const story = findStory(params.teach.story);
  if (!story) return null;
  const index = Math.min(Math.max(params.teach.step - 1, 0), story.steps.length - 1);
  return { story, index, step: story.steps[index] };
}

export { STORIES };
