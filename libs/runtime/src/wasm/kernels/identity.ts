import { Identity, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { captureStockWasmKernel } from './wasm-kernel-access';
import { shareData } from './shared-data';

const stockKernel = captureStockWasmKernel(Identity);

const identityBySharing: KernelFunc = (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  // Strings live outside the wasm heap; the stock kernel handles them.
  return x.dtype === 'string' ? stockKernel.kernelFunc(args) : shareData(x, args.backend as BackendWasm);
};

/**
 * Identity for wasm without a copy. The engine clones every tensor it saves for
 * the backward pass, so the stock copying kernel moved about 235 activation-sized
 * buffers per ResNet-20 training step.
 */
export const identityWasmConfig: KernelConfig = {
  kernelName: Identity,
  backendName: 'wasm',
  kernelFunc: identityBySharing,
};
