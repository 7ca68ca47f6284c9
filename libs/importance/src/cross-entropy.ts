import * as tf from '@tensorflow/tfjs-core';

/** Same clipping as tfjs-layers' categoricalCrossentropy, so the loss is the training loss. */
const PROBABILITY_EPSILON = 1e-7;

/** One-hot targets from integer class labels [n] or from one-hot labels [n, classes]. */
function oneHotTargets(labels: tf.Tensor, batchSize: number, classes: number): tf.Tensor2D {
  if (labels.rank === 1) {
    const values = labels.dataSync();
    const bad = values.findIndex((value) => !Number.isInteger(value) || value < 0 || value >= classes);
    if (bad >= 0) {
      throw new Error(`label ${bad} of the batch is ${values[bad]}; expected an integer class in [0, ${classes})`);
    }
    return tf.cast(tf.oneHot(tf.cast(labels, 'int32') as tf.Tensor1D, classes), 'float32') as tf.Tensor2D;
  }
  if (labels.rank === 2 && labels.shape[0] === batchSize && labels.shape[1] === classes) {
    return tf.cast(labels, 'float32') as tf.Tensor2D;
  }
  throw new Error(
    `labels have shape [${labels.shape.join(', ')}]; expected [${batchSize}] class indices or [${batchSize}, ${classes}] one-hot`,
  );
}

/**
 * Categorical cross-entropy of softmax probabilities [n, classes], mean over the batch:
 * mean_i( -sum_c y_ic * log(clip(p_ic)) ). Must run inside a tidy or gradient scope.
 */
export function meanCategoricalCrossEntropy(probabilities: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  if (probabilities.rank !== 2) {
    throw new Error(`the model output has shape [${probabilities.shape.join(', ')}]; expected [batch, classes] probabilities`);
  }
  const [batchSize, classes] = probabilities.shape;
  if (labels.shape[0] !== batchSize) {
    throw new Error(`the batch has ${labels.shape[0]} labels for ${batchSize} samples`);
  }
  const targets = oneHotTargets(labels, batchSize, classes);
  const clipped = tf.clipByValue(probabilities, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
  const perSample = tf.neg(tf.sum(tf.mul(targets, tf.log(clipped)), -1));
  return tf.mean(perSample);
}
