/** Per-channel statistics in the value scale of `writeSample` (for images: 0..1). */
export interface ChannelNormalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/**
 * A random-access, read-only set of labelled samples. Samples are produced on demand into a
 * caller's buffer so a batch never needs the whole dataset as floats in memory.
 */
export interface LabeledDataset {
  /** A canonical spec or path: used in error messages and as the dataset's id. */
  readonly description: string;
  readonly size: number;
  /** The shape of one sample: [height, width, channels] for images (NHWC without N). */
  readonly sampleShape: readonly number[];
  readonly numClasses: number;
  /** Statistics to normalise with, when the dataset has standard ones (CIFAR-10 images). */
  readonly normalization?: ChannelNormalization;
  /** The class index of sample `index`, in [0, numClasses); not defined for multi-hot data. */
  label(index: number): number;
  /**
   * Present on multi-label data (for sigmoid outputs) only: the numClasses labels of sample
   * `index`, each 0 or 1 (multi-hot).
   */
  readonly multiHotLabel?: (index: number) => Uint8Array;
  /** Writes sample `index` (row-major, channels last) into `target` starting at `offset`. */
  writeSample(index: number, target: Float32Array, offset: number): void;
  /**
   * Present when every sample value is a byte / 255 (decoded images, CIFAR-10): the bytes of
   * sample `index`, so a dataset artifact can store one byte per value.
   */
  readonly sampleBytes?: (index: number) => Uint8Array;
  /** Class names in label order, when the data names its classes (image folders, a sidecar's `classes`). */
  readonly classNames?: readonly string[];
}

/** Number of floats in one sample. */
export function sampleLength(dataset: Pick<LabeledDataset, 'sampleShape'>): number {
  return dataset.sampleShape.reduce((product, dim) => product * dim, 1);
}

/** Throws a RangeError naming the dataset when `index` is not a valid sample index. */
export function checkSampleIndex(dataset: LabeledDataset, index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= dataset.size) {
    throw new RangeError(
      `${dataset.description}: sample index ${index} is outside 0..${dataset.size - 1}`,
    );
  }
}

/** The refusal of `label` on multi-hot data. */
export function noClassLabel(dataset: Pick<LabeledDataset, 'description'>): never {
  throw new RangeError(`${dataset.description} has multi-hot labels, not one class per sample`);
}

/**
 * Writes the targets of sample `index` into `target` (zeroed) at `offset`: its numClasses
 * multi-hot labels, or the one-hot row of its class.
 */
export function writeTargets(dataset: LabeledDataset, index: number, target: Float32Array, offset: number): void {
  if (dataset.multiHotLabel !== undefined) {
    target.set(dataset.multiHotLabel(index), offset);
    return;
  }
  target[offset + dataset.label(index)] = 1;
}
