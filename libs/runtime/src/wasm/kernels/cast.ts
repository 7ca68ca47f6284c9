import { Cast, CastAttrs, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { captureStockWasmKernel } from './wasm-kernel-access';
import { shareData } from './shared-data';

const stockKernel = captureStockWasmKernel(Cast);

const castSharingSameType: KernelFunc = (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { dtype } = args.attrs as unknown as CastAttrs;
  const isNoOp = dtype === x.dtype && dtype !== 'string';
  return isNoOp ? shareData(x, args.backend as BackendWasm) : stockKernel.kernelFunc(args);
};

/**
 * Cast for wasm that shares data when the type does not change. The gradient of
 * every clone the engine saves for backprop is such a float32-to-float32 cast.
 */
export const castWasmConfig: KernelConfig = {
  kernelName: Cast,
  backendName: 'wasm',
  kernelFunc: castSharingSameType,
};
