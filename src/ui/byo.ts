/**
 * Bring-your-own helpers that need no browser: the name a shared link keeps of the user's own
 * model files, and the way out of a model/data mismatch (the data set that fits a model, or
 * the zoo model that fits a data set), offered to the user as one button.
 */
import type { DataEntry, ZooEntry } from './store';

/** Model ids of the user's own files are `user:<file name>`; a link carries the name, never the files. */
export const USER_PREFIX = 'user:';

/** The file name in a `user:` model id (`user:net.onnx` → `net.onnx`), or null for zoo ids and URLs. */
export function userModelName(id: string | undefined | null): string | null {
  if (!id || !id.startsWith(USER_PREFIX)) return null;
  const name = id.slice(USER_PREFIX.length).trim();
  return name || 'model';
}

/** The image shapes a model/data mismatch message names (core/model/model.ts checkInputCompatibility). */
export interface ShapeMismatch {
  /** What the model takes: an image shape, or a flat vector of `flat` values. */
  model: { shape: [number, number, number] } | { flat: number };
  data: [number, number, number];
}

/**
 * Read the shapes out of checkInputCompatibility's message (the worker's errors cross to the
 * page as text only). Null when the message is about something else.
 */
export function parseShapeMismatch(message: string): ShapeMismatch | null {
  const image = /model expects (\d+)×(\d+)×(\d+) images but .* has (\d+)×(\d+)×(\d+)/.exec(message);
  if (image) {
    const n = image.slice(1).map(Number);
    return { model: { shape: [n[0], n[1], n[2]] }, data: [n[3], n[4], n[5]] };
  }
  const flat = /model expects flat inputs of (\d+) values but .* has (\d+)×(\d+)×(\d+)/.exec(message);
  if (flat) return { model: { flat: Number(flat[1]) }, data: [Number(flat[2]), Number(flat[3]), Number(flat[4])] };
  return null;
}

/** The one-click way out the message offers: load data that fits the model, or a model that fits the data. */
export type MismatchFix = { kind: 'data'; dataId: string; label: string } | { kind: 'model'; modelId: string; dataId: string; label: string };

function fitsModel(d: Pick<DataEntry, 'height' | 'width' | 'channels'>, model: ShapeMismatch['model']): boolean {
  if ('flat' in model) return d.height * d.width * d.channels === model.flat;
  return d.height === model.shape[0] && d.width === model.shape[1] && d.channels === model.shape[2];
}

/** "CIFAR-10 test (2,000: 200 per class)" → "CIFAR-10 test"; "MNIST test" stays. */
function shortName(d: DataEntry): string {
  return d.name.replace(/\s*\(.*\)\s*$/, '');
}

/** "an MNIST", "a CIFAR-10": an acronym takes the article of its first letter's name (em, ef, ess…). */
function withArticle(word: string): string {
  const vowelSound = /^[aeiou]/i.test(word) || (/^[A-Z0-9-]{2}/.test(word) && /^[FHLMNRSX]/.test(word));
  return `${vowelSound ? 'an' : 'a'} ${word}`;
}

/**
 * The fix for a mismatch after the user changed `changed` (the model or the data): keep what
 * they just chose and replace the other side with a built-in data set or zoo model that fits
 * it. Null when nothing built in fits (the message then stays without a button).
 */
export function mismatchFix(mismatch: ShapeMismatch, changed: 'model' | 'data', zoo: ZooEntry[], datasets: DataEntry[]): MismatchFix | null {
  if (changed === 'model') {
    const data = datasets.find((d) => fitsModel(d, mismatch.model));
    return data ? { kind: 'data', dataId: data.id, label: `Load ${shortName(data)} data?` } : null;
  }
  const [h, w, c] = mismatch.data;
  const data = datasets.find((d) => d.height === h && d.width === w && d.channels === c);
  const model = data && zoo.find((z) => z.dataset === data.id);
  if (!data || !model) return null;
  return { kind: 'model', modelId: model.id, dataId: data.id, label: `Switch to ${withArticle(shortName(data).split(' ')[0])} model?` };
}
