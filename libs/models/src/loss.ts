import * as tf from '@tensorflow/tfjs-core';
import type { ClassifierHead, ClassifierOutput } from './output-kind';

/**
 * The one loss and the one accuracy of training, evaluation and scoring, per output kind
 * (src/output-kind.ts). docs/ippro.md states the formulas.
 */
export interface LossOptions {
  /** Default 'probabilities'. */
  output?: ClassifierOutput;
  /** Sigmoid only: `outputs` are the pre-activation z, not sigmoid(z) (a ClassifierHead says which it gives). */
  preActivation?: boolean;
  /**
   * Label smoothing as Keras defines it: softmax kinds mix the one-hot targets with the uniform
   * distribution (t (1 - s) + s / classes), sigmoid moves each label towards 0.5 (t (1 - s) + s / 2). Default 0.
   */
  labelSmoothing?: number;
}

/** The loss options of a head: its kind and whether it gives the pre-activation. */
export function lossOptionsOf(head: Pick<ClassifierHead, 'output' | 'preActivation'>, labelSmoothing = 0): LossOptions {
  return { output: head.output, preActivation: head.preActivation, labelSmoothing };
}

/**
 * tfjs-layers' (and Keras') epsilon: probabilities are clipped to [1e-7, 1 - 1e-7] before the
 * log, so the loss is the one those libraries train and report.
 */
const PROBABILITY_EPSILON = 1e-7;

function checkClassLabels(labels: tf.Tensor, classes: number): void {
  const values = labels.dataSync();
  const bad = values.findIndex((value) => !Number.isInteger(value) || value < 0 || value >= classes);
  if (bad >= 0) {
    throw new Error(`label ${bad} of the batch is ${values[bad]}; expected an integer class in [0, ${classes})`);
  }
}

function shapeText(tensor: tf.Tensor): string {
  return `[${tensor.shape.join(', ')}]`;
}

/** Targets [n, classes] of a softmax kind: from class indices [n] or from one-hot labels [n, classes]. */
function classTargets(labels: tf.Tensor, batchSize: number, classes: number): tf.Tensor2D {
  if (labels.rank === 1) {
    checkClassLabels(labels, classes);
    return tf.cast(tf.oneHot(tf.cast(labels, 'int32') as tf.Tensor1D, classes), 'float32') as tf.Tensor2D;
  }
  if (labels.rank === 2 && labels.shape[0] === batchSize && labels.shape[1] === classes) {
    return tf.cast(labels, 'float32') as tf.Tensor2D;
  }
  throw new Error(`labels have shape ${shapeText(labels)}; expected [${batchSize}] class indices or [${batchSize}, ${classes}] one-hot`);
}

/**
 * Targets [n, units] of a sigmoid: multi-hot labels [n, units]; for one unit, labels 0/1 [n] or the
 * one-hot rows [n, 2] of a two-class dataset (the unit is class 1); for several units, class
 * indices [n] (one-vs-rest).
 */
function sigmoidTargets(labels: tf.Tensor, batchSize: number, units: number): tf.Tensor2D {
  if (labels.rank === 2 && labels.shape[0] === batchSize && labels.shape[1] === units) return tf.cast(labels, 'float32') as tf.Tensor2D;
  if (units === 1 && labels.rank === 2 && labels.shape[0] === batchSize && labels.shape[1] === 2) {
    return tf.cast(tf.slice(labels, [0, 1], [batchSize, 1]), 'float32') as tf.Tensor2D;
  }
  if (labels.rank === 1) {
    checkClassLabels(labels, Math.max(units, 2));
    return units === 1 ? (tf.reshape(tf.cast(labels, 'float32'), [batchSize, 1]) as tf.Tensor2D) : classTargets(labels, batchSize, units);
  }
  throw new Error(
    `labels have shape ${shapeText(labels)}; a sigmoid output of ${units} unit${units === 1 ? '' : 's'} takes [${batchSize}, ${units}] multi-hot labels` +
      (units === 1 ? `, [${batchSize}] labels 0/1 or [${batchSize}, 2] one-hot` : `, or [${batchSize}] class indices`),
  );
}

