import { KernelConfig, KernelFunc, Sum, SumAttrs, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { captureStockWasmKernel } from './wasm-kernel-access';
import { leadingReductionDepth, leadingRowCount, meanOverLeadingAxes } from './leading-axes-reduction';

const stockKernel = captureStockWasmKernel(Sum);

const sumViaAveragePool: KernelFunc = (args) => {
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as SumAttrs;
  const depth = leadingReductionDepth(x, axis);
  if (depth === undefined) {
    return stockKernel.kernelFunc(args);
  }
  const result = meanOverLeadingAxes(x, depth, keepDims, backend);
  const rows = leadingRowCount(x, depth);
  // The result holds one value per kept element, so rescaling it in place is cheap.
  const values = backend.typedArrayFromHeap(result);
  for (let i = 0; i < values.length; i++) {
    values[i] *= rows;
  }
  return result;
};

/** Sum for wasm; reductions over leading axes (every batch-norm gradient) run as an average pool. */
export const sumWasmConfig: KernelConfig = {
  kernelName: Sum,
  backendName: 'wasm',
  kernelFunc: sumViaAveragePool,
  setupFunc: stockKernel.setupFunc,
};
