import * as tf from '@tensorflow/tfjs-core';

/** Keeps log() finite for a probability that underflowed to 0. */
const PROBABILITY_FLOOR = 1e-7;

/**
 * Categorical cross-entropy of each sample's softmax probabilities against its one-hot
 * target: the training loss of every classifier ippro builds (they end in a softmax layer).
 * `labelSmoothing` mixes the targets with the uniform distribution.
 */
export function perSampleCrossEntropy(
  probabilities: tf.Tensor,
  targets: tf.Tensor,
  labelSmoothing = 0,
): tf.Tensor1D {
  return tf.tidy(() => {
    const classes = targets.shape[targets.shape.length - 1] ?? 1;
    const smoothed =
      labelSmoothing > 0 ? tf.add(tf.mul(targets, 1 - labelSmoothing), labelSmoothing / classes) : targets;
    const logProbabilities = tf.log(tf.clipByValue(probabilities, PROBABILITY_FLOOR, 1));
    return tf.neg(tf.sum(tf.mul(smoothed, logProbabilities), -1)) as tf.Tensor1D;
  });
}

/** The batch's loss as training minimises it: the mean over its samples. */
export function crossEntropy(probabilities: tf.Tensor, targets: tf.Tensor, labelSmoothing = 0): tf.Scalar {
  return tf.tidy(() => tf.mean(perSampleCrossEntropy(probabilities, targets, labelSmoothing)) as tf.Scalar);
}
