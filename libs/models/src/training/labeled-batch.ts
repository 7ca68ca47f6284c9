import type * as tf from '@tensorflow/tfjs-core';

/** Inputs and one-hot targets of one batch. The caller owns (and disposes) both tensors. */
export interface LabeledBatch {
  x: tf.Tensor;
  y: tf.Tensor;
}
