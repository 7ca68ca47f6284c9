import { engine, GradConfig, GradFunc, Tensor } from '@tensorflow/tfjs-core';
import { FusedBatchNormV3 } from '../kernels/fused-batch-norm-v3';
import { FusedBatchNormGradV3 } from '../kernels/fused-batch-norm-grad-v3';

/**
 * Differentiates the normalised output only, as TensorFlow's own gradient of
 * FusedBatchNormV3 does: the batch mean and variance outputs feed the running
 * averages, which are not differentiated.
 */
const fusedBatchNormV3Gradient: GradFunc = (dys, saved, attrs) => {
  const dy = Array.isArray(dys) ? dys[0] : dys;
  const [x, scale, reserveSpace1, reserveSpace2, reserveSpace3] = saved;
  if (dy === undefined || reserveSpace3 === undefined) {
    throw new Error(`${FusedBatchNormV3} gradient: missing saved tensors`);
  }
  // One kernel yields all three gradients; it runs here, in the backward scope,
  // and each derivative hands out its part.
  const [dx, dScale, dOffset] = engine().runKernel(
    FusedBatchNormGradV3,
    { dy, x, scale, reserveSpace1, reserveSpace2, reserveSpace3 },
    attrs,
  ) as Tensor[];
  return { x: () => dx, scale: () => dScale, offset: () => dOffset };
};

export const fusedBatchNormV3GradientConfig: GradConfig = {
  kernelName: FusedBatchNormV3,
  inputsToSave: ['x', 'scale'],
  // The three reserve spaces.
  outputsToSave: [false, false, false, true, true, true],
  gradFunc: fusedBatchNormV3Gradient,
};
