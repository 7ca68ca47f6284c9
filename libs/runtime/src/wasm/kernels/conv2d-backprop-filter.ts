import {
  backend_util,
  Conv2DBackpropFilter,
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropFilterInputs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from '@tensorflow/tfjs-core';

import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

import { Pair, planAxis, reshapeView, Shape4D, WasmKernelScope, withWasmScope } from './kernel-utils';
import { gatherPhaseGrid, stridedChannelsFirst } from './strided-channels-first';
import { filterGemmFor } from './simd-filter-gemm';

interface Conv2DBackpropFilterArgs {
  inputs: Conv2DBackpropFilterInputs;
  attrs: Conv2DBackpropFilterAttrs;
  backend: KernelBackend;
}

/**
 * dW[i,j,c,k] = sum over n,p,q of x[n, p*s+i-padTop, q*s+j-padLeft, c] * dy[n,p,q,k].
 *
 * Float32 NHWC takes one of two fast paths: unpadded 1x1 filters (projection
 * shortcuts) a single matrix product, everything else the wasm SIMD kernel
 * of `simdFilterGradient`. Otherwise (NCHW, other dtypes, no wasm SIMD) it is
 * a plain convolution once the batch becomes the contracted channel: x as
 * [c, H, W, n] convolved with dy as a [p, q, n, k] filter whose taps are
 * spread by the forward stride (dilation = stride), stride 1. The result
 * comes out as [c, i, j, k], so XNNPACK does all the arithmetic.
 */
function conv2DBackpropFilter({ inputs, attrs, backend }: Conv2DBackpropFilterArgs): TensorInfo {
  const { x, dy } = inputs;
  if (x === undefined || dy === undefined) {
    throw new Error('Conv2DBackpropFilter needs inputs x and dy');
  }
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs;
  const channelsLast = dataFormat !== 'NCHW';
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4D,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(dataFormat),
  );
  const rows = planAxis({
    inSize: info.inHeight,
    outSize: info.filterHeight,
    kernelSize: info.outHeight,
    stride: 1,
    dilation: info.strideHeight,
    padBefore: info.padInfo.top,
  });
  const cols = planAxis({
    inSize: info.inWidth,
    outSize: info.filterWidth,
    kernelSize: info.outWidth,
    stride: 1,
    dilation: info.strideWidth,
    padBefore: info.padInfo.left,
  });

  return withWasmScope(backend, (scope) => {
    const floats = x.dtype === 'float32' && dy.dtype === 'float32';
    if (channelsLast && floats && x.shape[0] > 0) {
      const pointwise = info.filterHeight === 1 && info.filterWidth === 1;
      if (pointwise && info.padInfo.top === 0 && info.padInfo.left === 0) {
        return pointwiseFilterGradient(scope, x, dy, [info.strideHeight, info.strideWidth], backend as BackendWasm);
      }
      const gradient = simdFilterGradient(scope, x, dy, info, backend as BackendWasm);
      if (gradient !== undefined) {
        return gradient;
      }
    }
    const channelsAsBatch = scope.transpose(x, channelsLast ? [3, 1, 2, 0] : [1, 2, 3, 0]);
    const dyAsFilter = scope.transpose(dy, channelsLast ? [1, 2, 0, 3] : [2, 3, 0, 1]);
    const gradient = scope.conv2d({
      x: channelsAsBatch,
      filter: dyAsFilter,
      strides: [1, 1],
      dilations: [info.strideHeight, info.strideWidth],
      rows,
      cols,
    });
    return scope.transpose(gradient, [1, 2, 0, 3]);
  });
}

/**
 * A 1x1 filter's gradient is one matrix product, x_strided^T · dy, over all
 * n * oh * ow positions; dy already is that [rows, k] matrix and only the
 * strided x is gathered channels-first. On the ResNet-20 projection shortcuts
 * this is five to seven times faster than the convolution, which transposes
 * the whole x and dy and repacks dy as a huge filter. (XNNPACK packs dy as the
 * product's weights, cached until dy is disposed.)
 */
function pointwiseFilterGradient(
  scope: WasmKernelScope,
  x: TensorInfo,
  dy: TensorInfo,
  strides: Pair,
  backend: BackendWasm,
): TensorInfo {
  const [n, h, w, c] = x.shape as Shape4D;
  const [, oh, ow, k] = dy.shape as Shape4D;
  const rowCount = n * oh * ow;
  const xT = scope.adopt(stridedChannelsFirst(x, [n, h, w, c], strides, [oh, ow], backend));
  const product = scope.run(
    'BatchMatMul',
    { a: reshapeView(xT, [1, c, rowCount]), b: reshapeView(dy, [1, rowCount, k]) },
    { transposeA: false, transposeB: false },
  );
  return reshapeTo(product, [1, 1, c, k]);
}

