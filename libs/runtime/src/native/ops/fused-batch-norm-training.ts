import { dispose, engine, reshape, Tensor, Tensor1D } from '@tensorflow/tfjs-core';
import { FusedBatchNormV3 } from '../kernels/fused-batch-norm-v3';
import type { FusedBatchNormV3Attrs } from '../kernels/fused-batch-norm-v3';

export interface BatchNormTraining {
  normalized: Tensor;
  /** Per-channel batch statistics, as tf.moments over every axis but the last gives them. */
  mean: Tensor1D;
  variance: Tensor1D;
}

/**
 * Batch normalisation in training mode over every axis but the last (the channels):
 * (x - mean) / sqrt(variance + epsilon) * scale + offset with the batch's own mean and
 * (biased) variance, differentiable through them. Runs the FusedBatchNormV3 kernel, so
 * only on a backend that registers it; any rank >= 2 is viewed as NHWC [rest, 1, 1, channels].
 */
export function fusedBatchNormTraining(x: Tensor, scale: Tensor1D, offset: Tensor1D, varianceEpsilon: number): BatchNormTraining {
  const channels = x.shape[x.rank - 1];
  if (x.rank < 2 || channels === undefined) {
    throw new Error(`batch normalisation needs a batch and a channel axis, got shape [${x.shape}]`);
  }
  const nhwc = x.rank === 4 ? x : reshape(x, [x.size / channels, 1, 1, channels]);
  const attrs: FusedBatchNormV3Attrs = { varianceEpsilon };
  const outputs = engine().runKernel(FusedBatchNormV3, { x: nhwc, scale, offset }, { ...attrs }) as Tensor[];
  const [y, mean, variance, ...reserveSpaces] = outputs;
  // The gradient keeps its own copies of the reserve spaces.
  dispose(reserveSpaces);
  if (y === undefined || mean === undefined || variance === undefined) {
    throw new Error(`${FusedBatchNormV3} returned too few outputs`);
  }
  return {
    normalized: x.rank === 4 ? y : reshape(y, x.shape),
    mean: mean as Tensor1D,
    variance: variance as Tensor1D,
  };
}
