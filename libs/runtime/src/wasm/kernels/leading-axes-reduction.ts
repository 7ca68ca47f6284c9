import { AvgPool, TensorInfo, util } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runWasmKernel } from './wasm-kernel-access';

/**
 * The number of leading axes a reduction covers when it covers exactly axes
 * 0..k-1 of a float32 tensor and leaves at least one axis, else undefined.
 * That is the batch-norm pattern: NHWC reduced over N, H and W.
 */
export function leadingReductionDepth(x: TensorInfo, axis: number | number[]): number | undefined {
  if (x.dtype !== 'float32' || x.shape.length < 2) {
    return undefined;
  }
  const axes = [...util.parseAxisParam(axis, x.shape)].sort((p, q) => p - q);
  const isLeadingPrefix = axes.every((a, i) => a === i);
  return isLeadingPrefix && axes.length > 0 && axes.length < x.shape.length ? axes.length : undefined;
}

/**
 * Mean over the first `depth` axes, computed as one XNNPACK average pool whose window
 * spans all reduced rows of x viewed as [1, rows, 1, columns]. The stock wasm
 * reductions first transpose the reduced axes innermost; the pool streams x once
 * and is about eight times faster. (A ones-vector GEMM is not: XNNPACK would
 * repack x as its weight matrix on every call.)
 */
export function meanOverLeadingAxes(x: TensorInfo, depth: number, keepDims: boolean, backend: BackendWasm): TensorInfo {
  const rows = util.sizeFromShape(x.shape.slice(0, depth));
  const keptShape = x.shape.slice(depth);
  const columns: TensorInfo = { dataId: x.dataId, dtype: x.dtype, shape: [1, rows, 1, util.sizeFromShape(keptShape)] };
  const attrs = { filterSize: [rows, 1], strides: 1, pad: 'valid' };
  const pooled = runWasmKernel(AvgPool, { x: columns }, attrs, backend);
  const outShape = keepDims ? [...new Array<number>(depth).fill(1), ...keptShape] : keptShape;
  return { ...pooled, shape: outShape };
}

/** Row count of the leading-axes reduction, to turn its mean into a sum. */
export function leadingRowCount(x: TensorInfo, depth: number): number {
  return util.sizeFromShape(x.shape.slice(0, depth));
}