/**
 * For stride 1, with x padded to exactly [n, oh + kh - 1, ow + kw - 1, c] and
 * dy zero-extended to the same grid, tap (i, j) of the gradient is
 *   dW[i, j] = sum over grid rows r of xGrid[r + i * gridWidth + j]^T · dyGrid[r],
 * a product of two row ranges of the flat [rows, channels] matrices (dyGrid
 * rows outside the output are zero, so reads that run into the next grid row
 * add nothing). Larger strides split x into stride phases (every s-th row and
 * column from offset a, b), each holding the taps i = a (mod s), j = b (mod s)
 * at the same unit spacing. A small wasm SIMD kernel accumulates the products
 * on the heap block by block, every tap per block, reading x and dy where they
 * lie: no transposes and no XNNPACK filter repacking, about twice as fast as
 * the convolution on ResNet-20's 3x3 layers. Channels are zero-padded to
 * multiples of 4 (x) and 8 (dy) for the kernel's 4 x 8 register tile.
 * Undefined (caller falls back) where the engine lacks wasm SIMD.
 */
function simdFilterGradient(
  scope: WasmKernelScope,
  x: TensorInfo,
  dy: TensorInfo,
  info: backend_util.Conv2DInfo,
  backend: BackendWasm,
): TensorInfo | undefined {
  const gemm = filterGemmFor(backend);
  if (gemm === undefined) {
    return undefined;
  }
  const [n, h, w, c] = x.shape as Shape4D;
  const [, oh, ow, k] = dy.shape as Shape4D;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const [top, left] = [info.padInfo.top, info.padInfo.left];
  const gridHeight = oh + Math.ceil(kh / sh) - 1;
  const gridWidth = ow + Math.ceil(kw / sw) - 1;
  const c4 = Math.ceil(c / 4) * 4;
  const k8 = Math.ceil(k / 8) * 8;
  const dyGrid = padIfNeeded(scope, dy, [[0, 0], [0, gridHeight - oh], [0, gridWidth - ow], [0, k8 - k]]);
  const out = scope.adopt(backend.makeOutput([kh, kw, c4, k8], 'float32'));
  backend.typedArrayFromHeap(out).fill(0);
  const address = (tensor: TensorInfo): number => backend.dataIdMap.get(tensor.dataId).memoryOffset;
  const phaseGrid = (a: number, b: number): TensorInfo => {
    const [bottom, right] = [gridHeight - h - top, gridWidth - w - left];
    if (sh === 1 && sw === 1 && Math.min(top, left, bottom, right) >= 0) {
      return padIfNeeded(scope, x, [[0, 0], [top, bottom], [left, right], [0, c4 - c]]);
    }
    const start: Pair = [a - top, b - left];
    const grid = gatherPhaseGrid(x, [n, h, w, c], [sh, sw], start, [gridHeight, gridWidth], c4, backend);
    return scope.adopt(grid);
  };
  const gridRows = n * gridHeight * gridWidth;
  // About 16 KB of x and dy rows per block, re-read from L1 by every tile and tap.
  const blockRows = Math.max(8, Math.floor(4096 / (c4 + k8)));
  const dyBase = address(dyGrid);
  for (let a = 0; a < Math.min(sh, kh); a++) {
    for (let b = 0; b < Math.min(sw, kw); b++) {
      const xBase = address(phaseGrid(a, b));
      const [tapsDown, tapsAcross] = [Math.ceil((kh - a) / sh), Math.ceil((kw - b) / sw)];
      for (let first = 0; first < gridRows; first += blockRows) {
        for (let i = 0; i < tapsDown; i++) {
          for (let j = 0; j < tapsAcross; j++) {
            const shift = i * gridWidth + j;
            const rows = Math.min(blockRows, gridRows - shift - first);
            if (rows > 0) {
              const tap = address(out) + ((a + i * sh) * kw + b + j * sw) * c4 * k8 * 4;
              gemm(xBase + (first + shift) * c4 * 4, dyBase + first * k8 * 4, tap, rows, c4 * 4, k8 * 4, c4, k8);
            }
          }
        }
      }
    }
  }
  return c4 === c && k8 === k ? out : scope.slice(out, [0, 0, 0, 0], [kh, kw, c, k]);
}

function padIfNeeded(scope: WasmKernelScope, x: TensorInfo, paddings: Pair[]): TensorInfo {
  return paddings.every(([before, after]) => before === 0 && after === 0) ? x : scope.pad(x, paddings);
}

function reshapeTo(info: TensorInfo, shape: number[]): TensorInfo {
  return { ...info, shape };
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc,
};