/** The unsmoothed targets [n, units] of a batch for the output kind. */
function targetsOf(outputs: tf.Tensor, labels: tf.Tensor, output: ClassifierOutput): tf.Tensor2D {
  if (outputs.rank !== 2) {
    throw new Error(`the model output has shape ${shapeText(outputs)}; expected [batch, units] ${output}`);
  }
  const [batchSize, units] = outputs.shape as [number, number];
  if (labels.shape[0] !== batchSize) {
    throw new Error(`the batch has ${labels.shape[0]} labels for ${batchSize} samples`);
  }
  return output === 'sigmoid' ? sigmoidTargets(labels, batchSize, units) : classTargets(labels, batchSize, units);
}

function smoothed(targets: tf.Tensor2D, output: ClassifierOutput, smoothing: number): tf.Tensor2D {
  if (smoothing <= 0) return targets;
  const towards = output === 'sigmoid' ? 0.5 : 1 / (targets.shape[1] as number);
  return tf.add(tf.mul(targets, 1 - smoothing), smoothing * towards);
}

/** -sum_c t_c log(clip(p_c)) per sample. */
function categoricalCrossEntropy(probabilities: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
  const clipped = tf.clipByValue(probabilities, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
  return tf.neg(tf.sum(tf.mul(targets, tf.log(clipped)), -1)) as tf.Tensor1D;
}

/** -sum_c t_c log_softmax(z)_c per sample: softmax cross-entropy without forming the probabilities. */
function softmaxCrossEntropyWithLogits(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
  return tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), -1)) as tf.Tensor1D;
}

/**
 * mean_k [max(z, 0) - z t + log(1 + exp(-|z|))] per sample: binary cross-entropy of sigmoid(z),
 * finite for every z. Written with `where` (as TensorFlow's sigmoid_cross_entropy_with_logits) so
 * that the gradient at z = 0 is sigmoid(0) - t.
 */
function sigmoidCrossEntropyWithLogits(logits: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
  const positive = tf.greaterEqual(logits, 0);
  const zeros = tf.zerosLike(logits);
  const relu = tf.where(positive, logits, zeros);
  const negAbs = tf.where(positive, tf.neg(logits), logits);
  const perLabel = tf.add(tf.sub(relu, tf.mul(logits, targets)), tf.log1p(tf.exp(negAbs)));
  return tf.mean(perLabel, -1) as tf.Tensor1D;
}

/** mean_k -[t log(clip(p)) + (1 - t) log(1 - clip(p))] per sample, p clipped to [1e-7, 1 - 1e-7] as Keras clips it. */
function binaryCrossEntropy(probabilities: tf.Tensor2D, targets: tf.Tensor2D): tf.Tensor1D {
  const clipped = tf.clipByValue(probabilities, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON);
  const perLabel = tf.add(tf.mul(targets, tf.log(clipped)), tf.mul(tf.sub(1, targets), tf.log(tf.sub(1, clipped))));
  return tf.neg(tf.mean(perLabel, -1)) as tf.Tensor1D;
}

/**
 * The loss of each sample of a batch: `outputs` [n, units] of the kind `options.output`, `labels`
 * as class indices [n], one-hot [n, classes] or (sigmoid) multi-hot [n, units]. Differentiable
 * (training and scoring take gradients of it).
 */
export function perSampleClassificationLoss(outputs: tf.Tensor, labels: tf.Tensor, options: LossOptions = {}): tf.Tensor1D {
  const output = options.output ?? 'probabilities';
  return tf.tidy(() => {
    const targets = smoothed(targetsOf(outputs, labels, output), output, options.labelSmoothing ?? 0);
    const values = outputs as tf.Tensor2D;
    switch (output) {
      case 'probabilities':
        return categoricalCrossEntropy(values, targets);
      case 'logits':
        return softmaxCrossEntropyWithLogits(values, targets);
      case 'sigmoid':
        return options.preActivation === true ? sigmoidCrossEntropyWithLogits(values, targets) : binaryCrossEntropy(values, targets);
    }
  });
}

