/**
 * The Train view's training data (issue #25: "MNIST train split, any CIFAR-10 batches the user
 * loads, an image folder"): MNIST's train split, or files the user picks or drops, parsed in
 * the train worker by the lab's data loader (src/core/data/fromFiles.ts) and kept there across
 * runs. The recipe holds `user:NAME` (URL key trdata): a link names the data but cannot carry
 * its files, so a page opened from one asks for them, as it does for the user's own models.
 */
import * as Comlink from 'comlink';
import { create } from 'zustand';
import { isJunkName } from '../core/data/detect';
import { userDataName, userDataValue } from '../core/train/definition';
import type { TrainDataSummary } from '../../workers/train.worker';
import { useLab } from './store';
import { trainWorker } from './train';
import { writeHash } from './url';

export interface TrainDataState {
  /** The data the train worker holds (the last load that worked). */
  loaded: TrainDataSummary | null;
  /** "data you load" is chosen but nothing is loaded yet (the recipe still says mnist). */
  wantUser: boolean;
  busy: boolean;
  /** One line about the last load that failed (naming the file); the data before it stays. */
  error: string | null;
}

export const useTrainData = create<TrainDataState>(() => ({ loaded: null, wantUser: false, busy: false, error: null }));

function commitData(data: string): void {
  useLab.getState().setParams({ train: { data } });
  writeHash(useLab.getState().params);
}

/** Train on MNIST's train split. */
export function chooseMnist(): void {
  useTrainData.setState({ wantUser: false, error: null });
  commitData('mnist');
}

/** Train on data the user loads: the loaded data if there is some, else wait for files. */
export function chooseUserData(): void {
  const { loaded } = useTrainData.getState();
  useTrainData.setState({ wantUser: true, error: null });
  if (loaded) commitData(loaded.value);
}

/** Why Train cannot start with the recipe's data, or null when it can. */
export function trainDataMissing(data: string, s: Pick<TrainDataState, 'loaded' | 'wantUser'>): string | null {
  const name = userDataName(data);
  if (name !== null) return s.loaded?.value === data ? null : `load the training data again: ${name} (a link names your own data but cannot carry its files)`;
  return s.wantUser ? 'choose or drop the training data files first' : null;
}

/**
 * Parse `files` (paths relative to the drop in `paths`, else the picked folder's) in the train
 * worker and train on them from now on; false (the previous data kept) with one line when
 * they do not parse.
 */
export async function loadTrainData(files: File[], paths?: Map<File, string>): Promise<boolean> {
  const rel = (f: File) => paths?.get(f) || (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name;
  const kept = files.filter((f) => !isJunkName(f.name));
  if (!kept.length) return false;
  const folders = new Set(kept.map((f) => (rel(f).includes('/') ? rel(f).split('/')[0] : '')));
  const folder = folders.size === 1 ? [...folders][0] : '';
  const value = userDataValue({ folder, files: kept.map((f) => f.name) });
  useTrainData.setState({ busy: true, error: null });
  try {
    const labelsFile = kept.find((f) => rel(f).split('/').pop() === 'labels.txt');
    // As the lab's data loader takes them (src/ui/setup.ts): a folder keeps class/image, loose files their name.
    const payload = await Promise.all(kept.filter((f) => f !== labelsFile).map(async (f) => ({ path: rel(f).split('/').slice(-2).join('/'), bytes: await f.arrayBuffer() })));
    const labelsTxt = labelsFile ? await labelsFile.text() : undefined;
    const summary = await trainWorker().setData(value, Comlink.transfer(payload, payload.map((p) => p.bytes)), labelsTxt);
    useTrainData.setState({ loaded: summary, wantUser: true, busy: false });
    commitData(value);
    return true;
  } catch (e) {
    useTrainData.setState({ busy: false, error: ((e as Error)?.message ?? String(e)).split('\n')[0] });
    return false;
  }
}
