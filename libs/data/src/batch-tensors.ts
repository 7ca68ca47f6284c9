import * as tf from '@tensorflow/tfjs-core';
import { batchArraysAt, type BatchOptions } from './batching';
import type { LabeledDataset } from './labeled-dataset';

/** A batch as tensors. The caller owns x and y: call dispose() (or use them inside tf.tidy). */
export interface TensorBatch {
  /** [n, ...sampleShape] float32, e.g. [n, 32, 32, 3] for CIFAR-10. */
  readonly x: tf.Tensor;
  /** Targets [n, numClasses] float32: one-hot, or multi-hot on multi-label data. */
  readonly y: tf.Tensor2D;
  readonly labels: Int32Array;
  readonly indices: Uint32Array;
  dispose(): void;
}

/** Batch `index` of `epoch` as tf tensors; the same options give the same values anywhere. */
export function batchAt(dataset: LabeledDataset, options: BatchOptions): TensorBatch {
  const arrays = batchArraysAt(dataset, options);
  const x = tf.tensor(arrays.x, [...arrays.shape], 'float32');
  const y = tf.tensor2d(arrays.y, [arrays.size, arrays.numClasses], 'float32');
  return {
    x,
    y,
    labels: arrays.labels,
    indices: arrays.indices,
    dispose: () => tf.dispose([x, y]),
  };
}
