import * as tf from '@tensorflow/tfjs-core';

/**
 * What a classifier's single output holds. Every model ippro builds ends in a softmax layer:
 * 'probabilities'. Each further kind (logits, sigmoid) gets its loss here, in
 * perSampleClassificationLoss, so that training, evaluation and scoring follow it together.
 */
export type ClassifierOutput = 'probabilities';

export interface LossOptions {
  /** Default 'probabilities'. */
  output?: ClassifierOutput;
  /** Mixes the one-hot targets with the uniform distribution; default 0. */
  labelSmoothing?: number;
}

/**
 * tfjs-layers' (and Keras') epsilon: probabilities are clipped to [1e-7, 1 - 1e-7] before the
 * log, so the loss is the one those libraries train and report.
 */
const PROBABILITY_EPSILON = 1e-7;

/** One-hot float targets from integer class labels [n] or from one-hot labels [n, classes]. */
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

/** -sum_c y_c * log(clip(p_c)) per sample. */
function categoricalCrossEntropy(probabilities: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
  const clipped = tf.clipByValue(probabilities, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
  return tf.neg(tf.sum(tf.mul(targets, tf.log(clipped)), -1)) as tf.Tensor1D;
}

/**
 * The loss of each sample of a batch: `outputs` [n, classes] of the kind `options.output`,
 * `labels` as class indices [n] or one-hot [n, classes]. Differentiable (training and scoring
 * take gradients of it).
 */
export function perSampleClassificationLoss(outputs: tf.Tensor, labels: tf.Tensor, options: LossOptions = {}): tf.Tensor1D {
  if (outputs.rank !== 2) {
    throw new Error(`the model output has shape [${outputs.shape.join(', ')}]; expected [batch, classes] ${options.output ?? 'probabilities'}`);
  }
  const [batchSize, classes] = outputs.shape as [number, number];
  if (labels.shape[0] !== batchSize) {
    throw new Error(`the batch has ${labels.shape[0]} labels for ${batchSize} samples`);
  }
  return tf.tidy(() => {
    const oneHot = oneHotTargets(labels, batchSize, classes);
    const smoothing = options.labelSmoothing ?? 0;
    const targets: tf.Tensor2D = smoothing > 0 ? tf.add(tf.mul(oneHot, 1 - smoothing), smoothing / classes) : oneHot;
    switch (options.output ?? 'probabilities') {
      case 'probabilities':
        return categoricalCrossEntropy(outputs as tf.Tensor2D, targets);
    }
  });
}

/** The batch's loss as training and scoring minimise it: the mean over its samples. */
export function classificationLoss(outputs: tf.Tensor, labels: tf.Tensor, options: LossOptions = {}): tf.Scalar {
  return tf.tidy(() => tf.mean(perSampleClassificationLoss(outputs, labels, options)));
}

/**
 * Knowledge distillation's term of each sample: T^2 * KL(softmax(z_t / T) || softmax(z_s / T)) for
 * student and teacher outputs [n, classes] of the kind `output`, z their logits. A softmax output
 * ('probabilities') has no logits to read: z = log(clip(p)) (clipped as the cross-entropy clips),
 * which equals the logits up to a constant per sample, and softmax ignores such a constant, so
 * softmax(z / T) is the temperature-T softmax of the logits. The T^2 keeps the term's gradient on
 * the scale of the cross-entropy's as T grows (Hinton et al., 2015). Differentiable in the
 * student's outputs.
 */
export function perSampleDistillationLoss(studentOutputs: tf.Tensor, teacherOutputs: tf.Tensor, temperature: number, output: ClassifierOutput = 'probabilities'): tf.Tensor1D {
  if (!(Number.isFinite(temperature) && temperature > 0)) throw new Error(`the distillation temperature must be a positive number, got ${temperature}`);
  if (studentOutputs.rank !== 2 || !tf.util.arraysEqual(studentOutputs.shape, teacherOutputs.shape)) {
    throw new Error(`student outputs [${studentOutputs.shape.join(', ')}] and teacher outputs [${teacherOutputs.shape.join(', ')}] must both be [batch, classes]`);
  }
  return tf.tidy(() => {
    const logitsOf = (outputs: tf.Tensor): tf.Tensor2D => {
      switch (output) {
        case 'probabilities':
          return tf.log(tf.clipByValue(outputs, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON)) as tf.Tensor2D;
      }
    };
    const teacher = tf.logSoftmax(tf.div(logitsOf(teacherOutputs), temperature));
    const student = tf.logSoftmax(tf.div(logitsOf(studentOutputs), temperature));
    const divergence = tf.sum(tf.mul(tf.exp(teacher), tf.sub(teacher, student)), -1);
    return tf.mul(divergence, temperature * temperature) as tf.Tensor1D;
  });
}
