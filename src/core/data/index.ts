/** Dataset readers and sampling: pure functions over bytes and typed arrays (no fs, no DOM). */
export { parseIdx, readIdx, gunzip, isGzip, toU8, type IdxArray, type Bytes } from './idx';
export { mnistFromIdx, mnistFromIdxArrays, type MnistOptions, type NamedBytes } from './mnist';
export {
  cifarFromBatches,
  parseCifarMeta,
  CIFAR10_CLASS_NAMES,
  CIFAR_RECORD_BYTES,
  type CifarOptions,
} from './cifar';
export {
  imageFolderDataset,
  classOfPath,
  decodeErrorMessage,
  parseLabelsTxt,
  type DecodedImage,
  type ImageFolderEntry,
  type ImageFolderOptions,
} from './imageFolder';
export { parsePackedDataset, packDataset, validatePackedIndex, type PackedDatasetIndex } from './packed';
export { classBalancedSample, takeSamples, type SampleOptions } from './sampler';
export { checkImageHeader, readImageHeader, MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, type ImageHeader } from './imageHeader';
export { detectDataFormat, pairMnistFiles, isIdxName, isJunkName, baseName, CIFAR_META_FILE, type DataFile, type DataFormat } from './detect';
