/**
 * Test helper: the zoo's MNIST small-CNN twins (standard and PGD-AT) and the MNIST test set on
 * Node's WASM backend, opened through the Node layer as the CLI opens them.
 */
import type { LabModel } from '../core/model/model';
import type { ImageDataset } from '../core/types';
import { setupBackend } from './backend';
import { openData, openModel } from './open';

export async function openMnistTwins(): Promise<{ a: LabModel; b: LabModel; ds: ImageDataset }> {
  await setupBackend({ backend: 'wasm' });
  return { a: await openModel('mnist-small-st'), b: await openModel('mnist-small-pgd-linf'), ds: await openData('mnist') };
}
