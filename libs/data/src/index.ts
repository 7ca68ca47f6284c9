export { DataError, type DataErrorKind } from './data-error';
export { SeededRandom, combineSeeds } from './seeded-random';
export {
  type LabeledDataset,
  type ChannelNormalization,
  noClassLabel,
  sampleLength,
  writeTargets,
} from './labeled-dataset';
export { BYTE_TO_UNIT, bytesToUnit } from './byte-samples';
export {
  checkNormalization,
  formatNormalization,
  normalizationMismatch,
  parseNormalization,
  type NormalizationSetting,
} from './normalization-setting';
export { readSidecar, SIDECAR_FILE, type DataSidecar } from './data-sidecar';
export { DatasetView, DatasetSubset, RestatedDataset, type ViewOverrides } from './dataset-view';
export { ImageFolderDataset, IMAGE_EXTENSIONS, type ImageFolderOptions } from './image-folder-dataset';
export { decodeImage, type DecodedImage } from './image-decode';
export { NpzDataset, type NpzOptions } from './npz-dataset';
export { readNpy, type NpyArray } from './npy-array';
export { float32Bytes, int64Bytes, npyBytes, npzBytes, zipBytes, type NpyEntry } from './npz-writer';
export { crc32, readZipMembers, type ZipMember } from './zip-reader';
export { trainValIndices } from './train-val-split';
export * from './cifar10-format';
export { CIFAR10_NORMALIZATION, normalizeChannels } from './cifar10-normalization';
export { planarBytesToNhwc } from './planar-to-nhwc';
export { Cifar10File, type Cifar10FileOptions } from './cifar10-file';
export { openCifar10 } from './cifar10-dataset';
export { CIFAR10_DIR_ENV, defaultCifar10CacheDir, resolveCifar10Dir } from './cifar10-location';
export { ConcatenatedDataset } from './concatenated-dataset';
export { DatasetSlice, type SampleRange } from './dataset-slice';
export { SyntheticImageDataset, type SyntheticImageOptions } from './synthetic-dataset';
export { JsonDataset } from './json-dataset';
export {
  DATASET_SCHEMES,
  parseDatasetSpec,
  formatDatasetSpec,
  baseSpecText,
  sourceSpec,
  type DatasetSpec,
  type Cifar10Spec,
  type SyntheticSpec,
  type JsonSpec,
  type ImagesSpec,
  type ImageFit,
  type NpzSpec,
  type SpecCommon,
  type SpecRange,
  type TrainValSplit,
} from './dataset-spec';
export { resolveDataset, type ResolveDatasetOptions } from './resolve-dataset';
export { readSamples, type SampleArrays } from './read-samples';
export { epochPermutation } from './epoch-permutation';
export { AUGMENT_PADDING, applyCropFlip, cropFlipFor, type CropFlip } from './augmentation';
export {
  batchArraysAt,
  batchCount,
  batchIndices,
  type BatchArrays,
  type BatchOptions,
  type BatchPart,
} from './batching';
export { batchAt, type TensorBatch } from './batch-tensors';
export {
  timeInputPipeline,
  type PipelineTiming,
  type PipelineTimingOptions,
} from './pipeline-timing';
export { readTarEntries, type TarEntry, type TarReadOptions } from './tar-reader';
export {
  CIFAR10_ARCHIVE_MD5,
  CIFAR10_ARCHIVE_ROOT,
  CIFAR10_ARCHIVE_URL,
  cifar10FilesPresent,
  downloadCifar10,
  type DownloadCifar10Options,
  type DownloadCifar10Result,
} from './cifar10-download';
export { DrawnSamples, drawDescription, drawIndices } from './sample-draw';