/** The batch's loss as training and scoring minimise it: the mean over its samples. */
export function classificationLoss(outputs: tf.Tensor, labels: tf.Tensor, options: LossOptions = {}): tf.Scalar {
  return tf.tidy(() => tf.mean(perSampleClassificationLoss(outputs, labels, options)));
}

/**
 * 1 for each sample predicted right, else 0 (int32 [n]). Probabilities and logits: the arg max of
 * the outputs is the labelled class (top-1). Sigmoid: every unit's prediction, sigmoid > 0.5, equals
 * its label (exact match; for one unit, binary accuracy).
 */
export function perSampleHits(outputs: tf.Tensor, labels: tf.Tensor, options: LossOptions = {}): tf.Tensor1D {
  const output = options.output ?? 'probabilities';
  return tf.tidy(() => {
    const targets = targetsOf(outputs, labels, output);
    if (output !== 'sigmoid') return tf.cast(tf.equal(tf.argMax(outputs, -1), tf.argMax(targets, -1)), 'int32') as tf.Tensor1D;
    const probabilities = options.preActivation === true ? tf.sigmoid(outputs) : outputs;
    const agree = tf.equal(tf.greater(probabilities, 0.5), tf.greater(targets, 0.5));
    return tf.cast(tf.all(agree, -1), 'int32') as tf.Tensor1D;
  });
}

/**
 * Why distillation refuses a sigmoid output: its units are independent probabilities, not one
 * distribution over classes, so perSampleDistillationLoss's softmax KL does not apply, and a per-unit variant is not
 * a loss ippro has tested.
 */
export const SIGMOID_DISTILLATION_REFUSAL =
  'distillation needs a softmax output (probabilities or logits): a sigmoid output holds independent per-unit probabilities, not one class distribution to match; set the distillation weight to 0';

/**
 * Knowledge distillation's term of each sample: T^2 * KL(softmax(z_t / T) || softmax(z_s / T)) for
 * student and teacher outputs [n, classes] of the kind `output`, z their logits. A 'logits' output
 * is z itself. A softmax output ('probabilities') has no logits to read: z = log(clip(p)) (clipped
 * as the cross-entropy clips), which equals the logits up to a constant per sample, and softmax
 * ignores such a constant, so softmax(z / T) is the temperature-T softmax of the logits. A sigmoid
 * output is refused (SIGMOID_DISTILLATION_REFUSAL). The T^2 keeps the term's gradient on
 * the scale of the cross-entropy's as T grows (Hinton et al., 2015). Differentiable in the
 * student's outputs.
 */
export function perSampleDistillationLoss(studentOutputs: tf.Tensor, teacherOutputs: tf.Tensor, temperature: number, output: ClassifierOutput = 'probabilities'): tf.Tensor1D {
  if (output === 'sigmoid') throw new Error(SIGMOID_DISTILLATION_REFUSAL);
  if (!(Number.isFinite(temperature) && temperature > 0)) throw new Error(`the distillation temperature must be a positive number, got ${temperature}`);
  if (studentOutputs.rank !== 2 || !tf.util.arraysEqual(studentOutputs.shape, teacherOutputs.shape)) {
    throw new Error(`student outputs [${studentOutputs.shape.join(', ')}] and teacher outputs [${teacherOutputs.shape.join(', ')}] must both be [batch, classes]`);
  }
  return tf.tidy(() => {
    const logitsOf = (outputs: tf.Tensor): tf.Tensor2D =>
      output === 'logits' ? (outputs as tf.Tensor2D) : (tf.log(tf.clipByValue(outputs, PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON)) as tf.Tensor2D);
    const teacher = tf.logSoftmax(tf.div(logitsOf(teacherOutputs), temperature));
    const student = tf.logSoftmax(tf.div(logitsOf(studentOutputs), temperature));
    const divergence = tf.sum(tf.mul(tf.exp(teacher), tf.sub(teacher, student)), -1);
    return tf.mul(divergence, temperature * temperature) as tf.Tensor1D;
  });
}
