import { KernelConfig } from '@tensorflow/tfjs-core';

import { registerReplacing } from '../backends/register-replacing';
import { conv2DBackpropFilterConfig } from './kernels/conv2d-backprop-filter';
import { depthwiseConv2dNativeBackpropFilterConfig } from './kernels/depthwise-conv2d-backprop-filter';
import { depthwiseConv2dNativeBackpropInputConfig } from './kernels/depthwise-conv2d-backprop-input';
import { conv2DBackpropInputWasmConfig } from './kernels/conv2d-backprop-input';
import { tileWasmConfig } from './kernels/tile';
import { sumWasmConfig } from './kernels/sum';
import { meanWasmConfig } from './kernels/mean';
import { fusedBatchNormWasmConfig } from './kernels/batch-norm';
import { identityWasmConfig } from './kernels/identity';
import { castWasmConfig } from './kernels/cast';
import { registerBatchNormGradients } from './gradients/batch-norm-gradients';
import { addWasmConfig, multiplyWasmConfig, realDivWasmConfig, subWasmConfig } from './kernels/broadcast-binary';

/** Kernels the stock tfjs wasm backend lacks (or runs slowly) for training. */
export const wasmTrainingKernels: KernelConfig[] = [
  conv2DBackpropFilterConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  conv2DBackpropInputWasmConfig,
  tileWasmConfig,
  sumWasmConfig,
  meanWasmConfig,
  multiplyWasmConfig,
  subWasmConfig,
  addWasmConfig,
  realDivWasmConfig,
  fusedBatchNormWasmConfig,
  identityWasmConfig,
  castWasmConfig,
];

/**
 * Registers every kernel in `wasmTrainingKernels`, replacing a stock kernel of
 * the same name, and the leaner batch-norm training gradients. Safe to call
 * repeatedly and before or after the backend has initialised.
 */
export function registerWasmTrainingKernels(): void {
  for (const config of wasmTrainingKernels) {
    registerReplacing(config);
  }
  // Gradient configs are global (every backend); these compute the stock
  // values with fewer full-size passes.
  registerBatchNormGradients();
}
