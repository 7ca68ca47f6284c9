import * as tf from '@tensorflow/tfjs-core';
import {
  FusedBatchNorm,
  FusedBatchNormAttrs,
  getGradient,
  GradConfig,
  Mean,
  MeanAttrs,
  NamedAttrMap,
  registerGradient,
  Tensor,
} from '@tensorflow/tfjs-core';

/**
 * Leaner gradients for two of the kernels that tfjs-layers' BatchNormalization
 * runs in training mode (moments: Mean, Sub, Square, Mean; then FusedBatchNorm):
 * FusedBatchNorm and Mean. They compute the same values as the stock gradients
 * with far fewer full-size element-wise passes. Gradient configs are global,
 * so these run on every backend; they are written with ordinary ops and stay
 * within float rounding of the stock ones (Mean's is bit-identical).
 */

/**
 * The FusedBatchNorm gradient that was registered before ours (tfjs-layers
 * registers tfjs' stock gradients when it loads), kept for statistics that
 * are not per channel.
 */
let fallbackBatchNormGradient: GradConfig | undefined;

function single(dy: Tensor | Tensor[]): Tensor {
  if (Array.isArray(dy)) {
    throw new Error('single-output kernel received several output gradients');
  }
  return dy;
}

/** Axes 0..rank-2: the axes a per-channel (rank-1) statistic is broadcast over. */
function leadingAxes(rank: number): number[] {
  return Array.from({ length: rank - 1 }, (_, axis) => axis);
}

/**
 * For per-channel statistics, with s = 1/sqrt(variance + eps) and g = scale * s:
 *   dx = dy * g, dOffset = sum(dy), dScale = s * sum(dy * (x - mean)),
 *   dMean = -g * sum(dy), dVariance = -g * s^2 / 2 * sum(dy * (x - mean)).
 * That is three full-size passes and two reductions; the stock gradient makes
 * about eight passes, a tile and four reductions. Other shapes use the stock gradient.
 */
function batchNormGradient(dyOrList: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap): Record<string, () => Tensor> {
  const dy = single(dyOrList);
  const [x, mean, variance, scale] = saved;
  const perChannel = mean.rank === 1 && variance.rank === 1 && (scale == null || scale.rank === 1);
  if (!perChannel || x.rank < 2) {
    if (fallbackBatchNormGradient === undefined) {
      throw new Error('FusedBatchNorm gradient for non-per-channel statistics needs the stock gradient (load tfjs-layers)');
    }
    return fallbackBatchNormGradient.gradFunc(dyOrList, saved, attrs) as Record<string, () => Tensor>;
  }
  const { varianceEpsilon } = attrs as unknown as FusedBatchNormAttrs;
  const axes = leadingAxes(x.rank);
  const invStd = tf.rsqrt(tf.add(variance, tf.scalar(varianceEpsilon)));
  const gain = scale == null ? invStd : tf.mul(scale, invStd);
  // Shared by several derivatives; each derivative runs in its own tidy, so
  // shared values are computed here, in the enclosing backward scope.
  const dySum = tf.sum(dy, axes);
  const centredDySum = tf.sum(tf.mul(dy, tf.sub(x, mean)), axes);
  return {
    x: () => tf.mul(dy, gain),
    mean: () => tf.neg(tf.mul(gain, dySum)),
    variance: () => tf.mul(tf.mul(tf.mul(gain, tf.square(invStd)), centredDySum), tf.scalar(-0.5)),
    scale: () => tf.mul(centredDySum, invStd),
    offset: () => tf.clone(dySum),
  };
}

/**
 * dx = broadcast(dy / n): the stock gradient multiplies by a full-size tensor
 * of ones and then divides, two full passes plus the ones; this divides the
 * reduced tensor and tiles it once. The values are bit-identical.
 */
function meanGradient(dyOrList: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap): Record<string, () => Tensor> {
  const dy = single(dyOrList);
  const [x] = saved;
  const { axis } = attrs as unknown as MeanAttrs;
  const axes = tf.util.parseAxisParam(axis, x.shape);
  const reduceSize = axes.reduce((size, a) => size * x.shape[a], 1);
  const expandedShape = x.shape.map((size, a) => (axes.includes(a) ? 1 : size));
  return {
    x: () => tf.broadcastTo(tf.div(tf.reshape(dy, expandedShape), tf.scalar(reduceSize)), x.shape),
  };
}

export const batchNormGradientConfig: GradConfig = {
  kernelName: FusedBatchNorm,
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: batchNormGradient,
};

export const meanGradientConfig: GradConfig = {
  kernelName: Mean,
  inputsToSave: ['x'],
  gradFunc: meanGradient,
};

/**
 * Registers both gradients (globally, for every backend), first remembering
 * whichever FusedBatchNorm gradient they replace. Loading tfjs-layers later
 * re-registers the stock gradients over them (still correct, just slower).
 */
export function registerBatchNormGradients(): void {
  const current = getGradient(FusedBatchNorm);
  if (current !== undefined && current !== batchNormGradientConfig) {
    fallbackBatchNormGradient = current;
  }
  registerGradient(batchNormGradientConfig);
  registerGradient(meanGradientConfig);
}
