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
  label(index: number): number;
  /** Writes sample `index` (row-major, channels last) into `target` starting at `offset`. */
  writeSample(index: number, target: Float32Array, offset: number): void;
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
