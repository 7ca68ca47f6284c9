import { applyCropFlip, cropFlipFor } from './augmentation';
import { normalizeChannels } from './cifar10-normalization';
import { DataError } from './data-error';
import { epochPermutation } from './epoch-permutation';
import { sampleLength, writeTargets, type LabeledDataset } from './labeled-dataset';

export interface BatchOptions {
  readonly batchSize: number;
  /** Which batch of the epoch: 0..batchCount-1. */
  readonly index: number;
  /** Default 0. Shuffles and augmentation differ per epoch. */
  readonly epoch?: number;
  /** Default 0. */
  readonly seed?: number;
  /** Default false: dataset order, as evaluation wants. */
  readonly shuffle?: boolean;
  /** Default false: 4-pixel zero pad, random 32x32 crop, random horizontal flip (images only). */
  readonly augment?: boolean;
  /** Default true: per-channel (x - mean) / std when the dataset has standard statistics. */
  readonly normalize?: boolean;
  /**
   * Only positions start..end-1 of the batch (one data-parallel process's part of it): those
   * samples exactly as the whole batch holds them. Default: the whole batch.
   */
  readonly part?: BatchPart;
}

/** Positions start (inclusive) to end (exclusive) within one batch. */
export interface BatchPart {
  readonly start: number;
  readonly end: number;
}

/** One batch as plain arrays: what a worker needs, with no tensors to dispose. */
export interface BatchArrays {
  /** [size, ...sampleShape] */
  readonly shape: readonly number[];
  readonly size: number;
  readonly numClasses: number;
  /** Samples, row-major, channels last. */
  readonly x: Float32Array;
  /** Targets [size, numClasses]: one-hot rows, or the multi-hot labels of multi-label data. */
  readonly y: Float32Array;
  /** Class index of each sample; -1 on multi-label data (its labels are in `y`). */
  readonly labels: Int32Array;
  /** Dataset index of each sample. */
  readonly indices: Uint32Array;
}

/**
 * Batches per epoch. The last batch keeps the remainder (it is smaller, never dropped and never
 * padded), so every sample is seen exactly once per epoch and evaluation stays exact.
 */
export function batchCount(
  dataset: Pick<LabeledDataset, 'size'> | number,
  batchSize: number,
): number {
  checkBatchSize(batchSize);
  const size = typeof dataset === 'number' ? dataset : dataset.size;
  return Math.ceil(size / batchSize);
}

/**
 * The dataset indices of batch `index` of `epoch`: a slice of the epoch's order (seeded by
 * (seed, epoch) when shuffled), so the same options give the same batch on any worker and a
 * range of batch indices is a shard.
 */
export function batchIndices(
  dataset: Pick<LabeledDataset, 'size'>,
  options: BatchOptions,
): Uint32Array {
  const { batchSize, index, epoch = 0, seed = 0, shuffle = false } = options;
  const count = batchCount(dataset, batchSize);
  checkNonNegativeInteger('epoch', epoch);
  checkNonNegativeInteger('seed', seed);
  if (!Number.isInteger(index) || index < 0 || index >= count) {
    throw new DataError(
      'out-of-range',
      `batch index ${index} is outside 0..${count - 1} ` +
        `(${dataset.size} samples in batches of ${batchSize})`,
    );
  }
  const start = index * batchSize;
  const end = Math.min(start + batchSize, dataset.size);
  if (!shuffle) return Uint32Array.from({ length: end - start }, (_, i) => start + i);
  return epochPermutation(dataset.size, seed, epoch).slice(start, end);
}

/** Batch `index` of `epoch` as typed arrays: augmented, then normalised, as the options say. */
export function batchArraysAt(dataset: LabeledDataset, options: BatchOptions): BatchArrays {
  const { epoch = 0, seed = 0, augment = false, normalize = true } = options;
  if (augment && dataset.sampleShape.length !== 3) {
    const shape = dataset.sampleShape.join(', ');
    throw new DataError(
      'invalid-argument',
      `${dataset.description}: augmentation needs [height, width, channels] images, ` +
        `but samples have shape [${shape}]`,
    );
  }
  const indices = partOf(batchIndices(dataset, options), options.part);
  const length = sampleLength(dataset);
  const x = new Float32Array(indices.length * length);
  const scratch = augment ? new Float32Array(length) : undefined;
  indices.forEach((sampleIndex, i) => {
    if (!scratch) return dataset.writeSample(sampleIndex, x, i * length);
    dataset.writeSample(sampleIndex, scratch, 0);
    const cropFlip = cropFlipFor(seed, epoch, sampleIndex);
    applyCropFlip(scratch, x, i * length, dataset.sampleShape, cropFlip);
  });
  if (normalize && dataset.normalization) normalizeChannels(x, dataset.normalization);
  const multiHot = dataset.multiHotLabel !== undefined;
  const labels = Int32Array.from(indices, (sampleIndex) => (multiHot ? -1 : dataset.label(sampleIndex)));
  const y = new Float32Array(indices.length * dataset.numClasses);
  indices.forEach((sampleIndex, i) => writeTargets(dataset, sampleIndex, y, i * dataset.numClasses));
  return {
    shape: [indices.length, ...dataset.sampleShape],
    size: indices.length,
    numClasses: dataset.numClasses,
    x,
    y,
    labels,
    indices,
  };
}

function partOf(indices: Uint32Array, part: BatchPart | undefined): Uint32Array {
  if (part === undefined) return indices;
  const { start, end } = part;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start || end > indices.length) {
    throw new DataError(
      'out-of-range',
      `batch part ${start}..${end} is not a range within the batch's ${indices.length} samples`,
    );
  }
  return indices.slice(start, end);
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new DataError(
      'invalid-argument',
      `batchSize must be a positive integer, got ${batchSize}`,
    );
  }
}

function checkNonNegativeInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new DataError('invalid-argument', `${name} must be a non-negative integer, got ${value}`);
  }
}
