import { DataError } from './data-error';
import { sampleLength, type LabeledDataset } from './labeled-dataset';

/** Samples as one array: images NHWC float32 (0..1 for CIFAR-10, not normalised). */
export interface SampleArrays {
  /** [count, ...sampleShape] */
  readonly shape: readonly number[];
  readonly x: Float32Array;
  /** Class indices; -1 on multi-label data (its labels: multiHotLabel). */
  readonly labels: Int32Array;
}

/**
 * Materialises samples [start, end) in dataset order. For training, prefer batches: the whole
 * CIFAR-10 training set as float32 is 600 MB, against 150 MB as the files' bytes.
 */
export function readSamples(dataset: LabeledDataset, start = 0, end = dataset.size): SampleArrays {
  const integers = Number.isInteger(start) && Number.isInteger(end);
  if (!integers || start < 0 || end > dataset.size || start > end) {
    throw new DataError(
      'out-of-range',
      `${dataset.description}: samples [${start}:${end}] are outside its ${dataset.size} samples`,
    );
  }
  const length = sampleLength(dataset);
  const x = new Float32Array((end - start) * length);
  const labels = new Int32Array(end - start);
  for (let i = start; i < end; i++) {
    dataset.writeSample(i, x, (i - start) * length);
    labels[i - start] = dataset.multiHotLabel === undefined ? dataset.label(i) : -1;
  }
  return { shape: [end - start, ...dataset.sampleShape], x, labels };
}
