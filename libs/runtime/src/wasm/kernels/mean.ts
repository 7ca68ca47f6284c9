import { KernelConfig, KernelFunc, Mean, MeanAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { captureStockWasmKernel } from './wasm-kernel-access';
import { leadingReductionDepth, meanOverLeadingAxes } from './leading-axes-reduction';

const stockKernel = captureStockWasmKernel(Mean);

const meanViaAveragePool: KernelFunc = (args) => {
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as MeanAttrs;
  const depth = leadingReductionDepth(x, axis);
  if (depth === undefined) {
    return stockKernel.kernelFunc(args);
  }
  return meanOverLeadingAxes(x, depth, keepDims, args.backend as BackendWasm);
};

/** Mean for wasm; means over leading axes (batch-norm moments) run as an average pool. */
export const meanWasmConfig: KernelConfig = {
  kernelName: Mean,
  backendName: 'wasm',
  kernelFunc: meanViaAveragePool,
  setupFunc: stockKernel.setupFunc,
};
