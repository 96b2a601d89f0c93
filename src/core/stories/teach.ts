/**
 * Teacher mode's URL keys (issue #24): which story and step is open, and which parts of the lab
 * a presentation hides. A schema group of the lab like any other, so `story=tsne&step=3&hide=setup`
 * survives the hash round trip and a teacher can link to step 3; the analyses never read it.
 */
import { param } from '../schema';

/** What `hide=` may name: the setup column and the views' advanced controls. */
export const HIDEABLE = ['setup', 'advanced'] as const;

export const teachSchema = {
  story: param.text({ url: 'story', label: 'Story', default: '', help: 'A guided story (src/core/stories); empty = none.', control: false }),
  step: param.int({ url: 'step', label: 'Story step', default: 1, min: 1, max: 20, step: 1, help: 'Step of the story, counted from 1 as the panel shows it.', control: false }),
  hide: param.list({ url: 'hide', label: 'Hide', default: [], help: `Presentation mode: parts of the lab to hide (${HIDEABLE.join(', ')}).`, control: false }),
};
