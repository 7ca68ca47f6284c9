import { getKernel, KernelConfig, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
// Side effect: registers the stock wasm kernels so they can be captured before being replaced.
import '@tensorflow/tfjs-backend-wasm';

/**
 * Snapshot of a stock wasm kernel, taken at module load so it survives being
 * unregistered when a faster replacement is installed under the same name.
 */
export function captureStockWasmKernel(kernelName: string): KernelConfig {
  const stock = getKernel(kernelName, 'wasm');
  if (stock === undefined) {
    throw new Error(`wasm backend has no stock '${kernelName}' kernel to capture`);
  }
  return { ...stock };
}

/**
 * Runs a currently registered wasm kernel directly on the backend: no tape, no
 * profiler entry, so a composite kernel shows up as one entry in tf.profile.
 */
export function runWasmKernel(
  kernelName: string,
  inputs: NamedTensorInfoMap,
  attrs: NamedAttrMap,
  backend: BackendWasm,
): TensorInfo {
  const kernel = getKernel(kernelName, 'wasm');
  if (kernel === undefined) {
    throw new Error(`wasm backend has no '${kernelName}' kernel`);
  }
  const out = kernel.kernelFunc({ inputs, attrs, backend });
  if (Array.isArray(out)) {
    throw new Error(`'${kernelName}' returned several outputs where one was expected`);
  }
  return out;
}
