import { KernelConfig, registerGradient } from '@tensorflow/tfjs-core';

import { registerReplacing } from '../backends/register-replacing';
import { fusedBatchNormV3Config } from './kernels/fused-batch-norm-v3';
import { fusedBatchNormGradV3Config } from './kernels/fused-batch-norm-grad-v3';
import { reluGradConfig } from './kernels/relu-grad';
import { conv2DBackpropFilterNativeConfig } from './kernels/conv2d-backprop-filter';
import { conv2DBackpropInputNativeConfig } from './kernels/conv2d-backprop-input';
import { depthwiseConv2dNativeBackpropFilterNativeConfig } from './kernels/depthwise-conv2d-backprop-filter';
import { depthwiseConv2dNativeBackpropInputNativeConfig } from './kernels/depthwise-conv2d-backprop-input';
import { fusedBatchNormV3GradientConfig } from './gradients/fused-batch-norm-v3-gradient';
import { reluGradientConfig } from './gradients/relu-gradient';
import { installFusedBatchNormTraining } from './layers/batch-normalization-training';

/**
 * TensorFlow ops the native backend runs for training in one kernel each, and
 * convolution gradients that also take explicit and numeric pads (and NCHW).
 */
export const nativeTrainingKernels: KernelConfig[] = [
  fusedBatchNormV3Config,
  fusedBatchNormGradV3Config,
  reluGradConfig,
  conv2DBackpropFilterNativeConfig,
  conv2DBackpropInputNativeConfig,
  depthwiseConv2dNativeBackpropFilterNativeConfig,
  depthwiseConv2dNativeBackpropInputNativeConfig,
];

/**
 * Makes training on the native (`tensorflow`) backend use TensorFlow's fused training
 * kernels: batch normalisation in training mode as FusedBatchNormV3 with its gradient
 * FusedBatchNormGradV3 (through the BatchNormalization layer), and Relu's gradient as
 * ReluGrad. Gradients are global in tfjs, so each one checks that the active backend
 * has its kernel and otherwise computes what tfjs would. Idempotent.
 */
export function registerNativeTrainingKernels(): void {
  for (const config of nativeTrainingKernels) {
    registerReplacing(config);
  }
  registerGradient(fusedBatchNormV3GradientConfig);
  registerGradient(reluGradientConfig);
  installFusedBatchNormTraining();
}
